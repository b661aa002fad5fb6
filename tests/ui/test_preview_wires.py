"""Wires between rows of cards when the live preview makes the cards taller (and shorter again):
every wire is routed clear of every card and still starts and ends on its ports. Through the
window, with the real toggle (Ctrl+Shift+L) and the preview's own results."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF

from studio.ui.canvas import style

from .test_live_preview import toggle_from_view_menu, wait_for_preview
from .window_helpers import dialog_log, isolated, template_window  # noqa: F401

STEPS = 240  # points looked at along each wire


def card_rect(item) -> QRectF:
    return QRectF(item.pos().x(), item.pos().y(), style.NODE_WIDTH, item.height)


def wires_behind_cards(scene) -> list[tuple]:
    """(wire, card) for each wire that passes inside a card (its own cards' edges, where the ports
    are, aside: 1 px in from each side)."""
    cards = {n: card_rect(item).adjusted(1, 1, -1, -1) for n, item in scene.nodes.items()}
    out = []
    for edge, wire in scene.wires.items():
        curve = wire.curve()
        points = [curve.pointAtPercent(i / STEPS) for i in range(STEPS + 1)]
        for node_id, rect in cards.items():
            if any(rect.contains(p) for p in points):
                out.append((f"{edge.source}->{edge.target}", node_id))
    return out


def ports_off_wires(scene) -> list[str]:
    out = []
    for edge, wire in scene.wires.items():
        curve = wire.curve()
        start, end = curve.pointAtPercent(0.0), curve.pointAtPercent(1.0)
        if (start - wire.source_port.scenePos()).manhattanLength() > 0.5 or \
                (end - wire.target_port.scenePos()).manhattanLength() > 0.5:
            out.append(f"{edge.source}->{edge.target}")
    return out


@pytest.fixture
def banded(qtbot, isolated, dialog_log, request):  # noqa: F811
    w = template_window(qtbot, request.param)
    yield w
    w.document.undo_stack.setClean()


@pytest.mark.parametrize("banded", ["resnet_digits", "transformer_blocks", "cnn_cifar10", "resnet18"], indirect=True)
def test_wires_between_rows_clear_of_grown_and_shrunk_cards(banded, qtbot):
    window = banded
    scene = window.canvas.canvas_scene
    assert wires_behind_cards(scene) == [] and ports_off_wires(scene) == []
    heights = {n: item.height for n, item in scene.nodes.items()}
    toggle_from_view_menu(window, qtbot)
    wait_for_preview(window, qtbot)
    grown = [n for n, item in scene.nodes.items() if item.height > heights[n]]
    assert len(grown) == len(heights)  # every card shows a strip now
    assert wires_behind_cards(scene) == []
    assert ports_off_wires(scene) == []
    toggle_from_view_menu(window, qtbot)  # off: the cards shrink back, the wires follow
    assert {n: item.height for n, item in scene.nodes.items()} == heights
    assert wires_behind_cards(scene) == []
    assert ports_off_wires(scene) == []


def test_a_wire_keeps_its_middle_lane_where_no_card_is_in_the_way(qapp):
    """Two cards in two rows, far apart: the run back is the middle between the ports, as ever."""
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QGraphicsScene

    from studio.ui.canvas.wire_item import wire_path

    p1, p2 = QPointF(900, 20), QPointF(0, 400)
    empty = wire_path(p1, p2, QGraphicsScene())
    assert empty.pointAtPercent(0.5).y() == pytest.approx(210, abs=0.5)
