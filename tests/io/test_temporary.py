"""Files and folders written whole through a locked temporary; what a killed writer left is removed,
and nothing else: not a live writer's temporary, not a user's file that merely looks like one."""

from __future__ import annotations

import os

import pytest

from tests.killed_writes import killed_while_writing, temporaries, writing
from thresher.io.storage import Location, write_file
from thresher.io.temporary import TEMPORARY_NAME, copy_file, remove_stale, replacing, replacing_folder


def test_a_killed_write_leaves_the_old_file_and_a_temporary_that_remove_stale_deletes(tmp_path):
    target = tmp_path / "predictions" / "task" / "schema.json"
    write_file(target, b'{"old": true}')
    shard = tmp_path / "embeddings" / "model" / "shard-00001"
    killed_while_writing([target], [shard])
    left = temporaries(tmp_path)
    assert [p.name[: -len(".1a2b3c4d.tmp")] for p in left] == [".shard-00001", ".schema.json"]
    assert all(TEMPORARY_NAME.fullmatch(p.name) for p in left)
    assert target.read_bytes() == b'{"old": true}' and not shard.exists()
    assert remove_stale(tmp_path) == sorted(str(p) for p in left)
    assert temporaries(tmp_path) == [] and target.read_bytes() == b'{"old": true}'
    assert remove_stale(tmp_path) == []


def test_a_live_writers_temporaries_are_kept(tmp_path):
    """Another command still writing in the same folders keeps its temporaries (its lock is held)."""
    with writing([tmp_path / "metadata" / "a.json"], [tmp_path / "shard-00000"]):
        assert remove_stale(tmp_path) == []
        assert len(temporaries(tmp_path)) == 2
    assert len(remove_stale(tmp_path)) == 2  # killed now: its lock went with it


@pytest.mark.parametrize(
    "name",
    ["notes.tmp", ".notes.tmp", "a.json.tmp-1a2b3c4d", ".a.json.1A2B3C4D.tmp", ".a.json.1a2b3c4.tmp", ".a.json.1a2b3c4d.tmp.bak", "a.json.1a2b3c4d.tmp", ".1a2b3c4d.tmp"],
)
def test_a_users_file_that_only_looks_like_a_temporary_is_kept(tmp_path, name):
    (tmp_path / name).write_bytes(b"the user's")
    assert remove_stale(tmp_path) == []
    assert (tmp_path / name).read_bytes() == b"the user's"


def test_a_link_named_like_a_temporary_is_neither_followed_nor_removed(tmp_path):
    users = tmp_path / "users"
    users.mkdir()
    (users / "photo.png").write_bytes(b"png")
    (tmp_path / "ws").mkdir()
    os.symlink(users, tmp_path / "ws" / ".shard-00000.1a2b3c4d.tmp")
    os.symlink(users, tmp_path / "ws" / "linked")
    assert remove_stale(tmp_path / "ws") == []
    assert (users / "photo.png").read_bytes() == b"png" and (tmp_path / "ws" / ".shard-00000.1a2b3c4d.tmp").is_symlink()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.json"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), replacing(target) as handle:
        handle.write(b"new")
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError), replacing_folder(tmp_path / "shard-00000") as folder:
        (tmp_path / folder / "ids.npy").write_bytes(b"half")
        raise RuntimeError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"] and target.read_bytes() == b"old"


def test_writes_make_missing_folders_and_replace_whole(tmp_path):
    write_file(tmp_path / "a" / "b" / "c.json", b"1")
    Location(tmp_path).write_bytes(".lightly/metadata/x/y.json", b"2")
    with replacing_folder(tmp_path / "store" / "shard-00000") as folder:
        (tmp_path / folder / "ids.npy").write_bytes(b"3")
    copy_file(tmp_path / "a" / "b" / "c.json", tmp_path / "copy" / "c.json")
    write_file(tmp_path / "a" / "b" / "c.json", b"4")
    assert (tmp_path / "a/b/c.json").read_bytes() == b"4" and (tmp_path / ".lightly/metadata/x/y.json").read_bytes() == b"2"
    assert (tmp_path / "store/shard-00000/ids.npy").read_bytes() == b"3" and (tmp_path / "copy/c.json").read_bytes() == b"1"
    assert temporaries(tmp_path) == []
