import numpy as np

from tests.conftest import write_json
from thresher import Frames
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import MetadataField, read_metadata, write_metadata
from thresher.io.storage import Location


def test_read_defaults_and_nested_paths(clean_datasource):
    source = Datasource(clean_datasource)
    frames = source.frames()
    metadata = read_metadata(source.lightly, frames)
    rain = metadata["weather.rain"]
    assert rain[frames.index_of(["img/a.jpg"])[0]] == 0.5
    assert rain[frames.index_of(["img/b.jpg"])[0]] == 0.0  # the schema's default


def test_video_metadata_applies_to_frames_unless_a_frame_has_its_own(clean_datasource):
    meta = clean_datasource / ".lightly/metadata"
    write_json(meta / "clips/car.json", {"file_name": "clips/car.mp4", "type": "video", "metadata": {"weather": {"rain": 0.9}}})
    write_json(meta / "clips/car-003-mp4.json", {"file_name": "clips/car-003-mp4.png", "type": "frame", "metadata": {"weather": {"rain": 0.1}}})
    source = Datasource(clean_datasource)
    frames = source.frames()
    rain = read_metadata(source.lightly, frames)["weather.rain"]
    rows = frames.index_of(["clips/car-002-mp4.png", "clips/car-003-mp4.png", "img/b.jpg"])
    assert rain[rows].tolist() == [0.9, 0.1, 0.0]


def test_write_like_seed_000_and_read_back(tmp_path):
    location = Location(tmp_path)
    frames = Frames.build(["v-0-mp4.png", "v-1-mp4.png"], kind="frame", video="v.mp4", frame_index=[0, 1])
    field = MetadataField("Flickering", "flickering", 0.5, "NUMERIC_FLOAT")
    write_metadata(location, (field,), frames, {"flickering": np.array([1.0, 0.5])})
    write_metadata(location, (MetadataField("Severity", "flicker.severity", 0.0, "NUMERIC_FLOAT"),), frames, {"flicker.severity": np.array([2.0, 0.0])})
    import json

    schema = json.loads((tmp_path / ".lightly/metadata/schema.json").read_text())
    assert schema[0] == {"name": "Flickering", "path": "flickering", "defaultValue": 0.5, "valueDataType": "NUMERIC_FLOAT"}
    first = json.loads((tmp_path / ".lightly/metadata/v-0-mp4.json").read_text())
    assert first == {"file_name": "v-0-mp4.png", "type": "frame", "metadata": {"flickering": 1.0, "flicker": {"severity": 2.0}}}
    metadata = read_metadata(location, frames)
    assert metadata["flickering"].tolist() == [1.0, 0.5]
