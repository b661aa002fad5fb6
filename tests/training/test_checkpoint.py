"""Checkpoints: weights_only-loadable, resume continues the same run, foreign or unsafe files refused."""
from __future__ import annotations

import os

import pytest
import torch

from studio import load_project
from studio.training.checkpoint import load_checkpoint, save_checkpoint
from studio.training.errors import TrainingError
from studio.training.trainer import Trainer

from .conftest import chain_project, mlp_project, write_project

DROPOUT_NET = [("input", "Input", {"shape": [2]}), ("fc1", "Linear", {"out_features": 32}), ("act", "ReLU", {}),
               ("drop", "Dropout", {"p": 0.3}), ("fc2", "Linear", {"out_features": 2}), ("output", "Output", {})]
TRAINING = {"dataset": {"name": "moons", "samples": 300}, "loss": {"type": "CrossEntropyLoss"},
            "optimizer": {"type": "Adam", "lr": 0.01}, "schedule": {"type": "StepLR", "step_size": 1, "gamma": 0.7},
            "epochs": 4, "batch_size": 32, "device": "cpu", "seed": 3, "metrics": ["accuracy"]}


def trainer_for(tmp_path, record, epochs=None):
    return Trainer.from_project(load_project(write_project(tmp_path, record)), {"epochs": epochs})


def test_checkpoint_loads_with_weights_only(tmp_path):
    t = trainer_for(tmp_path, chain_project(DROPOUT_NET, TRAINING), epochs=1)
    assert t.fit().status == "finished"
    save_checkpoint(tmp_path / "c.pt", t.checkpoint_state())
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    assert state["format"] == "netstudio-checkpoint" and state["epoch"] == 1
    assert set(state) >= {"model", "optimizer", "scheduler", "history", "rng", "fingerprint", "best"}
    assert state["history"][0] == t.history[0]
    assert not list(tmp_path.glob(".c.pt.*"))  # no temp file left behind


def straight_and_resumed(tmp_path, record, first_epochs):
    """A run trained straight through, and one that trained first_epochs, saved and loaded its checkpoint."""
    straight = trainer_for(tmp_path, record)
    assert straight.fit().status == "finished"
    first = trainer_for(tmp_path, record, epochs=first_epochs)
    first.fit()
    save_checkpoint(tmp_path / "c.pt", first.checkpoint_state())
    second = trainer_for(tmp_path, record)
    second.load_checkpoint(tmp_path / "c.pt")
    return straight, second


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    """2 epochs + resume to 4 equals 4 epochs straight: weights, optimizer, schedule, RNG (dropout) and
    data order all continue."""
    straight, second = straight_and_resumed(tmp_path, chain_project(DROPOUT_NET, TRAINING), first_epochs=2)
    result = second.fit()
    assert [r["epoch"] for r in result.history] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert result.history == straight.history
    for a, b in zip(second.model.state_dict().values(), straight.model.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.fault('checkpoint', 'resuming training from a checkpoint of another graph',
                   "refused naming the layers and both shapes; the model's weights untouched")
def test_checkpoint_of_another_graph_is_refused_naming_layers(tmp_path):
    t = trainer_for(tmp_path, mlp_project(hidden=16), epochs=1)
    t.fit()
    save_checkpoint(tmp_path / "c.pt", t.checkpoint_state())
    other = trainer_for(tmp_path, mlp_project(hidden=32))
    before = {k: v.clone() for k, v in other.model.state_dict().items()}
    with pytest.raises(TrainingError) as info:
        other.load_checkpoint(tmp_path / "c.pt")
    msg = str(info.value)
    assert "different graph" in msg and "fc1" in msg and "fc2" in msg and "[16, 2]" in msg and "[32, 2]" in msg
    assert all(torch.equal(before[k], v) for k, v in other.model.state_dict().items())  # untouched


@pytest.mark.fault('checkpoint', 'resuming from a crafted checkpoint whose pickle would run a shell command',
                   'refused (weights_only=True); the command never runs')
def test_crafted_pickle_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"format": "netstudio-checkpoint", "version": 1, "model": Evil(), "epoch": 1, "history": []},
               tmp_path / "evil.pt")
    with pytest.raises(TrainingError, match="refused: it holds Python objects that could run code"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not marker.exists()


@pytest.mark.fault('checkpoint', 'a truncated .pt, a plain state dict, a missing file, a checkpoint from a newer version',
                   'each refused with its own message (corrupt / not a training checkpoint / no such file / update NetStudio)')
def test_broken_and_foreign_files(tmp_path):
    (tmp_path / "trunc.pt").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(TrainingError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(tmp_path / "trunc.pt")
    torch.save({"fc1.weight": torch.zeros(2, 2)}, tmp_path / "weights.pt")
    with pytest.raises(TrainingError, match="not a NetStudio training checkpoint"):
        load_checkpoint(tmp_path / "weights.pt")
    with pytest.raises(TrainingError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"format": "netstudio-checkpoint", "version": 99, "model": {}, "epoch": 1, "history": []},
               tmp_path / "future.pt")
    with pytest.raises(TrainingError, match="newer NetStudio"):
        load_checkpoint(tmp_path / "future.pt")


@pytest.mark.fault('checkpoint', 'resuming a run that already has all its epochs',
                   'refused: says how many it has and suggests --epochs N')
def test_resume_needs_more_epochs(tmp_path):
    t = trainer_for(tmp_path, mlp_project(), epochs=2)
    t.fit()
    save_checkpoint(tmp_path / "c.pt", t.checkpoint_state())
    again = trainer_for(tmp_path, mlp_project(), epochs=2)
    with pytest.raises(TrainingError, match="already trained 2 epochs.*--epochs 7"):
        again.load_checkpoint(tmp_path / "c.pt")


@pytest.mark.fault("checkpoint", "resuming a OneCycleLR run with more epochs than it was planned for",
                   "the run continues on the new plan (no 'Tried to step N times' traceback) and ends at the "
                   "learning rate a straight run of that length ends at")
def test_resuming_one_cycle_with_more_epochs_follows_the_new_plan(tmp_path):
    record = mlp_project(training={"schedule": {"type": "OneCycleLR", "max_lr": 0.05}, "epochs": 3,
                                   "dataset": {"name": "moons", "samples": 320}})
    straight, second = straight_and_resumed(tmp_path, record, first_epochs=1)
    result = second.fit()
    assert result.status == "finished", result
    assert [r["epoch"] for r in result.history if r["split"] == "train"] == [1, 2, 3]
    assert result.history[-1]["epoch"] == 3
    assert [r["lr"] for r in result.history if r["split"] == "train"][-1] == pytest.approx(
        [r["lr"] for r in straight.history if r["split"] == "train"][-1])
