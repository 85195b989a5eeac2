"""A pick whose image cannot be written when the run writes its outputs (a video cut or removed
after it was enumerated) is left out of everything the run hands over, said and recorded."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from PIL import Image

from tests.conftest import package_file
from tests.run.test_object_level import BOXES, write_task
from thresher.catalog import Catalog
from thresher.io.labelstudio_urls import path_of_url
from thresher.run import run

RANDOM = {"strategies": [{"input": {"type": "RANDOM", "random_seed": 0}, "strategy": {"type": "WEIGHTS"}}]}
CONFIG = {"selection_config": {"n_samples": 8, **RANDOM}, "thresher": {"every": 25}}


def datasource(root: Path, bikes_mp4: Path, carphone_mp4: Path) -> Path:
    """bikes.mp4 and carphone.mp4 (10 and 5 frames at every 25th) and a photo: 16 samples."""
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    shutil.copyfile(carphone_mp4, root / "carphone.mp4")
    shutil.copyfile(package_file("skimage", "data", "chelsea.png"), root / "chelsea.png")
    return root


def cut_when_writing_outputs(root: Path, name: str, lines: list[str]):
    """A run log that keeps its lines and cuts `name` to a third as the outputs stage starts
    (after the enumeration, the embeddings and the selection read it whole)."""

    def log(line: str) -> None:
        lines.append(line)
        if line == "outputs …":
            whole = (root / name).read_bytes()
            (root / name).write_bytes(whole[: len(whole) // 3])

    return log


def opens(path: Path) -> None:
    """The file exists and decodes as an image."""
    with Image.open(path) as image:
        image.load()


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def assert_every_export_names_an_image_that_opens(folder: Path, document_root: Path, listed: list[str]) -> None:
    """selection.csv, Label Studio's tasks, COCO and filenames.txt list the same `listed` names,
    each an image of images/ that opens (Label Studio's URL resolved below its document root)."""
    assert [r["file_name"] for r in rows(folder / "selection.csv")] == listed
    tasks = json.loads((folder / "label_studio_tasks.json").read_text())
    assert [t["data"]["thresher_id"] for t in tasks] == listed
    for task in tasks:
        opens(document_root / path_of_url(task["data"]["image"]))
    coco = json.loads((folder / "coco.json").read_text())
    assert [image["file_name"] for image in coco["images"]] == listed
    assert (folder / "filenames.txt").read_text().split() == listed
    for name in listed:
        opens(folder / "images" / name)
    assert sorted(str(p.relative_to(folder / "images")) for p in (folder / "images").rglob("*") if not p.is_dir()) == sorted(listed)


def test_frames_of_a_video_cut_after_enumerating_are_left_out_said_and_recorded(tmp_path, bikes_mp4, carphone_mp4):
    root = datasource(tmp_path / "ds", bikes_mp4, carphone_mp4)
    lines: list[str] = []
    result = run(root, CONFIG, log=cut_when_writing_outputs(root, "bikes.mp4", lines))
    folder = result.folder
    removed = [r for r in rows(folder / "removed_samples.csv") if r["reason"] == "unreadable"]
    lost = sorted(r["file_name"] for r in removed)
    assert lost and all(name.startswith("bikes-") for name in lost)  # the seeded draw picked frames of bikes.mp4
    assert all(r["detail"].startswith("selected, but not written into images/: bikes.mp4: expected a video whose frames all decode") for r in removed)
    picks = result.picks.ids.tolist()
    assert len(picks) == 8 - len(lost) and not set(lost) & set(picks)
    assert_every_export_names_an_image_that_opens(folder, root / ".thresher", picks)
    warnings = [line for line in lines if "warning:" in line]
    assert warnings == [
        f"  warning: bikes.mp4: {len(lost)} selected frames could not be written into images/ ({removed[0]['detail'].split('bikes.mp4: ', 1)[1]}); "
        "left out of selection.csv and the exports, listed in removed_samples.csv as unreadable"
    ]
    recorded = json.loads((folder / "run.json").read_text())
    assert recorded["counts"]["selected"] == len(picks) and recorded["counts"]["unreadable picks"] == len(lost)
    assert recorded["artifacts"]["images"] == len(picks) and recorded["artifacts"]["images_failed"] == len(lost)
    assert f"selected {len(picks)} of 16 samples ({len(lost)} more picked: their images could not be written" in result.summary()
    assert json.loads((folder / "selection.json").read_text())["counts"]["selected"] == 8  # the selector's own record
    with Catalog(root / ".thresher") as catalog:
        assert catalog.tag(f"run-{result.run_id}") == picks
    rerun = run(root, CONFIG)  # the cut video no longer reads: every other sample can be picked
    assert sorted(rerun.picks.ids.tolist()) == [*(f"carphone-{i:03d}-mp4.png" for i in range(0, 120, 25)), "chelsea.png"]
    assert [(r["file_name"], r["reason"]) for r in rows(rerun.folder / "removed_samples.csv")] == [("bikes.mp4", "corrupt")]
    assert_every_export_names_an_image_that_opens(rerun.folder, root / ".thresher", rerun.picks.ids.tolist())


def test_objects_of_a_photo_removed_after_enumerating_are_left_out_with_their_frame(tmp_path):
    root = tmp_path / "ds"
    root.mkdir()
    for stem in BOXES:
        shutil.copyfile(package_file("skimage", "data", f"{stem}.png"), root / f"{stem}.png")
    write_task(root, "det", BOXES)
    config = {"worker_config": {"object_level": {"task_name": "det"}}, "selection_config": {"n_samples": 5, **RANDOM}, "thresher": {"exports": {"task": "det"}}}
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if line == "outputs …":
            (root / "chelsea.png").unlink()

    result = run(root, config, log=log)
    folder = result.folder
    picks = result.picks.ids.tolist()
    assert len(picks) == 3 and not any(p.startswith("chelsea") for p in picks)  # 5 objects, 2 on chelsea.png
    assert [r["file_name"] for r in rows(folder / "selection.csv")] == picks
    assert sorted(p.name for p in (folder / "ds-crops").iterdir()) == sorted(picks)
    assert sorted(p.name for p in (folder / "images").iterdir()) == ["astronaut.png", "coffee.png"]
    for task in json.loads((folder / "label_studio_tasks.json").read_text()):
        opens(root / ".thresher" / path_of_url(task["data"]["image"]))
    removed = [r for r in rows(folder / "removed_samples.csv") if r["reason"] == "unreadable"]
    assert len(removed) == 2 and all(r["file_name"].startswith("chelsea") and "not written into ds-crops/: chelsea.png: " in r["detail"] for r in removed)
    assert [line for line in lines if "warning:" in line] == [
        "  warning: chelsea.png: 2 selected objects could not be written into ds-crops/ "
        f"(expected an image that decodes, got {root / 'chelsea.png'}: cannot read (FileNotFoundError)); "
        "left out of selection.csv and the exports, listed in removed_samples.csv as unreadable"
    ]
    artifacts = json.loads((folder / "run.json").read_text())["artifacts"]
    assert (artifacts["crops"], artifacts["crops_failed"], artifacts["images"], artifacts["images_failed"]) == (3, 2, 2, 1)


CLI_CUTTING_A_VIDEO = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import thresher.run.driver as driver
    from thresher.cli import main

    root, write_outputs = Path(sys.argv[1]), driver.write_outputs

    def cut_first(state):  # the video changes after the run read it, before it writes its images
        whole = (root / "bikes.mp4").read_bytes()
        (root / "bikes.mp4").write_bytes(whole[: len(whole) // 3])
        return write_outputs(state)

    driver.write_outputs = cut_first
    main(["run", str(root), "--config", sys.argv[2]])
    """
)


def test_the_command_warns_once_per_file_and_exits_0_with_a_whole_run_folder(tmp_path, bikes_mp4, carphone_mp4):
    root = datasource(tmp_path / "ds", bikes_mp4, carphone_mp4)
    config = tmp_path / "run.json"
    config.write_text(json.dumps(CONFIG))
    done = subprocess.run([sys.executable, "-c", CLI_CUTTING_A_VIDEO, str(root), str(config)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and warnings[0].startswith("  warning: bikes.mp4: ") and "selected frames could not be written into images/" in warnings[0], done.stderr
    assert "more picked: their images could not be written, removed_samples.csv lists them as unreadable)" in done.stdout
    (folder,) = list((root / ".thresher" / "runs").iterdir())
    assert not folder.name.endswith(".partial") and not (folder / ".lock").exists()
    picks = [r["file_name"] for r in rows(folder / "selection.csv")]
    assert_every_export_names_an_image_that_opens(folder, root / ".thresher", picks)
