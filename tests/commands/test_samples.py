"""`thresher samples`: copies every sample video docs/data.md lists, and keeps existing files."""

from __future__ import annotations

from pathlib import Path

from thresher.samples import SAMPLE_VIDEOS, sample_video
from tests.test_validate import run_cli


def test_samples_copies_the_three_videos_and_keeps_existing_files(tmp_path: Path, capsys):
    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "bikes.mp4").write_bytes(b"mine")
    code, output = run_cli(["samples", str(folder)], capsys)
    assert code == 0, output
    assert sorted(p.name for p in folder.iterdir()) == ["bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4"]
    assert output.split() == [str(folder / name) for name in SAMPLE_VIDEOS]
    assert (folder / "bikes.mp4").read_bytes() == b"mine"
    for name in ("bigbuckbunny.mp4", "carphone_pristine.mp4"):
        assert (folder / name).read_bytes() == sample_video(name).read_bytes()
