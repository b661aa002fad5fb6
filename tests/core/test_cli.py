"""The command line: validate and summary, and clear errors without tracebacks."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, TEMPLATES


def run(*args, check_rc=None):
    proc = subprocess.run([sys.executable, "-m", "studio", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


@pytest.mark.parametrize("name,params", [("mlp_mnist", 101770), ("cnn_cifar10", 62006), ("linear_regression", 2)])
def test_summary_json_reports_the_parameter_count(name, params):
    report = json.loads(run("summary", TEMPLATES / f"{name}.json", "--json", check_rc=0).stdout)
    assert report["total_params"] == params
    assert report["flops"] > 0
    assert all({"id", "type", "output_shape", "params"} <= set(n) for n in report["nodes"])


def test_summary_table():
    out = run("summary", TEMPLATES / "cnn_cifar10.json", check_rc=0).stdout
    assert "conv1" in out and "[6, 28, 28]" in out and "62,006" in out


def test_validate_ok_and_errors(tmp_path):
    assert "OK" in run("validate", TEMPLATES / "cnn_digits.json", check_rc=0).stdout
    bad = json.loads((TEMPLATES / "mlp_digits.json").read_text())
    bad["edges"] = [e for e in bad["edges"] if e["target"] != "fc1"] + [{"source": "input", "target": "fc1"}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    proc = run("validate", path, check_rc=2)
    lines = proc.stderr.strip().splitlines()
    assert any(line.startswith("fc1: error: Linear 'fc1' needs a flat feature vector per sample but gets "
                               "[1, 8, 8]; insert a Flatten before it") for line in lines)
    data = json.loads(run("validate", path, "--json", check_rc=2).stdout)
    assert not data["ok"] and any(p["node"] == "fc1" for p in data["problems"])


@pytest.mark.parametrize("content,fragment", [
    (None, "no such file"), ("not json", "is not valid JSON"),
    ('{"format": "netstudio", "version": 7}', "newer NetStudio"),
])
def test_bad_files_exit_2_with_a_message(tmp_path, content, fragment):
    path = tmp_path / "p.json"
    if content is not None:
        path.write_text(content)
    for cmd in ("validate", "summary"):
        proc = run(cmd, path, check_rc=2)
        assert fragment in proc.stderr


def _commands():
    import argparse

    from studio.cli import _parser

    action = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_help_lists_every_command_with_one_line_and_the_gui_options():
    out = run("--help", check_rc=0).stdout
    lines = out.splitlines()
    for name in ("validate", "summary", "train", "export", "import", "bench", "explain", "finetune"):
        (line,) = [x for x in lines if x.startswith(f"  {name} ")]
        assert len(line.split(maxsplit=1)[1]) > 20  # a line that says what it does
    assert set(_commands()) == {"validate", "summary", "train", "export", "import", "bench", "explain", "finetune"}
    for option in ("--screenshot OUT.png", "--size WxH", "--train-steps N", "FILE"):
        assert any(x.strip().startswith(option) for x in lines), option
    assert run("-h", check_rc=0).stdout == out


@pytest.mark.parametrize("command", ["validate", "summary", "train", "export", "import", "bench", "explain", "finetune"])
def test_every_flag_of_every_command_has_help_text(command):
    parser = _commands()[command]
    out = " ".join(run(command, "--help", check_rc=0).stdout.split())
    for action in parser._actions:
        assert action.help and action.help.strip(), (command, action.dest)
        assert " ".join(action.help.split()) in out, (command, action.dest)
