"""Shared fixtures. Qt tests run offscreen."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "resources" / "templates"


@pytest.fixture
def templates_dir() -> Path:
    return TEMPLATES


def template_paths() -> list[Path]:
    return sorted(TEMPLATES.glob("*.json"))
