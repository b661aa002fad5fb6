"""`python -m studio export`: prints what it did; a person's mistake is one `error:` line, exit 2."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from studio.cli import main

from .helpers import template

ROOT = Path(__file__).resolve().parents[2]


def test_export_prints_the_report(tmp_path, capsys):
    out = tmp_path / "m.pt2"
    assert main(["export", str(template("lstm_sequence")), "--format", "pt2", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"exported pt2 to {out}" in text and "check passed" in text and "max abs diff" in text
    assert out.is_file()


def test_checkpoint_option_takes_a_training_checkpoint(tmp_path, capsys):
    weights = tmp_path / "w.pt"
    assert main(["export", str(template("moons_mlp")), "--format", "state_dict", "-o", str(weights)]) == 0
    ckpt = tmp_path / "checkpoint.pt"
    torch.save({"model": torch.load(weights, weights_only=True), "epoch": 1, "optimizer": {}}, ckpt)
    out = tmp_path / "m.onnx"
    code = main(["export", str(template("moons_mlp")), "--format", "onnx", "-o", str(out),
                 "--checkpoint", str(ckpt), "--opset", "18"])
    assert code == 0 and "opset 18" in capsys.readouterr().out


@pytest.mark.fault('export CLI', 'output onto a folder, missing checkpoint, missing project, --opset for code',
                   "exit 2, one 'error:' line each, no traceback; nothing written")
def test_mistakes_are_one_line_and_exit_2(tmp_path, capsys):
    cases = [
        ["export", str(template("mlp_digits")), "--format", "onnx", "-o", str(tmp_path)],
        ["export", str(template("mlp_digits")), "--format", "onnx", "-o", str(tmp_path / "m.onnx"),
         "--checkpoint", str(tmp_path / "missing.pt")],
        ["export", str(tmp_path / "nope.json"), "--format", "code", "-o", str(tmp_path / "m.py")],
        ["export", str(template("mlp_digits")), "--format", "code", "-o", str(tmp_path / "m.py"), "--opset", "17"],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []


def test_cli_in_a_subprocess(tmp_path):
    out = tmp_path / "net.py"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "studio", "export", str(template("cnn_cifar10")),
                             "--format", "code", "-o", str(out)], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "class LeNetOnCIFAR10Net" in out.read_text() and "check passed" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "studio", "export", str(template("cnn_cifar10")),
                          "--format", "onnx", "-o", str(out / "m.onnx")], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=300)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


@pytest.mark.fault('export CLI', '-o names a file that exists (an earlier export), without --overwrite',
                   "exit 2, one 'error:' line naming the file and --overwrite; the file is unchanged")
def test_an_existing_export_is_kept_unless_overwrite_is_given(tmp_path, capsys):
    out = tmp_path / "model.py"
    out.write_text("# a person's earlier export\n")
    argv = ["export", str(template("moons_mlp")), "--format", "code", "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(out) in err and "--overwrite" in err
    assert out.read_text() == "# a person's earlier export\n"
    assert main([*argv, "--overwrite"]) == 0
    assert "class " in out.read_text()
