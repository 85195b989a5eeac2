"""Model replicas for compute threads, and the thread count they compute with."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from thresher.errors import UsageError
from thresher.models import CallableDetector
from thresher.models.replicas import compute_threads, replicas


def test_a_replica_of_the_ssd_has_its_own_net_and_the_same_outputs(ssd, bikes_frames):
    twin = ssd.replica()
    assert twin.net is not ssd.net and twin.categories == ssd.categories
    with compute_threads(1):
        a_boxes, a_vectors = ssd.predict_and_embed(bikes_frames[:3])
        b_boxes, b_vectors = twin.predict_and_embed(bikes_frames[:3])
    assert np.array_equal(a_vectors, b_vectors) and np.array_equal(a_boxes.xyxy, b_boxes.xyxy)
    assert np.array_equal(a_boxes.probs, b_boxes.probs)


def test_replicas_keep_one_model_that_both_detects_and_embeds(ssd):
    pairs = replicas((ssd, ssd), 3)
    assert pairs[0] == (ssd, ssd) and len(pairs) == 3
    assert all(d is e and d is not ssd for d, e in pairs[1:])
    assert replicas((ssd, None), 2)[1][1] is None


def test_a_model_without_replica_runs_as_one_worker():
    detector = CallableDetector(lambda image: None, {1: "thing"})
    assert replicas((detector, None)) == [(detector, None)]
    with pytest.raises(UsageError, match="no replica"):
        replicas((detector, None), 2)
    with pytest.raises(UsageError, match="workers: expected an integer >= 1"):
        replicas((None, None), 0)


def test_compute_threads_are_restored():
    before = cv2.getNumThreads()
    with compute_threads(1):
        assert cv2.getNumThreads() == 1
    assert cv2.getNumThreads() == before
