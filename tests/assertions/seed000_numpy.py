"""Seed 000's `compute_flickering_assertion`, transcribed line for line in plain numpy.

The oracle of the differential tests: one frame at a time, exactly as the seed's loop, with
torch's arithmetic spelled out (docs/formulas.md §3): `torch.tensor(..., dtype=torch.int)`
truncates to int32; torchvision's `box_iou` keeps int32 for areas, intersection and union
and divides as float32; a float32 tensor compared with a Python float compares in float32;
`torch.mean(..., dtype=torch.float32)` of two int32 rows is float32(a) + float32(b) halved;
`.int()` truncates toward zero. The only change: the per-frame counter is reset for every
frame (the seed's defect (a)), as thresher does.
"""

import numpy as np


def bbox_converter(bbox):
    """Convert from x, y, w, h format to x0, y0, x1, y1 (in Python arithmetic, as the seed)."""
    x, y, w, h = bbox
    return [x, y, x + w, y + h]


def int_tensor(boxes):
    """torch.tensor(boxes, dtype=torch.int): float values truncated toward zero."""
    if len(boxes) == 0:
        return np.zeros((0,), dtype=np.int32)  # torch.tensor([]) has shape (0,)
    return np.trunc(np.array(boxes, dtype=np.float64)).astype(np.int32)


def box_iou(boxes1, boxes2):
    """torchvision.ops.box_iou for int32 boxes: int32 areas and overlaps, float32 quotient."""
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = np.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = np.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = np.maximum(rb - lt, np.int32(0))
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter.astype(np.float32) / union.astype(np.float32)


def compute_flickering_assertion(predictions_list, iou_thresh_tracking=0.9, iou_thresh_assertion=0.6):
    tracking = np.float32(iou_thresh_tracking)  # the float32 tensor decides the comparison type
    assertion = np.float32(iou_thresh_assertion)
    window_size = 3
    flickering_assertions = [False for _ in predictions_list]
    imputed_bounding_boxes = [[] for _ in predictions_list]
    half_window_size = window_size // 2
    for i in range(half_window_size, len(predictions_list) - half_window_size):
        assertions = 0  # reset for every frame (the seed resets it only when a pair matches)
        if predictions_list[i - 1]["predictions"] and predictions_list[i + 1]["predictions"]:
            prev_bboxes = [bbox_converter(x["bbox"]) for x in predictions_list[i - 1]["predictions"]]
            next_bboxes = [bbox_converter(x["bbox"]) for x in predictions_list[i + 1]["predictions"]]
            curr_bboxes = [bbox_converter(x["bbox"]) for x in predictions_list[i]["predictions"]]
            prev_bboxes = int_tensor(prev_bboxes)
            next_bboxes = int_tensor(next_bboxes)
            curr_bboxes = int_tensor(curr_bboxes)
            iou_prev_next = box_iou(prev_bboxes, next_bboxes)
            if np.any(iou_prev_next > tracking):
                for prev_index, next_index in np.argwhere(iou_prev_next > tracking):  # row-major, as torch.nonzero
                    matching_boxes = np.stack((prev_bboxes[prev_index], next_bboxes[next_index]))
                    total = matching_boxes[0].astype(np.float32) + matching_boxes[1].astype(np.float32)
                    matching_boxes_mean = (total / np.float32(2))[None, :].astype(np.int32)
                    if len(curr_bboxes) == 0:
                        assertions += 1
                        imputed_bounding_boxes[i].append(matching_boxes_mean.tolist())
                        continue
                    iou_curr_mean = box_iou(curr_bboxes, matching_boxes_mean)
                    if np.all(iou_curr_mean < assertion):
                        assertions += 1
                        imputed_bounding_boxes[i].append(matching_boxes_mean.tolist())
        if assertions > 0:
            flickering_assertions[i] = True
    return flickering_assertions, imputed_bounding_boxes
