"""`thresher fuse`: passes of one model written as prediction tasks, fused into one task with spreads."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.models.real_images import real_image

from thresher.errors import SchemaError, UsageError
from thresher.fuse_tasks import fuse_tasks
from thresher.infer import sample_rows
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import PredictionTask, predicted_part, read_predictions, write_prediction_files, write_predictions
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.pixels import iter_pixels
from thresher.io.problems import Problems
from thresher.models.tta import TTADetector, _flip, _unflip
from thresher.scorers import fuse_passes

EVERY = 20


@pytest.fixture(scope="module")
def passes_on_video(tmp_path_factory, carphone_mp4, ssd):
    """A real video and two passes of the built-in SSD over every 20th frame, written as tasks p0
    (the frames as they are) and p1 (flipped, boxes mapped back), and the decoded frames."""
    root = tmp_path_factory.mktemp("fuse") / "ds"
    root.mkdir()
    shutil.copyfile(carphone_mp4, root / "car.mp4")
    source = Datasource(root)
    frames = source.frames(Problems())
    rows = sample_rows(frames, EVERY)
    images = [pixels for _, pixels in iter_pixels(source, frames, rows, Problems())]
    plain = ssd.predict(images)
    flipped = _unflip(ssd.predict([_flip(image) for image in images]), images)
    for name, found in (("p0", plain), ("p1", flipped)):
        write_predictions(source.lightly, PredictionTask(name, PredictionSchema.detection(ssd.categories), frames[rows], found))
    return root, images


def test_fuse_writes_the_fusion_of_the_tasks_as_the_detector_fuses_its_passes(tmp_path, passes_on_video, ssd):
    root, images = passes_on_video
    ds = tmp_path / "ds"
    shutil.copytree(root, ds)
    done = subprocess.run([sys.executable, "-m", "thresher", "fuse", str(ds), "--task", "p0", "--task", "p1", "--into", "mc"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "task mc: fused 2 passes over 6 frames into" in done.stdout
    source = Datasource(ds)
    frames, fused = predicted_part(read_predictions(source.lightly, "mc"))
    assert len(frames) == len(images) == 6 and frames.frame_index.tolist() == [0, 20, 40, 60, 80, 100]
    read = [predicted_part(read_predictions(source.lightly, name))[1] for name in ("p0", "p1")]
    expected = fuse_passes(read, iou_threshold=0.5).detections
    for column in ("frame", "class_id"):
        assert np.array_equal(getattr(fused, column), getattr(expected, column)), column
    for column in ("xyxy", "score", "box_spread", "class_spread"):
        assert np.allclose(getattr(fused, column), getattr(expected, column), atol=1e-3, equal_nan=True), column
    direct = TTADetector(ssd, "flip").predict(images)  # the same passes, never written: equal up to the files' 3 decimals
    assert np.array_equal(direct.frame, fused.frame) and np.allclose(direct.xyxy, fused.xyxy, atol=2e-3)
    assert (fused.box_spread > 0).any() and np.isfinite(fused.class_spread).all()


def test_fuse_keeps_only_frames_every_pass_predicted_and_never_overwrites(tmp_path, passes_on_video, ssd):
    root, _ = passes_on_video
    ds = tmp_path / "ds"
    shutil.copytree(root, ds)
    Image.fromarray(real_image("chelsea")).save(ds / "cat.png")
    source = Datasource(ds)
    frames = source.frames(Problems())
    still = np.flatnonzero(frames.kind == "image")
    found = ssd.predict([real_image("chelsea")])
    write_prediction_files(source.lightly, "p0", frames, found.replace(frame=still[found.frame]), rows=still)  # p0 only
    fused = fuse_tasks(source, ["p0", "p1"], "mc")
    assert (fused.frames, fused.left_out) == (6, 1)
    assert sorted(p.name for p in (ds / ".lightly/predictions/mc").iterdir())[-1] == "schema.json"
    with pytest.raises(UsageError, match="task 'mc' exists already"):
        fuse_tasks(source, ["p0", "p1"], "mc")


def test_fuse_refuses_what_cannot_be_passes_of_one_model(tmp_path, passes_on_video, ssd):
    root, _ = passes_on_video
    ds = tmp_path / "ds"
    shutil.copytree(root, ds)
    source = Datasource(ds)
    with pytest.raises(UsageError, match="at least two tasks"):
        fuse_tasks(source, ["p0"], "mc")
    with pytest.raises(UsageError, match="no task 'p9' in .*tasks there: p0, p1"):
        fuse_tasks(source, ["p0", "p9"], "mc")
    p0 = read_predictions(source.lightly, "p0")
    other = PredictionSchema.detection(["cat", "dog"])
    write_predictions(source.lightly, PredictionTask("two", other, p0.frames, p0.detections[p0.detections.class_id < 2]))
    with pytest.raises(SchemaError, match="task 'two' has categories"):
        fuse_tasks(source, ["p0", "two"], "mc")
    assert not (ds / ".lightly/predictions/mc").exists()
