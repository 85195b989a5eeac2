"""What `thresher assert` will write: Lightly metadata records, schema, imputed boxes."""

import pytest
from assertion_videos import moving, video

from thresher import Frames, SchemaError, UsageError
from thresher.assertions import (
    ASSERTIONS,
    FLICKERING_SCHEMA,
    flicker,
    get_assertion,
    imputed_boxes,
    lightly_outputs,
    metadata_records,
    metadata_schema,
    multibox,
)


def flickering_video():
    track = moving(5, score=0.8)
    track[2] = None
    return video(*[[b] if b else [] for b in track])


def test_records_follow_seed_000():
    detections, frames = flickering_video()
    result = flicker(detections, frames)
    records = metadata_records([result], frames)
    assert records[2] == {
        "file_name": "v.mp4-002",
        "type": "frame",
        "metadata": {"flickering": 1.0, "flicker_severity": pytest.approx(0.8)},
    }
    assert [r["metadata"]["flickering"] for r in records] == [0.5, 0.5, 1.0, 0.5, 0.5]
    assert FLICKERING_SCHEMA == {"name": "Flickering", "path": "flickering", "defaultValue": 0.5, "valueDataType": "NUMERIC_FLOAT"}


def test_schema_and_boxes_of_several_results():
    detections, frames = flickering_video()
    results = [flicker(detections, frames), multibox(detections, frames)]
    assert [s["path"] for s in metadata_schema(results)] == ["flickering", "flicker_severity", "multibox_severity"]
    assert set(metadata_records(results, frames)[0]["metadata"]) == {"flickering", "flicker_severity", "multibox_severity"}
    assert imputed_boxes(results).frame.tolist() == [2]


def test_records_need_every_frame():
    detections, frames = flickering_video()
    other = Frames.build(["elsewhere"], kind="frame")
    with pytest.raises(SchemaError, match="does not cover every frame"):
        metadata_records([flicker(detections, frames)], other)


def test_lightly_outputs_bundle_what_the_cli_writes():
    detections, frames = flickering_video()
    outputs = lightly_outputs([flicker(detections, frames)], frames)
    assert outputs.schema[0] == FLICKERING_SCHEMA
    assert len(outputs.records) == len(frames) and outputs.imputed.frame.tolist() == [2]


def test_registry_names_the_choices():
    assert get_assertion("class_switch") is ASSERTIONS["class_switch"]
    with pytest.raises(UsageError, match='did you mean "flicker"'):
        get_assertion("flickr")


def test_all_is_complete():
    import inspect

    import thresher.assertions as package

    public = {n for n, v in vars(package).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert public == set(package.__all__)
