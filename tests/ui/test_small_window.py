"""The window at 1024x700 (1024x680 inside a window manager's frame) while a person works: a layer
selected, its settings in the Inspector read whole, nothing wider than the dock (no sideways scroll
bar, no checkbox cut off at the dock's edge)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QScrollArea

from studio.core.project import load_project

from .canvas_helpers import card_pos
from .window_helpers import TEMPLATES, dialog_log, isolated, open_window  # noqa: F401


def cut_off(root) -> list[str]:
    """Buttons and one-line labels narrower than their text needs, scroll areas that scroll sideways."""
    out = []
    for area in root.findChildren(QScrollArea):
        if area.isVisible() and area.horizontalScrollBar().maximum() > 0:
            out.append(f"{area.objectName() or type(area.widget()).__name__}: {area.widget().width()} px of "
                       f"contents in {area.viewport().width()} px")
    for widget in root.findChildren(QAbstractButton) + root.findChildren(QLabel):
        if (widget.isVisible() and not (isinstance(widget, QLabel) and widget.wordWrap())
                and not isinstance(widget.parent(), QLineEdit)):  # (a line edit's own clear button)
            if widget.width() < widget.minimumSizeHint().width():
                out.append(f"{type(widget).__name__} {widget.text()!r}: {widget.width()} px < "
                           f"{widget.minimumSizeHint().width()} px")
    return out


CASES = [("cnn_digits", "conv1"),  # "Frozen: keep its weights as they are" on one line
         ("char_transformer_lm", "encoder"),  # spin boxes as wide as 2**31
         ("char_transformer_lm", "block1"),  # "TransformerEncoderLayer  ·  attention" on one line
         ("resnet18", "layer1"),  # a block: its definition, repeat and exposed params
         ("transformer_blocks", "layers")]  # a doc with "x + Dropout(SelfAttention(LayerNorm(x)))"


@pytest.mark.parametrize("template, node", CASES, ids=[f"{t}-{n}" for t, n in CASES])
def test_the_inspector_reads_whole_in_a_small_window(qtbot, isolated, dialog_log, template, node):  # noqa: F811
    w = open_window(qtbot, load_project(TEMPLATES / f"{template}.json"), size=(1024, 680))
    w.fit_to_graph(1.0)
    QTest.mouseClick(w.canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     card_pos(w.canvas, node))
    qtbot.waitUntil(lambda: w.inspector.node_id == node, timeout=3000)
    w.docks["inspector"].raise_()
    for _ in range(3):
        QApplication.processEvents()
    assert w.inspector.isVisible()
    problems = cut_off(w.docks["inspector"])
    assert not problems, "\n".join(problems)
    w.document.undo_stack.setClean()


def test_a_bottom_dock_scrolls_only_below_its_minimum(qtbot, isolated, dialog_log):  # noqa: F811
    """The Samples dock (a caption that wraps, a text box) fits the 1024x700 window's bottom row; it
    scrolled there as if it needed its preferred height. Where it errs (its minimum is taller than the
    row) still scrolls, and is given its minimum."""
    w = open_window(qtbot, load_project(TEMPLATES / "cnn_digits.json"), size=(1024, 680))
    qtbot.waitUntil(lambda: w.training is not None, timeout=10_000)
    for name, scrolls in (("samples", False), ("errors", True)):
        w.docks[name].raise_()
        for _ in range(3):
            QApplication.processEvents()
        holder = w.docks[name].widget()
        inner = holder.widget()
        assert (holder.verticalScrollBar().maximum() > 0) is scrolls, (name, inner.size(), holder.viewport().size())
        assert inner.height() >= inner.minimumSizeHint().height() and inner.width() >= holder.viewport().width() - 1
        if not scrolls:
            assert inner.height() == holder.viewport().height()
    w.document.undo_stack.setClean()


def test_earlier_runs_read_whole_in_a_small_window(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    """The Training panel's earlier runs wrap in the 260 px dock instead of scrolling sideways
    ('20261202-072703  (10 ep, A' and a scroll bar)."""
    import json

    from .window_helpers import copied_template

    project = copied_template(tmp_path)
    for name in ("20261202-071720", "20261202-072703"):
        run = project.parent / f"{project.stem}.runs" / name
        run.mkdir(parents=True)
        (run / "settings.json").write_text(json.dumps({"status": "finished",
                                                       "training": {"optimizer": {"type": "Adam"}}}))
        (run / "metrics.jsonl").write_text("".join(json.dumps({"epoch": e, "split": "val", "loss": 0.5 / e}) + "\n"
                                                   for e in range(1, 11)))
    w = open_window(qtbot, load_project(project), size=(1024, 680))
    runs = w.training.panel.runs
    qtbot.waitUntil(lambda: runs.count() == 2, timeout=10_000)
    w.docks["training"].raise_()
    for _ in range(3):
        QApplication.processEvents()
    assert runs.horizontalScrollBar().maximum() == 0
    for i in range(runs.count()):
        item = runs.item(i)
        rect = runs.visualItemRect(item)
        assert rect.right() <= runs.viewport().width() and "best val loss 0.0500" in item.text()
        assert rect.height() > runs.fontMetrics().height() * 1.5  # on two lines, not cut at one
    w.document.undo_stack.setClean()
