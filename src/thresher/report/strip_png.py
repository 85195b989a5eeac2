"""Flagged frames as PNG images: frames t-1, t, t+1 side by side with their boxes, as the
report's strips show them, for `thresher assert --strips DIR` and for looking at an audit.

Each box is drawn in its class's colour with "class score" written on it; imputed boxes are
dashed magenta, labelled "imputed class score". Frames narrower than `MIN_PANEL` pixels are
enlarged by a whole factor (nearest neighbour), so small videos stay readable; frames wider
than `MAX_PANEL` are reduced as they are decoded (a strip of 4K frames stays small).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from thresher.detections import Detections
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.pixels import iter_pixels
from thresher.io.problems import Problems
from thresher.io.storage import write_file
from thresher.report.flagged import ROLES, neighbour_ids, worst_first
from thresher.report.overlay import PALETTE

MIN_PANEL = 480
MAX_PANEL = 960
GAP = 8
IMPUTED = "#ff00ff"


def write_strips(
    source: Datasource,
    frames: Frames,
    detections: Detections,
    imputed: Detections,
    severity: np.ndarray,
    names: dict[int, str],
    folder: str | Path,
    limit: int = 24,
) -> list[Path]:
    """Write `<frame name>.png` for the `limit` worst flagged frames into `folder`; returns the paths.

    frames: the frames asserted (one video frame per row); detections, imputed: their boxes
    (`frame` = row of `frames`); severity: per row (0 = not flagged); names: class names by id.
    """
    rows = worst_first(frames.id, np.asarray(severity, dtype=np.float64), limit)
    neighbours = neighbour_ids(frames, rows)
    wanted = np.unique(neighbours[neighbours != ""])
    pictures = {row: _sized(image) for row, image in iter_pixels(source, frames, frames.index_of(wanted), Problems())}
    written = []
    for row, ids in zip(rows.tolist(), neighbours.tolist()):
        panels = []
        for role, frame_id in zip(ROLES, ids):
            at = int(frames.index_of([frame_id])[0]) if frame_id else -1
            if at in pictures:
                panels.append(_panel(*pictures[at], role, frame_id, detections[detections.frame == at], imputed[imputed.frame == at], names))
        title = f"{frames.id[row]} · severity {severity[row]:.3g}"
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", str(frames.id[row]))
        path = Path(folder) / (stem if stem.endswith(".png") else f"{stem}.png")
        write_file(path, strip_png(panels, title))
        written.append(path)
    return written


def strip_png(panels: list[Image.Image], title: str) -> bytes:
    """PNG bytes of the panels side by side under a title line."""
    font = _font(16)
    width = sum(p.width for p in panels) + GAP * max(len(panels) - 1, 0)
    height = max((p.height for p in panels), default=0) + 24
    canvas = Image.new("RGB", (max(width, 1), height), "white")
    ImageDraw.Draw(canvas).text((4, 2), title, fill="black", font=font)
    x = 0
    for panel in panels:
        canvas.paste(panel, (x, 24))
        x += panel.width + GAP
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _sized(image: np.ndarray) -> tuple[Image.Image, float]:
    """(the frame as a panel-sized picture, its scale from frame pixels)."""
    picture = Image.fromarray(np.ascontiguousarray(image)).convert("RGB")
    if picture.width > MAX_PANEL:
        scale = MAX_PANEL / picture.width
        return picture.resize((MAX_PANEL, max(1, round(picture.height * scale))), Image.Resampling.BILINEAR), scale
    scale = max(1, -(-MIN_PANEL // picture.width))
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    return picture, float(scale)


def _panel(picture: Image.Image, scale: float, role: str, frame_id: str, boxes: Detections, imputed: Detections, names: dict[int, str]) -> Image.Image:
    """One frame's picture (`scale` from frame pixels) with its boxes and labels."""
    picture = picture.copy()
    draw = ImageDraw.Draw(picture)
    font = _font(max(12, picture.width // 40))
    for xyxy, score, class_id in zip(boxes.xyxy * scale, boxes.score, boxes.class_id):
        color = PALETTE[int(class_id) % len(PALETTE)]  # one colour per class in all three frames
        draw.rectangle(xyxy.tolist(), outline=color, width=2)
        _label(draw, (xyxy[0] + 2, xyxy[1] + 1), f"{names.get(int(class_id), class_id)} {score:.2f}", color, font)
    for xyxy, score, class_id in zip(imputed.xyxy * scale, imputed.score, imputed.class_id):
        _dashed(draw, xyxy.tolist())
        _label(draw, (xyxy[0] + 2, xyxy[3] - font.size - 4), f"imputed {names.get(int(class_id), class_id)} {score:.2f}", IMPUTED, font)
    caption_font = _font(14)
    framed = Image.new("RGB", (picture.width, picture.height + 20), "white")
    framed.paste(picture, (0, 20))
    ImageDraw.Draw(framed).text((2, 2), f"{role.replace('−', '-')} · {frame_id}", fill="#3c4043", font=caption_font)  # the font has no minus sign
    return framed


def _label(draw: ImageDraw.ImageDraw, at: tuple[float, float], text: str, color: str, font) -> None:
    """White text on a box of `color`, moved left as far as needed to stay inside the picture."""
    right = draw.im.size[0] - 2 - draw.textlength(text, font=font)
    at = (max(1.0, min(float(at[0]), right)), at[1])
    box = draw.textbbox(at, text, font=font)
    draw.rectangle((box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1), fill=color)
    draw.text(at, text, fill="white", font=font)


def _dashed(draw: ImageDraw.ImageDraw, xyxy: list[float], dash: int = 8) -> None:
    x0, y0, x1, y1 = xyxy
    for start in np.arange(x0, x1, 2 * dash):
        end = min(start + dash, x1)
        draw.line((start, y0, end, y0), fill=IMPUTED, width=3)
        draw.line((start, y1, end, y1), fill=IMPUTED, width=3)
    for start in np.arange(y0, y1, 2 * dash):
        end = min(start + dash, y1)
        draw.line((x0, start, x0, end), fill=IMPUTED, width=3)
        draw.line((x1, start, x1, end), fill=IMPUTED, width=3)


def _font(size: int):
    """Pillow's bundled font at `size` pixels."""
    return ImageFont.load_default(size=size)
