"""`thresher validate`: a clean datasource passes; each bad input gives its precise problem.

Every case runs the real command in-process and checks the exit code, the message (file,
field, expected, got), that no traceback escapes, and that the datasource is unchanged.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import edit_list_copy, faststart_copy, tree_digest, write_json
from thresher.cli import main

DET = ".lightly/predictions/det"
BOX = {"category_id": 3, "bbox": [2, 3, 10, 12], "score": 0.75, "probabilities": [0.25, 0.75]}


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out = capsys.readouterr()
    return exit_info.value.code, out.out + out.err


def test_clean_datasource_passes(clean_datasource, capsys):
    code, output = run_cli(["validate", str(clean_datasource)], capsys)
    assert code == 0, output
    assert "2 images, 1 videos, 122 samples" in output
    assert (
        "task det (object-detection): 3 prediction files, 3 boxes (car 3); "
        "119 samples without a file (119 frames of predicted videos, read as no object; 0 not predicted), 0 invalid"
    ) in output
    assert "metadata: weather.rain (NUMERIC_FLOAT)" in output
    assert "no problems" in output


def box(**change):
    return {**BOX, **change}


def prediction(root: Path, *boxes, name="img/a.jpg", file="img/a.json", **extra):
    write_json(root / DET / file, {"file_name": name, "predictions": list(boxes), **extra})


def replace_text(path: str, text: str):
    return lambda root: (root / path).write_text(text)


def truncate(path: str, fraction: float):
    def apply(root: Path) -> None:
        data = (root / path).read_bytes()
        (root / path).write_bytes(data[: int(len(data) * fraction)])

    return apply


def remove(path: str):
    return lambda root: (root / path).unlink()


def schema(data):
    return lambda root: write_json(root / DET / "schema.json", data)


def metadata(file: str, data):
    return lambda root: write_json(root / ".lightly/metadata" / file, data)


CASES = [
    # boxes
    (
        "bbox outside the image",
        lambda r: prediction(r, box(bbox=[60, 3, 10, 12])),
        f"{DET}/img/a.json: predictions[0].bbox: expected a box inside the image, got [60, 3, 10, 12] in an image of 64x48",
    ),
    ("bbox width below 1", lambda r: prediction(r, box(bbox=[2, 3, 0.5, 12])), "predictions[0].bbox: expected w >= 1 and h >= 1 pixel, got [2, 3, 0.5, 12]"),
    ("bbox height 0", lambda r: prediction(r, box(), box(bbox=[2, 3, 4, 0])), "predictions[1].bbox: expected w >= 1 and h >= 1 pixel, got [2, 3, 4, 0]"),
    (
        "bad box after a malformed one keeps its index",
        lambda r: prediction(r, box(score="x"), box(bbox=[2, 3, 4, 0])),
        "predictions[1].bbox: expected w >= 1 and h >= 1 pixel, got [2, 3, 4, 0]",
    ),
    ("bbox negative x", lambda r: prediction(r, box(bbox=[-1, 3, 4, 4])), "predictions[0].bbox: expected x >= 0 and y >= 0, got [-1, 3, 4, 4]"),
    ("bbox of three numbers", lambda r: prediction(r, box(bbox=[1, 2, 3])), "predictions[0].bbox: expected [x, y, w, h], four numbers in pixels, got [1, 2, 3]"),
    ("bbox of strings", lambda r: prediction(r, box(bbox=["1", "2", "3", "4"])), "predictions[0].bbox: expected [x, y, w, h], four numbers in pixels, got ['1', '2', '3', '4']"),
    ("bbox missing", lambda r: prediction(r, {k: v for k, v in BOX.items() if k != "bbox"}), "predictions[0].bbox: expected [x, y, w, h], four numbers in pixels, got nothing"),
    (
        "NaN score",
        lambda r: (r / DET / "img/a.json").write_text(json.dumps({"file_name": "img/a.jpg", "predictions": [box(score=float("nan"))]})),
        "predictions[0].score: expected a number in [0, 1], got nan",
    ),
    ("score above 1", lambda r: prediction(r, box(score=1.5)), "predictions[0].score: expected a number in [0, 1], got 1.5"),
    ("score as a string", lambda r: prediction(r, box(score="0.5")), "predictions[0].score: expected a number in [0, 1], got '0.5'"),
    ("unknown category id", lambda r: prediction(r, box(category_id=7)), "predictions[0].category_id: expected one of the schema's ids [1, 3], got 7"),
    ("category id as a string", lambda r: prediction(r, box(category_id="car")), "predictions[0].category_id: expected an integer category id, got 'car'"),
    (
        "typo in a prediction key",
        lambda r: prediction(r, {**{k: v for k, v in BOX.items() if k != "score"}, "scor": 0.5}),
        "predictions[0].scor: expected only category_id, bbox, score, probabilities, box_std, box_spread, class_spread, got unknown key 'scor' (did you mean \"score\"?)",
    ),
    (
        "probabilities of the wrong length",
        lambda r: prediction(r, box(probabilities=[0.2, 0.3, 0.5])),
        "predictions[0].probabilities: expected 2 values, one per category, got 3 values",
    ),
    (
        "probabilities not summing to 1",
        lambda r: prediction(r, box(probabilities=[0.5, 0.7])),
        "predictions[0].probabilities: expected values summing to 1 (within 0.01), got a sum of 1.2",
    ),
    ("negative probability", lambda r: prediction(r, box(probabilities=[-0.5, 1.5])), "predictions[0].probabilities: expected values in [0, 1], got [-0.5, 1.5]"),
    (
        "probabilities on some boxes only",
        lambda r: prediction(r, box(), {k: v for k, v in BOX.items() if k != "probabilities"}),
        "predictions[1].probabilities: expected a probability vector on every box of the task, as other boxes have, got none on this box",
    ),
    (
        "predictions not a list",
        lambda r: write_json(r / DET / "img/a.json", {"file_name": "img/a.jpg", "predictions": {}}),
        f"{DET}/img/a.json: predictions: expected a JSON object with a 'predictions' list, got {{}}",
    ),
    # names
    (
        "file_name of another sample",
        lambda r: prediction(r, box(), name="img/b.jpg"),
        f"{DET}/img/a.json: file_name: expected the name of the sample this file is for (img/a.<ext>), got 'img/b.jpg'",
    ),
    (
        "prediction file without a sample",
        lambda r: prediction(r, box(), name="img/zzz.jpg", file="img/zzz.json"),
        f"{DET}/img/zzz.json: file_name: expected the name of an image or video frame of the datasource, got 'img/zzz.jpg', which is not one",
    ),
    ("frame index beyond the video", lambda r: prediction(r, box(), name="clips/car-500-mp4.png", file="clips/car-500-mp4.json"), "got 'clips/car-500-mp4.png', which is not one"),
    (
        "file_name escaping the datasource",
        lambda r: prediction(r, box(), name="../../etc/passwd.jpg"),
        "file_name: expected a name inside the datasource, got file name '../../etc/passwd.jpg' escapes the datasource",
    ),
    (
        "absolute file_name",
        lambda r: prediction(r, box(), name="/etc/a.jpg"),
        "file_name: expected a name inside the datasource, got file name '/etc/a.jpg' is not a relative '/'-separated path",
    ),
    ("malformed prediction JSON", replace_text(f"{DET}/img/a.json", '{"file_name": "img/a.jpg", "predictions": ['), f"{DET}/img/a.json: expected valid JSON, got malformed JSON"),
    (
        "two images sharing a prediction file",
        lambda r: shutil.copyfile(r / "img/a.jpg", r / "img/a.png"),
        "img/a.png: expected a name whose prediction file is its own, got the same prediction file 'img/a.json' "
        "as the image 'img/a.jpg', which is kept; the image 'img/a.png' is left out",
    ),
    (
        "an image named like a video frame",
        lambda r: shutil.copyfile(r / "img/a.jpg", r / "clips/car-007-mp4.png"),
        "clips/car-007-mp4.png: expected a name whose prediction file is its own, got the same prediction file "
        "'clips/car-007-mp4.json' as the image 'clips/car-007-mp4.png', which is kept; frame 7 of 'clips/car.mp4' is left out",
    ),
    # tasks and schema
    ("tasks.json missing", remove(".lightly/predictions/tasks.json"), ".lightly/predictions/tasks.json: expected a tasks.json listing the prediction tasks, got no such file"),
    ("tasks.json malformed", replace_text(".lightly/predictions/tasks.json", "[det]"), ".lightly/predictions/tasks.json: expected valid JSON, got malformed JSON"),
    (
        "tasks.json not a list",
        lambda r: write_json(r / ".lightly/predictions/tasks.json", {"det": 1}),
        ".lightly/predictions/tasks.json: expected a JSON list of task names, got {'det': 1}",
    ),
    ("task name escaping", lambda r: write_json(r / ".lightly/predictions/tasks.json", ["det", "../x"]), ".lightly/predictions/tasks.json: [1]: expected a task name without '..'"),
    (
        "task folder not listed",
        lambda r: write_json(r / ".lightly/predictions/other/schema.json", {"task_type": "object-detection", "categories": [{"id": 0, "name": "a"}]}),
        ".lightly/predictions/other: expected a task listed in .lightly/predictions/tasks.json, got a task folder that is not listed",
    ),
    ("schema.json missing", remove(f"{DET}/schema.json"), f"{DET}/schema.json: expected the schema of task 'det', got no such file"),
    ("schema.json malformed", replace_text(f"{DET}/schema.json", "{"), f"{DET}/schema.json: expected valid JSON, got malformed JSON"),
    (
        "unknown task_type",
        schema({"task_type": "object_detection", "categories": [{"id": 3, "name": "car"}]}),
        "task_type: expected one of object-detection, classification, semantic-segmentation, instance-segmentation, keypoint-detection, "
        "got 'object_detection' (did you mean \"object-detection\"?)",
    ),
    (
        "duplicate category id",
        schema({"task_type": "object-detection", "categories": [{"id": 3, "name": "car"}, {"id": 3, "name": "bus"}]}),
        f"{DET}/schema.json: categories[1].id: expected unique category ids, got 3 again",
    ),
    ("category without a name", schema({"task_type": "object-detection", "categories": [{"id": 3}]}), "categories[0]: expected {id: integer, name: string}, got {'id': 3}"),
    # media
    ("corrupt image", lambda r: (r / "img/b.jpg").write_bytes(b"not an image at all"), "img/b.jpg: expected a readable image, got no image format Pillow reads (19 bytes"),
    ("truncated JPEG", truncate("img/a.jpg", 0.6), "img/a.jpg: expected an image that decodes fully, got corrupt image, decoding failed"),
    (
        "truncated video, index at the end",
        truncate("clips/car.mp4", 0.7),
        "clips/car.mp4: expected a readable video, got not a readable video (InvalidDataError: Invalid data found when processing input)\n",
    ),
    (
        "truncated video, index at the front",
        lambda r: (faststart_copy(r / "clips/car.mp4", r / "fast.mp4"), truncate("fast.mp4", 0.7)(r)),
        "fast.mp4: expected a video that decodes to its last frame, got truncated video: the header says 120 frames, the file holds",
    ),
    ("not a video", lambda r: (r / "clips/car.mp4").write_bytes(b"\x00" * 1000), "clips/car.mp4: expected a readable video, got not a readable video"),
    # metadata
    (
        "unknown metadata value type",
        lambda r: write_json(r / ".lightly/metadata/schema.json", [{"name": "W", "path": "w", "defaultValue": 0, "valueDataType": "NUMERIC_INTEGER"}]),
        ".lightly/metadata/schema.json: [0].valueDataType: expected one of NUMERIC_INT, NUMERIC_FLOAT",
    ),
    (
        "metadata value of the wrong type",
        metadata("img/a.json", {"file_name": "img/a.jpg", "type": "image", "metadata": {"weather": {"rain": "heavy"}}}),
        ".lightly/metadata/img/a.json: metadata.weather.rain: expected a number (NUMERIC_FLOAT), got 'heavy'",
    ),
    (
        "metadata key not in the schema",
        metadata("img/a.json", {"file_name": "img/a.jpg", "type": "image", "metadata": {"weather": {"rian": 1.0}}}),
        "metadata.weather.rian: expected a key listed in .lightly/metadata/schema.json, got 'weather.rian' (did you mean \"weather.rain\"?)",
    ),
    (
        "metadata for no sample",
        metadata("img/q.json", {"file_name": "img/q.jpg", "type": "image", "metadata": {}}),
        ".lightly/metadata/img/q.json: file_name: expected the name of a image of the datasource, got 'img/q.jpg', which is not one",
    ),
    (
        "metadata of an unknown type",
        metadata("img/a.json", {"file_name": "img/a.jpg", "type": "picture", "metadata": {}}),
        ".lightly/metadata/img/a.json: type: expected one of image, video, frame, got 'picture'",
    ),
]


@pytest.mark.parametrize("name, damage, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_its_precise_problem(clean_datasource, capsys, name, damage, message):
    damage(clean_datasource)
    before = tree_digest(clean_datasource)
    code, output = run_cli(["validate", str(clean_datasource)], capsys)
    assert code == 1, output
    assert message in output, output
    assert "Traceback" not in output
    assert tree_digest(clean_datasource) == before


def test_at_least_25_bad_inputs():
    assert len(CASES) >= 25


def test_old_task_description_key_is_accepted(clean_datasource, capsys):
    schema({"task_description": "object-detection", "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]})(clean_datasource)
    code, output = run_cli(["validate", str(clean_datasource)], capsys)
    assert code == 0, output


def test_missing_datasource_is_a_usage_error(tmp_path, capsys):
    code, output = run_cli(["validate", str(tmp_path / "nope")], capsys)
    assert code == 2
    assert f"error: {tmp_path / 'nope'}: no such folder" in output


def test_frames_without_a_file_are_counted_as_information(clean_datasource, capsys):
    """A video the task predicted: its frames without a file are "no object" (LightlyOne's
    reading), not a problem; a video without any file, and every 2nd frame of a video
    predicted with --every 2, are not predicted."""
    root = clean_datasource
    shutil.copyfile(root / "clips" / "car.mp4", root / "clips" / "other.mp4")
    shutil.copyfile(root / "clips" / "car.mp4", root / "clips" / "sparse.mp4")
    for index in range(0, 120, 2):
        write_json(root / DET / "clips" / f"sparse-{index:03d}-mp4.json", {"file_name": f"clips/sparse-{index:03d}-mp4.png", "predictions": []})
    code, output = run_cli(["validate", str(root), "--quick"], capsys)
    assert code == 0, output
    assert (
        "task det (object-detection): 63 prediction files, 3 boxes (car 3); "
        "299 samples without a file (119 frames of predicted videos, read as no object; 180 not predicted), 0 invalid"
    ) in output
    assert "no problems" in output


def test_quick_reports_a_truncated_mp4_whose_header_counts_more_frames(clean_datasource, capsys):
    """`--quick` decodes nothing, yet the enumeration's demux pass already counted the packets:
    an MP4 cut short with its index at the front is reported from that count."""
    faststart_copy(clean_datasource / "clips/car.mp4", clean_datasource / "fast.mp4")
    truncate("fast.mp4", 0.7)(clean_datasource)
    code, output = run_cli(["validate", str(clean_datasource), "--quick"], capsys)
    assert code == 1, output
    assert "problem: fast.mp4: expected a complete video (its header matches its packets), got truncated video: the header says 120 frames, the file holds" in output
    assert output.count("problem: ") == 1, output


@pytest.mark.parametrize("quick", [[], ["--quick"]])
def test_a_clip_cut_between_keyframes_passes_with_the_frames_it_shows(clean_datasource, bikes_mp4, capsys, quick):
    """`ffmpeg -ss 1 -c copy` writes an edit list: 250 packets, 225 frames shown. The clip is
    valid and counts the frames a player shows (its header counts the packets)."""
    edit_list_copy(bikes_mp4, clean_datasource / "clip.mp4", skip=25)
    code, output = run_cli(["validate", str(clean_datasource), *quick], capsys)
    assert code == 0, output
    assert "2 images, 2 videos, 347 samples" in output  # 2 + 120 + 225
    assert "no problems" in output
