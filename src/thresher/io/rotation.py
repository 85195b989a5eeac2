"""Rotated videos shown upright: the quarter turn a video's display matrix asks for, and a frame
turned by it.

A phone stores a portrait video as landscape frames and writes a display matrix (MP4/MOV `tkhd`;
`ffprobe` shows it as the stream's `Display Matrix` side data) saying how to turn them. FFmpeg's
players and OpenCV's `VideoCapture` apply it (OpenCV by `CAP_PROP_ORIENTATION_AUTO`: on by default
in 4.8, 4.10, 4.12 and 5.0, off in 4.11.0), so a detector's boxes on such a video are in upright
pixels. OpenCV applies quarter turns only (no other angle, no mirror); so does thresher, and its
frames equal OpenCV's pixel for pixel (tests/io/test_video.py).

Example: `upright(stored, display_rotation(stream, keyframe))` → the frame as a player shows it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thresher.errors import require


def display_rotation(stream: Any, keyframe: Any) -> int | None:
    """Degrees counterclockwise (0, 90, 180 or 270) a player turns the frames of `stream` to show
    them upright, from the display matrix of the frame the packet `keyframe` decodes to; None when
    it decodes to no frame. The decoder is left as it was found (flushed).

    PyAV gives the display matrix of a decoded frame only (FFmpeg copies the container's onto
    each frame); like OpenCV, only its quarter turn counts (another angle gives 0; a mirror in
    the matrix is not applied).
    Example: a matrix of -90° (ffprobe's `rotation=-90`, a phone's portrait video) → 270.
    """
    av = require("av", "video")
    context = stream.codec_context
    try:
        frames = [*context.decode(keyframe), *context.decode(None)]
    except av.FFmpegError:
        frames = []
    finally:
        context.flush_buffers()
    return quarter_turn(frames[0].rotation) if frames else None


def quarter_turn(degrees: float) -> int:
    """A display matrix's rotation (degrees counterclockwise, -180..180) as 0, 90, 180 or 270;
    0 for an angle that is no quarter turn, which OpenCV does not apply either.

    >>> [quarter_turn(d) for d in (90, -90, -180, 45)]
    [90, 270, 180, 0]
    """
    turn = round(degrees) % 360
    return turn if turn in (90, 180, 270) else 0


def upright(pixels: np.ndarray, rotation: int) -> np.ndarray:
    """An (H, W, C) stored frame as a player shows it: turned `rotation` degrees counterclockwise
    (`VideoInfo.rotation`), in a C-contiguous array (the same array when `rotation` is 0).

    >>> upright(np.arange(6).reshape(2, 3, 1), 90)[..., 0].tolist()
    [[2, 5], [1, 4], [0, 3]]
    """
    return np.ascontiguousarray(np.rot90(pixels, rotation // 90)) if rotation else pixels
