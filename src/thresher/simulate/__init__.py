"""Active-learning simulation on a fully labeled pool (seed 004's accuracy curves, measured locally).

    data = load_dataset("digits")
    curves = simulate(data.features, data.labels, ["random", "margin", "weighted_kmeans"],
                      start=20, budget=20, rounds=24, seeds=range(30), scaling="zscore")
    curves.write_csv("curves.csv"); plot_curves(curves, "curves.png", reference="margin")
    summarize(curves, baseline="random", target_labels=500, reference="margin")
    paired_differences(curves, reference="margin")    # per label count: mean difference, SE

Strategies are LightlyOne selection configs run by `thresher.select` (`strategies`); the model
is a plug-in with a built-in logistic regression on embeddings (`models`, extra `simulate`).
Metrics are higher = better.
"""

from thresher.simulate.curves import Curves, labels_to_reach, median_crossing, normalized_area, paired_differences, summarize
from thresher.simulate.datasets import DATASETS, LabeledData, load_dataset
from thresher.simulate.models import LogisticRegressionModel, Model, accuracy, model_factory
from thresher.simulate.plot import plot_curves
from thresher.simulate.run import simulate
from thresher.simulate.strategies import BUILT_IN, Strategy, resolve_strategy

__all__ = [
    "BUILT_IN",
    "DATASETS",
    "Curves",
    "LabeledData",
    "LogisticRegressionModel",
    "Model",
    "Strategy",
    "accuracy",
    "labels_to_reach",
    "load_dataset",
    "median_crossing",
    "model_factory",
    "normalized_area",
    "paired_differences",
    "plot_curves",
    "resolve_strategy",
    "simulate",
    "summarize",
]
