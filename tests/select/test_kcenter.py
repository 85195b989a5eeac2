import itertools

import numpy as np
import pytest

from thresher.errors import UsageError
from thresher.select import _kernels, k_center_greedy
from thresher.select.kcenter import cover_radius

BACKENDS = ["numpy"] + (["numba"] if _kernels.numba_available() else [])


def unit_blobs(n, d=8, blobs=6, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((blobs, d))
    X = centers[rng.integers(0, blobs, n)] + 0.3 * rng.standard_normal((n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def brute_force_greedy(X, k, preselected=()):
    """The definition, in float64, one candidate at a time."""
    X = X.astype(np.float64)
    chosen = list(preselected)
    picks = []
    if not chosen:
        picks.append(int(np.argmax(np.linalg.norm(X - X.mean(axis=0), axis=1))))
    while len(picks) < k:
        nearest = np.min([np.linalg.norm(X - X[c], axis=1) for c in chosen + picks], axis=0)
        nearest[chosen + picks] = -1
        picks.append(int(np.argmax(nearest)))
    return picks


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_the_definition(backend, seed):
    X = unit_blobs(400, seed=seed)
    assert k_center_greedy(X, 40, backend=backend).tolist() == brute_force_greedy(X, 40)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("preselected", [[5], [0, 17, 33], list(range(100, 140))])
def test_preselected_count_toward_distances_and_are_never_returned(backend, preselected):
    X = unit_blobs(300, seed=3)
    picks = k_center_greedy(X, 25, preselected=preselected, backend=backend)
    assert picks.tolist() == brute_force_greedy(X, 25, preselected)
    assert not set(picks) & set(preselected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ties_go_to_the_lowest_index(backend):
    # Small integer coordinates: every distance is computed exactly on both backends.
    X = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 0], [0, 1]], np.float32)
    # By hand: mean (1/7, 1/7); rows 2 and 4 are farthest (65/49) -> 2. Distances to (-1, 0):
    # rows 1 and 5 at 2 -> 1. Then rows 3, 4, 6 at sqrt(2) -> 3. Then row 4 (sqrt 2) -> 4.
    assert k_center_greedy(X, 4, backend=backend).tolist() == [2, 1, 3, 4]


@pytest.mark.parametrize("backend", BACKENDS)
def test_duplicates_are_picked_last_and_k_is_capped(backend):
    X = np.array([[0, 0], [3, 0], [0, 0], [3, 0]], np.float32)
    # Mean (1.5, 0): rows 0..3 tie at 1.5 -> 0; then 1 (3 away); then duplicates 2, 3 at 0.
    assert k_center_greedy(X, 10, backend=backend).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("min_distance", [0.3, 0.6, 1.0])
def test_min_distance_keeps_every_pair_apart_and_stops(backend, min_distance):
    X = unit_blobs(300, seed=4)
    picks = k_center_greedy(X, 300, min_distance=min_distance, backend=backend)
    assert 1 < len(picks) < 300
    P = X[picks].astype(np.float64)
    pair = np.linalg.norm(P[:, None] - P[None], axis=2)[np.triu_indices(len(P), 1)]
    assert pair.min() >= min_distance - 1e-6
    # Stopped because the next candidate would be closer than min_distance.
    nearest = np.min(np.linalg.norm(X[:, None].astype(np.float64) - P[None], axis=2), axis=1)
    assert nearest.max() < min_distance + 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_cover_radius_within_twice_the_optimum(seed):
    X = unit_blobs(12, d=3, blobs=4, seed=seed)
    D = np.linalg.norm(X[:, None].astype(np.float64) - X[None], axis=2)
    for k in (2, 3, 4):
        optimum = min(D[:, list(c)].min(axis=1).max() for c in itertools.combinations(range(len(X)), k))
        greedy = D[:, k_center_greedy(X, k)].min(axis=1).max()
        assert greedy <= 2 * optimum + 1e-6
        assert cover_radius(X, k_center_greedy(X, k)) == pytest.approx(greedy, abs=1e-3)


def test_backends_agree_on_random_data():
    if "numba" not in BACKENDS:
        pytest.skip("numba not installed")
    X = unit_blobs(5000, d=32, blobs=50, seed=7)
    assert np.array_equal(k_center_greedy(X, 200, backend="numba"), k_center_greedy(X, 200, backend="numpy"))


def test_accepts_float64_and_masks():
    X = unit_blobs(50, seed=8).astype(np.float64)
    mask = np.zeros(50, bool)
    mask[[1, 2]] = True
    assert k_center_greedy(X, 5, preselected=mask).tolist() == brute_force_greedy(X.astype(np.float32), 5, [1, 2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"vectors": np.zeros(5), "k": 1}, "2-D"),
        ({"vectors": np.zeros((5, 2)), "k": -1}, "k:"),
        ({"vectors": np.zeros((5, 2)), "k": 1, "min_distance": -0.1}, "min_distance"),
        ({"vectors": np.zeros((5, 2)), "k": 1, "preselected": [7]}, "preselected"),
        ({"vectors": np.zeros((5, 2)), "k": 1, "backend": "numbaa"}, 'did you mean "numba"'),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, message):
    with pytest.raises(UsageError, match=message):
        k_center_greedy(**kwargs)


def test_edge_sizes():
    assert k_center_greedy(np.zeros((0, 4), np.float32), 3).tolist() == []
    assert k_center_greedy(np.ones((1, 4), np.float32), 3).tolist() == [0]
    assert k_center_greedy(np.ones((3, 4), np.float32), 0).tolist() == []


@pytest.mark.parametrize("scale", [1e-3, 1.0, 250.0])
def test_int8_sketch_error_bound_holds(scale):
    rng = np.random.default_rng(9)
    X = (rng.standard_normal((500, 37)) * scale).astype(np.float32)
    X[3] = 0
    X[4, :5] = scale * 1e3  # one large coordinate: coarse sketch, large bound
    Q, inv, eps = _kernels.int8_sketch(X)
    residual = np.linalg.norm(X.astype(np.float64) - Q.astype(np.float64) * inv[:, None], axis=1)
    assert (residual <= eps).all()
    assert eps[3] > 0 and residual[3] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_unnormalized_vectors_and_int8_input(backend):
    X = unit_blobs(600, d=16, seed=11) * 7.5
    assert k_center_greedy(X, 60, backend=backend).tolist() == brute_force_greedy(X, 60)
    Q = np.round(unit_blobs(600, d=16, seed=12) * 127).astype(np.int8)
    assert k_center_greedy(Q, 60, backend=backend).tolist() == brute_force_greedy(Q.astype(np.float32), 60)


CACHE_PROBE = """
import json
import numpy as np
from thresher.select import k_center_greedy
X = np.random.default_rng(0).standard_normal((500, 8)).astype(np.float32)
picks = [k_center_greedy(X.astype(dtype), 5, backend="numba").tolist() for dtype in (np.float32, np.float16, np.int8)]
from thresher.select._numba_kernel import update
print(json.dumps({"picks": picks, "hits": sum(update.stats.cache_hits.values()), "misses": sum(update.stats.cache_misses.values())}))
"""


@pytest.mark.skipif(not _kernels.numba_available(), reason='numba not installed: pip install "thresher[fast]"')
def test_a_new_process_loads_the_compiled_kernel_from_the_cache_instead_of_compiling(tmp_path):
    import json
    import os
    import subprocess
    import sys

    def probe() -> dict:
        env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
        out = subprocess.run([sys.executable, "-c", CACHE_PROBE], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    first = probe()
    assert first["misses"] == 3 and first["hits"] == 0  # float32, float16 (as uint16 bits) and int8 kernels compiled
    assert any(tmp_path.rglob("*.nbc")) and any(tmp_path.rglob("*.nbi"))
    second = probe()
    assert second["hits"] == 3 and second["misses"] == 0
    assert second["picks"] == first["picks"]
