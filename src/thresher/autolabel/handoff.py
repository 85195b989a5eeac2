"""The review hand-off of `thresher autolabel apply`: the same as a run's (docs/run.md, "The hand-off").

The frames to examine are put into `<output>/images/` under their Lightly names by the run's
own code (`thresher.run.images.write_images`: video frames extracted as PNG, stills linked or
copied), and `review_label_studio.json` names each by the URL Label Studio loads it from
(`thresher.run.exports.image_urls`): the local-files form relative to the document root
(`local_files_root`, default: the output folder's parent), or `image_root/<name>`
percent-encoded when `image_root` is set. `label_studio_config.xml` is the labeling config of
the task's classes.

Example: `apply … --output ws/review` writes `ws/review/images/clips/bikes-020-mp4.png`, named
`/data/local-files/?d=review/images/clips/bikes-020-mp4.png`; Label Studio started with
`LOCAL_FILES_DOCUMENT_ROOT=ws` and a local-files storage on `ws/review` opens it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

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
) -> dict[str, object]:
    """Write `images/`, `review_label_studio.json` and `label_studio_config.xml` into `folder`
    for the frames `split` sends to examine; returns the artifacts (what `label_studio_hint` reads).

    ConfigError (naming `--local-files-root`) when that root does not hold `folder`.
    """
    root = None
    if options.image_root is None:
        root = label_studio_root(folder, options, default_root=folder.parent, setting="--local-files-root", holder="the output folder")
    rows = review_order(split)
    written = write_images(source, frames, rows, folder / IMAGES_DIR, options.stills)
    urls = image_urls(frames.file_name.tolist(), folder / IMAGES_DIR, options, root)
    write_json(folder / REVIEW_FILE, review_tasks(frames, detections, split, names, urls))
    write_file(folder / CONFIG_FILE, labeling_config(name for _, name in sorted(names.items())).encode())
    artifacts: dict[str, object] = {"images": len(written), "label_studio": REVIEW_FILE, "label_studio_config": CONFIG_FILE}
    if root is not None:
        artifacts.update(label_studio_document_root=str(root.document_root), label_studio_storage_path=str(root.storage_path))
    return artifacts
