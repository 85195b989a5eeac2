import functools
import hashlib
import http.server
import os
import threading
import time

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


def test_a_replaced_file_of_the_same_size_changes_its_stat_in_memory_stores():
    location = Location(f"memory://stat-{os.getpid()}")
    location.write_bytes("a.bin", b"1234")
    before, listed = location.stat("a.bin"), location.file_listing()[2].tolist()
    time.sleep(0.002)
    location.write_bytes("a.bin", b"5678")
    assert location.stat("a.bin")[0] == before[0] == 4
    assert location.stat("a.bin") != before and location.file_listing()[2].tolist() != listed


class _Served(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; with `etag_only`, an ETag of the content instead of Last-Modified;
    with `with_etag`, both."""

    etag_only = False
    with_etag = False

    def send_header(self, keyword, value):
        if not (self.etag_only and keyword == "Last-Modified"):
            super().send_header(keyword, value)

    def end_headers(self):
        if (self.etag_only or self.with_etag) and self.command == "HEAD":
            path = self.translate_path(self.path)
            if os.path.isfile(path):
                with open(path, "rb") as handle:
                    super().send_header("ETag", f'"{hashlib.md5(handle.read()).hexdigest()}"')
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_folder(tmp_path):
    """(folder, url, handler class) of a local HTTP server of `tmp_path`."""
    handler = type("Handler", (_Served,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _written(folder, data: bytes, seconds: int, location: Location) -> tuple:
    """`folder/a.bin` written with `data` and modified at `seconds`; its stat through `location`."""
    (folder / "a.bin").write_bytes(data)
    os.utime(folder / "a.bin", (seconds, seconds))
    return location.stat("a.bin")


@pytest.mark.parametrize("etag_only", [False, True], ids=["last-modified", "etag"])
def test_a_replaced_file_of_the_same_size_changes_its_stat_over_http(http_folder, etag_only):
    pytest.importorskip("aiohttp", reason="fsspec's HTTP filesystem needs aiohttp")
    folder, url, handler = http_folder
    handler.etag_only = etag_only
    before = _written(folder, b"1234", 1_700_000_000, Location(url))
    assert before[0] == 4 and before[1] != 0 and (etag_only or before[1] == 1_700_000_000.0)  # the ETag stands in for a time
    after = _written(folder, b"5678", 1_700_000_100, Location(url))
    assert after[0] == 4 and after != before


def test_a_same_second_replacement_is_seen_where_the_store_gives_an_etag(http_folder):
    """S3 and HTTP give times to the whole second: the ETag tells a same-size replacement apart."""
    pytest.importorskip("aiohttp", reason="fsspec's HTTP filesystem needs aiohttp")
    folder, url, handler = http_folder
    handler.with_etag = True
    location = Location(url)
    before = _written(folder, b"1234", 1_700_000_000, location)
    assert before[0] == 4 and int(before[1]) == 1_700_000_000  # the time, to the second
    assert _written(folder, b"5678", 1_700_000_000, location) != before  # the same second
    assert location.stat("a.bin") == location.stat("a.bin")  # stable while unchanged
