"""A dataset that does not fit the graph or the loss is reported before training, naming both shapes."""
from __future__ import annotations

import pytest

from studio.training.errors import TrainingError
from studio.training.trainer import Trainer

from .conftest import chain_project, mlp_project, template, write_project


def build(tmp_path, record):
    from studio import load_project

    return Trainer.from_project(load_project(write_project(tmp_path, record)))


@pytest.mark.fault('dataset', 'samples whose shape does not match the Input',
                   'refused before training naming both shapes and the fix')
def test_input_shape_mismatch_names_both_shapes(tmp_path):
    record = template("mlp_digits")
    record["training"]["dataset"] = {"name": "iris"}
    with pytest.raises(TrainingError) as info:
        build(tmp_path, record)
    msg = str(info.value)
    assert "dataset 'iris' gives samples of shape [4]" in msg and "takes [1, 8, 8]" in msg
    assert "set the Input's shape to [4]" in msg


@pytest.mark.fault('dataset', 'a classifier with more outputs than the dataset has classes',
                   'refused naming the last layer and both sizes')
def test_class_count_mismatch_names_the_layer(tmp_path):
    record = mlp_project(shape=(4,), classes=10, training={"dataset": {"name": "iris"}})
    with pytest.raises(TrainingError) as info:
        build(tmp_path, record)
    msg = str(info.value)
    assert "outputs [10] per sample" in msg and "[3] (3 classes)" in msg and "'fc2'" in msg


def test_regression_target_shape_mismatch(tmp_path):
    record = mlp_project(shape=(1,), classes=3, training={"dataset": {"name": "sine"}, "loss": {"type": "MSELoss"},
                                                          "metrics": ["mse"]})
    with pytest.raises(TrainingError, match=r"outputs \[3\] per sample but dataset 'sine' has its targets of shape \[1\]"):
        build(tmp_path, record)


def test_class_loss_on_regression_data(tmp_path):
    record = mlp_project(shape=(1,), classes=1, training={"dataset": {"name": "sine"}, "metrics": []})
    with pytest.raises(TrainingError, match="CrossEntropyLoss needs class labels.*regression.*MSELoss"):
        build(tmp_path, record)


@pytest.mark.fault('dataset', 'int64 token ids fed to a float32 Input',
                   'refused naming the dtype to set')
def test_token_ids_into_a_float_input(tmp_path):
    record = mlp_project(shape=(32,), classes=4, training={"dataset": {"name": "tokens"}})
    with pytest.raises(TrainingError, match=r"samples of shape \[32\] int64 .* takes \[32\].*dtype int64"):
        build(tmp_path, record)


def test_metric_for_the_wrong_task(tmp_path):
    record = mlp_project(shape=(1,), classes=1, training={"dataset": {"name": "sine"}, "loss": {"type": "MSELoss"},
                                                          "metrics": ["accuracy"]})
    with pytest.raises(TrainingError, match="'accuracy' does not apply to a regression task"):
        build(tmp_path, record)


def test_losses_that_convert_targets(tmp_path):
    """MSE and BCE on class labels train on one-hot targets; BCE with one logit on binary labels."""
    for loss, classes in (("MSELoss", 2), ("BCEWithLogitsLoss", 2), ("BCEWithLogitsLoss", 1), ("NLLLoss", 2)):
        nodes = [("input", "Input", {"shape": [2]}), ("fc", "Linear", {"out_features": classes})]
        if loss == "NLLLoss":
            nodes.append(("logsm", "LogSoftmax", {"dim": 1}))
        nodes.append(("output", "Output", {}))
        record = chain_project(nodes, {"dataset": {"name": "moons", "samples": 200}, "loss": {"type": loss},
                                       "epochs": 1, "device": "cpu", "metrics": ["accuracy", "auroc"]})
        trainer = build(tmp_path, record)
        result = trainer.fit()
        assert result.status == "finished", (loss, result.message)
        val = [r for r in result.history if r["split"] == "val"][-1]
        assert 0 <= val["accuracy"] <= 1 and 0 <= val["auroc"] <= 1


def test_autoencoder_reconstructs_its_input(tmp_path):
    record = template("autoencoder_digits")
    record["training"].update(epochs=1, device="cpu")
    result = build(tmp_path, record).fit()
    assert result.status == "finished"
    val = [r for r in result.history if r["split"] == "val"][-1]
    assert set(val) >= {"loss", "mse", "mae", "r2"}
