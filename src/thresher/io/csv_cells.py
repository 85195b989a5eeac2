"""Numbers as the CSV files thresher writes show them (selection.csv, datapool.csv, scores.csv).

A float is written as the shortest text that reads back as the same number *at the precision
it was computed in*: a float32 (a detector's box corner or confidence, a selection value
computed in float32) as the shortest text of that float32, so that 12.3 stays `12.3` and
not `12.300000190734863` (the float64 nearest to float32 12.3); a float64 as Python's `repr`.
Both use Python's notation (`0.0001`, `1e-05`, `123456790.0`). NaN (no value) is an empty cell.
"""

from __future__ import annotations

import numpy as np


def csv_cell(value: object) -> str:
    """A CSV cell: a float as its shortest exact text at its own precision (NaN: empty),
    anything else as `str` gives it.

    >>> csv_cell(np.float32(12.3)), csv_cell(12.3), csv_cell(np.float64(np.float32(12.3))), csv_cell(float("nan")), csv_cell("car")
    ('12.3', '12.3', '12.300000190734863', '', 'car')
    """
    if not isinstance(value, (float, np.floating)):
        return str(value)
    if np.isnan(value):
        return ""
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:  # float32 / float16: their own shortest digits
        return repr(float(np.format_float_positional(value, unique=True)))
    return repr(float(value))
