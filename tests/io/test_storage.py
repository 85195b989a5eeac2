import os

import pytest

from thresher import DatasourceError
from thresher.io.storage import Location, safe_name


@pytest.mark.parametrize("name", ["../a.jpg", "a/../../b", "/etc/passwd", "C:/x.jpg", "a\\b.jpg", "", "..", "a/\0b"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(DatasourceError):
        safe_name(name)


@pytest.mark.parametrize("name, normal", [("a.jpg", "a.jpg"), ("./a/./b.jpg", "a/b.jpg"), ("a//b", "a/b")])
def test_safe_names_are_normalized(name, normal):
    assert safe_name(name) == normal


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    location = Location(tmp_path)
    location.write_bytes("a/b.json", b"{}")
    location.write_bytes("a/b.json", b"[]")
    assert (tmp_path / "a/b.json").read_bytes() == b"[]"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.json"]


def test_files_lists_relative_names(tmp_path):
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "x" / "y" / "z.txt").write_text("1")
    (tmp_path / "top.txt").write_text("1")
    assert Location(tmp_path).files() == ["top.txt", "x/y/z.txt"]
    assert Location(tmp_path).files("x") == ["x/y/z.txt"]


def test_read_many_returns_errors_as_values(tmp_path):
    (tmp_path / "a").write_bytes(b"1")
    found = Location(tmp_path).read_many(["a", "missing"])
    assert found["a"] == b"1" and isinstance(found["missing"], FileNotFoundError)


def test_unknown_protocol_is_a_clear_error():
    with pytest.raises(DatasourceError, match="cannot open|needs the package"):
        Location("nosuchprotocol://bucket/x")


def test_file_listing_names_the_files_that_files_names_with_sizes_and_times(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / ".hidden").mkdir()
    (tmp_path / "d" / "a.json").write_bytes(b"12345")
    (tmp_path / "d" / "sub" / "b.json").write_bytes(b"1")
    (tmp_path / "d" / ".hidden" / "c.json").write_bytes(b"1")
    (tmp_path / "d" / ".e.json").write_bytes(b"1")
    os.symlink(tmp_path / "d" / "sub", tmp_path / "d" / "link")
    loc = Location(tmp_path)
    names, sizes, times = loc.file_listing("d")
    assert names.tolist() == loc.files("d") == ["d/.e.json", "d/a.json", "d/sub/b.json"]
    assert sizes.tolist() == [1, 5, 1] and times[1] == os.stat(tmp_path / "d" / "a.json").st_mtime_ns


def test_kept_listings_walk_once_and_forget_what_is_written(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.json").write_bytes(b"1")
    loc = Location(tmp_path)
    with loc.kept_listings():
        assert loc.file_listing("d")[0].tolist() == ["d/a.json"]
        (tmp_path / "d" / "b.json").write_bytes(b"1")  # written behind the location's back: not seen inside
        assert loc.file_listing("d")[0].tolist() == ["d/a.json"]
        loc.write_bytes("d/c.json", b"1")  # written through it: the folder is walked again
        assert loc.file_listing("d")[0].tolist() == ["d/a.json", "d/b.json", "d/c.json"]
    (tmp_path / "d" / "e.json").write_bytes(b"1")
    assert loc.file_listing("d")[0].tolist() == ["d/a.json", "d/b.json", "d/c.json", "d/e.json"]  # outside: always walked
