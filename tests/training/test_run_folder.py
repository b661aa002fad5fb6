"""`train --out DIR`: one run per folder. A folder holding an earlier run is refused unless --resume
continues it or --overwrite replaces it; a folder another run is writing to is refused naming its
pid (a lock file); the lock of a killed run is stale and taken over; --out that cannot be a folder,
and a full disk under the checkpoint writer, end in a message naming the path."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from studio.cli import main
from studio.training.errors import TrainingError
from studio.training.runlock import LOCK_NAME, RunLock, boot_id
from tests.disk_faults import readonly_tmpfs, small_tmpfs

from .conftest import ROOT, chain_project, mlp_project, write_project


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def train(project, out, *extra):
    return main(["train", str(project), "--out", str(out), "--quiet", *extra])


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path, mlp_project(training={"epochs": 1}))


@pytest.mark.fault('training CLI', '--out names a folder that holds an earlier run (no --resume, no --overwrite)',
                   'exit 2 naming --resume and --overwrite; the earlier run byte-identical')
def test_a_folder_with_a_run_is_refused(project, tmp_path, capsys):
    run = tmp_path / "run"
    assert train(project, run) == 0
    before = snapshot(run)
    assert {"metrics.jsonl", "checkpoint.pt", "best.pt"} <= set(before) and LOCK_NAME not in before
    capsys.readouterr()
    assert train(project, run, "--epochs", "2") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "holds an earlier run" in err, err
    assert "--resume" in err and "--overwrite" in err and str(run / "checkpoint.pt") in err
    assert snapshot(run) == before


def test_overwrite_replaces_and_resume_continues(project, tmp_path, capsys):
    run = tmp_path / "run"
    assert train(project, run) == 0
    (run / "steps.jsonl").write_text('{"step": 1, "loss": 9}\n')  # a GUI run's file: part of the old run
    assert train(project, run, "--overwrite", "--epochs", "2") == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert max(r["epoch"] for r in rows) == 2 and not (run / "steps.jsonl").exists()
    assert train(project, run, "--resume", str(run / "checkpoint.pt"), "--epochs", "3") == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert sorted({r["epoch"] for r in rows}) == [1, 2, 3]


def _wait_for(predicate, timeout_s=120):
    end, tick = time.monotonic() + timeout_s, threading.Event()
    while time.monotonic() < end:
        if predicate():
            return
        tick.wait(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
@pytest.mark.fault('training CLI', 'a second train started into the folder of a run that is still going, '
                   'then the first killed (SIGKILL)',
                   'the second exits 2 naming the first pid (even with --overwrite); after the kill its stale '
                   'lock is taken over')
def test_two_runs_into_one_folder(project, tmp_path, capsys):
    record = mlp_project(training={"epochs": 100000})
    long = write_project(tmp_path, record, "long.json")
    run = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "studio", "train", str(long), "--out", str(run), "--quiet"],
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: (run / "metrics.jsonl").exists())  # it is writing: one epoch done
        capsys.readouterr()
        assert train(project, run, "--overwrite") == 2
        err = capsys.readouterr().err
        assert f"pid {first.pid}" in err and "another training run is writing there" in err, err
        assert first.poll() is None  # the first run goes on
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(60)
    assert (run / LOCK_NAME).exists()  # what a killed run leaves
    assert train(project, run, "--overwrite") == 0  # the stale lock taken over: a 1-epoch run replaces it
    assert [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 1]
    assert not (run / LOCK_NAME).exists()


@pytest.mark.fault('training CLI', 'a lock file left by a dead pid, or by a live pid of an earlier boot, where '
                   'flock is unavailable',
                   'recognised as stale from its record and taken over; a live holder is refused naming its pid')
def test_stale_records_without_flock(tmp_path, monkeypatch):
    import studio.training.runlock as runlock

    monkeypatch.setattr(runlock, "fcntl", None)  # as on a file system (or OS) without flock
    folder = tmp_path / "run"
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    for record in ({"pid": int(dead.stdout), "boot": boot_id()},  # exited
                   {"pid": os.getppid(), "boot": "an-earlier-boot"}):  # alive, but the number is from another boot
        (folder / LOCK_NAME).write_text(json.dumps(record))
        lock = RunLock(folder).acquire()
        assert lock.took_over["pid"] == record["pid"]
        lock.release()
    (folder / LOCK_NAME).write_text(json.dumps({"pid": os.getppid(), "boot": boot_id()}))
    with pytest.raises(TrainingError, match=f"pid {os.getppid()}"):
        RunLock(folder).acquire()


def test_the_lock_is_per_folder_and_released(tmp_path):
    held = RunLock(tmp_path).acquire()
    with pytest.raises(TrainingError, match=f"pid {os.getpid()}"):
        RunLock(tmp_path).acquire()  # flock: a second open of the file is refused even in one process
    held.release()
    assert not (tmp_path / LOCK_NAME).exists()
    with RunLock(tmp_path):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()


@pytest.mark.fault('training CLI', '--out is a file, lies under a file, or is on a read-only file system',
                   'exit 2 naming the path and the cause; nothing created')
def test_out_that_cannot_be_a_run_folder(project, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    for out, words in ((tmp_path / "afile", "is a file, not a folder"),
                       (tmp_path / "afile" / "run", "is a file, not a folder")):
        assert train(project, out) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and words in err and "Traceback" not in err, err
    assert (tmp_path / "afile").read_text() == "x"
    with readonly_tmpfs(tmp_path) as disk:
        assert train(project, disk / "run") == 2
        err = capsys.readouterr().err
        assert "Read-only file system" in err and str(disk / "run") in err, err


@pytest.mark.fault('checkpoint', 'the disk fills while train writes checkpoint.pt (a 1 MB tmpfs, a 12 MB model)',
                   'exit 2: "No space left on device" naming the folder (torch.save raised RuntimeError); nothing left')
def test_a_full_disk_under_the_checkpoint(tmp_path, capsys):
    record = mlp_project(training={"epochs": 1})
    nodes = [("input", "Input", {"shape": [2]}), ("fc1", "Linear", {"out_features": 1024}), ("act", "ReLU", {}),
             ("fc2", "Linear", {"out_features": 1024}), ("act2", "ReLU", {}), ("fc3", "Linear", {"out_features": 2}),
             ("output", "Output", {})]
    project = write_project(tmp_path, chain_project(nodes, record["training"]))
    with small_tmpfs(tmp_path, "1m") as disk:
        assert train(project, disk / "run") == 2
        err = capsys.readouterr().err
        assert "No space left on device" in err and str(disk / "run") in err and "Traceback" not in err, err
        assert list(disk.iterdir()) == []  # no temp file; the folder made for the run is gone again
