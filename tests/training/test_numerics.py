"""Bad numbers named: a loss that diverges (exit 2 naming the learning rate and optimizer), NaN or inf
in the data (the split, batch and sample, not the learning rate), BatchNorm meeting a batch of one
sample, a model with nothing to train; and no false alarm on any bundled template."""
from __future__ import annotations


import pytest
import torch

from studio import load_project
from studio.cli import main
from studio.training.config import parse_config
from studio.training.datasets.base import classification, regression
from studio.training.numerics import DIVERGENCE_FACTOR
from studio.training.step import epoch_order
from studio.training.trainer import Trainer

from .conftest import TEMPLATES, Recorder, own_images, template, write_project
from .test_datasets import write_cifar, write_mnist


def digits_record(optimizer=None, epochs=2, extra_nodes=()) -> dict:
    """The MLP on the digits, on the CPU; `extra_nodes` are spliced in after fc1."""
    record = template("mlp_digits")
    record["training"].update(epochs=epochs, device="cpu")
    if optimizer:
        record["training"]["optimizer"] = optimizer
    nodes = record["nodes"]
    at = [n["id"] for n in nodes].index("fc1") + 1
    nodes[at:at] = [{"id": i, "type": t, "params": {}, "pos": [0, 0]} for i, t in extra_nodes]
    record["edges"] = [{"source": a["id"], "target": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return record


# ---- divergence ------------------------------------------------------------------------------------
@pytest.mark.fault("training CLI", "the loss grows ten orders of magnitude but stays finite (Adam, lr 1e6)",
                   "exit 2: one line, the loss's growth, lr and optimizer named, a smaller lr suggested")
def test_a_diverging_run_exits_2_naming_the_learning_rate(tmp_path, capsys):
    path = write_project(tmp_path, digits_record({"type": "Adam", "lr": 1e6}))
    rc = main(["train", str(path), "--out", str(tmp_path / "RUN"), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error: the training loss grew from 2.3"), err
    assert "training diverged and stopped" in err and "epoch 1" in err
    assert "lower learning rate for Adam (training.optimizer.lr is 1e+06; try 100000" in err
    assert "PyTorch's default for Adam is 0.001" in err


@pytest.mark.fault("training", "the loss diverges to a finite plateau (SGD, lr 1e6, headless, with reports)",
                   "failed event 'diverged' within the first epoch, naming SGD and its lr")
def test_divergence_is_caught_at_the_reporting_rate(tmp_path):
    record = digits_record({"type": "SGD", "lr": 1e6}, epochs=5)
    record["training"]["report_interval"] = 1e-6  # a report after every step
    trainer = Trainer.from_project(load_project(write_project(tmp_path, record)))
    rec = Recorder()
    trainer.add_listener(rec)
    result = trainer.fit()
    assert result.status == "failed" and result.reason == "diverged", result.message
    failed = rec.of("failed")[0]
    assert failed.reason == "diverged" and failed.message == result.message and failed.traceback is None
    assert failed.epoch == 1 and result.epochs_done == 0
    assert "for SGD (training.optimizer.lr is 1e+06; try 100000" in result.message
    assert not rec.of("epoch")  # stopped inside the first epoch, not after it
    assert rec.of("step")[-1].step <= trainer.loss_watch.needed + 1


def _steps_of(record, tmp_path, steps):
    """A trainer on a template for `steps` steps (reports after every step), its result and events."""
    name = record["training"]["dataset"]["name"]
    if name == "mnist":
        write_mnist(tmp_path / "data", n=300)
    elif name == "cifar10":
        write_cifar(tmp_path / "data", n=60)
    elif name == "image_folder":  # resnet18: the person's images (a tiny folder, smaller pictures)
        own_images(record, tmp_path)
    record["training"]["report_interval"] = 1e-6
    trainer = Trainer.from_project(load_project(write_project(tmp_path, record)), {"epochs": 1000, "device": "cpu"})
    trainer.max_steps = steps
    return trainer, trainer.fit()


SLOW_TEMPLATES = {"transformer_encoder", "resnet_block", "cnn_cifar10", "resnet18"}


@pytest.mark.parametrize("name", [pytest.param(p.stem, marks=[pytest.mark.slow] if p.stem in SLOW_TEMPLATES else [])
                                  for p in sorted(TEMPLATES.glob("*.json"))])
def test_no_false_alarm_on_any_template(tmp_path, name):
    trainer, result = _steps_of(template(name), tmp_path, 120)
    assert result.status == "stopped" and trainer.global_step == 120, result.message
    # the healthy loss stays far below the alarm (it never rose past 2x its start in 300 steps)
    assert 0 < trainer.loss_watch.peak < DIVERGENCE_FACTOR / 20, trainer.loss_watch.peak


# ---- the data at fault ---------------------------------------------------------------------------------
def _digits_like(n=400, classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    return x, (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()


def _config(dataset, loss="CrossEntropyLoss", **kw):
    raw = {"dataset": {"name": dataset.info.name}, "loss": {"type": loss}, "optimizer": {"type": "Adam", "lr": 1e-3},
           "epochs": 2, "batch_size": 16, "device": "cpu", "seed": 3, "split": {"val": 0.25}}
    raw.update(kw)
    return parse_config(raw)


def _mlp(out=4):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, out))


def _where(trainer, split_x, poisoned_row, epoch=1):
    """(index in the training split, batch, position) of a poisoned dataset row in epoch `epoch`."""
    index = next(i for i in range(len(split_x)) if bool(torch.isnan(split_x[i]).any() or torch.isinf(split_x[i]).any()))
    order = epoch_order(len(split_x), epoch, trainer.config.seed)
    pos = int((order == index).nonzero()[0])
    return index, pos // trainer.config.batch_size + 1, pos % trainer.config.batch_size


@pytest.mark.fault("training", "a NaN in one training sample's input (headless trainer API)",
                   "failed 'data': names the training split, the sample, its batch and position; no learning rate")
def test_nan_in_a_training_input_names_the_sample_not_the_learning_rate():
    x, y = _digits_like()
    x[123, 5] = float("nan")
    dataset = classification("poisoned", "test data", x, y, ["a", "b", "c", "d"])
    trainer = Trainer(_mlp(), dataset, _config(dataset, report_interval=1e-6))
    rec = Recorder()
    trainer.add_listener(rec)
    result = trainer.fit()
    assert result.status == "failed" and result.reason == "data", result.message
    index, batch, pos = _where(trainer, trainer.splits.train.x, 123)
    assert result.message.startswith(f"sample {index} of the training split has NaN in its input (batch {batch} "
                                     f"of epoch 1, position {pos} in that batch)"), result.message
    assert "try a lower learning rate" not in result.message and "training.optimizer.lr" not in result.message
    assert "The data is at fault, not the learning rate" in result.message
    assert rec.of("failed")[0].reason == "data"


@pytest.mark.fault("training", "inf in regression targets, found only at the epoch's end (no listener)",
                   "failed 'data': names the first used sample whose target is inf and how many are bad")
def test_inf_in_targets_found_without_reports():
    x, _ = _digits_like(seed=1)
    y = x[:, :1] * 2.0
    y[[40, 41, 300]] = float("inf")
    dataset = regression("poisoned", "test data", x, y)
    trainer = Trainer(_mlp(1), dataset, _config(dataset, loss="MSELoss"))
    result = trainer.fit()  # no listener: no reports, the loss is read once at the epoch's end
    assert result.status == "failed" and result.reason == "data", result.message
    assert "of the training split has inf in its target (batch " in result.message
    order = epoch_order(len(trainer.splits.train), 1, trainer.config.seed)
    bad = {i for i in range(len(trainer.splits.train)) if torch.isinf(trainer.splits.train.y[i]).any()}
    first = next(int(i) for i in order if int(i) in bad)
    assert result.message.startswith(f"sample {first} of the training split"), result.message
    if len(bad) > 1:
        assert f"({len(bad)} samples of the training split hold NaN or inf)" in result.message


@pytest.mark.fault("training", "a NaN in a validation sample (headless trainer API)",
                   "failed 'data' after epoch 1's training: names the validation split and the sample")
def test_nan_in_the_validation_split_names_it():
    x, y = _digits_like(seed=2)
    dataset = classification("poisoned", "test data", x, y, ["a", "b", "c", "d"])
    probe = Trainer(_mlp(), dataset, _config(dataset))
    val_row = int((x == probe.splits.val.x[7]).all(1).nonzero()[0])
    x[val_row, 0] = float("nan")
    trainer = Trainer(_mlp(), dataset, _config(dataset))
    result = trainer.fit()
    assert result.status == "failed" and result.reason == "data", result.message
    assert result.message.startswith("sample 7 of the validation split has NaN in its input"), result.message
    assert "training.optimizer.lr" not in result.message


@pytest.mark.fault("training", "the weights diverge to NaN while a later sample holds inf",
                   "failed 'nan': the learning rate is named (the loss went bad first), the bad sample noted")
def test_weights_first_then_data_names_the_learning_rate(tmp_path):
    x, y = _digits_like(seed=4)
    dataset = classification("poisoned", "test data", x, y, ["a", "b", "c", "d"])
    cfg = _config(dataset, optimizer={"type": "SGD", "lr": 1e30})
    trainer = Trainer(_mlp(), dataset, cfg)
    order = epoch_order(len(trainer.splits.train), 1, cfg.seed)
    trainer.splits.train.x[int(order[-1]), 2] = float("inf")  # used in the last batch of epoch 1
    result = trainer.fit()
    assert result.status == "failed" and result.reason == "nan", result.message
    assert "so the weights diverged: try a lower learning rate for SGD (training.optimizer.lr is 1e+30" in result.message
    assert f"Also, sample {int(order[-1])} of the training split has inf in its input" in result.message


# ---- BatchNorm and one sample ----------------------------------------------------------------------------
@pytest.mark.fault("training CLI", "BatchNorm1d meets a last training batch of 1 sample (1438 samples, batch 479)",
                   "the sample is left out of each epoch with one notice naming the layer and a batch size that fits")
def test_batchnorm_one_sample_last_batch_is_left_out(tmp_path, capsys):
    path = write_project(tmp_path, digits_record(epochs=2, extra_nodes=[("bn", "BatchNorm1d")]))
    rc = main(["train", str(path), "--batch-size", "479", "--out", str(tmp_path / "RUN")])
    err = capsys.readouterr().err
    assert rc == 0, err
    notes = [line for line in err.splitlines() if "BatchNorm" in line]
    assert len(notes) == 1, err
    assert notes[0].startswith("note: the last batch of the training split would hold 1 sample (1438 samples, "
                               "batches of 479), which BatchNorm layer 'bn' cannot normalise")
    assert "set the batch size to 480" in notes[0]
    assert "2 epochs of 3 steps" in err


def test_batchnorm_tail_leaves_a_different_sample_out_each_epoch(tmp_path):
    record = digits_record(epochs=2, extra_nodes=[("bn", "BatchNorm1d")])
    trainer = Trainer.from_project(load_project(write_project(tmp_path, record)), {"batch_size": 479})
    seen = []
    trainer.prepare()

    class Counting:  # the step, counting the samples of each batch
        def __getattr__(self, name):
            return getattr(real, name)

        def __call__(self, xb, tb):
            seen.append(len(xb))
            return real(xb, tb)

    real, trainer.step_fn = trainer.step_fn, Counting()
    assert trainer.fit().status == "finished"
    assert seen == [479, 479, 479] * 2 and trainer.epoch_samples == 1437
    left_out = [int(epoch_order(1438, e, trainer.config.seed)[-1]) for e in (1, 2)]
    assert left_out[0] != left_out[1]


def test_no_batchnorm_keeps_the_one_sample_batch(tmp_path):
    trainer = Trainer.from_project(load_project(write_project(tmp_path, digits_record(epochs=1))), {"batch_size": 479})
    trainer.prepare()
    assert trainer.steps_per_epoch == 4 and trainer.epoch_samples == 1438


@pytest.mark.fault("training CLI", "BatchNorm1d with batch size 1 (every batch one sample)",
                   "exit 2 naming the layer and the fix: a batch size of 2 or more")
def test_batchnorm_with_batch_size_one_names_the_fix(tmp_path, capsys):
    path = write_project(tmp_path, digits_record(epochs=1, extra_nodes=[("bn", "BatchNorm1d")]))
    rc = main(["train", str(path), "--batch-size", "1", "--out", str(tmp_path / "RUN"), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "layer 'bn' (BatchNorm1d)" in err and "set the batch size to 2 or more" in err and "Traceback" not in err


def test_the_loss_is_read_once_per_epoch_without_reports(monkeypatch):
    """DESIGN: no device-to-host read per step; the checks ride on the epoch's one read (no listener)
    or on the reports' (see test_divergence_is_caught_at_the_reporting_rate)."""
    x, y = _digits_like(n=640)
    dataset = classification("plain", "test data", x, y, ["a", "b", "c", "d"])
    trainer = Trainer(_mlp(), dataset, _config(dataset, epochs=2, split={"val": 0.0}))
    trainer.prepare()
    reads = []
    for name in ("tolist", "item", "__float__", "cpu", "numpy"):
        real = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name, lambda self, *a, _real=real, _name=name, **k:
                            (reads.append(_name), _real(self, *a, **k))[1])
    result = trainer.fit()
    monkeypatch.undo()
    assert result.status == "finished" and trainer.global_step == 2 * 40
    assert reads == ["tolist", "tolist"], reads  # one per epoch, for 40 steps each


def test_a_warm_started_run_is_not_stopped_for_its_first_bump():
    """From trained weights the first loss is near zero; fresh optimizer moments lift it a hundred-fold
    in the first steps (0.0005 -> 0.079 seen on digits). That is no divergence."""
    from studio.training.numerics import LossWatch

    watch = LossWatch(steps_per_epoch=40)
    watch.check([0.0005] + [0.079] * 30, epoch=1, first_step=1)  # does not raise
    with pytest.raises(Exception, match="loss"):
        LossWatch(steps_per_epoch=40).check([0.0005] + [1e6] * 30, epoch=1, first_step=1)
