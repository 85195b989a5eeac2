"""The review hand-off of `thresher autolabel apply`: the same as a run's (docs/run.md, "The hand-off").

The frames to examine are put into `<output>/images/` under their Lightly names by the run's
own code (`thresher.run.images.write_images`: video frames extracted as PNG, stills linked or
copied), and `review_label_studio.json` names each by the URL Label Studio loads it from
(`thresher.run.exports.image_urls`): the local-files form relative to the document root
(`local_files_root`, default: the output folder's parent), or `image_root/<name>`
percent-encoded when `image_root` is set. `label_studio_config.xml` is the labeling config of
the task's classes. A frame whose image cannot be written (its video truncated or removed since
it was listed) gets no review task; `write_review` returns it and the command says so, one line
per video (`review_warnings`).

Example: `apply … --output ws/review` writes `ws/review/images/clips/bikes-020-mp4.png`, named
`/data/local-files/?d=review/images/clips/bikes-020-mp4.png`; Label Studio started with
`LOCAL_FILES_DOCUMENT_ROOT=ws` and a local-files storage on `ws/review` opens it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from thresher.autolabel.export import review_order, review_tasks
from thresher.autolabel.split import AutoLabelSplit
from thresher.detections import Detections
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.labelstudio_config import labeling_config
from thresher.io.storage import write_file
from thresher.run.config import ExportOptions
from thresher.run.exports import CONFIG_FILE, image_urls, label_studio_root
from thresher.run.images import IMAGES_DIR, write_images
from thresher.run.outputs import write_json
from thresher.run.unwritten import Unwritten, by_file, counted

REVIEW_FILE = "review_label_studio.json"


def review_options(image_root: str | None, local_files_root: str | None, stills: str) -> ExportOptions:
    """The run's export options that say where the review images go and how Label Studio finds them."""
    return ExportOptions.model_validate({"image_root": image_root, "local_files_root": local_files_root, "stills": stills})


def write_review(
    source: Datasource,
    frames: Frames,
    detections: Detections,
    split: AutoLabelSplit,
    names: Mapping[int, str],
    folder: Path,
    options: ExportOptions,
) -> tuple[dict[str, object], list[Unwritten]]:
    """Write `images/`, `review_label_studio.json` and `label_studio_config.xml` into `folder`
    for the frames `split` sends to examine; returns the artifacts (what `label_studio_hint`
    reads; `images_failed` counts the frames left out) and the frames whose image could not be
    written (a video truncated or gone since it was listed): they get no review task.

    ConfigError (naming `--local-files-root`) when that root does not hold `folder`.
    """
    root = None
    if options.image_root is None:
        root = label_studio_root(folder, options, default_root=folder.parent, setting="--local-files-root", holder="the output folder")
    rows = review_order(split)
    images = write_images(source, frames, rows, folder / IMAGES_DIR, options.stills)
    reviewed = rows[~np.isin(frames.file_name[rows], [entry.name for entry in images.failed])]
    urls = image_urls(frames.file_name.tolist(), folder / IMAGES_DIR, options, root)
    write_json(folder / REVIEW_FILE, review_tasks(frames, detections, split, names, urls, rows=reviewed))
    write_file(folder / CONFIG_FILE, labeling_config(name for _, name in sorted(names.items())).encode())
    artifacts: dict[str, object] = {"images": len(images.written), "images_failed": len(images.failed), "label_studio": REVIEW_FILE, "label_studio_config": CONFIG_FILE}
    if root is not None:
        artifacts.update(label_studio_document_root=str(root.document_root), label_studio_storage_path=str(root.storage_path))
    return artifacts, images.failed


def review_warnings(failed: Sequence[Unwritten]) -> list[str]:
    """One line per media file of `failed` (`write_review`): how many frames to examine it could
    not give, its problem, and where they are (split.csv only).

    >>> print(*review_warnings([Unwritten("v-003-mp4.png", "v.mp4", "expected a readable video, got nothing")]))
    warning: v.mp4: 1 frame to examine could not be written into images/ (expected a readable video, got nothing);
    review_label_studio.json leaves it out (split.csv lists it as examine)
    """
    lines = []
    for file, entries in by_file(failed).items():
        it = "it" if len(entries) == 1 else "them"
        lines.append(
            f"warning: {file}: {counted(len(entries), 'frame')} to examine could not be written into {IMAGES_DIR}/ ({entries[0].problem}); "
            f"{REVIEW_FILE} leaves {it} out (split.csv lists {it} as examine)"
        )
    return lines
