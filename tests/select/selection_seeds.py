"""The selection_config dicts of seeds 000 and 001 (shared by the selection tests)."""

SEED_000 = {
    "n_samples": 100,
    "strategies": [
        {"input": {"type": "EMBEDDINGS", "task": "yolov8_detection"}, "strategy": {"type": "DIVERSITY"}},
        {
            "input": {"type": "SCORES", "task": "yolov8_detection", "score": "objectness_least_confidence"},
            "strategy": {"type": "WEIGHTS"},
        },
        {"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}},
    ],
}
SEED_001 = {
    "n_samples": 100,
    "strategies": [
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
        {
            "input": {"type": "SCORES", "task": "vehicles_object_detections", "score": "uncertainty_entropy"},
            "strategy": {"type": "WEIGHTS"},
        },
    ],
}
