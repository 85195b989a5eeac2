"""Box overlays of the report: every label stays inside its frame."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
from PIL import ImageFont

from thresher.report.data import Thumbnails
from thresher.report.overlay import CHAR_WIDTH, boxes_svg

WIDTH, HEIGHT = 400, 300


def _thumbs(xyxy: list[list[float]], imputed: list[bool]) -> Thumbnails:
    n = len(xyxy)
    return Thumbnails(
        frame_id=np.array(["bikes-152-mp4.png"]),
        data=np.zeros(0, np.uint8),
        offsets=np.array([0, 0]),
        size=np.array([[WIDTH, HEIGHT]]),
        labels=np.array(["car", "person"]),
        box_thumb=np.zeros(n, np.int64),
        box_xyxy=np.array(xyxy, np.float32),
        box_label=np.zeros(n, np.int64),
        box_score=np.full(n, 0.15, np.float32),
        box_imputed=np.array(imputed),
    )


def _spans(svg: str) -> list[tuple[float, float]]:
    """(left, right) of each label, its width estimated as the overlay estimates it."""
    spans = []
    for attrs, text in re.findall(r"<text ([^>]*)>([^<]*)</text>", svg):
        x, font = float(re.search(r"x='([\d.]+)'", attrs).group(1)), float(re.search(r"font-size='([\d.]+)'", attrs).group(1))
        width = len(text) * CHAR_WIDTH * font
        spans.append((x - width, x) if "text-anchor='end'" in attrs else (x, x + width))
    return spans


def test_labels_near_the_right_edge_stay_inside_the_frame():
    """The audit's "car 0.15" right of bikes-152: a box at the frame's right edge, a tiny one
    there, an imputed one, and one in the middle (left-aligned as before)."""
    svg = boxes_svg(_thumbs([[372, 50, 399, 90], [395, 10, 400, 14], [300, 200, 398, 290], [100, 100, 160, 150]], [False, False, True, False]), 0, labels=True)
    spans = _spans(svg)
    assert len(spans) == 4
    assert all(left >= 0 and right <= WIDTH for left, right in spans), spans
    assert spans[3][0] == 102.0  # room enough: at the box's left edge


def test_the_width_estimate_is_not_below_a_real_fonts():
    font = ImageFont.load_default(size=100)
    for text in ("car 0.15", "imputed person 0.95", "motorcycle 1.00"):
        assert font.getlength(text) <= len(text) * CHAR_WIDTH * 100, text


def test_a_portrait_frames_labels_are_as_large_as_a_landscape_frames():
    """Strips fit a frame's longer side to the column (a portrait frame's height is capped), so
    labels scale with the longer side: a phone's 272x640 frame gets the font of a 640x272 one,
    not 10 px that would show at 6 px."""

    def font(width: int, height: int) -> float:
        thumbs = _thumbs([[10, 10, 60, 60]], [False])
        thumbs = dataclasses.replace(thumbs, size=np.array([[width, height]]))
        return float(re.search(r"font-size='([\d.]+)'", boxes_svg(thumbs, 0, labels=True)).group(1))

    assert font(272, 640) == font(640, 272) == 20.0
