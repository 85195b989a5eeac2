"""Exact duplicates found through row hashes equal those found by comparing whole rows."""

import numpy as np

from thresher.embeddings import Embeddings
from thresher.run.stages import HASHED_COLUMNS, exact_duplicates, row_hashes


def whole_rows(embeddings: Embeddings, candidates, keep_first) -> dict[str, str]:
    """The definition: rows equal bit for bit; keep preselected rows, then the smallest id."""
    order = np.lexsort((embeddings.ids, ~np.isin(embeddings.ids, keep_first)))
    vectors = np.ascontiguousarray(embeddings.vectors[order])
    _, first, inverse = np.unique(vectors.view(np.dtype((np.void, vectors.dtype.itemsize * vectors.shape[1]))), return_index=True, return_inverse=True)
    ids = embeddings.ids[order]
    twin = ids[first[inverse.ravel()]]
    duplicate = (twin != ids) & np.isin(ids, candidates)
    return dict(zip(ids[duplicate].tolist(), twin[duplicate].tolist()))


def test_hashed_grouping_equals_whole_rows():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(3000, 1280)).astype(np.float32)
    vectors[[10, 500, 2999]] = vectors[7]  # three twins of row 7
    vectors[[40, 41]] = vectors[42]
    unhashed = next(c for c in range(1280) if c not in set(np.linspace(0, 1279, HASHED_COLUMNS).astype(int).tolist()))
    vectors[100] = vectors[101]
    vectors[100, unhashed] += 1.0  # the same hash as row 101, not the same vector
    vectors[200] = vectors[201]
    vectors[200, 0], vectors[201, 0] = 0.0, -0.0  # equal numbers, other bits: not identical
    ids = np.array([f"s{i:05d}" for i in range(len(vectors))])
    table = Embeddings(ids, vectors)
    assert row_hashes(vectors)[100] == row_hashes(vectors)[101]
    for keep_first in (np.zeros(0, str), np.array(["s00500", "s00041"])):
        for candidates in (ids, ids[::2]):
            assert exact_duplicates(table, candidates, keep_first) == whole_rows(table, candidates, keep_first)
    found = exact_duplicates(table, ids, np.array(["s00500"]))
    assert found == {"s00007": "s00500", "s00010": "s00500", "s02999": "s00500", "s00041": "s00040", "s00042": "s00040"}


def test_a_result_of_older_corruptness_checks_is_made_again(tmp_path, bikes_mp4):
    """A clip with an edit list was "truncated" for the checks before version 2: a run's cache
    holding that result for the unchanged file checks it again, and keeps the clip. A result of
    the current checks is trusted while the file is unchanged."""
    import json
    import shutil

    from tests.conftest import edit_list_copy
    from thresher.io.datasource import Datasource
    from thresher.run.stages import CORRUPTNESS_CHECKS, corrupt_files

    root = tmp_path / "ds"
    root.mkdir()
    edit_list_copy(bikes_mp4, root / "clip.mp4", skip=25)
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    source = Datasource(root)
    frames = source.frames()
    (root / "bikes.mp4").write_bytes(bikes_mp4.read_bytes()[: bikes_mp4.stat().st_size // 2])  # cut after enumerating
    clip, bikes = list(source.input.stat("clip.mp4")), list(source.input.stat("bikes.mp4"))
    cache = tmp_path / "corruptness.json"
    old = "truncated video: the header says 250 frames, the file holds 225"
    cache.write_text(json.dumps({"clip.mp4": [*clip, old], "bikes.mp4": [*bikes, "", CORRUPTNESS_CHECKS]}))
    assert corrupt_files(source, frames, cache) == {}  # the clip checked again; bikes.mp4's result trusted
    assert json.loads(cache.read_text())["clip.mp4"] == [*clip, "", CORRUPTNESS_CHECKS]
    cache.write_text(json.dumps({"clip.mp4": [*clip, "", CORRUPTNESS_CHECKS], "bikes.mp4": [*bikes, ""]}))
    assert list(corrupt_files(source, frames, cache)) == ["bikes.mp4"]  # older checks' "sound": checked again
