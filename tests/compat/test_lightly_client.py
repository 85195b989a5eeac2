"""ApiWorkflowClient on local datasets: the registry, datasource configs, uploads, exports."""

from __future__ import annotations

import json
import stat

import numpy as np
import pytest
from PIL import Image

from thresher.compat import lightly
from thresher.compat.lightly import ApiWorkflowClient, DatasetType, DatasourcePurpose
from thresher.compat.lightly_runs import ComputeWorkerRunInfo
from thresher.catalog import Run
from thresher.errors import ConfigError, DatasourceError, SchemaError, UsageError
from thresher.io.storage import Location
from thresher.io.video import VideoReader


def test_datasets_are_registered_under_thresher_home(thresher_home):
    client = ApiWorkflowClient(token="ignored")
    with pytest.raises(UsageError, match="no dataset chosen"):
        client.dataset_id
    client.create_dataset("cars", dataset_type=DatasetType.VIDEOS)
    record = client.record()
    assert record.folder.parent == thresher_home / "lightly" / "datasets" and record.type == "VIDEOS"
    assert stat.S_IMODE((record.folder / "dataset.json").stat().st_mode) == 0o600  # may hold credentials
    with pytest.raises(UsageError, match="exists already"):
        client.create_dataset("cars")
    client.create_new_dataset_with_unique_name("cars")
    assert client.record().name == "cars_1"
    client.set_dataset_id_by_name("cars")
    assert client.dataset_id == record.id and client.dataset_name_exists("cars_1")
    with pytest.raises(UsageError, match=f"a dataset named 'cars' has id \"{record.id}\""):
        ApiWorkflowClient(dataset_id="cars")
    with pytest.raises(UsageError, match='did you mean "cars"'):
        client.set_dataset_id_by_name("crs")


S3_OPTIONS = {"key": "K", "secret": "S", "client_kwargs": {"region_name": "eu-central-1"}}


@pytest.mark.parametrize(
    ("call", "kwargs", "input", "lightly_"),
    [
        (
            "set_s3_config",
            dict(resource_path="s3://bucket/input/", region="eu-central-1", access_key="K", secret_access_key="S", purpose=DatasourcePurpose.INPUT),
            ("s3://bucket/input", S3_OPTIONS, "S3"),
            None,
        ),
        (
            "set_s3_delegated_access_config",
            dict(resource_path="s3://bucket/out/", region="eu-central-1", role_arn="arn", external_id="x", purpose="LIGHTLY"),
            None,
            ("s3://bucket/out", {"client_kwargs": {"region_name": "eu-central-1"}}, "S3_DELEGATED_ACCESS"),
        ),
        (
            "set_gcs_config",
            dict(resource_path="gs://bucket/in/", project_id="P", credentials=json.dumps({"type": "service_account"})),
            ("gs://bucket/in", {"project": "P", "token": {"type": "service_account"}}, "GCS"),
            ("gs://bucket/in", {"project": "P", "token": {"type": "service_account"}}, "GCS"),
        ),
        (
            "set_azure_config",
            dict(container_name="my-container/input/", account_name="ACC", sas_token="SAS", purpose=DatasourcePurpose.INPUT),
            ("az://my-container/input", {"account_name": "ACC", "sas_token": "SAS"}, "AZURE"),
            None,
        ),
    ],
)
def test_datasource_configs_become_fsspec_urls_and_options(call, kwargs, input, lightly_):
    client = ApiWorkflowClient()
    client.create_dataset("d")
    getattr(client, call)(**kwargs)
    record = ApiWorkflowClient(dataset_id=client.dataset_id).record()  # read back from disk
    for found, expected in ((record.input, input), (record.lightly, lightly_)):
        assert (found.url, found.storage_options, found.kind) == expected if expected else found is None


@pytest.mark.parametrize(
    ("call", "kwargs", "message"),
    [
        ("set_s3_config", dict(resource_path="bucket/input", region="r", access_key="k", secret_access_key="s"), "starting with s3://"),
        ("set_s3_config", dict(resource_path="s3://b", region="r", access_key="k", secret_access_key="s", purpose="INPUTT"), 'did you mean "INPUT"'),
        ("set_gcs_config", dict(resource_path="gs://b", project_id="p", credentials="credentials.json"), "JSON credentials"),
        ("set_local_config", dict(resource_path="s3://b"), "local folder"),
    ],
)
def test_bad_datasource_configs_say_what_is_expected(call, kwargs, message):
    client = ApiWorkflowClient()
    client.create_dataset("d")
    with pytest.raises(UsageError, match=message):
        getattr(client, call)(**kwargs)


def test_a_run_needs_an_input_datasource_and_a_valid_selection_config(clean_datasource):
    client = ApiWorkflowClient()
    client.create_dataset("d")
    with pytest.raises(UsageError, match="no INPUT datasource"):
        client.schedule_compute_worker_run(worker_config={}, selection_config={"n_samples": 1, "strategies": []})
    client.set_local_config(clean_datasource)
    # seed 001 writes its optional strategy inside a string: LightlyOne has no such entry either
    commented_out = {"n_samples": 5, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}, '{"input": ...}']}
    with pytest.raises(ConfigError, match="strategies\\[1\\]: expected a mapping"):
        client.schedule_compute_worker_run(worker_config={}, selection_config=commented_out)
    assert client.get_compute_worker_runs() == []


@pytest.fixture
def uploaded(clean_datasource) -> ApiWorkflowClient:
    client = ApiWorkflowClient()
    client.create_dataset("clean")
    client.upload_dataset(clean_datasource)
    return client


def test_upload_dataset_adds_every_image_and_frame(uploaded, clean_datasource, tmp_path):
    names = uploaded.get_filenames()
    assert len(names) == 122 and names == sorted(names) and {"img/a.jpg", "clips/car-119-mp4.png"} <= set(names)
    assert uploaded.record().input.url == str(clean_datasource.resolve())
    (tmp_path / "other").mkdir()
    with pytest.raises(UsageError, match="reads from"):
        uploaded.upload_dataset(tmp_path / "other")


def test_upload_embeddings_checks_the_csv(uploaded, tmp_path):
    csv = tmp_path / "embeddings.csv"
    csv.write_text("filenames,embedding_0,embedding_1,labels\nimg/a.jpg,1,0,0\nimg/b.jpg,0,1,0\n")
    uploaded.upload_embeddings(csv, name="mine")
    embeddings = uploaded.embeddings()
    assert embeddings.ids.tolist() == ["img/a.jpg", "img/b.jpg"] and embeddings.vectors.tolist() == [[1, 0], [0, 1]]
    for text, error, message in [
        ("filenames,embedding_0,labels\nimg/nope.jpg,1,0\n", UsageError, "not samples of dataset"),
        ("name,embedding_0,labels\n", SchemaError, "header starting with 'filenames'"),
        ("filenames,embedding_0,labels\nimg/a.jpg,1\n", SchemaError, "line 2: expected 3 fields"),
        ("filenames,embedding_0,labels\nimg/a.jpg,x,0\n", SchemaError, "line 2: embedding_0: expected a number, got 'x'"),
    ]:
        csv.write_text(text)
        with pytest.raises(error, match=message):
            uploaded.upload_embeddings(csv, name="mine")


def test_exports_of_a_tag(uploaded, clean_datasource):
    uploaded.create_tag_from_filenames(["img/a.jpg", "clips/car-005-mp4.png"], "to-label")
    assert uploaded.export_filenames_by_tag_name("to-label") == "img/a.jpg\nclips/car-005-mp4.png"
    image, frame = uploaded.export_filenames_and_read_urls_by_tag_name("to-label")
    assert image == {"fileName": "img/a.jpg", "readUrl": (clean_datasource / "img/a.jpg").resolve().as_uri(), "datasourceUrl": (clean_datasource / "img/a.jpg").resolve().as_uri()}
    png = np.asarray(Image.open(frame["readUrl"].removeprefix("file://")))
    with VideoReader(Location(clean_datasource), "clips/car.mp4") as reader:
        assert np.array_equal(png, reader[5])  # extracted now, no run did it
    tasks = uploaded.export_label_studio_tasks_by_tag_name("to-label")
    assert [t["id"] for t in tasks] == [0, 1] and tasks[1]["data"]["lightlyFileName"] == "clips/car-005-mp4.png"
    [box] = tasks[0]["predictions"][0]["result"]  # bbox [2, 3, 10, 12] on a 64 x 48 image, class 3 = car
    assert box["value"] == {"x": 3.125, "y": 6.25, "width": 15.625, "height": 25.0, "rotation": 0, "rectanglelabels": ["car"]}
    assert box["original_width"] == 64 and box["score"] == 0.75
    assert len(tasks[1]["predictions"][0]["result"]) == 2
    with pytest.raises(UsageError, match="no tag 'to-lable'"):
        uploaded.export_filenames_by_tag_name("to-lable")


def test_an_export_whose_frames_no_longer_decode_names_the_video_and_why(uploaded, clean_datasource):
    uploaded.create_tag_from_filenames(["img/a.jpg", "clips/car-005-mp4.png", "clips/car-100-mp4.png"], "to-label")
    whole = (clean_datasource / "clips/car.mp4").read_bytes()
    (clean_datasource / "clips/car.mp4").write_bytes(whole[: len(whole) // 3])  # cut since it was uploaded
    with pytest.raises(DatasourceError) as error:
        uploaded.export_filenames_and_read_urls_by_tag_name("to-label")
    message = str(error.value)
    assert message.startswith("2 frames of the tag could not be extracted: clips/car.mp4 (2 frames: expected a video whose frames all decode, got "), message
    assert message.endswith("; restore the video and export again, or export a tag without its frames") and "\n" not in message


@pytest.mark.parametrize(
    ("status", "state", "success"), [("done", "COMPLETED", True), ("failed", "FAILED", False), ("interrupted", "ABORTED", False), ("running", "RUNNING", False)]
)
def test_run_states_as_lightlyone_reports_them(status, state, success):
    info = ComputeWorkerRunInfo.of(Run("r", 0.0, None, status, {}, {}, {}, {}, None))
    assert (info.state, info.ended_successfully(), info.in_end_state()) == (state, success, status != "running")


def test_the_seeds_spellings_resolve():
    assert lightly.api.ApiWorkflowClient is ApiWorkflowClient
    assert DatasetType.VIDEOS == "VIDEOS" and f"{DatasourcePurpose.LIGHTLY}" == "LIGHTLY"
    assert set(lightly.__all__) <= set(dir(lightly))
