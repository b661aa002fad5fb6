"""The training section is checked with messages that name the field."""
from __future__ import annotations

import pytest

from studio.training.config import parse_config
from studio.training.errors import TrainingError

from .conftest import TEMPLATES, template

BASE = {"dataset": {"name": "digits"}}


def err(training, overrides=None) -> str:
    with pytest.raises(TrainingError) as info:
        parse_config(training, overrides)
    return str(info.value)


def test_training_error_is_a_user_error():
    from studio.errors import is_user_error

    assert issubclass(TrainingError, ValueError)
    assert is_user_error(TrainingError("x"))


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.json")), ids=lambda p: p.stem)
def test_every_template_training_section_parses(path):
    cfg = parse_config(template(path.stem)["training"])
    assert cfg.epochs >= 1 and cfg.batch_size >= 1


def test_defaults_and_values():
    cfg = parse_config({**BASE, "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9, "nesterov": True,
                                              "weight_decay": 1e-4, "l1": 1e-5},
                        "schedule": {"type": "StepLR", "step_size": 2}, "grad_clip": 1.0,
                        "early_stopping": {"patience": 3, "metric": "val_accuracy"}})
    assert cfg.optimizer.type == "SGD" and cfg.optimizer.lr == 0.1 and cfg.optimizer.l1 == 1e-5
    assert cfg.optimizer.kwargs == {"momentum": 0.9, "nesterov": True}
    assert cfg.monitor == "accuracy" and cfg.monitor_mode == "max" and "accuracy" in cfg.metrics
    assert cfg.early_stopping.patience == 3 and cfg.grad_clip == 1.0
    assert cfg.val_split == 0.2 and cfg.device == "auto" and cfg.eval_batch == 256


@pytest.mark.fault('training settings', 'a negative learning rate',
                   'refused: training.optimizer.lr must be a positive number')
def test_lr_must_be_positive():
    assert err({**BASE, "optimizer": {"type": "Adam", "lr": -1}}) == \
        "training.optimizer.lr must be a positive number, got -1"


@pytest.mark.parametrize("training, words", [
    ({"optimizer": {"type": "Adamm"}}, ["training.optimizer.type", "'Adamm'", "AdamW"]),
    ({"optimizer": {"type": "Adam", "momentum": 0.9}}, ["training.optimizer.momentum", "Adam", "betas"]),
    ({"optimizer": {"type": "SGD", "nesterov": True}}, ["nesterov", "momentum"]),
    ({"optimizer": {"type": "Adam", "betas": [0.9]}}, ["training.optimizer.betas"]),
    ({"loss": {"type": "Hinge"}}, ["training.loss.type", "CrossEntropyLoss"]),
    ({"loss": {"type": "CrossEntropyLoss", "label_smoothing": 2}}, ["training.loss.label_smoothing", "[0, 1)"]),
    ({"epochs": 0}, ["training.epochs", "positive whole number", "0"]),
    ({"batch_size": 2.5}, ["training.batch_size"]),
    ({"device": "gpu"}, ["training.device", "cuda:N", "'gpu'"]),
    ({"metrics": ["accuracy", "speed"]}, ["training.metrics", "'speed'"]),
    ({"split": {"val": 0.5, "test": 0.45}}, ["training.split", "10%"]),
    ({"schedule": {"type": "StepLR", "step": 3}}, ["training.schedule.step", "step_size"]),
    ({"schedule": {"type": "Warmup"}}, ["training.schedule.type", "OneCycleLR"]),
    ({"early_stopping": {"patience": 0}}, ["training.early_stopping.patience"]),
    ({"early_stopping": {"patience": 2, "metric": "speed"}}, ["monitor", "'speed'"]),
    ({"amp": "fp8"}, ["training.amp"]),
    ({"epoch": 3}, ["training.epoch", "not a training option"]),
    ({"grad_clip": -1}, ["training.grad_clip", "positive"]),
])
@pytest.mark.fault('training settings', 'bad optimizer, loss, epochs, batch size, schedule values (18 kinds)',
                   'refused naming the field (training.x.y) and what is allowed')
def test_bad_values_name_the_field(training, words):
    message = err({**BASE, **training})
    for w in words:
        assert w in message, (w, message)


@pytest.mark.fault('training settings', 'no dataset, or a dataset without a name',
                   'refused naming training.dataset / training.dataset.name')
def test_missing_dataset():
    assert "training.dataset is missing" in err({})
    assert "training.dataset.name" in err({"dataset": {"root": "x"}})


def test_command_line_overrides_are_named_as_options():
    cfg = parse_config(BASE, {"epochs": 3, "batch_size": 8, "device": "cpu", "seed": 4})
    assert (cfg.epochs, cfg.batch_size, cfg.device, cfg.seed) == (3, 8, "cpu", 4)
    assert err(BASE, {"epochs": 0}).startswith("--epochs must be")
    assert err(BASE, {"batch_size": -2}).startswith("--batch-size must be")


def test_aliases_and_string_forms():
    cfg = parse_config({"dataset": "iris", "loss": "CrossEntropy", "optimizer": {"type": "adamw", "lr": 1e-3}})
    assert cfg.dataset.name == "iris" and cfg.loss.type == "CrossEntropyLoss" and cfg.optimizer.type == "AdamW"
