"""Saves never corrupt: a child process rewrites a project / a training checkpoint / an exported
TorchScript file in a loop, and the test kills it with SIGKILL at random moments, many times. After
every kill the file on disk is a complete earlier version that loads; a kill that lands mid-write
leaves only a temp file beside it (counted, to show the kills did land mid-write), which the next
save removes since its writer is gone."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
ROUNDS = 16


def wait_for_temp(folder: Path, pid: int, timeout_s: float) -> None:
    """Poll (every 0.2 ms) until a temp file of an atomic write by process `pid` exists in `folder`."""
    import time

    end, tick = time.monotonic() + timeout_s, threading.Event()
    while time.monotonic() < end:
        if any(name.endswith(".tmp") and f"-{pid}." in name for name in os.listdir(folder)):
            return
        tick.wait(0.0002)
    raise AssertionError("the saver never started a write")


def check_project(path: Path) -> int:
    from studio.core.project import load_project

    project = load_project(path)  # raises ProjectError on a torn file
    version = int(project.name.split()[1])
    assert project.extra["notes"] == f"{version} " * 400_000
    return version


def check_checkpoint(path: Path) -> int:
    from studio.training.checkpoint import load_checkpoint

    state = load_checkpoint(path)  # weights_only=True; raises TrainingError on a torn file
    version = state["epoch"]
    assert len(state["model"]) == 4 and all(bool((t == version).all()) for t in state["model"].values())
    return version


def check_export(path: Path) -> int:
    model = torch.jit.load(str(path))
    out = model(torch.rand(2, 64))
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    return 0


TEMPLATE = HERE.parents[1] / "resources" / "templates" / "mlp_digits.json"


def _save_project(path: Path) -> None:
    from studio.core.project import load_project

    load_project(TEMPLATE).save(path)


def _save_checkpoint(path: Path) -> None:
    from studio.training.checkpoint import FORMAT, VERSION, save_checkpoint

    save_checkpoint(path, {"format": FORMAT, "version": VERSION, "epoch": 0, "history": [], "model": {}})


def _save_export(path: Path) -> None:
    from studio.core.project import load_project
    from studio.export import export

    export(load_project(TEMPLATE), "torchscript", path)


SAVE_AGAIN = {"project": _save_project, "checkpoint": _save_checkpoint, "export": _save_export}


@pytest.mark.parametrize("kind, name, check, delays", [
    pytest.param("project", "project.json", check_project, (0.0, 0.25), marks=pytest.mark.fault(
        "saving", "the process is killed (SIGKILL) 16 times while saving a 3 MB project (random or mid-write moments)",
        "the file is always a complete earlier version that loads; the temp file a kill leaves is removed by the next save (its writer is gone)")),
    pytest.param("checkpoint", "checkpoint.pt", check_checkpoint, (0.0, 0.25), marks=pytest.mark.fault(
        "checkpoint", "the process is killed (SIGKILL) 16 times while writing a 16 MB checkpoint (random or mid-write)",
        "checkpoint.pt always loads (weights_only) with one whole earlier epoch")),
    pytest.param("export", "model.ts", check_export, (0.05, 0.6), marks=pytest.mark.fault(
        "export", "the process is killed (SIGKILL) 16 times while exporting TorchScript (random or mid-write moments)",
        "the previous export always loads and runs")),
])
def test_kill_during_save(tmp_path, kind, name, check, delays):
    target = tmp_path / name
    child = subprocess.Popen([sys.executable, str(HERE / "kill_child.py"), kind, str(target)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    rng = random.Random(f"{kind}-kills")
    torn = versions = 0
    seen = set()
    try:
        assert child.stdout.readline().strip() == "ready"
        assert check(target) == 0
        for round_ in range(ROUNDS):
            child.stdin.write(f"go {1000 * (round_ + 1)}\n")
            child.stdin.flush()
            pid = int(child.stdout.readline())
            if round_ % 2:  # aimed: soon after a temp file appears, i.e. while the bytes are written
                wait_for_temp(tmp_path, pid, timeout_s=30)
                threading.Event().wait(rng.uniform(0, 0.001))
            else:  # a random moment of the saver's loop
                threading.Event().wait(rng.uniform(*delays))
            os.kill(pid, signal.SIGKILL)
            assert child.stdout.readline().strip() == "reaped"
            seen.add(check(target))  # the file is whole and loads
            # what a kill mid-write leaves: the killed saver's temp file, never a torn target; the
            # next round's first save removes it (its writer is gone)
            torn += any(f"-{pid}." in p.name for p in tmp_path.iterdir() if p.suffix == ".tmp")
            versions = len(seen)
    finally:
        child.stdin.close()
        child.kill()
        child.wait(30)
    print(f"{kind}: {ROUNDS} kills, {torn} landed mid-write, {versions} distinct versions on disk")
    assert torn >= 3, "too few kills landed during a write to prove anything"
    SAVE_AGAIN[kind](target)  # one more save, in this process: it sweeps what the last kill left
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
