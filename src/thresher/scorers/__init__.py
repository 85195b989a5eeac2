"""Active-learning scores: pure functions from `Detections` (or class probabilities) to `Scores`.

Every score column follows one direction: higher = more worth labeling.
"""
