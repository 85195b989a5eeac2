"""What the resumable commands share (`thresher.commands.common`): `predict` and `embed` first
remove the temporaries that a killed command left, and say so in one line."""

from __future__ import annotations

import shutil

from tests.conftest import package_file
from tests.killed_writes import killed_while_writing, temporaries
from tests.test_user_errors import thresher


def test_predict_and_embed_remove_what_killed_writes_left(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    for name in ("chelsea.png", "coffee.png"):
        shutil.copyfile(package_file("skimage", "data", name), folder / name)
    task, workspace = folder / ".lightly/predictions/lightly_pretagging", folder / ".thresher"
    killed_while_writing([task / "chelsea.json", workspace / "predictions/lightly_pretagging.json"])
    (stale_prediction, stale_record) = temporaries(folder)
    predicted = thresher("predict", "ds", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stdout.splitlines()[0] == f"removed 2 temporary files left by a command killed while writing: {stale_prediction}, {stale_record}"
    assert temporaries(folder) == [] and (task / "chelsea.json").is_file()
    killed_while_writing(folders=[workspace / "embeddings/ssd-mobilenet-v2-coco/shard-00000"])
    assert len(temporaries(folder)) == 1
    embedded = thresher("embed", "ds", cwd=tmp_path)
    assert embedded.returncode == 0, embedded.stderr
    assert embedded.stdout.startswith("removed 1 temporary file left by a command killed while writing: ")
    assert temporaries(folder) == [] and (workspace / "embeddings/ssd-mobilenet-v2-coco/shard-00000/vectors.npy").is_file()
