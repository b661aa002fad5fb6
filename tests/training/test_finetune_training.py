"""Fine-tuning in the trainer (issue 17 item 5): learning-rate multipliers become the optimizer's
param groups (schedules keep their ratio), frozen weights stay out of the optimizer and unchanged,
a checkpoint resumed after the freezing changed starts the optimizer afresh, and the settings are
checked with messages that name the field."""
from __future__ import annotations

import pytest
import torch

from studio.core.project import loads_project
from studio.training.config import parse_config
from studio.training.errors import TrainingError
from studio.training.trainer import Trainer

from .conftest import Recorder, mlp_project


def _project(training=None, **fields):
    import json

    rec = mlp_project(training=training)
    for n in rec["nodes"]:
        n.update(fields.get(n["id"], {}))
    return loads_project(json.dumps(rec))


def _lrs(trainer) -> dict:
    names = {id(p): n for n, p in trainer.model.named_parameters()}
    return {names[id(p)]: float(g["lr"]) for g in trainer.optimizer.param_groups for p in g["params"]}


def test_lr_multipliers_make_param_groups_and_a_schedule_keeps_their_ratio():
    project = _project({"optimizer": {"type": "SGD", "lr": 0.1}, "schedule": {"type": "StepLR", "step_size": 1,
                                                                           "gamma": 0.5}},
                       fc1={"lr_mult": 0.1})
    trainer = Trainer.from_project(project)
    recorder = Recorder()
    trainer.add_listener(recorder)
    assert trainer.fit().status == "finished"
    lrs = _lrs(trainer)
    assert lrs["fc1.weight"] == pytest.approx(0.1 * 0.1 * 0.25) and lrs["fc2.weight"] == pytest.approx(0.1 * 0.25)
    assert recorder.of("epoch")[-1].lr == pytest.approx(0.1 * 0.25)  # the run's rate, not the group's


def test_one_cycle_peaks_at_each_groups_multiplier():
    project = _project({"optimizer": {"type": "SGD", "lr": 0.1}, "schedule": {"type": "OneCycleLR"}},
                       fc2={"lr_mult": 10})
    trainer = Trainer.from_project(project)
    trainer.prepare()
    peaks = sorted(g["max_lr"] for g in trainer.optimizer.param_groups)
    assert peaks == pytest.approx([0.1, 1.0])


def test_frozen_weights_are_left_out_of_the_optimizer_and_stay(tmp_path):
    project = _project({"optimizer": {"type": "AdamW", "lr": 0.05, "weight_decay": 0.1}}, fc1={"frozen": True})
    trainer = Trainer.from_project(project)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    recorder = Recorder()
    trainer.add_listener(recorder)
    assert trainer.fit().status == "finished"
    held = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    assert id(trainer.model.fc1.weight) not in held and id(trainer.model.fc2.weight) in held
    after = trainer.model.state_dict()
    assert torch.equal(after["fc1.weight"], before["fc1.weight"]) and torch.equal(after["fc1.bias"], before["fc1.bias"])
    assert not torch.equal(after["fc2.weight"], before["fc2.weight"])
    notices = [e.message for e in recorder.of("notice")]
    assert "fine-tuning: trains 34 of 82 parameters (48 frozen)" in notices


def test_a_resume_after_the_freezing_changed_starts_the_optimizer_afresh(tmp_path):
    from studio.training import checkpoint as ckpt

    first = Trainer.from_project(_project({"epochs": 1}))
    assert first.fit().status == "finished"
    path = tmp_path / "checkpoint.pt"
    ckpt.save_checkpoint(path, first.checkpoint_state())
    second = Trainer.from_project(_project({"epochs": 2}, fc1={"frozen": True}))
    second.load_checkpoint(path)
    recorder = Recorder()
    second.add_listener(recorder)
    assert second.fit().status == "finished"
    assert any("frozen layers or learning-rate multipliers changed" in e.message for e in recorder.of("notice"))


@pytest.mark.fault("training config", "training.frozen_batchnorm is not eval or train", "refused, naming the field")
def test_frozen_batchnorm_setting_is_checked():
    with pytest.raises(TrainingError, match="training.frozen_batchnorm must be one of 'eval', 'train'"):
        parse_config({"dataset": "moons", "frozen_batchnorm": "frozen"})
    assert parse_config({"dataset": "moons"}).frozen_batchnorm == "eval"


@pytest.mark.fault("training", "every layer frozen", "refused: only frozen weights, nothing to train")
def test_everything_frozen_is_refused_before_training():
    project = _project(fc1={"frozen": True}, fc2={"frozen": True})
    with pytest.raises(TrainingError, match="only frozen weights"):
        Trainer.from_project(project)
