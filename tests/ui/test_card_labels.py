"""Every port name of every layer type shows whole on its card (a long one in a narrower face), so
a person can tell which input a wire goes to: TransformerDecoderLayer's memory_key_padding_mask was
cut to 'memory_key_padding_m…'."""
from __future__ import annotations

from studio.core.registry import default_registry

from .canvas_helpers import make_view


def test_every_named_port_shows_whole_on_its_card(qtbot):
    view = make_view(qtbot)
    graph = view.document.graph
    specs = [s for specs in default_registry().by_category().values() for s in specs
             if len(s.inputs) > 1 or len(s.outputs) > 1]
    with graph.edit():
        ids = {s.type: graph.add_node(s.type, {}, (0, i * 300)).id for i, s in enumerate(specs)}
    assert "TransformerDecoderLayer" in ids
    cut = []
    for s in specs:
        rows = view.canvas_scene.nodes[ids[s.type]].texts["rows"]
        shown_in = [r[0] for r in rows if r[0]]
        shown_out = [r[1] for r in rows if r[1]]
        names_in = [p.name for p in s.inputs] if len(s.inputs) > 1 else []
        names_out = [p.name for p in s.outputs] if len(s.outputs) > 1 else []
        cut += [f"{s.type}.{a} shown as {b!r}" for a, b in zip(names_in + names_out, shown_in + shown_out) if a != b]
    assert not cut, cut
