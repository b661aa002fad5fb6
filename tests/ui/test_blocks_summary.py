"""The analyzer table shows a block as one row with its totals, collapsed; clicked, it opens to a
row per inner layer (per copy first, when repeated), and the totals stay the model's."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.core.summary import summarize

from .blocks_helpers import staged_project, settled_window
from .window_helpers import dialog_log, isolated  # noqa: F401  (fixtures)


def _labels(model):
    return [model.index(r, 0).data() for r in range(model.rowCount() - 1)]


def _click_row(qtbot, w, row):
    view = w.summary.view
    rect = view.visualRect(w.summary.model.index(row, 0))
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())


def test_block_rows_collapse_and_open_with_totals(qtbot, isolated, dialog_log):
    project = staged_project()
    project.graph.set_instance("stage2", repeat=2)
    w = settled_window(qtbot, project)
    model = w.summary.model
    qtbot.waitUntil(lambda: not model.counting, timeout=60_000)
    labels = _labels(model)
    assert "▸ stage1" in labels and "▸ stage2" in labels and "conv" not in " ".join(labels)
    total = summarize(w.document.graph, w.document.analysis).total_params
    assert model.total_params == total
    stage1 = labels.index("▸ stage1")
    conv_params = 1 * 16 * 9 + 16
    assert model.index(stage1, 3).data() == f"{conv_params:,}"  # the block's total: its conv
    assert model.index(stage1, 1).data() == "ConvStage"
    _click_row(qtbot, w, stage1)
    qtbot.waitUntil(lambda: "    conv" in _labels(model), timeout=3000)
    labels = _labels(model)
    assert labels[stage1:stage1 + 4] == ["▾ stage1", "    conv", "    relu", "    pool"]
    assert model.index(stage1 + 1, 0).data(Qt.ItemDataRole.UserRole + 1) == "stage1.conv"
    assert model.index(stage1 + 1, 2).data() == "[16, 8, 8]"
    stage2 = labels.index("▸ stage2")
    assert model.index(stage2, 1).data() == "ConvStage ×2"
    _click_row(qtbot, w, stage2)
    qtbot.waitUntil(lambda: "    ▸ 1" in _labels(model), timeout=3000)
    qtbot.waitUntil(lambda: not model.counting, timeout=60_000)
    assert model.total_params == total  # opened rows are not counted twice
    assert model.index(model.rowCount() - 1, 0).data() == f"Total ({len(w.document.graph)} layers)"
    _click_row(qtbot, w, stage1)
    qtbot.waitUntil(lambda: "    conv" not in _labels(model), timeout=3000)
    w.document.undo_stack.setClean()
