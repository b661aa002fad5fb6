"""`python -m studio explain`: a PNG of one sample's attribution; a person's mistakes are one error line, exit 2."""
from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

import studio
from studio.cli import main
from tests.conftest import ROOT, TEMPLATES

PNG = b"\x89PNG\r\n\x1a\n"


def run(*args):
    """`python -m studio explain ARGS` in a process of its own (the real entry point; ~10 s of imports)."""
    proc = subprocess.run([sys.executable, "-m", "studio", "explain", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=180)
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture
def explain(capsys):
    """The same command through `studio.cli.main` in this process: what it prints and returns is what
    the process would (an uncaught exception, the traceback there, fails the test here)."""
    def call(*args):
        capsys.readouterr()
        code = main(["explain", *map(str, args)])
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)
    return call


@pytest.fixture(scope="module")
def digits_weights(tmp_path_factory):
    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("w") / "digits.pt"
    torch.save(studio.build_model(studio.load_project(TEMPLATES / "cnn_digits.json")).state_dict(), path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("method", ["saliency", "integrated_gradients", "gradcam", "occlusion"])
def test_explain_writes_a_png_for_each_method(tmp_path, digits_weights, method, explain):
    out = tmp_path / "why.png"
    proc = explain(TEMPLATES / "cnn_digits.json", "--checkpoint", digits_weights, "--sample", 3, "--method", method,
               "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == PNG and out.stat().st_size > 5000
    assert "for class" in proc.stdout and proc.stderr.strip()  # the note on how to read it
    assert [p.name for p in tmp_path.iterdir()] == ["why.png"]  # no temporary file left


def test_explain_tabular_bars(tmp_path):
    out = tmp_path / "moons.png"
    proc = run(TEMPLATES / "moons_mlp.json", "--method", "integrated_gradients", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "untrained" in proc.stderr  # no --checkpoint: said
    assert out.read_bytes()[:8] == PNG


@pytest.mark.fault("explain CLI", "the output exists", "refused without --overwrite, kept")
def test_existing_output_is_kept_without_overwrite(tmp_path, explain):
    out = tmp_path / "keep.png"
    out.write_bytes(b"mine")
    proc = explain(TEMPLATES / "moons_mlp.json", "--method", "saliency", "-o", out)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr and out.read_bytes() == b"mine"
    assert explain(TEMPLATES / "moons_mlp.json", "--method", "saliency", "-o", out, "--overwrite").returncode == 0
    assert out.read_bytes()[:8] == PNG


@pytest.mark.parametrize("args,words", [
    pytest.param(["--sample", "100000", "--method", "saliency"], "sample 100000 does not exist", id="sample",
                 marks=pytest.mark.fault("explain CLI", "sample index out of range", "one error line, exit 2")),
    pytest.param(["--method", "gradcam", "--node", "nope"], "no node 'nope'", id="node",
                 marks=pytest.mark.fault("explain CLI", "no such node", "one error line, exit 2")),
    pytest.param(["--method", "gradcam", "--node", "pool1"], "not a convolution", id="not-conv",
                 marks=pytest.mark.fault("explain CLI", "gradcam on a node that is not a conv", "one error line, exit 2")),
    pytest.param(["--method", "saliency", "--node", "conv1"], "drop --node", id="node-not-gradcam",
                 marks=pytest.mark.fault("explain CLI", "--node with a method other than gradcam", "one error line, exit 2")),
])
def test_person_mistakes_are_one_error_line(tmp_path, args, words, explain):
    out = tmp_path / "x.png"
    proc = explain(TEMPLATES / "cnn_digits.json", *args, "-o", out)
    assert proc.returncode == 2
    lines = [x for x in proc.stderr.strip().splitlines() if not x.startswith("note:")]
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], proc.stderr
    assert not out.exists()


@pytest.mark.fault("explain CLI", "a checkpoint of another graph", "one error line, exit 2")
def test_checkpoint_that_does_not_fit(tmp_path, explain):
    wrong = tmp_path / "moons.pt"
    torch.save(studio.build_model(studio.load_project(TEMPLATES / "moons_mlp.json")).state_dict(), wrong)
    proc = explain(TEMPLATES / "cnn_digits.json", "--checkpoint", wrong, "--method", "saliency", "-o", tmp_path / "x.png")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
