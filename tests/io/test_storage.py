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
