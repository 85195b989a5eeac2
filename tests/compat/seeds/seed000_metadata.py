# Seed 000, "Model assertion": the flicker metadata, run by tests/compat/test_seed000.py after
# the test has written the predictions (the seed's YOLOv8 part) and set `all_predictions` and
# `fname` as that part does. The seed's code with only the imports changed (marked `thresher:`):
# thresher's `compute_flickering_assertion` is the seed's function (same arguments, same
# results), so the seed's definitions of it and of `bbox_converter` are replaced by its import.
from thresher import compute_flickering_assertion  # thresher: was `from torchvision import ops`, `import torch` and the two definitions
import json
from pathlib import Path
import numpy as np

flickering_assertions, imputed_bounding_boxes = compute_flickering_assertion(
    all_predictions, # we use the list of all predictions from the preivous code
    iou_thresh_tracking=0.8, # increase for more strict tracking
    iou_thresh_assertion=0.6,
)
# Create the schema.json
schema = [
    {
        "name": "Flickering",
        "path": "flickering",
        "defaultValue": 0.5,
        "valueDataType": "NUMERIC_FLOAT",
    }
]
schema_path = Path("metadata/schema.json")
schema_path.parent.mkdir(parents=True, exist_ok=True)
with open(schema_path, "w") as f:
    json.dump(schema, f, indent=4)
# Dump the metadata
for i, prediction in enumerate(all_predictions):
    file_name_lightly = (
        Path(prediction["file_name"])
        .relative_to(fname.parent.parent)
        .with_suffix(".png")
    )
    flickering_value = 1.0 if flickering_assertions[i] else 0.5
    metadata = {
        "file_name": str(file_name_lightly),
        "type": "frame",
        "metadata": {"flickering": flickering_value},
    }
    lightly_metadata_fname = "metadata" / file_name_lightly.with_suffix(".json")
    lightly_metadata_fname.parent.mkdir(parents=True, exist_ok=True)
    with open(lightly_metadata_fname, "w") as f:
        json.dump(metadata, f, indent=4)
