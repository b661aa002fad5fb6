"""Try it in the bottom row of a real window: at 1024x700 the row is about 180 px high (the window
manager's title bar takes ~20 px of the screen: the window itself is 1024x680). The drawing canvas
takes the row's whole height and is seen whole, the five bars and the Why choice (with Grad-CAM's
layer) are seen without scrolling, and the dock needs no scroll bar; at 1440x900 and 1920x1080 the
same holds and the canvas is larger still. Real mouse events; waits on signals."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from studio.core.project import load_project

from .test_layout import combo_room
from .window_helpers import TEMPLATES, copied_template, dialog_log, isolated, open_window  # noqa: F401

# the windows a maximized NetStudio gets on these screens (less the title bar); the least canvas side
SIZES = {(1024, 680): 150, (1440, 875): 200, (1920, 1050): 250}


def shown_whole(widget, within) -> bool:
    """`widget` is on screen and all of it lies inside `within` (a scroll area's viewport, say)."""
    top_left = widget.mapTo(within, QPoint(0, 0))
    return widget.isVisible() and within.rect().contains(QRect(top_left, widget.size()))


def hint_pixels(canvas) -> int:
    """Pixels of the canvas's hint: the grey of its text (the drawing is black, white or a blend
    of the two, a few pixels at a stroke's edge)."""
    import numpy as np

    img = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    rgb = np.frombuffer(img.constBits(), np.uint8, count=stride * h).reshape(h, stride)[:, :w * 3].reshape(h, w, 3)
    r = canvas._target().toRect().adjusted(2, 2, -2, -2)
    inside = rgb[r.top():r.bottom(), r.left():r.right()].astype(int)
    grey = (abs(inside[..., 0] - 150) < 12) & (inside[..., 0] == inside[..., 1]) & (inside[..., 1] == inside[..., 2])
    return int(grey.sum()) if canvas.overlay is None else 0


def stroke(qtbot, view) -> None:
    canvas = view.canvas
    r = canvas._target()
    x, top, bottom = int(r.center().x()), int(r.top() + r.height() * 0.2), int(r.bottom() - r.height() * 0.2)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, top))
    for y in range(top, bottom, 4):
        QTest.mouseMove(canvas, QPoint(x, y))
    with qtbot.waitSignal(view.answered, timeout=10_000):
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, bottom))


@pytest.mark.parametrize("size", list(SIZES), ids=[f"{w}x{h}" for w, h in SIZES])
def test_try_it_fits_the_bottom_row(qtbot, isolated, dialog_log, tmp_path, size):  # noqa: F811
    from studio.training.explain import Subject

    w = open_window(qtbot, load_project(copied_template(tmp_path)), size=size)
    view, dock = w.training.tryit, w.docks["tryit"]
    dock.raise_()
    with qtbot.waitSignal(view.answered, timeout=10_000):
        view.set_subject(Subject.from_project(w.document.project), "untrained")
    hint = hint_pixels(view.canvas)  # the empty canvas says "Draw here" where the hand goes
    stroke(qtbot, view)
    assert hint > 50 and hint_pixels(view.canvas) < hint / 4, (hint, hint_pixels(view.canvas))  # gone once drawn on
    with qtbot.waitSignal(view.answered, timeout=10_000):
        view.why.setCurrentIndex(view.why.findData("gradcam"))
    for _ in range(3):
        QApplication.processEvents()

    holder = dock.widget()  # the dock's scroll area: nothing of Try it is below its fold
    assert holder.verticalScrollBar().maximum() == 0, (view.size(), holder.viewport().size())
    canvas = view.canvas
    side = canvas._target().height()
    assert shown_whole(canvas, holder.viewport())
    assert side >= SIZES[size] and side >= view.stack.height() - 2, (side, view.stack.height())
    answer = view.answer_scroll.viewport()
    assert len(view.shown_top()) == 5
    assert all(shown_whole(bar, answer) and shown_whole(label, answer)
               for bar, label in zip(view.bars, view.class_labels)), "a bar is below the fold"
    assert shown_whole(view.prediction, answer)
    assert shown_whole(view.why, view) and shown_whole(view.node, view)  # Grad-CAM's layer too
    assert canvas.overlay is not None
    field, _need = combo_room(view.why)  # each Why choice reads whole ("Why: integrated gradien" was cut)
    assert all(view.why.fontMetrics().horizontalAdvance(view.why.itemText(i)) <= field for i in range(view.why.count()))
    share = w.canvas.viewport().width() * w.canvas.viewport().height() / (w.width() * w.height())
    assert share >= 0.40  # not at the node canvas's cost
    w.document.undo_stack.setClean()


@pytest.mark.fault("try it", "a file that is not a picture, or a checkpoint of another graph, in a 1024x700 "
                   "window", "said under the answer, scrolled into view")
def test_a_problem_is_scrolled_into_view_in_a_short_dock(qtbot, isolated, dialog_log, tmp_path,  # noqa: F811
                                                         monkeypatch):
    import torch

    import studio
    from studio.training.explain import Subject
    from studio.ui.training import file_dialogs

    w = open_window(qtbot, load_project(copied_template(tmp_path)), size=(1024, 680))
    view = w.training.tryit
    w.docks["tryit"].raise_()
    with qtbot.waitSignal(view.answered, timeout=10_000):
        view.set_subject(Subject.from_project(w.document.project), "untrained")
    stroke(qtbot, view)  # five bars and a note: the caption is below the fold
    answer = view.answer_scroll.viewport()
    assert not shown_whole(view.caption, answer)
    bad = tmp_path / "not.png"
    bad.write_bytes(b"\x89PNG but not really")
    monkeypatch.setattr(file_dialogs, "open_path", lambda *a: str(bad))
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert "not a picture" in view.note.text() and shown_whole(view.note, answer)
    wrong = tmp_path / "moons.pt"
    torch.save(studio.build_model(studio.load_project(TEMPLATES / "moons_mlp.json")).state_dict(), wrong)
    monkeypatch.setattr(file_dialogs, "open_path", lambda *a: str(wrong))
    view.answer_scroll.verticalScrollBar().setValue(0)
    qtbot.mouseClick(view.checkpoint_button, Qt.MouseButton.LeftButton)
    assert "different graph" in view.caption.text() and shown_whole(view.caption, answer)
    w.document.undo_stack.setClean()
