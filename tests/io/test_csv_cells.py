"""CSV cells: each float at its own precision, in Python's notation; NaN empty."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.io.csv_cells import csv_cell


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (np.float32(12.3), "12.3"),  # not 12.300000190734863
        (np.float32(0.76049608), "0.7604961"),  # a detector's float32 confidence: its own shortest digits
        (np.float32(112.39999999999999), "112.4"),
        (np.float32(0.0001), "0.0001"),  # Python's notation, not numpy's 1e-04
        (np.float32(1e-05), "1e-05"),
        (np.float32(123456789), "123456790.0"),
        (np.float32(3.0), "3.0"),
        (np.float16(0.1), "0.1"),
        (np.float64(np.float32(12.3)), "12.300000190734863"),  # a float64 keeps every digit it has
        (112.39999999999999, "112.39999999999999"),
        (np.float32(np.nan), ""),
        (float("nan"), ""),
        (np.float32(np.inf), "inf"),
        ("car", "car"),
        (3, "3"),
    ],
)
def test_a_float_is_its_shortest_exact_text_at_its_own_precision(value, text):
    assert csv_cell(value) == text


def test_every_float32_reads_back_as_itself():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.uniform(0, 8192, 2000), rng.uniform(0, 1, 2000), 10.0 ** rng.uniform(-30, 30, 2000)]).astype(np.float32)
    assert all(np.float32(float(csv_cell(v))) == v for v in values)
