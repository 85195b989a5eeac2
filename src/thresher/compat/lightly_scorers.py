"""The scorer API of the old `lightly.active_learning` (seed 003, lightly 1.4.6), run locally.

`BoundingBox`, `ObjectDetectionOutput`, `ScorerClassification` and `ScorerObjectDetection` (and
the segmentation and keypoint scorers of the same release) take
the same arguments, raise on the same inputs (as `ValueError`/`KeyError`) and return the same
numbers as lightly 1.4.6; thresher does not import lightly. The scores are computed by the
vectorized functions of `thresher.scorers` on columns gathered from the output objects.

Deliberate differences, all on inputs lightly rejects or crashes on: numpy integer labels are
accepted by `from_scores`, class probabilities may be numpy arrays, integer probabilities work,
an empty list of outputs gives empty score arrays, the config dict passed in is not modified,
and no deprecation warning is emitted.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Sequence

import numpy as np

from thresher.boxes import cxcywh_to_xyxy
from thresher.errors import did_you_mean
from thresher.scorers import classification, detection, keypoints, segmentation
from thresher.scorers._reduce import FrameGroups, segment_max


class BoundingBox:
    """A box in coordinates relative to the image: x0 < x1 and y0 < y1, all in [0, 1].

    With `clip_values` (default) coordinates outside [0, 1] are clipped first; otherwise they
    raise `ValueError`.
    """

    def __init__(self, x0: float, y0: float, x1: float, y1: float, clip_values: bool = True):
        if clip_values:
            x0, y0, x1, y1 = (min(1, max(0, v)) for v in (x0, y0, x1, y1))
        if any(v > 1 or v < 0 for v in (x0, y0, x1, y1)):
            raise ValueError(f"Bounding Box Coordinates must be relative to image width and height but are ({x0}, {y0}, {x1}, {y1}).")
        if x0 >= x1:
            raise ValueError(f"x0 must be smaller than x1 for bounding box [{x0}, {y0}, {x1}, {y1}]")
        if y0 >= y1:
            raise ValueError(f"y0 must be smaller than y1 for bounding box [{x0}, {y0}, {x1}, {y1}]")
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1

    @classmethod
    def from_x_y_w_h(cls, x: float, y: float, w: float, h: float) -> "BoundingBox":
        """From the top-left corner and the width and height (all relative)."""
        return cls(x, y, x + w, y + h)

    @classmethod
    def from_yolo_label(cls, x_center: float, y_center: float, w: float, h: float) -> "BoundingBox":
        """From the centre and the width and height (all relative), clipped to the image."""
        x0, y0, x1, y1 = cxcywh_to_xyxy([x_center, y_center, w, h]).tolist()
        return cls(x0, y0, x1, y1, clip_values=True)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        """Area relative to the image's area."""
        return self.width * self.height

    def __repr__(self) -> str:
        return f"BoundingBox({self.x0}, {self.y0}, {self.x1}, {self.y1})"


def _first_argmax(values: Sequence[float]) -> int:
    values = list(values)
    return values.index(max(values))


class ObjectDetectionOutput:
    """The boxes of one image with their objectness and class probabilities.

    scores: objectness x max class probability per box (unless given); labels: the index of
    the (first) largest class probability.
    """

    def __init__(self, boxes, object_probabilities, class_probabilities, scores=None):
        if len(boxes) != len(object_probabilities) or len(object_probabilities) != len(class_probabilities):
            raise ValueError(f"Boxes, object and class probabilities must be of same length but are {len(boxes)}, {len(object_probabilities)}, and {len(class_probabilities)}")
        if scores is not None and len(scores) != len(boxes):
            raise ValueError(f"Boxes and scores must be of same length but are {len(boxes)} and {len(scores)}")
        self.boxes = boxes
        self.labels = [_first_argmax(c) for c in class_probabilities]
        self.object_probabilities = object_probabilities
        self.class_probabilities = class_probabilities
        if scores is None:
            scores = [o * max(c) for o, c in zip(object_probabilities, class_probabilities)]
        self.scores = scores

    @classmethod
    def from_scores(cls, boxes, scores, labels) -> "ObjectDetectionOutput":
        """From boxes, confidence scores in [0, 1] and integer labels (no class probabilities).

        The class vector of a box is made up: K = max(largest label, 1), K + 1 entries, the
        score at the label and (1 - score) / K elsewhere; objectness = score.
        """
        if any(score > 1 for score in scores):
            raise ValueError("Scores must be smaller than or equal to one!")
        if any(score < 0 for score in scores):
            raise ValueError("Scores must be larger than or equal to zero!")
        if not all(isinstance(label, numbers.Integral) for label in labels):
            raise ValueError("Labels must be list of integers.")
        labels = [int(label) for label in labels]
        object_probabilities = list(scores)
        num_classes = max(max(labels) if labels else 0, 1)
        class_probabilities = []
        for object_prob, label in zip(object_probabilities, labels):
            vector = [(1 - object_prob) / num_classes] * (num_classes + 1)
            vector[label] = object_prob
            class_probabilities.append(vector)
        output = cls(boxes, object_probabilities, class_probabilities)
        output.scores = scores
        output.labels = labels
        return output


class ScorerClassification:
    """Uncertainty scores of an N x C classification output (rows of class probabilities).

    Scores: `uncertainty_least_confidence`, `uncertainty_margin`, `uncertainty_entropy`;
    higher = more uncertain. An N x 1 output p means the binary [p, 1 - p].
    """

    def __init__(self, model_output):
        model_output = np.asarray(model_output)
        self.model_output = self.ensure_valid_model_output(model_output)

    def ensure_valid_model_output(self, model_output: np.ndarray) -> np.ndarray:
        if len(model_output) == 0:
            return model_output
        if model_output.ndim != 2:
            raise ValueError("ScorerClassification model_output must be a 2-dimensional array")
        if model_output.shape[1] == 0:
            raise ValueError("ScorerClassification model_output must not have an empty dimension 1")
        return classification.as_probabilities(model_output, "model_output")

    @classmethod
    def score_names(cls) -> list[str]:
        return list(classification.SCORE_NAMES)

    def calculate_scores(self, normalize_to_0_1: bool = True) -> dict[str, np.ndarray]:
        """Score name -> one float64 score per row; 0 (one-hot) to 1 (uniform) when normalized."""
        if len(self.model_output) == 0:
            return {name: np.array([]) for name in self.score_names()}
        return classification.uncertainty_scores(self.model_output, normalize=normalize_to_0_1)


class ScorerObjectDetection:
    """Per-image scores of a list of `ObjectDetectionOutput` (one per image, in query order).

    config: `frequency_penalty` (default 0.25) and `min_score` (default 0.9), numbers in [0, 1].
    """

    _DEFAULT_CONFIG = {"frequency_penalty": 0.25, "min_score": 0.9}

    def __init__(self, model_output: list, config: dict | None = None):
        self.model_output = model_output
        self.config = self._checked_config(config)

    def _checked_config(self, config: dict | None) -> dict:
        if config is None or not isinstance(config, dict):
            return dict(self._DEFAULT_CONFIG)
        for key in config:
            if key not in self._DEFAULT_CONFIG:
                raise KeyError(f"Scorer config parameter {key} is not a valid key{did_you_mean(str(key), self._DEFAULT_CONFIG)}. Use one of: {list(self._DEFAULT_CONFIG)}")
        for key, value in config.items():
            if not isinstance(value, (float, int)):
                raise ValueError(f"Scorer config values must be numbers. However, {key} has a value of type {type(value)}.")
            if value < 0.0 or value > 1.0:
                raise ValueError(f"Scorer config parameter {key} value ({value}) out of range. Should be between 0.0 and 1.0.")
        return {**self._DEFAULT_CONFIG, **config}

    @classmethod
    def score_names(cls) -> list[str]:
        return list(detection.SCORE_NAMES)

    def calculate_scores(self) -> dict[str, np.ndarray]:
        """Score name -> one float64 score per image (see `thresher.scorers.detection`)."""
        outputs = list(self.model_output)
        counts = np.array([len(o.scores) for o in outputs], dtype=np.int64)
        groups = FrameGroups.of(np.repeat(np.arange(len(outputs)), counts), len(outputs))
        scores = np.fromiter((s for o in outputs for s in o.scores), dtype=np.float64, count=int(counts.sum()))
        labels = np.fromiter((lab for o in outputs for lab in o.labels), dtype=np.int64, count=int(counts.sum()))
        result = {
            detection.OBJECT_FREQUENCY: detection.object_frequency(labels, groups, self.config["frequency_penalty"], self.config["min_score"]),
            detection.OBJECTNESS_LEAST_CONFIDENCE: detection.objectness_least_confidence(scores, groups),
        }
        per_box = _box_uncertainty(outputs, counts)
        for name, values in per_box.items():
            result[name] = segment_max(values, groups.starts, groups.counts, empty=0.0)
        return result


def _box_uncertainty(outputs: list, counts: np.ndarray) -> dict[str, np.ndarray]:
    """Normalized classification scores of every box, images grouped by their number of classes
    (each image is normalized with its own class count, as lightly scores image by image)."""
    matrices = [np.asarray(o.class_probabilities, dtype=np.float64) for o in outputs]
    for matrix, count in zip(matrices, counts):
        if count and (matrix.ndim != 2 or matrix.shape[1] == 0):
            raise ValueError(f"class_probabilities: expected one non-empty vector per box, got shape {matrix.shape}")
    width = np.array([m.shape[1] if m.ndim == 2 else 0 for m in matrices], dtype=np.int64)
    start = np.cumsum(counts) - counts
    out = {name: np.zeros(int(counts.sum())) for name in classification.SCORE_NAMES}
    for n_classes in np.unique(width[counts > 0]):
        images = np.flatnonzero((width == n_classes) & (counts > 0))
        rows = np.concatenate([np.arange(start[i], start[i] + counts[i]) for i in images])
        probs = np.concatenate([matrices[i] for i in images])
        for name, values in classification.uncertainty_scores(probs).items():
            out[name][rows] = values
    return out


class ScorerSemanticSegmentation:
    """Per-image scores of W x H x C segmentation predictions (a list or a generator, read once):
    the classification uncertainty scores of every pixel, averaged over the pixels."""

    def __init__(self, model_output):
        self.model_output = model_output

    @classmethod
    def score_names(cls) -> list[str]:
        return list(classification.SCORE_NAMES)

    def calculate_scores(self) -> dict[str, np.ndarray]:
        scores: dict[str, list[float]] = {}
        for prediction in self.model_output:
            for name, value in segmentation.image_segmentation_scores(prediction).items():
                scores.setdefault(name, []).append(value)
        return {name: np.array(values) for name, values in scores.items()}


class KeypointInstancePrediction:
    """The keypoints of one instance, [x0, y0, c0, ..., xk, yk, ck] with confidences in [0, 1]."""

    def __init__(self, keypoints: list[float], category_id: int = -1, score: float = -1.0):
        self.keypoints, self.category_id, self.score = keypoints, category_id, score
        if not isinstance(category_id, int):
            raise ValueError(f"Category_id must be an int, but is a {type(category_id)}")
        if not isinstance(score, float):
            raise ValueError(f"Score must be a float, but is a {type(score)}")
        if len(keypoints) % 3 != 0:
            raise ValueError("Keypoints must be in the format of [x0, y0, c0, ... xk, yk, ck].")
        if any(c < 0 for c in self.get_confidences()):
            raise ValueError("Confidences contain values < 0.")
        if any(c > 1 for c in self.get_confidences()):
            raise ValueError("Confidences contain values > 1.")

    @classmethod
    def from_dict(cls, dict_: dict) -> "KeypointInstancePrediction":
        return cls(keypoints=dict_["keypoints"], category_id=dict_["category_id"], score=dict_["score"])

    def get_confidences(self) -> list[float]:
        return self.keypoints[2::3]


class KeypointPrediction:
    """All keypoint instances of one image."""

    def __init__(self, keypoint_instance_predictions: list[KeypointInstancePrediction]):
        self.keypoint_instance_predictions = keypoint_instance_predictions

    @classmethod
    def from_dicts(cls, dicts: list[dict]) -> "KeypointPrediction":
        return cls([KeypointInstancePrediction.from_dict(d) for d in dicts])

    @classmethod
    def from_json_string(cls, json_string: str) -> "KeypointPrediction":
        return cls.from_dicts(json.loads(json_string))


class ScorerKeypointDetection:
    """`mean_uncertainty` per image: 1 - mean over instances of their mean keypoint confidence."""

    def __init__(self, model_output: list[KeypointPrediction]):
        self.model_output = model_output

    @classmethod
    def score_names(cls) -> list[str]:
        return [keypoints.MEAN_UNCERTAINTY]

    def calculate_scores(self) -> dict[str, np.ndarray]:
        instances = [(i, inst.get_confidences()) for i, image in enumerate(self.model_output) for inst in image.keypoint_instance_predictions]
        width = max((len(c) for _, c in instances), default=0)
        padded = np.full((len(instances), width), np.nan)
        for row, (_, conf) in enumerate(instances):
            padded[row, : len(conf)] = conf
        frame = np.array([i for i, _ in instances], dtype=np.int64)
        return {keypoints.MEAN_UNCERTAINTY: keypoints.mean_uncertainty(frame, padded, len(self.model_output))}
