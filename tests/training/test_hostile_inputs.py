"""Training inputs a hostile or careless hand made: checkpoints whose fields weights_only accepts but
that cannot be a run's state, data files that are bombs, huge or full of NaN, weights of integers, a
model with nothing to train. Each ends in `error: ...` naming the file and field, exit code 2."""
from __future__ import annotations

import csv
import os
import struct
import threading
import time
import zlib

import numpy as np
import pytest
import torch

import studio
from studio.cli import main
from studio.core.weights import WeightsError
from studio.training.config import parse_config
from studio.training.datasets import load_dataset
from studio.training.errors import TrainingError

from .conftest import chain_project, mlp_project, write_project


def run(args, capsys, deadline_s: float = 120) -> tuple[int, str]:
    """main(args) with a deadline (a FIFO or a quadratic loop must fail the test, not hang it)."""
    box: dict = {}

    def target():
        try:
            box["rc"] = main([str(a) for a in args])
        except BaseException as exc:  # handed to the test's thread
            box["exc"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(deadline_s)
    assert not t.is_alive(), f"{args[0]} still running after {deadline_s:.1f} s"
    if "exc" in box:
        raise box["exc"]
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return box["rc"], err


# ---- checkpoints -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A project trained for 2 epochs by the CLI, and its checkpoint."""
    folder = tmp_path_factory.mktemp("trained")
    path = write_project(folder, mlp_project(training={"epochs": 2, "schedule": {"type": "StepLR", "step_size": 1}}))
    assert main(["train", str(path), "--out", str(folder / "RUN"), "--quiet"]) == 0
    return path, folder / "RUN" / "checkpoint.pt"


def _tamper(state: dict, case: str) -> None:
    if case == "string epoch":
        state["epoch"] = "2"
    elif case == "negative epoch":
        state["epoch"] = -1
    elif case == "epoch behind its history":
        state["epoch"] = 1
    elif case == "torch rng of the wrong size":
        state["rng"]["torch"] = torch.zeros(16, dtype=torch.uint8)
    elif case == "python rng garbage":
        state["rng"]["python"] = [3, [1, 2, 3], None]
    elif case == "numpy rng garbage":
        state["rng"]["numpy"] = torch.zeros(5, dtype=torch.float32)
    elif case == "optimizer moments of another shape":
        state["optimizer"]["state"][0]["exp_avg"] = torch.zeros(7, 7)
    elif case == "optimizer of fewer parameters":
        state["optimizer"]["param_groups"][0]["params"] = [0, 1]
    elif case == "best value as text":
        state["best"]["value"] = "good"
    elif case == "scheduler step as text":
        state["scheduler"]["last_epoch"] = "2"
    elif case == "scheduler key of its own":
        state["scheduler"]["step"] = 0


CHECKPOINT_CASES = {
    "string epoch": "'epoch' must be a whole number",
    "negative epoch": "'epoch' must be a whole number from 0",
    "epoch behind its history": "'history[2].epoch' is 2, after the checkpoint's epoch 1",
    "torch rng of the wrong size": "'rng.torch' must be a torch.uint8 tensor of shape",
    "python rng garbage": "'rng.python' is not a state of Python's random module",
    "numpy rng garbage": "'rng.numpy' is not a state of numpy's generator",
    "optimizer moments of another shape": "'optimizer.state[0].exp_avg' has shape [7, 7]",
    "optimizer of fewer parameters": "'optimizer.param_groups' index 2 parameters",
    "best value as text": "'best.value' must be a number",
    "scheduler step as text": "'scheduler.last_epoch' must be a whole number, got '2'",
    "scheduler key of its own": "'scheduler.step' is not part of the state this kind of scheduler saves",
}


@pytest.mark.fault("checkpoint", "resume from a checkpoint weights_only accepts but whose fields are wrong: a string "
                   "or negative epoch, an epoch behind its history, RNG states of the wrong dtype/size, optimizer "
                   "state of another model, a best value as text, a scheduler state with a string step or a key of its own",
                   "train --resume exits 2 naming the field; nothing trained, the run folder not created")
@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_a_tampered_checkpoint_is_refused_naming_the_field(trained, tmp_path, capsys, case):
    project, checkpoint = trained
    state = torch.load(checkpoint, weights_only=True)
    _tamper(state, case)
    bad = tmp_path / "bad.pt"
    torch.save(state, bad)
    rc, err = run(["train", project, "--epochs", 4, "--resume", bad, "--out", tmp_path / "RUN", "--quiet"], capsys)
    assert rc == 2 and CHECKPOINT_CASES[case] in err and str(bad) in err, err
    assert not (tmp_path / "RUN").exists()


def test_an_untampered_checkpoint_still_resumes(trained, tmp_path, capsys):
    project, checkpoint = trained
    rc, err = run(["train", project, "--epochs", 3, "--resume", checkpoint, "--out", tmp_path / "RUN", "--quiet"],
                  capsys)
    assert rc == 0, err


@pytest.mark.fault("checkpoint", "--resume or --checkpoint names a FIFO or /dev/zero",
                   "refused at once (is a named pipe / a character device); exit 2")
@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
def test_checkpoint_paths_that_are_not_files_are_refused(trained, tmp_path, capsys, kind):
    project, _ = trained
    path = "/dev/zero" if kind == "dev_zero" else tmp_path / "ckpt.pt"
    if kind == "fifo":
        os.mkfifo(path)
    expect = "is a named pipe (FIFO)" if kind == "fifo" else "is a character device"
    rc, err = run(["train", project, "--epochs", 3, "--resume", path, "--out", tmp_path / "RUN"], capsys, 30)
    assert rc == 2 and expect in err, err
    rc, err = run(["export", project, "--format", "state_dict", "-o", tmp_path / "w.pt", "--checkpoint", path],
                  capsys, 30)
    assert rc == 2 and expect in err and not (tmp_path / "w.pt").exists(), err


# ---- weights of another kind of number, a model with nothing to train --------------------------------
@pytest.mark.fault("weights", "a state dict whose weights are int64 (the right names and shapes)",
                   "export --checkpoint exits 2 and build_model raises, naming the layer and both dtypes")
def test_integer_weights_are_refused_not_cast(trained, tmp_path, capsys):
    project, _ = trained
    model = studio.build_model(studio.load_project(project))
    ints = {k: torch.ones_like(v, dtype=torch.int64) for k, v in model.state_dict().items()}
    torch.save(ints, tmp_path / "ints.pt")
    rc, err = run(["export", project, "--format", "state_dict", "-o", tmp_path / "w.pt",
                   "--checkpoint", tmp_path / "ints.pt"], capsys)
    assert rc == 2 and "fc1.weight: file int64 vs model float32" in err and not (tmp_path / "w.pt").exists(), err
    with pytest.raises(WeightsError, match="another kind of number"):
        studio.build_model(studio.load_project(project), checkpoint=tmp_path / "ints.pt")


@pytest.mark.fault("training", "a graph with no layer that has weights (Input -> ReLU -> Output)",
                   "train exits 2: the graph has no layer with weights; add a Linear ...")
def test_a_model_with_no_weights_is_refused_before_training(tmp_path, capsys):
    record = chain_project([("input", "Input", {"shape": [2]}), ("act", "ReLU", {}), ("output", "Output", {})],
                           mlp_project()["training"])
    rc, err = run(["train", write_project(tmp_path, record), "--out", tmp_path / "RUN"], capsys)
    assert rc == 2 and "the graph has no layer with weights (its layers: ReLU)" in err and "add a Linear" in err, err


# ---- config and generated data bounds --------------------------------------------------------------
@pytest.mark.fault("training config", "counts past their derived bounds through the API or the command line "
                   "(T_max 10**400, step_size 2**60, --epochs 10**30, lr 10**400)",
                   "refused naming the field and the largest value allowed")
@pytest.mark.parametrize("training,override,named", [
    ({"schedule": {"type": "CosineAnnealingLR", "T_max": 10 ** 400}}, {}, "training.schedule.T_max"),
    ({"schedule": {"type": "StepLR", "step_size": 2 ** 60}}, {}, "at most 9,007,199,254,740,992"),
    ({}, {"epochs": 10 ** 30}, "--epochs must be a positive whole number of at most 9,223,372,036,854,775,807"),
    ({"optimizer": {"type": "SGD", "lr": 10 ** 400}}, {}, "training.optimizer.lr must be a finite number"),
])
def test_config_counts_and_floats_are_bounded(training, override, named):
    raw = {**mlp_project()["training"], **training}
    with pytest.raises(TrainingError, match=named.replace("(", r"\(").replace(".", r"\.")):
        parse_config(raw, override)


@pytest.mark.fault("dataset", "a generated dataset asking for more samples than memory holds (samples 10**12)",
                   "train exits 2 naming training.dataset.samples, the memory it needs and the largest count")
def test_samples_beyond_memory_are_refused(tmp_path, capsys):
    record = mlp_project(training={"dataset": {"name": "moons", "samples": 10 ** 12}})
    rc, err = run(["train", write_project(tmp_path, record), "--out", tmp_path / "RUN"], capsys)
    assert rc == 2 and "training.dataset.samples 1,000,000,000,000 needs about" in err and "at most" in err, err


# ---- image bombs -----------------------------------------------------------------------------------
def tiny_png(width: int, height: int) -> bytes:
    """A valid PNG header declaring width x height grey pixels, with almost no data (~100 bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.fault("dataset", "an image folder holding a ~100-byte PNG that declares 20000x20000 (or 10000x10000) pixels",
                   "train exits 2 naming the file and its declared size, before any pixel is decoded")
@pytest.mark.parametrize("side,declared", [(20000, "400,000,000 pixels"), (10000, "10000 x 10000 pixels")])
def test_an_image_bomb_is_refused_naming_file_and_size(tmp_path, capsys, side, declared):
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        Image.new("L", (4, 4), 7).save(tmp_path / "imgs" / cls / "ok.png")
    bomb = tmp_path / "imgs" / "b" / "zbomb.png"
    bomb.write_bytes(tiny_png(side, side))
    assert bomb.stat().st_size < 200
    record = mlp_project(shape=(1, 4, 4), training={"dataset": {"name": "image_folder", "path": "imgs",
                                                                "grayscale": True}})
    rc, err = run(["train", write_project(tmp_path, record), "--out", tmp_path / "RUN"], capsys)
    assert rc == 2 and str(bomb) in err and f"declares {declared}" in err and "decompression bomb" in err, err


# ---- CSV: linear in its size, bad cells named ------------------------------------------------------
@pytest.mark.fault("dataset", "a CSV with 120,000 columns",
                   "loads in time linear in its size (bounded by 40x a plain csv+float read of the same file)")
def test_a_csv_with_many_columns_loads_in_linear_time(tmp_path):
    cols, rows = 120_000, 4
    rng = np.random.default_rng(0)
    with open(tmp_path / "wide.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f"f{i}" for i in range(cols)] + ["y"])
        for r in range(rows):
            w.writerow([f"{v:.3f}" for v in rng.random(cols)] + [r % 2])
    t0 = time.perf_counter()
    with open(tmp_path / "wide.csv", newline="") as fh:  # the simple read of the same file
        table = list(csv.reader(fh))
        header = table[0]
        plain = [[float(c) for c in row] for row in table[1:]]
        {h: i for i, h in enumerate(header)}
    simple = time.perf_counter() - t0
    assert len(plain) == rows
    box = {}
    bound = 40 * simple
    t = threading.Thread(target=lambda: box.setdefault("ds", load_dataset({"name": "csv", "path": "wide.csv"},
                                                                          tmp_path)), daemon=True)
    t0 = time.perf_counter()
    t.start()
    t.join(bound)
    took = time.perf_counter() - t0
    assert not t.is_alive(), f"loading took over {bound:.2f} s (40 x the {simple:.3f} s simple read)"
    assert box["ds"].info.input.shape == (cols,), took


@pytest.mark.fault("dataset", "a CSV with NaN / inf / 1e39 cells (features or a regression target)",
                   "train exits 2 naming the file, line and column of the first such cell")
@pytest.mark.parametrize("cell,where", [("nan", ("a", 3)), ("inf", ("b", 4)), ("1e39", ("a", 5)),
                                        ("-Infinity", ("y", 6))])
def test_non_finite_csv_cells_are_refused_naming_row_and_column(tmp_path, capsys, cell, where):
    column, line = where
    rows = [["a", "b", "y"]] + [[str(i * 0.1), str(i % 5), str(i * 0.37)] for i in range(40)]
    rows[line - 1][["a", "b", "y"].index(column)] = cell
    (tmp_path / "d.csv").write_text("\n".join(",".join(r) for r in rows) + "\n")
    training = {"dataset": {"name": "csv", "path": "d.csv", "task": "regression"}, "loss": {"type": "MSELoss"},
                "metrics": []}
    record = mlp_project(classes=1, training=training)
    rc, err = run(["train", write_project(tmp_path, record), "--out", tmp_path / "RUN"], capsys)
    assert rc == 2 and f"d.csv line {line}, column '{column}': '{cell}' is not a finite number" in err, err


@pytest.mark.fault("dataset", "a CSV whose header names a column twice, or a data path that is a FIFO",
                   "refused naming both column positions / at once as a named pipe")
def test_csv_duplicate_columns_and_fifo_paths(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("a,a,y\n1,2,0\n3,4,1\n")
    with pytest.raises(TrainingError, match="columns 1 and 2 are both named 'a'"):
        load_dataset({"name": "csv", "path": "d.csv"}, tmp_path)
    os.mkfifo(tmp_path / "pipe.csv")
    record = mlp_project(training={"dataset": {"name": "csv", "path": "pipe.csv"}})
    rc, err = run(["train", write_project(tmp_path, record), "--out", tmp_path / "RUN"], capsys, 30)
    assert rc == 2 and "cannot be read as CSV (is a named pipe (FIFO)" in err, err
