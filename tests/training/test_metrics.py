"""Metrics agree with scikit-learn."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from studio.training.metrics import MetricSet, to_probs


def test_classification_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(size=(300, 4)), dtype=torch.float32)
    labels = torch.tensor(rng.integers(0, 4, 300))
    logits[torch.arange(300), labels] += 1.0  # better than chance, not perfect
    ms = MetricSet("classification", ["accuracy", "precision", "recall", "f1", "auroc", "confusion_matrix"], 4,
                   "CrossEntropyLoss", "cpu")
    for i in range(0, 300, 64):  # batched updates accumulate
        ms.update(logits[i:i + 64], labels[i:i + 64])
    got = ms.compute()
    pred, y = logits.argmax(1).numpy(), labels.numpy()
    probs = torch.softmax(logits, 1).numpy()
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-6)
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"), abs=1e-5)
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred, average="macro"), abs=1e-5)
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"), abs=1e-5)
    assert got["auroc"] == pytest.approx(skm.roc_auc_score(y, probs, multi_class="ovr", average="macro"), abs=1e-4)
    assert got["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()
    ms.reset()
    ms.update(logits[:10], labels[:10])
    assert ms.compute()["accuracy"] == pytest.approx(skm.accuracy_score(y[:10], pred[:10]))


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    true = rng.normal(size=(200, 1)).astype(np.float32)
    pred = (true + rng.normal(scale=0.3, size=(200, 1))).astype(np.float32)
    ms = MetricSet("regression", ["mse", "rmse", "mae", "r2"], 0, "MSELoss", "cpu")
    ms.update(torch.tensor(pred[:120]), torch.tensor(true[:120]))
    ms.update(torch.tensor(pred[120:]), torch.tensor(true[120:]))
    got = ms.compute()
    assert got["mse"] == pytest.approx(skm.mean_squared_error(true, pred), rel=1e-5)
    assert got["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(true, pred)), rel=1e-5)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(true, pred), rel=1e-5)
    assert got["r2"] == pytest.approx(skm.r2_score(true, pred), rel=1e-4)


def test_probabilities_per_loss():
    out = torch.tensor([[0.0], [2.0]])
    p = to_probs(out, "BCEWithLogitsLoss")
    assert p.shape == (2, 2) and torch.allclose(p.sum(1), torch.ones(2))
    assert torch.allclose(p[1, 1], torch.sigmoid(torch.tensor(2.0)))
    logp = torch.log_softmax(torch.randn(3, 5), 1)
    assert torch.allclose(to_probs(logp, "NLLLoss"), logp.exp())
