"""Seed 002's calibration method names, name by name: each is an alias of a method and a scope."""

from __future__ import annotations

import numpy as np
import pytest

from thresher import Detections
from thresher.errors import ConfigError
from thresher.scorers.calibration import fit_calibrator
from thresher.scorers.calibration_names import box_method, class_method

# calib_method_class and calib_method_box as the seed's README lists them
SEED_CLASS = {"ts_all": ("temperature", "global"), "ts_percls": ("temperature", "per_class"), "iso_all": ("isotonic", "global"), "iso_percls": ("isotonic", "per_class")}
SEED_BOX = {
    "ts_all": ("temperature", "global", False),
    "ts_percoo": ("temperature", "per_coordinate", False),
    "iso_all": ("isotonic", "global", False),
    "iso_percoo": ("isotonic", "per_coordinate", False),
    "iso_perclscoo": ("isotonic", "per_class_coordinate", False),
    "rel_iso_perclscoo": ("isotonic", "per_class_coordinate", True),
    "iso_percls_coo": ("isotonic", "per_class_coordinate", False),
}  # how the seed's `calib` option writes it


@pytest.mark.parametrize("name", sorted(SEED_CLASS))
def test_each_classification_name(name):
    assert class_method(name) == SEED_CLASS[name]


@pytest.mark.parametrize("name", sorted(SEED_BOX))
def test_each_box_name(name):
    assert box_method(name) == SEED_BOX[name]


@pytest.mark.parametrize(
    "name, part, hint",
    [
        ("ts_percoo", "class", "not one of seed 002's classification methods"),  # a box-only name
        ("iso_perclss", "class", 'did you mean "iso_percls"'),
        ("rel_iso_all", "box", 'did you mean "iso_all"'),
        ("platt", "box", "choose from ts_all, ts_percoo"),
    ],
)
def test_other_names_are_refused_with_the_valid_ones(name, part, hint):
    with pytest.raises(ConfigError, match=hint):
        (class_method if part == "class" else box_method)(name)


def detections(rng, n=400, sigma=None):
    xyxy = np.sort(rng.uniform(0, 100, (n, 2)), axis=1)
    xyxy = np.c_[xyxy[:, 0], xyxy[:, 0], xyxy[:, 1], xyxy[:, 1]] + np.r_[0, 0, 5, 5]
    return Detections(frame=np.arange(n) % 20, xyxy=xyxy, score=rng.uniform(0.05, 1, n), class_id=rng.integers(1, 3, n), box_std=sigma)


def test_a_seed_name_fits_exactly_what_its_method_and_scope_fit():
    rng = np.random.default_rng(0)
    truth = detections(rng)
    noise = rng.normal(0, 2, truth.xyxy.shape)
    predicted = Detections(frame=truth.frame, xyxy=truth.xyxy + noise, score=truth.score, class_id=truth.class_id, box_std=np.abs(noise) + rng.uniform(0.1, 1, noise.shape))
    by_seed = fit_calibrator(predicted, truth, score_method="ts_percls", box_method="rel_iso_perclscoo")
    by_thresher = fit_calibrator(predicted, truth, score_method="temperature", score_scope="per_class", box_method="isotonic", box_scope="per_class_coordinate", box_relative=True)
    assert by_seed.to_dict() == by_thresher.to_dict()
