"""`python -m studio --screenshot OUT --train-steps N FILE` trains in the real worker thread before
rendering; `python -m studio bench ui --quick` prints the GUI stall figures."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NETSTUDIO_CONFIG_DIR=str(tmp_path / "cfg"),
               NETSTUDIO_DATA_DIR=str(tmp_path / "data"))
    return env


def test_screenshot_after_training_steps(tmp_path):
    project = tmp_path / "cnn_digits.json"
    shutil.copyfile(ROOT / "resources" / "templates" / "cnn_digits.json", project)
    out = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, "-m", "studio", "--screenshot", str(out), "--train-steps", "60",
                           str(project)], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1600, 1000)
    runs = [p for p in (tmp_path / "cnn_digits.runs").iterdir() if p.is_dir()]
    assert len(runs) == 1
    settings = json.loads((runs[0] / "settings.json").read_text())
    assert settings["status"] == "stopped" and "after 60 steps" in settings["message"]  # Trainer.max_steps
    steps = [json.loads(line)["step"] for line in (runs[0] / "steps.jsonl").read_text().splitlines()]
    assert steps and max(steps) <= 60  # exactly N steps: the run stops after step 60


def test_bench_ui_quick_prints_figures(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "studio", "bench", "ui", "--quick", "--json"], cwd=ROOT,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert data["status"] == "finished" and data["ready_before_run"]
    assert data["ticks"] > 50 and data["frames"] > 3 and data["samples_per_s"] > 0
    s = data["stall_ms"]
    assert 0 <= s["p50"] <= s["p90"] <= s["p99"] <= s["max"]
    # not the 30 ms / 100 ms target (shared CI machines are noisy), but a frozen window is a bug
    assert s["max"] < 1000, data["worst"]
    assert len(data["worst"]) == 5 and all(w["ms"] <= s["max"] + 0.1 for w in data["worst"])  # rounded to 0.1
    if data["big_stalls"]:  # Linux: each long stall split into GUI work, waiting for a core, blocked
        b = data["big_stalls"]
        assert b["stalls"] == s["over_30"] and min(b["gui_cpu_ms"], b["runqueue_ms"], b["blocked_ms"]) >= 0
    g = data["gil_probe"]
    assert g["wakeups"] > 100 and 0 <= g["late_p99_ms"] <= g["late_max_ms"]
    proc = subprocess.run([sys.executable, "-m", "studio", "bench", "ui", "--quick"], cwd=ROOT,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert re.search(r"p99 [\d.]+ ms, max [\d.]+ ms", proc.stdout), proc.stdout
    assert "GIL probe" in proc.stdout
