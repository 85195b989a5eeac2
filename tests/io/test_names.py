import pytest

from thresher.io.names import frame_name, frame_names, json_name, parse_frame_name


@pytest.mark.parametrize(
    "video, index, n_frames, expected",
    [
        ("bikes.mp4", 0, 250, "bikes-000-mp4.png"),
        ("bikes.mp4", 249, 250, "bikes-249-mp4.png"),
        ("clips/a.b.mov", 7, 10, "clips/a.b-07-mov.png"),  # 10 frames: len("10") = 2 digits
        ("x.mp4", 99, 1000, "x-0099-mp4.png"),  # the count, not the last index, sets the width
        ("x.mp4", 3, 9, "x-3-mp4.png"),
    ],
)
def test_frame_name(video, index, n_frames, expected):
    assert frame_name(video, index, n_frames) == expected
    assert parse_frame_name(expected) == (video, index, len(str(n_frames)))


def test_frame_names_in_order():
    assert frame_names("v.mp4", 3) == ["v-0-mp4.png", "v-1-mp4.png", "v-2-mp4.png"]


def test_parse_rejects_non_frame_names():
    assert parse_frame_name("photo-01-jpg.png") is None  # jpg is not a video extension
    assert parse_frame_name("plain.png") is None


def test_json_name():
    assert json_name("clips/bikes-012-mp4.png") == "clips/bikes-012-mp4.json"
    assert json_name("img/a.JPG") == "img/a.json"
