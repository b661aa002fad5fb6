"""Every template opens readable: drawn in bands a laptop's canvas shows whole at a zoom where card
text can be read (the importer wraps the same way: studio/importing/layout.py), never one long row."""
from __future__ import annotations

import pytest

from studio.core.project import load_project
from studio.importing.layout import COLUMN, WRAP

from .conftest import template_paths

WIDEST = WRAP * COLUMN  # the importer's band: WRAP columns


@pytest.mark.parametrize("path", template_paths(), ids=lambda p: p.stem)
def test_templates_are_drawn_in_bands(path):
    graph = load_project(path).graph
    xs = [n.pos[0] for n in graph.nodes.values()]
    ys = {n.pos[1] for n in graph.nodes.values()}
    assert max(xs) - min(xs) < WIDEST, f"{path.name}: {max(xs) - min(xs):.0f} px wide in one band"
    assert len(graph.nodes) <= WRAP or len(ys) > 1, f"{path.name}: {len(graph.nodes)} cards in one row"
