"""Tiny ONNX models in the Ultralytics v8/v11 detection export layout, built with the `onnx` package."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _save(graph, path: Path, metadata: dict[str, str]) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    for key, value in metadata.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def constant_yolo(path: Path, prediction: np.ndarray, size: int = 64, metadata: dict[str, str] | None = None, output_name: str = "output0") -> Path:
    """A model with dynamic batch whose output is `prediction` (1, 4 + nc, N) repeated for every image."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Shape", ["images"], ["shape"]),
        helper.make_node("Slice", ["shape", "zero", "one"], ["batch"]),
        helper.make_node("Concat", ["batch", "rest"], ["target"], axis=0),
        helper.make_node("Expand", ["prediction", "target"], [output_name]),
    ]
    constants = [
        numpy_helper.from_array(prediction.astype(np.float32), "prediction"),
        numpy_helper.from_array(np.array([0], np.int64), "zero"),
        numpy_helper.from_array(np.array([1], np.int64), "one"),
        numpy_helper.from_array(np.array(prediction.shape[1:], np.int64), "rest"),
    ]
    graph = helper.make_graph(
        nodes,
        "constant_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", *prediction.shape[1:]])],
        initializer=constants,
    )
    return _save(graph, path, metadata or {})


def channel_mean_yolo(path: Path, box: tuple[float, float, float, float], size: int = 64, metadata: dict[str, str] | None = None) -> Path:
    """Batch-1 model with one candidate: a constant cx, cy, w, h box whose two class scores are
    the mean over the input of channel 0 (red) and of channel 2 (blue)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("ReduceMean", ["images"], ["means"], axes=[2, 3], keepdims=0),  # (1, 3)
        helper.make_node("Gather", ["means", "red_blue"], ["scores"], axis=1),  # (1, 2)
        helper.make_node("Unsqueeze", ["scores", "last"], ["scores3"]),  # (1, 2, 1)
        helper.make_node("Concat", ["box", "scores3"], ["output0"], axis=1),  # (1, 6, 1)
    ]
    constants = [
        numpy_helper.from_array(np.array(box, np.float32).reshape(1, 4, 1), "box"),
        numpy_helper.from_array(np.array([0, 2], np.int64), "red_blue"),
        numpy_helper.from_array(np.array([2], np.int64), "last"),
    ]
    graph = helper.make_graph(
        nodes,
        "channel_mean_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 6, 1])],
        initializer=constants,
    )
    return _save(graph, path, metadata or {})
