"""What the seeds' agent API costs on top of the selector.

Baseline: `thresher.select.run_selection` on inputs already in memory. thresher.compat: the
same selection through `ActiveLearningAgent.query` on a local dataset (tag and sample reads
from the SQLite catalog, embeddings from the store, the new tag written back). Synthetic
unit vectors (64-d) and 10-class probabilities; N samples, 1,000 picks (CORESET, CORAL).
On a shared machine the difference of two selection times is noisy, so the agent's own
reads and writes are also timed alone ("agent's own work").

    python bench/compat.py [N]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

import numpy as np

REPEATS = 5
PICKS = 1000


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def interleaved_medians(first, second, repeats: int = REPEATS) -> tuple[float, float]:
    """Median times of two functions run alternately (after one warm-up call each), so a
    busy period of the shared machine hits both alike."""
    first(), second()
    times = [(seconds(first), seconds(second)) for _ in range(repeats)]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def make_dataset(n: int, rng: np.random.Generator):
    from thresher.catalog import Catalog
    from thresher.compat.lightly_datasets import add_to_initial_tag, create_dataset_record
    from thresher.compat.lightly_embeddings import store_embeddings
    from thresher.embeddings import Embeddings
    from thresher.frames import Frames

    ids = np.array([f"img/{k:07d}.jpg" for k in range(n)])
    vectors = rng.standard_normal((n, 64)).astype(np.float32)
    record = create_dataset_record("bench", "IMAGES")
    with Catalog(record.folder) as store:
        store.add_samples(Frames.build(ids, width=64, height=64))
        add_to_initial_tag(store, ids.tolist())
    record.embedding = store_embeddings(record.folder, "bench", Embeddings(ids, vectors))
    record.save()
    return record.id, Frames.build(ids, width=64, height=64), Embeddings(ids, vectors)


def main(n: int) -> None:
    os.environ["THRESHER_HOME"] = tempfile.mkdtemp(prefix="thresher-bench-")
    from thresher.compat.lightly import ActiveLearningAgent, ApiWorkflowClient, SamplerConfig, ScorerClassification, selection_config_for
    from thresher.score_table import Scores
    from thresher.select import SelectionInputs, run_selection

    rng = np.random.default_rng(0)
    dataset_id, frames, embeddings = make_dataset(n, rng)
    probabilities = rng.dirichlet(np.ones(10), size=n)
    margin = ScorerClassification(probabilities).calculate_scores()["uncertainty_margin"]
    client = ApiWorkflowClient(dataset_id=dataset_id)
    counter = iter(range(10**6))
    print(f"N = {n:,}, {PICKS:,} picks, 64-d, median of {REPEATS} interleaved runs after a warm-up (2-core machine, shared)")
    for method in ("CORESET", "CORAL"):
        config = selection_config_for(SamplerConfig(method=method, n_samples=PICKS))
        scores = {"active_learning": Scores(frames.id, {"uncertainty_margin": margin})} if method == "CORAL" else {}
        inputs = SelectionInputs(frames, embeddings={"": embeddings}, scores=scores)

        def agent_query():
            agent = ActiveLearningAgent(client)
            scorer = ScorerClassification(probabilities) if method == "CORAL" else None
            agent.query(SamplerConfig(method=method, n_samples=PICKS, name=f"q{next(counter)}"), scorer)

        selector, agent = interleaved_medians(lambda: run_selection(config, inputs), agent_query)
        print(f"{method:8s} selector {selector:7.3f} s   agent {agent:7.3f} s   agent/selector {agent / selector:5.2f}x")
    own = statistics.median(seconds(lambda: own_work(client, probabilities, f"own{next(counter)}")) for _ in range(REPEATS))
    print(f"agent's own work (sets, scores, samples, embeddings, tag): {own:.3f} s")


def own_work(client, probabilities, tag: str) -> None:
    """Everything `query` does besides `run_selection`, for CORAL."""
    from thresher.compat.lightly import ActiveLearningAgent, ScorerClassification

    agent = ActiveLearningAgent(client)
    scores = agent._scores(ScorerClassification(probabilities))
    pool = agent.query_set
    with client.catalog() as store:
        known = store.samples()
    frames = known[known.index_of(pool)]
    client.embeddings().align(frames.id)
    assert len(scores) == len(frames)
    with client.catalog() as store:
        store.create_tag(tag, pool[:PICKS])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
