"""A run's picks whose image or crop could not be written are taken out of what it hands over.

A run writes `images/` (and at object level the crops) from files it enumerated minutes or hours
earlier; a video truncated or replaced since, a frame that no longer decodes or a file gone
from the bucket cannot give its pixels (`thresher.run.unwritten`). Such a pick is not handed
over with a broken image: it leaves the run's selection (selection.csv, the exports, the
report, the catalog's tags), joins `removed_samples.csv` as `unreadable` (the detail names the
file, the folder and the reader's reason), is counted in run.json (`unreadable picks`), and
the run logs one warning per media file. The selector's own record (selection.json) is kept:
the same inputs still select the same samples, and a rerun finds the file changed and checks
it again (docs/run.md, "When a picked image cannot be written").

Example: `without_unwritten(state, unwritten_picks(state, images.failed, crops.failed, "ds-crops"))`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from thresher.run.images import IMAGES_DIR
from thresher.run.unwritten import Unwritten, counted

if TYPE_CHECKING:
    from thresher.run.state import Selected

UNREADABLE = "unreadable"  # the reason in removed_samples.csv
UNREADABLE_PICKS = "unreadable picks"  # run.json's count of the picks taken out
NOUNS = {"frame": "selected frame", "image": "selected image", "crop": "selected object"}


def unwritten_picks(state: Selected, images: Sequence[Unwritten], crops: Sequence[Unwritten], crops_folder: str) -> dict[str, tuple[Unwritten, str]]:
    """{id of a new pick: (what of it was not written, the folder it was for)}: picks whose
    crop (in `crops_folder`) or whose frame or still (in images/) is among the failures."""
    crop_failed = {entry.name: entry for entry in crops}
    image_failed = {entry.name: entry for entry in images}
    picks = state.outcome.selection.ids[state.new_picks()]
    samples = state.samples[state.samples.index_of(picks)]
    frame_ids = np.where(samples.parent_id != "", samples.parent_id, samples.id)
    frame_names = state.frames.file_name[state.frames.index_of(frame_ids)]
    found: dict[str, tuple[Unwritten, str]] = {}
    for pick, name, frame_name in zip(picks.tolist(), samples.file_name.tolist(), frame_names.tolist()):
        if name in crop_failed:
            found[pick] = (crop_failed[name], crops_folder)
        elif frame_name in image_failed:
            found[pick] = (image_failed[frame_name], IMAGES_DIR)
    return found


def without_unwritten(state: Selected, failed: Mapping[str, tuple[Unwritten, str]]) -> Selected:
    """`state` without the picks of `failed` (`unwritten_picks`) in its selection, listed as
    removed (`unreadable`) and counted (`unreadable picks`); logs one warning per media file."""
    if not failed:
        return state
    outcome = state.outcome
    keep = ~np.isin(outcome.selection.ids, list(failed))
    kept = replace(
        outcome,
        selection=outcome.selection[keep],
        values={name: column[keep] for name, column in outcome.values.items()},
        objectives={name: column[keep] for name, column in outcome.objectives.items()},
        factors={name: column[keep] for name, column in outcome.factors.items()},
    )
    samples = state.samples[state.samples.index_of(list(failed))]
    removed = tuple(
        (name, UNREADABLE, f"selected, but not written into {folder}/: {entry.file}: {entry.problem}") for name, (entry, folder) in zip(samples.file_name.tolist(), failed.values())
    )
    for line in warnings(failed, dict(zip(samples.id.tolist(), samples.kind.tolist()))):
        state.log(line)
    counts = {**state.counts, "selected": state.counts.get("selected", 0) - len(failed), UNREADABLE_PICKS: len(failed)}
    return replace(state, outcome=kept, removed=state.removed + removed, counts=counts)


def warnings(failed: Mapping[str, tuple[Unwritten, str]], kinds: Mapping[str, str]) -> list[str]:
    """One warning line per media file of `failed` ({pick: (entry, folder)}), naming its first
    problem; `kinds`: each pick's kind (frame, image, crop).

    >>> entry = Unwritten("v-003-mp4.png", "v.mp4", "expected a video whose frames all decode, got v.mp4: frame 3 out of range 0..1")
    >>> print(*warnings({"v-003-mp4.png": (entry, "images")}, {"v-003-mp4.png": "frame"}))
      warning: v.mp4: 1 selected frame could not be written into images/ (expected a video whose frames all
      decode, got v.mp4: frame 3 out of range 0..1); left out of selection.csv and the exports, listed in
      removed_samples.csv as unreadable
    """
    per_file: dict[str, list[tuple[str, Unwritten, str]]] = {}
    for pick, (entry, folder) in failed.items():
        per_file.setdefault(entry.file, []).append((pick, entry, folder))
    lines = []
    for file, picks in per_file.items():
        pick, entry, folder = picks[0]  # each entry of a file holds the file's first problem
        noun = NOUNS.get(kinds[pick], "selected sample")
        lines.append(
            f"  warning: {file}: {counted(len(picks), noun)} could not be written into {folder}/ ({entry.problem}); "
            "left out of selection.csv and the exports, listed in removed_samples.csv as unreadable"
        )
    return lines
