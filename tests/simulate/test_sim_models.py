"""The built-in logistic regression: scikit-learn's objective, probabilities over every class."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from thresher.errors import ConfigError, SchemaError
from thresher.simulate import LogisticRegressionModel, Model, accuracy, model_factory
from thresher.simulate.models import SklearnModel
from thresher._blas import limit_blas_threads


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return x / 16.0, y


@pytest.mark.parametrize("n", [40, 200, 600])
def test_agrees_with_scikit_learn(digits, n):
    x, y = digits
    with limit_blas_threads(1):  # a BLAS pool on these small matrices only slows both down
        ours = LogisticRegressionModel(10, tol=1e-8, max_iter=2000).fit(x[:n], y[:n]).predict_proba(x[1200:])
        reference = np.zeros_like(ours)
        sk = LogisticRegression(tol=1e-10, max_iter=5000).fit(x[:n], y[:n])
        reference[:, sk.classes_] = sk.predict_proba(x[1200:])
    assert np.abs(ours - reference).max() < 2e-3
    assert (ours.argmax(axis=1) == reference.argmax(axis=1)).mean() > 0.99


def test_unseen_classes_get_probability_zero(digits):
    x, y = digits
    seen = y < 3
    probs = LogisticRegressionModel(10).fit(x[seen][:60], y[seen][:60]).predict_proba(x[:5])
    assert probs.shape == (5, 10) and np.allclose(probs.sum(axis=1), 1)
    assert (probs[:, 3:] == 0).all()


def test_one_class_predicts_that_class(digits):
    x, _ = digits
    probs = LogisticRegressionModel(4).fit(x[:3], np.array([2, 2, 2])).predict_proba(x[:2])
    assert probs.tolist() == [[0, 0, 1, 0]] * 2


def test_sklearn_adapter_and_factory(digits):
    x, y = digits
    model = SklearnModel(LogisticRegression(max_iter=500), 10).fit(x[:100], y[:100])
    assert isinstance(model, Model) and model.predict_proba(x[:3]).shape == (3, 10)
    assert isinstance(model_factory("logistic")(10, 0), LogisticRegressionModel)
    assert accuracy(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]])) == 0.5


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: LogisticRegressionModel(1), ConfigError, "n_classes"),
        (lambda: LogisticRegressionModel(3, C=0), ConfigError, "C"),
        (lambda: LogisticRegressionModel(3).fit(np.zeros((2, 2)), np.array([0, 5])), SchemaError, "labels in 0..2"),
        (lambda: LogisticRegressionModel(3).predict_proba(np.zeros((2, 2))), SchemaError, "not fitted"),
        (lambda: model_factory("logistc"), ConfigError, "did you mean"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
