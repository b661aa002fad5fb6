"""`python -m studio train`: the acceptance run, resume as one curve, and each failure's message with
nothing lost on disk."""
from __future__ import annotations

import json
import os

import pytest
import torch

from studio.cli import main

from .conftest import TEMPLATES, mlp_project, template, write_project


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.slow
def test_mlp_digits_acceptance_and_resume_as_one_curve(tmp_path, capsys):
    run = tmp_path / "RUN"
    rc = main(["train", str(TEMPLATES / "mlp_digits.json"), "--epochs", "10", "--device", "cpu", "--out", str(run)])
    assert rc == 0
    assert {p.name for p in run.iterdir()} == {"metrics.jsonl", "checkpoint.pt", "best.pt"}
    records = lines(run / "metrics.jsonl")
    assert [(r["epoch"], r["split"]) for r in records] == [(e, s) for e in range(1, 11) for s in ("train", "val")]
    assert all({"loss", "accuracy", "f1"} <= set(r) for r in records if r["split"] == "val")
    assert all({"loss", "accuracy", "lr"} <= set(r) for r in records if r["split"] == "train")
    assert records[-1]["accuracy"] >= 0.95, records[-1]
    err = capsys.readouterr().err
    assert "epoch 10/10" in err
    first_ten = (run / "metrics.jsonl").read_text()

    rc = main(["train", str(TEMPLATES / "mlp_digits.json"), "--resume", str(run / "checkpoint.pt"), "--epochs", "15",
               "--device", "cpu", "--out", str(run), "--quiet"])
    assert rc == 0
    records = lines(run / "metrics.jsonl")
    assert [(r["epoch"], r["split"]) for r in records] == [(e, s) for e in range(1, 16) for s in ("train", "val")]
    assert (run / "metrics.jsonl").read_text().startswith(first_ten)  # epochs 1..10 kept as they were
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 15
    best = torch.load(run / "best.pt", weights_only=True)
    vals = [r for r in records if r["split"] == "val"]
    assert best["epoch"] == min(vals, key=lambda r: r["loss"])["epoch"]


def test_default_run_folder_beside_the_project(tmp_path, capsys):
    path = write_project(tmp_path, mlp_project(training={"epochs": 1}), "moons.json")
    assert main(["train", str(path), "--quiet"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("moons-") and (run / "checkpoint.pt").is_file()
    assert "files in" in capsys.readouterr().out


@pytest.mark.fault('training CLI', 'a dataset whose samples do not fit the Input',
                   'exit 2, one line naming both shapes; nothing written')
def test_mismatched_dataset_exits_2_and_writes_nothing(tmp_path, capsys):
    record = template("mlp_digits")
    record["training"]["dataset"] = {"name": "wine"}
    path = write_project(tmp_path, record)
    before = snapshot(tmp_path)
    rc = main(["train", str(path), "--device", "cpu", "--out", str(tmp_path / "RUN")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: dataset 'wine' gives samples of shape [13]") and "[1, 8, 8]" in err
    assert "Traceback" not in err
    assert snapshot(tmp_path) == before and not (tmp_path / "RUN").exists()


@pytest.mark.fault('training CLI', 'the loss diverges to NaN on resume (lr 1e7)',
                   'exit 2 with advice; checkpoint, best and metrics of the earlier epochs byte-identical')
def test_nan_exits_2_and_keeps_the_last_good_epoch(tmp_path, capsys):
    run = tmp_path / "RUN"
    record = mlp_project(shape=(1,), classes=1, training={
        "dataset": {"name": "linear"}, "loss": {"type": "MSELoss"}, "metrics": ["mse"], "epochs": 2,
        "optimizer": {"type": "SGD", "lr": 0.01}})
    path = write_project(tmp_path, record)
    assert main(["train", str(path), "--out", str(run), "--quiet"]) == 0
    good = snapshot(run)
    record["training"]["optimizer"]["lr"] = 1e7
    write_project(tmp_path, record)
    rc = main(["train", str(path), "--resume", str(run / "checkpoint.pt"), "--epochs", "4", "--out", str(run), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "error: the training loss became" in err and "lower learning rate" in err
    assert snapshot(run) == good  # checkpoint, best and metrics of epochs 1-2 untouched
    assert torch.load(run / "checkpoint.pt", weights_only=True)["epoch"] == 2


@pytest.mark.fault('training CLI', "--resume with a crafted pickle or another graph's checkpoint",
                   'exit 2, refused; nothing runs; the run folder unchanged')
def test_bad_checkpoint_exits_2_and_changes_nothing(tmp_path, capsys):
    run = tmp_path / "RUN"
    path = write_project(tmp_path, mlp_project(training={"epochs": 1}))
    assert main(["train", str(path), "--out", str(run), "--quiet"]) == 0
    good = snapshot(run)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"format": "netstudio-checkpoint", "model": Evil()}, tmp_path / "evil.pt")
    rc = main(["train", str(path), "--resume", str(tmp_path / "evil.pt"), "--epochs", "3", "--out", str(run)])
    assert rc == 2 and "refused" in capsys.readouterr().err and not marker.exists()
    other = write_project(tmp_path, mlp_project(hidden=8, training={"epochs": 3}), "other.json")
    rc = main(["train", str(other), "--resume", str(run / "checkpoint.pt"), "--out", str(run)])
    err = capsys.readouterr().err
    assert rc == 2 and "different graph" in err and "fc1" in err
    assert snapshot(run) == good


@pytest.mark.fault('training CLI', 'MNIST needed but the machine is offline',
                   'exit 2 naming the files and the folder to put them in; nothing written')
def test_missing_download_exits_2_with_where_to_put_files(tmp_path, capsys, monkeypatch):
    import torchvision.datasets as tvd

    def offline(*a, **k):
        raise RuntimeError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr(tvd, "MNIST", offline)
    record = template("mlp_mnist")
    path = write_project(tmp_path, record)
    before = snapshot(tmp_path)
    assert main(["train", str(path), "--device", "cpu", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "MNIST is not in" in err and str(tmp_path / "data" / "MNIST" / "raw") in err
    assert snapshot(tmp_path) == before


def test_mnist_template_trains_from_files_in_torchvision_layout(tmp_path, capsys):
    from .test_datasets import write_mnist

    write_mnist(tmp_path / "data", n=200)
    path = write_project(tmp_path, template("mlp_mnist"))
    assert main(["train", str(path), "--device", "cpu", "--epochs", "1", "--out", str(tmp_path / "RUN"), "--quiet"]) == 0
    splits = [r["split"] for r in lines(tmp_path / "RUN" / "metrics.jsonl")]
    assert splits == ["train", "val", "test"]  # MNIST's own test set is evaluated at the end


def test_train_says_what_it_used_in_one_line_and_details_only_when_verbose(tmp_path, capsys):
    path = write_project(tmp_path, mlp_project(training={"epochs": 1}))
    assert main(["train", str(path), "--out", str(tmp_path / "a")]) == 0
    out, err = capsys.readouterr()
    assert "trained on cpu with fused Adam" in out.splitlines()[0]
    assert "not used:" not in out + err and "step: eager" not in err
    assert main(["train", str(path), "--out", str(tmp_path / "b"), "--verbose"]) == 0
    out, err = capsys.readouterr()
    assert "trained on cpu with fused Adam" in out
    assert "fast path: eager+fused; not used: cuda_graph (CUDA graphs need a CUDA device" in err
    assert "; step: eager+fused" in err
    assert main(["train", str(path), "--out", str(tmp_path / "c"), "--verbose", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "fast path: eager+fused; not used:" in out


def test_train_off_a_terminal_reports_steps_during_a_long_epoch(tmp_path, capsys, monkeypatch):
    from studio.training.progress import ProgressBar

    monkeypatch.setattr(ProgressBar, "PLAIN_EVERY_S", 0.0)  # every step counts as "a while"
    path = write_project(tmp_path, mlp_project(training={"epochs": 1}))
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    steps = [line for line in err.splitlines() if line.startswith("epoch 1: step ")]
    assert steps and all("loss" in line and "ETA" in line for line in steps)
    assert "\r" not in err  # plain lines in a log, no live bar
