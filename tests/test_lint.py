"""The habits, checked with every `make test`: ruff (its rules in pyproject.toml [tool.ruff]) over
the whole tree, and mypy (pyproject.toml [tool.mypy]) over studio/core. A failure prints what they
found."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> Path:
    tool = Path(sys.executable).with_name(name)
    if not tool.exists():
        pytest.fail(f"{name} is not installed beside {sys.executable}: pip install -e '.[test]'")
    return tool


def test_ruff_finds_nothing():
    proc = subprocess.run([str(_tool("ruff")), "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_passes_on_the_core():
    proc = subprocess.run([str(_tool("mypy"))], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("Success"), proc.stdout  # it checked files (pyproject's `files`), and all passed
