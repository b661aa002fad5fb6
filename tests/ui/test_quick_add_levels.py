"""Tab quick-add follows the palette's rule: a block definition's own ports (BlockInput, BlockOutput)
are offered only inside an opened block; at the model's level they can only make an error. A wire
dropped on empty canvas (quick-add for a connection) follows it too."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from .blocks_helpers import staged_project
from .canvas_helpers import card_pos, double_click, make_view

PORTS = {"BlockInput", "BlockOutput"}


def _tab_types(view, text: str = "") -> set[str]:
    QTest.keyClick(view, Qt.Key.Key_Tab)
    popup = view.quick_add
    assert popup is not None and popup.isVisible()
    if text:
        QTest.keyClicks(popup.search, text)
    types = set(popup.types())
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)
    assert view.quick_add is None
    return types


def test_quick_add_offers_block_ports_only_inside_a_block(qtbot):
    view = make_view(qtbot, staged_project())
    at_root = _tab_types(view)
    assert not at_root & PORTS and {"Input", "Output", "Conv2d"} <= at_root
    assert not _tab_types(view, "block") & PORTS  # a search does not bring them back
    popup = view.open_quick_add(connect=("from", "input", None))  # a wire dropped from the input
    assert "BlockOutput" not in popup.types() and "Conv2d" in popup.types()
    popup.close_popup()

    pos = card_pos(view, "stage1")  # open the block with a real double click
    double_click(view.viewport(), pos)
    qtbot.waitUntil(lambda: view.document.trail == ["stage1"], timeout=3000)
    assert PORTS <= _tab_types(view)
    assert _tab_types(view, "blockout") == {"BlockOutput"}
    popup = view.open_quick_add(connect=("from", "pool", None))
    assert "BlockOutput" in popup.types()
    popup.close_popup()

    QTest.keyClick(view, Qt.Key.Key_Escape)  # back at the model
    qtbot.waitUntil(lambda: view.document.trail == [], timeout=3000)
    assert not _tab_types(view) & PORTS
