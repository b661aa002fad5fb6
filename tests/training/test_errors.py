"""Where it errs and how classes separate (studio/training/where_errs.py), checked against
torchmetrics and sklearn called directly on the same model and split."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torchmetrics.functional.classification as F
from sklearn.decomposition import PCA
from sklearn.metrics import average_precision_score, precision_recall_fscore_support, roc_auc_score

from studio import load_project
from studio.training import where_errs
from studio.training.metrics import to_probs
from studio.training.trainer import Trainer

from .conftest import TEMPLATES, Recorder, assert_plain, mlp_project, write_project


def trained(path, epochs=2):
    trainer = Trainer.from_project(load_project(path), overrides={"epochs": epochs})
    rec = Recorder()
    trainer.add_listener(rec)
    trainer.epoch_reports = True
    assert trainer.fit().status == "finished"
    return trainer, rec


def outputs(trainer):
    trainer.model.eval()
    with torch.no_grad():
        x = trainer.val_data.x
        x = trainer.dataset.transform(x) if trainer.dataset.transform is not None else x
        probs = to_probs(trainer.model(x).float(), trainer.config.loss.type)
    return probs, trainer.val_data.labels.long()


@pytest.fixture(scope="module")
def digits():
    return trained(TEMPLATES / "cnn_digits.json")


@pytest.fixture(scope="module")
def moons():
    return trained(TEMPLATES / "moons_mlp.json")


def test_each_epoch_sends_plain_errors_and_projection(digits):
    trainer, rec = digits
    errors, projections = rec.of("errors"), rec.of("projection")
    assert [e.epoch for e in errors] == [1, 2] and [e.epoch for e in projections] == [1, 2]
    for e in errors + projections:
        assert_plain(dataclasses.asdict(e), e.kind)
    assert errors[0].newest_only and not projections[0].newest_only


def test_misclassified_most_confident_first_and_true(digits):
    trainer, rec = digits
    e = rec.of("errors")[-1]
    probs, labels = outputs(trainer)
    conf, pred = probs.max(1)
    wrong = (pred != labels).nonzero().flatten()
    assert e.wrong_count == len(wrong) > 0 and e.size == len(labels)
    assert len(e.wrong) == min(len(wrong), where_errs.MAX_WRONG)
    shown = [s["confidence"] for s in e.wrong]
    assert shown == sorted(shown, reverse=True)
    assert shown[0] == pytest.approx(float(conf[wrong].max()), abs=1e-5)
    for s in e.wrong:
        assert s["true"] == int(labels[s["index"]]) != s["pred"] == int(pred[s["index"]])
        assert s["x"].shape == tuple(trainer.val_data.x.shape[1:])


def test_per_class_table_equals_torchmetrics_and_sklearn(digits):
    trainer, rec = digits
    table = rec.of("errors")[-1].table
    probs, labels = outputs(trainer)
    c = len(trainer.info.classes)
    assert len(table["precision"]) == len(table["support"]) == c == 10
    for name, fn in (("precision", F.multiclass_precision), ("recall", F.multiclass_recall),
                     ("f1", F.multiclass_f1_score)):
        np.testing.assert_allclose(table[name], fn(probs, labels, num_classes=c, average=None).numpy(), atol=1e-6)
    p, r, f, support = precision_recall_fscore_support(labels.numpy(), probs.argmax(1).numpy(),
                                                       labels=list(range(c)), zero_division=0)
    np.testing.assert_allclose(table["recall"], r, atol=1e-6)
    assert table["support"] == support.tolist()


def test_two_classes_roc_and_pr_auc_equal_sklearn(moons):
    trainer, rec = moons
    curves = rec.of("errors")[-1].curves
    probs, labels = outputs(trainer)
    assert curves["roc"]["auc"] == pytest.approx(roc_auc_score(labels.numpy(), probs[:, 1].numpy()), abs=1e-4)
    assert curves["pr"]["auc"] == pytest.approx(average_precision_score(labels.numpy(), probs[:, 1].numpy()),
                                                abs=1e-4)
    roc = curves["roc"]
    assert roc["x"][0] == 0 and roc["x"][-1] == 1 and np.all(np.diff(roc["x"]) >= 0)


def test_many_classes_have_no_curves(digits):
    assert digits[1].of("errors")[-1].curves is None


def test_projection_is_the_pca_of_the_last_linears_input(digits):
    trainer, rec = digits
    p = rec.of("projection")[-1]
    assert p.node_id == "fc2" == where_errs.penultimate(trainer.model)
    feats = []
    h = trainer.model.get_submodule("fc2").register_forward_pre_hook(lambda _m, a: feats.append(a[0].flatten(1)))
    outputs(trainer)
    h.remove()
    f = torch.cat(feats).numpy()
    ref = PCA(2).fit(f)
    expected = ref.transform(f)
    assert p.points.shape == (len(f), 2)
    for k in range(2):  # the same axes, up to sign
        corr = np.corrcoef(p.points[:, k], expected[:, k])[0, 1]
        assert abs(corr) > 0.999
    np.testing.assert_allclose(p.explained, ref.explained_variance_ratio_, atol=1e-3)
    assert p.labels.tolist() == trainer.val_data.labels[:len(f)].tolist()


def test_projection_points_are_capped(tmp_path):
    record = mlp_project(training={"dataset": {"name": "moons", "samples": 600}, "epochs": 1})
    trainer, _ = trained(write_project(tmp_path, record), epochs=1)
    _e, p = where_errs.epoch_views(trainer.model, trainer.val_data, trainer.info, "CrossEntropyLoss", None, 1,
                                   "val", 64, max_wrong=3, max_points=50)
    assert p.points.shape == (50, 2) and len(_e.wrong) <= 3


def test_no_linear_no_projection():
    assert where_errs.penultimate(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3))) is None


def test_one_class_in_the_split_has_no_curves():
    assert where_errs.binary_curves(torch.rand(10), torch.ones(10, dtype=torch.long)) is None
