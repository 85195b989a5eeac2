"""Converters into the Lightly format: 10,000 images, 200,000 boxes, from COCO results, YOLO txt
and Ultralytics-style results, against a plain per-box Python conversion (the way a one-off
script does it: a dict per box, one json.dumps and one file write per image).

Timed: the conversion alone (parse the input, convert and check the boxes), and end to end with
the prediction files written (10,000 small files: the disk dominates and varies run to run).
Run from the worktree: `.venv/bin/python bench/convert.py` (median of 5 runs).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from thresher.frames import Frames
from thresher.io.coco import coco_to_task
from thresher.io.conversion import save_task
from thresher.io.storage import Location
from thresher.io.ultralytics import ultralytics_to_task
from thresher.io.yolo import yolo_to_task

N_IMAGES, BOXES_PER_IMAGE, WIDTH, HEIGHT = 10_000, 20, 640, 480
NAMES = {i: f"class{i}" for i in range(80)}
RUNS = 5


def make_inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    names = [f"img/{i:05d}.jpg" for i in range(N_IMAGES)]
    frames = Frames.build(names, width=WIDTH, height=HEIGHT)
    n = N_IMAGES * BOXES_PER_IMAGE
    image = np.repeat(np.arange(N_IMAGES), BOXES_PER_IMAGE)
    xy = rng.uniform(0, [WIDTH - 60, HEIGHT - 60], (n, 2))
    wh = rng.uniform(2, 60, (n, 2))
    score, cls = rng.uniform(0, 1, n), rng.integers(0, 80, n)
    results = [
        {"image_id": int(i), "category_id": int(c), "bbox": [round(v, 2) for v in (*p, *s)], "score": round(float(q), 5)}
        for i, c, p, s, q in zip(image.tolist(), cls.tolist(), xy.tolist(), wh.tolist(), score.tolist())
    ]
    coco = {"images": [{"id": i, "file_name": n, "width": WIDTH, "height": HEIGHT} for i, n in enumerate(names)], "categories": [{"id": i, "name": n} for i, n in NAMES.items()]}
    centre = (xy + wh / 2) / [WIDTH, HEIGHT]
    size = wh / [WIDTH, HEIGHT]
    lines = [f"{c} {a:g} {b:g} {w:g} {h:g} {q:g}" for c, (a, b), (w, h), q in zip(cls.tolist(), centre.tolist(), size.tolist(), score.tolist())]
    txt = {f"{i:05d}.txt": "\n".join(lines[i * BOXES_PER_IMAGE : (i + 1) * BOXES_PER_IMAGE]) + "\n" for i in range(N_IMAGES)}
    xyxy = np.concatenate([xy, xy + wh], axis=1).astype(np.float32)
    fake = [
        SimpleNamespace(
            path=f"/data/ds/{name}",
            names=NAMES,
            orig_shape=(HEIGHT, WIDTH),
            boxes=SimpleNamespace(
                xyxy=xyxy[i * BOXES_PER_IMAGE : (i + 1) * BOXES_PER_IMAGE],
                conf=score[i * BOXES_PER_IMAGE : (i + 1) * BOXES_PER_IMAGE].astype(np.float32),
                cls=cls[i * BOXES_PER_IMAGE : (i + 1) * BOXES_PER_IMAGE].astype(np.float32),
            ),
        )
        for i, name in enumerate(names)
    ]
    return frames, json.dumps(results), json.dumps(coco), txt, fake


def write_plain(root: Path, per_image: dict[str, list]) -> None:
    for name, preds in per_image.items():
        path = root / ".lightly/predictions/t" / (os.path.splitext(name)[0] + ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"file_name": name, "predictions": preds}))


def plain_coco(results_text: str, coco_text: str) -> dict[str, list]:
    results, coco = json.loads(results_text), json.loads(coco_text)
    file_of = {im["id"]: im for im in coco["images"]}
    per_image = {im["file_name"]: [] for im in coco["images"]}
    for r in results:
        im = file_of[r["image_id"]]
        x, y, w, h = r["bbox"]
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, im["width"]), min(y + h, im["height"])
        per_image[im["file_name"]].append({"category_id": r["category_id"], "bbox": [x0, y0, x1 - x0, y1 - y0], "score": r["score"]})
    return per_image


def plain_yolo(txt: dict[str, str]) -> dict[str, list]:
    per_image = {}
    for name, text in txt.items():
        preds = []
        for line in text.splitlines():
            c, cx, cy, w, h, conf = line.split()
            x0 = max((float(cx) - float(w) / 2) * WIDTH, 0)
            y0 = max((float(cy) - float(h) / 2) * HEIGHT, 0)
            x1 = min((float(cx) + float(w) / 2) * WIDTH, WIDTH)
            y1 = min((float(cy) + float(h) / 2) * HEIGHT, HEIGHT)
            preds.append({"category_id": int(c), "bbox": [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)], "score": float(conf)})
        per_image["img/" + name[:-4] + ".jpg"] = preds
    return per_image


def plain_ultralytics(results: list) -> dict[str, list]:
    per_image = {}
    for r in results:
        preds = []
        for (x0, y0, x1, y1), conf, cls in zip(r.boxes.xyxy.tolist(), r.boxes.conf.tolist(), r.boxes.cls.tolist()):
            preds.append({"category_id": int(cls), "bbox": [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)], "score": conf})
        per_image[r.path.split("/data/ds/", 1)[1]] = preds
    return per_image


def timed(run, repeats: int = RUNS) -> float:
    times = []
    for _ in range(repeats):
        root = Path(tempfile.mkdtemp(prefix="bench-convert-"))
        start = time.perf_counter()
        run(root)
        times.append(time.perf_counter() - start)
        shutil.rmtree(root)
    return statistics.median(times)


def main() -> None:
    frames, results_text, coco_text, txt, fake = make_inputs()
    cases = {  # name: (plain conversion, thresher conversion), each from the raw input
        "COCO results": (
            lambda: plain_coco(results_text, coco_text),
            lambda: coco_to_task(json.loads(results_text), json.loads(coco_text), frames, task="t"),
        ),
        "YOLO txt": (lambda: plain_yolo(txt), lambda: yolo_to_task(txt, frames, NAMES, task="t")),
        "Ultralytics Results": (lambda: plain_ultralytics(fake), lambda: ultralytics_to_task(fake, frames, task="t")),
    }
    print(f"{N_IMAGES} images, {N_IMAGES * BOXES_PER_IMAGE} boxes; median of {RUNS} runs; {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print("| input | plain script: convert | thresher: convert | ratio | plain: convert + write | thresher: convert + save_task | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, (plain, ours) in cases.items():
        convert_plain, convert_ours = timed(lambda root: plain()), timed(lambda root: ours())
        full_plain = timed(lambda root: write_plain(root, plain()))
        full_ours = timed(lambda root: save_task(Location(root), ours()))
        print(
            f"| {name} | {convert_plain:.2f} s | {convert_ours:.2f} s | {convert_plain / convert_ours:.1f}x "
            f"| {full_plain:.2f} s | {full_ours:.2f} s | {full_plain / full_ours:.2f}x |"
        )


if __name__ == "__main__":
    main()
