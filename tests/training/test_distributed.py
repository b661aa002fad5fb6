"""`torchrun --standalone --nproc_per_node=2 -m studio train ...` on the CPU (gloo): DDP, sharded data,
metrics gathered across ranks, only rank 0 writes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, TEMPLATES


@pytest.mark.slow
def test_torchrun_two_processes_on_cpu(tmp_path):
    run = tmp_path / "RUN"
    torchrun = Path(sys.executable).parent / "torchrun"
    cmd = [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "studio", "train",
           str(TEMPLATES / "mlp_digits.json"), "--epochs", "1", "--device", "cpu", "--out", str(run)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("files in") == 1  # rank 0 only
    assert "x 2 processes" in proc.stderr
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["split"]) for r in records] == [(1, "train"), (1, "val")]
    assert {p.name for p in run.iterdir()} == {"metrics.jsonl", "checkpoint.pt", "best.pt"}

    # the val metrics gathered from both shards equal one process evaluating the whole split
    from studio import load_project
    from studio.training.trainer import Trainer

    trainer = Trainer.from_project(load_project(TEMPLATES / "mlp_digits.json"), {"device": "cpu", "epochs": 2})
    trainer.load_checkpoint(run / "checkpoint.pt")
    trainer.prepare()
    val = trainer.evaluate(trainer.val_data)
    assert val["loss"] == pytest.approx(records[1]["loss"], rel=1e-5)
    assert val["accuracy"] == pytest.approx(records[1]["accuracy"], abs=1e-6)
    assert val["f1"] == pytest.approx(records[1]["f1"], abs=1e-6)
