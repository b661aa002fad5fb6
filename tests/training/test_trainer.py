"""The trainer: events, controls (pause/resume/stop within one step), failures, options."""
from __future__ import annotations

import dataclasses
import threading

import pytest
import torch

from studio import load_project
from studio.training.events import TrainerListener
from studio.training.trainer import Trainer

from .conftest import Recorder, assert_plain, mlp_project, template, write_project


def make(tmp_path, record) -> Trainer:
    return Trainer.from_project(load_project(write_project(tmp_path, record)))


def test_events_are_plain_data_and_in_order(tmp_path):
    trainer = make(tmp_path, mlp_project(training={"epochs": 2, "report_interval": 1e-6,
                                                  "metrics": ["accuracy", "f1", "confusion_matrix"]}))
    rec = Recorder()
    trainer.add_listener(rec)
    trainer.norms_interval = 0.0
    trainer.epoch_reports = True
    trainer.watch("fc1")
    result = trainer.fit()
    assert result.status == "finished" and result.epochs_done == 2
    kinds = rec.kinds()
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert {"step", "epoch", "norms", "activation", "report"} <= set(kinds)
    for e in rec.events:
        assert_plain(dataclasses.asdict(e), e.kind)
    step = rec.of("step")[0]
    assert step.loss > 0 and step.lr == 0.01 and step.samples_per_s > 0 and step.eta_s >= 0
    norms = rec.of("norms")[0].layers
    assert set(norms) == {"fc1", "fc2"} and norms["fc1"]["grad"] > 0 and norms["fc1"]["weight"] > 0
    act = rec.of("activation")[0]
    assert act.node_id == "fc1" and act.value.shape == (16,)
    report = rec.of("report")[-1]
    assert report.confusion.shape == (2, 2) and report.confusion.sum() == 80  # 20% of 400 samples
    assert report.boundary["probs"].shape == (60, 60, 2) and len(report.samples) == 8
    epoch = rec.of("epoch")[-1]
    assert epoch.val["confusion_matrix"] == report.confusion.tolist()


def test_nobody_watching_means_no_hooks_and_no_reports(tmp_path):
    trainer = make(tmp_path, mlp_project())
    trainer.prepare()
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in trainer.model.modules())
    result = trainer.fit()
    assert result.status == "finished" and hooks == 0
    assert sum(len(m._forward_hooks) for m in trainer.model.modules()) == 0


def test_watch_refuses_unknown_nodes(tmp_path):
    from studio.training.errors import TrainingError

    trainer = make(tmp_path, mlp_project())
    with pytest.raises(TrainingError, match="'nope'.*fc1"):
        trainer.watch("nope")
    trainer.watch("input")  # the input sample itself


class StopAt(TrainerListener):
    def __init__(self, trainer, step):
        self.trainer, self.at, self.steps = trainer, step, []

    def on_step(self, e):
        self.steps.append(e.global_step)
        if e.global_step == self.at:
            self.trainer.stop()


def test_stop_acts_within_one_step(tmp_path):
    trainer = make(tmp_path, mlp_project(training={"epochs": 50, "report_interval": 1e-9}))
    stopper = StopAt(trainer, 7)
    trainer.add_listener(stopper)
    rec = Recorder()
    trainer.add_listener(rec)
    result = trainer.fit()
    assert result.status == "stopped" and result.reason == "stopped"
    assert trainer.global_step == 7  # no further step ran after stop()
    stopped = rec.of("stopped")[0]
    assert stopped.epoch == 1 and stopped.step == 7 and stopped.epochs_done == 0


def test_pause_and_resume_from_another_thread(tmp_path):
    trainer = make(tmp_path, mlp_project(training={"epochs": 3, "report_interval": 1e-9}))
    rec = Recorder()
    trainer.add_listener(rec)
    steps_at_pause = []

    class PauseOnce(TrainerListener):
        def on_step(self, e):
            if e.global_step == 3:
                trainer.pause()

        def on_paused(self, e):
            steps_at_pause.append(trainer.global_step)

    trainer.add_listener(PauseOnce())
    results = []
    thread = threading.Thread(target=lambda: results.append(trainer.fit()))
    thread.start()
    assert rec.wait("paused", 30)
    assert steps_at_pause == [3]  # paused before step 4
    assert trainer.global_step == 3
    trainer.resume()
    thread.join(60)
    assert not thread.is_alive()
    assert results[0].status == "finished" and "resumed" in rec.kinds()
    assert trainer.global_step == 3 * trainer.steps_per_epoch


@pytest.mark.fault('stop', 'Stop pressed while the run is paused before its first step',
                   'stops at once (the pause wakes); no deadlock')
def test_stop_while_paused(tmp_path):
    trainer = make(tmp_path, mlp_project(training={"epochs": 3}))
    rec = Recorder()
    trainer.add_listener(rec)
    trainer.pause()  # before it starts: pauses before the first step
    results = []
    thread = threading.Thread(target=lambda: results.append(trainer.fit()))
    thread.start()
    assert rec.wait("paused", 30)
    trainer.stop()
    thread.join(30)
    assert results[0].status == "stopped" and trainer.global_step == 0


@pytest.mark.fault('training', 'the loss diverges to NaN (lr 1e6, headless)',
                   'failed with the lr to try; no traceback')
def test_nan_loss_stops_with_advice(tmp_path):
    record = mlp_project(shape=(1,), classes=1, training={
        "dataset": {"name": "linear"}, "loss": {"type": "MSELoss"}, "metrics": ["mse"],
        "optimizer": {"type": "SGD", "lr": 1e6}, "epochs": 5})
    trainer = make(tmp_path, record)
    rec = Recorder()
    trainer.add_listener(rec)
    result = trainer.fit()
    assert result.status == "failed" and result.reason == "nan"
    assert "lower learning rate" in result.message and "lr is 1e+06; try 100000" in result.message
    failed = rec.of("failed")[0]
    assert failed.reason == "nan" and failed.message == result.message and failed.traceback is None


@pytest.mark.fault('training', 'CUDA out of memory at a step (simulated, headless)',
                   'failed naming the batch size to try; gradients freed; the next run finishes')
def test_cuda_out_of_memory_stops_with_advice_and_leaves_a_usable_process(tmp_path, monkeypatch):
    trainer = make(tmp_path, mlp_project(training={"epochs": 3, "batch_size": 64}))
    trainer.prepare()
    calls = {"n": 0}
    real = trainer.step_fn.__class__.__call__

    def exploding(self, x, t):
        calls["n"] += 1
        if calls["n"] == 4:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, x, t)

    monkeypatch.setattr(trainer.step_fn.__class__, "__call__", exploding)
    rec = Recorder()
    trainer.add_listener(rec)
    result = trainer.fit()
    assert result.status == "failed" and result.reason == "oom"
    assert "ran out of memory at batch size 64" in result.message and "--batch-size 32" in result.message
    assert all(p.grad is None for p in trainer.model.parameters())  # memory released
    monkeypatch.undo()
    again = make(tmp_path, mlp_project(training={"epochs": 1}))  # the process is still usable
    assert again.fit().status == "finished"


@pytest.mark.fault('training', 'a bug in the step function (ZeroDivisionError)',
                   "raised with a 'bug' failure event carrying the traceback (not hidden)")
def test_bugs_are_raised_and_reported(tmp_path, monkeypatch):
    trainer = make(tmp_path, mlp_project())
    trainer.prepare()
    monkeypatch.setattr(trainer.step_fn.__class__, "__call__", lambda *a: 1 / 0)
    rec = Recorder()
    trainer.add_listener(rec)
    with pytest.raises(ZeroDivisionError):
        trainer.fit()
    assert rec.of("failed")[0].reason == "bug" and "ZeroDivisionError" in rec.of("failed")[0].traceback


def test_early_stopping_and_best_weights(tmp_path):
    record = mlp_project(training={"epochs": 40, "optimizer": {"type": "SGD", "lr": 1e-5},
                                   "early_stopping": {"patience": 2, "min_delta": 0.5}, "restore_best": True})
    trainer = make(tmp_path, record)
    result = trainer.fit()
    assert result.status == "finished" and result.reason == "early_stopping"
    assert result.epochs_done == 3 and result.best_epoch == 1  # nothing improves by 0.5


@pytest.mark.parametrize("optimizer, schedule", [
    ({"type": "SGD", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4}, {"type": "StepLR", "step_size": 1, "gamma": 0.5}),
    ({"type": "AdamW", "lr": 0.01, "l1": 1e-4}, {"type": "OneCycleLR", "max_lr": 0.05}),
    ({"type": "RMSprop", "lr": 0.005}, {"type": "ReduceLROnPlateau", "patience": 0, "factor": 0.5}),
    ({"type": "Adagrad", "lr": 0.05}, {"type": "ExponentialLR", "gamma": 0.9}),
    ({"type": "Adam", "lr": 0.01}, {"type": "CosineAnnealingLR", "T_max": 3}),
])
def test_optimizers_and_schedules_train(tmp_path, optimizer, schedule):
    record = mlp_project(training={"epochs": 3, "optimizer": optimizer, "schedule": schedule, "grad_clip": 1.0})
    trainer = make(tmp_path, record)
    result = trainer.fit()
    assert result.status == "finished", result.message
    train = [r for r in result.history if r["split"] == "train"]
    assert train[-1]["loss"] < train[0]["loss"] * 1.05
    lrs = [r["lr"] for r in train]
    if schedule["type"] == "StepLR":
            assert lrs == pytest.approx([0.05, 0.025, 0.0125])  # the rate each epoch trained with
    if schedule["type"] == "OneCycleLR":
        assert trainer.schedule.scheduler.last_epoch == 3 * trainer.steps_per_epoch


def test_seeded_runs_are_reproducible(tmp_path):
    record = template("cnn_digits")
    record["training"].update(epochs=1, device="cpu")
    a = make(tmp_path, record).fit().history
    b = make(tmp_path, record).fit().history
    assert a == b


def test_regression_report_and_test_split(tmp_path):
    record = mlp_project(shape=(1,), classes=1, training={
        "dataset": {"name": "sine", "samples": 300}, "loss": {"type": "HuberLoss"}, "metrics": ["mse", "r2"],
        "split": {"val": 0.2, "test": 0.2}, "epochs": 2})
    trainer = make(tmp_path, record)
    trainer.epoch_reports = True
    rec = Recorder()
    trainer.add_listener(rec)
    result = trainer.fit()
    assert result.test is not None and set(result.test) == {"loss", "mse", "r2"}
    assert result.history[-1]["split"] == "test" and rec.of("test")[0].metrics == result.test
    report = rec.of("report")[-1]
    assert report.regression["true"].shape == report.regression["pred"].shape == (60, 1)


def test_amp_on_cpu_is_a_notice_not_an_error(tmp_path):
    trainer = make(tmp_path, mlp_project(training={"amp": True, "epochs": 1}))
    rec = Recorder()
    trainer.add_listener(rec)
    assert trainer.fit().status == "finished"
    assert "CUDA only" in rec.of("notice")[0].message


@pytest.mark.fault('training', 'device cuda:1 on a machine without it',
                   'refused naming training.device and what the machine has')
def test_unavailable_device_is_a_clear_error(tmp_path):
    from studio.training.errors import TrainingError

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(TrainingError, match="training.device is cuda:1 but this machine has no usable CUDA GPU"):
        make(tmp_path, mlp_project(training={"device": "cuda:1"}))
