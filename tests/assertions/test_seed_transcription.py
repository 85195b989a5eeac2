"""The numpy transcription of seed 000 against the seed's own torch arithmetic.

Runs only where torch is installed (it is not a dependency of thresher): the bench's
line-for-line torch baseline, with torchvision's box_iou written out, is the reference.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from seed000_numpy import compute_flickering_assertion as numpy_transcription
from test_flicker_seed import with_anomalies

from thresher.assertions._predictions import to_predictions_list
from thresher.assertions._synthetic import synthetic_traffic

torch = pytest.importorskip("torch", reason="torch is only needed to check the transcription")


def torch_seed():
    path = Path(__file__).parents[2] / "bench" / "flicker.py"
    spec = importlib.util.spec_from_file_location("bench_flicker", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.seed_flicker_torch


@pytest.mark.parametrize("scale", [1, 300])
@pytest.mark.parametrize("thresholds", [(0.9, 0.6), (0.6, 0.7), (0.5, 0.3), (-0.1, 0.6)])
def test_numpy_transcription_matches_torch(scale, thresholds):
    detections, frames = synthetic_traffic(15 if thresholds[0] <= 0 else 150, seed=scale)
    predictions_list = with_anomalies(to_predictions_list(detections, frames), np.random.default_rng(scale))
    for entry in predictions_list:
        for p in entry["predictions"]:
            p["bbox"] = [v * scale for v in p["bbox"]]
    assert numpy_transcription(predictions_list, *thresholds) == torch_seed()(predictions_list, *thresholds)


def test_float32_mean_of_large_coordinates_matches_torch():
    """Above 2**24 the float32 sum rounds: (2**24 + 1) + 1 gives 2**24, halved 2**23."""
    a, b = [2**24 + 1, 0, 2**24 + 41, 40], [1, 0, 2**24 + 41, 40]
    pair = torch.tensor([a, b], dtype=torch.int)
    seed_mean = torch.mean(pair, dim=0, dtype=torch.float32).int().tolist()
    ours = ((np.float32(a) + np.float32(b)) / np.float32(2)).astype(np.int32).tolist()
    assert seed_mean == ours and seed_mean[0] == 2**23
