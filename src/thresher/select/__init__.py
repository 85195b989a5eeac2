"""Selection: LightlyOne's v4 selection_config, run locally (definitions in docs/selection.md).

config = load_selection_config("selection.yaml")         # or a dict, as in LightlyOne
inputs = SelectionInputs(frames, embeddings={"": emb}, scores={"task": scores})
outcome = run_selection(config, inputs, seed=0)
write_selection_csv("selection.csv", frames, outcome.selection, outcome.values)
"""

from thresher.select.approximate import Approximation, approximate_k_center
from thresher.select.config import SelectionConfig, load_selection_config
from thresher.select.selector import SelectionOutcome, run_selection, select
from thresher.select.inputs import InputResolver, Metadata, Predictions, SelectionInputs, resolve_inputs
from thresher.select.kcenter import k_center_greedy
from thresher.select.output import parent_frames, write_selection_csv, write_selection_json

__all__ = [
    "Approximation",
    "InputResolver",
    "Metadata",
    "Predictions",
    "SelectionConfig",
    "SelectionInputs",
    "SelectionOutcome",
    "approximate_k_center",
    "k_center_greedy",
    "load_selection_config",
    "parent_frames",
    "resolve_inputs",
    "run_selection",
    "select",
    "write_selection_csv",
    "write_selection_json",
]
