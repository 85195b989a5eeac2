"""The model plug-in of the simulation, and the built-in one: logistic regression on embeddings.

A model is anything with `fit(features, labels)` and `predict_proba(features)`; `labels` are
class indices 0..C-1 and `predict_proba` returns (N, C) probabilities over **all** C classes,
even those the labeled set has not shown yet (the simulation starts from a few labels). A
model factory `(n_classes, seed) -> Model` builds a fresh model each round.

`LogisticRegressionModel` is multinomial logistic regression with an L2 penalty, the objective
of scikit-learn's `LogisticRegression(C=C)` (mean log-loss + ||W||^2 / (2 C n), intercept not
penalized), minimized by scipy's L-BFGS on numpy arrays: no extra dependency, and about ten
times faster than the scikit-learn call on the small problems of a simulation, whose time
goes to per-iteration overhead. `SklearnModel` adapts any scikit-learn classifier.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax

from thresher.errors import ConfigError, SchemaError, did_you_mean, require


@runtime_checkable
class Model(Protocol):
    """fit(features (N, D), labels (N,) ints in 0..C-1) -> self; predict_proba -> (N, C)."""

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "Model": ...

    def predict_proba(self, features: np.ndarray) -> np.ndarray: ...


ModelFactory = Callable[[int, int], Model]


def _checked(features: np.ndarray, labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    features, labels = np.asarray(features, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    if features.ndim != 2 or len(features) != len(labels) or len(labels) == 0:
        raise SchemaError(f"fit: expected (N, D) features and N > 0 labels, got {features.shape} and {labels.shape}")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise SchemaError(f"fit: expected labels in 0..{n_classes - 1}, got {labels.min()}..{labels.max()}")
    return features, labels


class LogisticRegressionModel:
    """Multinomial logistic regression, L2 penalty (see the module docstring).

    Args:
        n_classes: C, the number of classes of the whole problem; classes absent from the
            labeled set get probability 0.
        C: inverse regularization strength, as scikit-learn's C.
        max_iter, tol: L-BFGS iterations and gradient tolerance.
    """

    def __init__(self, n_classes: int, C: float = 1.0, max_iter: int = 200, tol: float = 1e-4, seed: int = 0) -> None:
        if n_classes < 2:
            raise ConfigError(f"n_classes: expected at least 2 classes, got {n_classes}")
        if not C > 0:
            raise ConfigError(f"C: expected a positive number, got {C}")
        self.n_classes, self.C, self.max_iter, self.tol, self.seed = n_classes, C, max_iter, tol, seed
        self.classes_: np.ndarray | None = None
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "LogisticRegressionModel":
        x, y = _checked(features, labels, self.n_classes)
        self.classes_, column = np.unique(y, return_inverse=True)
        k, (n, d) = len(self.classes_), x.shape
        if k == 1:
            self.coef_, self.intercept_ = np.zeros((d, 1)), np.zeros(1)
            return self
        onehot = np.zeros((n, k))
        onehot[np.arange(n), column] = 1.0
        penalty = 1.0 / (self.C * n)

        def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[: d * k].reshape(d, k), theta[d * k :]
            logits = x @ w + b
            log_p = log_softmax(logits, axis=1)
            residual = (np.exp(log_p) - onehot) / n
            loss = -np.sum(onehot * log_p) / n + 0.5 * penalty * np.sum(w * w)
            return loss, np.concatenate([(x.T @ residual + penalty * w).ravel(), residual.sum(axis=0)])

        result = minimize(loss_and_gradient, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                          options={"maxiter": self.max_iter, "gtol": self.tol})  # fmt: skip
        self.coef_, self.intercept_ = result.x[: d * k].reshape(d, k), result.x[d * k :]
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        if self.classes_ is None:
            raise SchemaError("predict_proba: the model is not fitted yet")
        features = np.asarray(features, dtype=np.float64)
        out = np.zeros((len(features), self.n_classes))
        out[:, self.classes_] = softmax(features @ self.coef_ + self.intercept_, axis=1)
        return out


class SklearnModel:
    """Any scikit-learn classifier (fit / predict_proba / classes_) as a `Model` over C classes."""

    def __init__(self, estimator: Any, n_classes: int) -> None:
        self.estimator, self.n_classes = estimator, n_classes

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "SklearnModel":
        x, y = _checked(features, labels, self.n_classes)
        self._only = int(y[0]) if len(np.unique(y)) == 1 else None  # most classifiers refuse one class
        if self._only is None:
            self.estimator.fit(x, y)
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        out = np.zeros((len(features), self.n_classes))
        if self._only is not None:
            out[:, self._only] = 1.0
        else:
            columns = np.asarray(self.estimator.classes_, dtype=np.int64)
            out[:, columns] = self.estimator.predict_proba(np.asarray(features, dtype=np.float64))
        return out


def _sklearn_logistic(n_classes: int, seed: int, C: float = 1.0, max_iter: int = 1000, tol: float = 1e-4) -> SklearnModel:
    """scikit-learn's own `LogisticRegression` (lbfgs, multinomial): the reference whose objective
    the built-in "logistic" minimizes (the same digits curves over 30 seeds, BENCHMARKS.md)."""
    linear_model = require("sklearn.linear_model", "simulate")
    return SklearnModel(linear_model.LogisticRegression(C=C, max_iter=max_iter, tol=tol, random_state=seed), n_classes)


MODELS: dict[str, Callable[..., Model]] = {
    "logistic": lambda n_classes, seed, **options: LogisticRegressionModel(n_classes, seed=seed, **options),
    "sklearn-logistic": _sklearn_logistic,
}
MODEL_OPTIONS = {"C", "max_iter", "tol"}


def model_factory(model: str | ModelFactory, **options: Any) -> ModelFactory:
    """A factory by name ("logistic", "sklearn-logistic"; `options`: C, max_iter, tol) or the
    callable itself (no options)."""
    if callable(model):
        if options:
            raise ConfigError(f"model_options: a model factory takes no options, got {sorted(options)}")
        return model
    if model not in MODELS:
        raise ConfigError(f"model: unknown {model!r}{did_you_mean(model, MODELS)}; expected one of {sorted(MODELS)} or a factory")
    unknown = sorted(set(options) - MODEL_OPTIONS)
    if unknown:
        same_but_case = [o for o in MODEL_OPTIONS if o.lower() == unknown[0].lower()]
        hint = f' (did you mean "{same_but_case[0]}"?)' if same_but_case else did_you_mean(unknown[0], MODEL_OPTIONS)
        raise ConfigError(f"model_options: unknown {unknown[0]!r}{hint}; expected some of {sorted(MODEL_OPTIONS)}")
    if "C" in options and not float(options["C"]) > 0:
        raise ConfigError(f"model_options.C: expected a positive number, got {options['C']!r}")
    named = MODELS[model]
    return lambda n_classes, seed: named(n_classes, seed, **options)


def accuracy(labels: np.ndarray, probs: np.ndarray) -> float:
    """Share of rows whose most probable class is the label (ties: the lowest class)."""
    return float(np.mean(np.argmax(probs, axis=1) == labels)) if len(labels) else float("nan")
