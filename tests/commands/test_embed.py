"""`thresher embed --dtype` / `thresher predict --embed-dtype`: how new embeddings are stored."""

from __future__ import annotations

import shutil

import numpy as np

from tests.conftest import package_file
from tests.test_user_errors import one_error_line, thresher


def test_embed_stores_float16_on_request_and_refuses_other_dtypes(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    for name in ("chelsea.png", "coffee.png"):
        shutil.copyfile(package_file("skimage", "data", name), folder / name)
    refused = thresher("embed", "ds", "--dtype", "bfloat16", cwd=tmp_path)
    assert refused.returncode == 2 and one_error_line(refused) == "error: --dtype: expected one of float32, float16, got 'bfloat16'"
    refused = thresher("predict", "ds", "--embed", "--embed-dtype", "int8", cwd=tmp_path)
    assert refused.returncode == 2 and one_error_line(refused) == "error: --embed-dtype: expected one of float32, float16, got 'int8'"
    done = thresher("embed", "ds", "--dtype", "float16", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (shard,) = (folder / ".thresher" / "embeddings" / "ssd-mobilenet-v2-coco").glob("shard-*")
    vectors = np.load(shard / "vectors.npy")
    assert vectors.dtype == np.float16 and vectors.shape == (2, 1280)
    assert np.load(shard / "ids.npy").tolist() == ["chelsea.png", "coffee.png"]
    assert np.allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1, atol=1e-3)


def test_predict_embed_with_a_model_that_has_no_embeddings_is_one_line(tmp_path):
    from tests.models.onnx_graphs import constant_yolo

    folder = tmp_path / "ds"
    folder.mkdir()
    shutil.copyfile(package_file("skimage", "data", "chelsea.png"), folder / "chelsea.png")
    prediction = np.array([[32, 32, 20, 20, 0.9]], np.float32).T[None]  # one box, one class
    model = constant_yolo(tmp_path / "yolo.onnx", prediction, metadata={"names": "{0: 'cat'}", "task": "detect"})
    refused = thresher("predict", "ds", "--model", str(model), "--embed", cwd=tmp_path)
    assert refused.returncode == 2
    assert one_error_line(refused) == f"error: --embed: the model {model} computes no embeddings (only the built-in ssd-mobilenet-v2-coco does); use `thresher embed`"
    assert not (folder / ".lightly" / "predictions").exists()  # refused before predicting
