"""Fixtures for the export tests."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def no_leftovers():
    """Asserts a folder holds exactly the expected names (no temp files left behind)."""
    def check(folder: Path, expected=()) -> None:
        assert sorted(p.name for p in folder.iterdir()) == sorted(expected)

    return check
