import pytest

from thresher.io.labelstudio_urls import local_files_url, path_of_url, served_url


def test_local_files_url_is_relative_to_the_document_root_and_encoded():
    url = local_files_url("/data/ws/runs/r1/images/my photos/a+b#1.png", "/data/ws")
    assert url == "/data/local-files/?d=runs/r1/images/my%20photos/a%2Bb%231.png"
    assert path_of_url(url) == "runs/r1/images/my photos/a+b#1.png"


def test_a_path_outside_the_root_has_no_local_files_url():
    with pytest.raises(ValueError, match="not inside the document root"):
        local_files_url("/data/other/a.png", "/data/ws")


def test_served_urls_and_their_paths():
    assert served_url("http://host:8000/imgs/", "data/a b.png") == "http://host:8000/imgs/data/a%20b.png"
    assert path_of_url("http://host:8000/imgs/data/a%20b.png") == "/imgs/data/a b.png"
    assert path_of_url("img/a.jpg") == "img/a.jpg"
