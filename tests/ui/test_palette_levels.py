"""The palette offers a block definition's own ports (BlockInput, BlockOutput) only while the canvas
shows the inside of a block: at the model's level they can only make an error."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from .blocks_helpers import settled_window, staged_project
from .canvas_helpers import card_pos, double_click
from .window_helpers import dialog_log, isolated  # noqa: F401  (fixtures)

PORTS = {"BlockInput", "BlockOutput"}


def test_block_ports_are_offered_only_inside_a_block(qtbot, isolated, dialog_log):  # noqa: F811
    w = settled_window(qtbot, staged_project())
    palette, view = w.palette, w.canvas
    shown = set(palette.visible_types())
    assert not shown & PORTS and {"Input", "Output", "Conv2d"} <= shown
    qtbot.keyClicks(palette.search, "block")  # a search does not bring them back either
    assert not set(palette.visible_types()) & PORTS
    palette.search.clear()

    pos = card_pos(view, "stage1")  # open the block with a real double click
    double_click(view.viewport(), pos)
    qtbot.waitUntil(lambda: view.document.trail == ["stage1"], timeout=3000)
    assert PORTS <= set(palette.visible_types())
    item = palette.item_for("BlockInput")
    assert not item.isHidden() and not item.parent().isHidden()
    qtbot.keyClicks(palette.search, "blockout")
    assert palette.visible_types() == ["BlockOutput"]
    palette.search.clear()

    QTest.keyClick(view, Qt.Key.Key_Escape)  # back at the model
    qtbot.waitUntil(lambda: view.document.trail == [], timeout=3000)
    assert not set(palette.visible_types()) & PORTS
    w.document.undo_stack.setClean()
