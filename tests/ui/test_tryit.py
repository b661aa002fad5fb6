"""Issue 18: Try it after a short run on cnn_digits: draw a digit with the mouse, see the prediction and
its probabilities at once; switch on Why and see Grad-CAM over the drawing. Real mouse events; waits on
signals, never sleeps."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.core.project import load_project
from studio.ui.training import file_dialogs

from .test_training_ui import RUN_TIMEOUT, click, set_epochs
from .window_helpers import copied_template, dialog_log, isolated, open_window  # noqa: F401


@pytest.fixture
def win(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    w = open_window(qtbot, load_project(copied_template(tmp_path)), size=(1600, 1000))
    qtbot.waitUntil(lambda: w.training.preflight is not None, timeout=RUN_TIMEOUT)
    yield w
    if w.training.session.running:
        w.training.session.shutdown(5000)
    w.document.undo_stack.setClean()


def draw_one(qtbot, view) -> None:
    """A vertical stroke down the middle of the canvas, as a person draws a 1; waits for the answer."""
    canvas = view.canvas
    r = canvas._target()
    x = int(r.center().x())
    top, bottom = int(r.top() + r.height() * 0.15), int(r.bottom() - r.height() * 0.15)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, top))
    for y in range(top, bottom, max(1, (bottom - top) // 12)):
        QTest.mouseMove(canvas, QPoint(x, y))
    with qtbot.waitSignal(view.answered, timeout=10_000):
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, bottom))


@pytest.mark.slow
def test_draw_a_digit_see_the_prediction_then_why(win, qtbot):
    ui = win.training
    view = ui.tryit
    assert not view.canvas.isEnabled()  # nothing to try before a run
    set_epochs(qtbot, ui.panel, 2)
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT) as ended:
        click(qtbot, ui.panel.train_button)
    assert ended.args[0].status == "finished"
    win.docks["tryit"].raise_()
    qtbot.waitUntil(lambda: view.canvas.isEnabled() and view.canvas.isVisible(), timeout=5000)

    draw_one(qtbot, view)
    x = view.current_input()
    assert x.shape == (1, 1, 8, 8) and 0 <= float(x.min()) and float(x.max()) <= 1.0
    assert float(x[0, 0, :, 3:5].sum()) > float(x[0, 0, :, :2].sum()) + 1  # the ink is down the middle
    top = view.shown_top()
    assert len(top) == 5 and [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert abs(sum(view.last_probs) - 1) < 1e-4
    assert view.prediction.text().startswith(top[0][0])
    best = int(np.argmax(view.last_probs))
    assert top[0][0] == str(best)

    with qtbot.waitSignal(view.answered, timeout=10_000):
        view.why.setCurrentIndex(view.why.findData("gradcam"))  # the Why choice
    assert view.last_attribution is not None and view.last_attribution.method == "gradcam"
    assert view.last_attribution.node == "conv2" and view.canvas.overlay is not None
    assert view.last_attribution.values.shape == (1, 8, 8)
    assert "conv layer" in view.note.text()
    view.last_attribution = view.last_probs = None
    draw_one(qtbot, view)  # another stroke: a new prediction and a new Grad-CAM at once
    assert view.canvas.strokes == 2 and view.last_attribution is not None and view.last_probs is not None
    assert set(view.last_ms) == {"predict", "why"}  # both timed (off the GUI thread)


@pytest.mark.fault("try it", "an image file that is not a picture", "said beside the canvas (scrolled into view), canvas kept")
def test_open_a_file_that_is_not_a_picture(win, qtbot, tmp_path, monkeypatch):
    from studio.training.explain import Subject

    ui = win.training
    view = ui.tryit
    with qtbot.waitSignal(view.answered, timeout=10_000):
        view.set_subject(Subject.from_project(win.document.project), "untrained")
    bad = tmp_path / "not.png"
    bad.write_bytes(b"\x89PNG but not really")
    monkeypatch.setattr(file_dialogs, "open_path", lambda *a: str(bad))
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert "not a picture" in view.note.text()
    good = tmp_path / "seven.png"
    from PySide6.QtGui import QColor, QImage, QPainter, QPen

    img = QImage(64, 64, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))  # dark ink on paper: turned into light ink on black like the digits
    p = QPainter(img)
    p.setPen(QPen(QColor("black"), 8))
    p.drawLine(10, 10, 54, 10)
    p.drawLine(54, 10, 24, 60)
    p.end()
    img.save(str(good))
    monkeypatch.setattr(file_dialogs, "open_path", lambda *a: str(good))
    with qtbot.waitSignal(view.answered, timeout=10_000):
        qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    x = view.current_input()
    assert float(x[0, 0, 0, :].mean()) > float(x[0, 0, 4, :2].mean())  # the top bar is ink, the corner is not
    assert len(view.shown_top()) == 5


@pytest.mark.fault("try it", "a checkpoint of another graph", "said in the dock, the tried model kept")
def test_a_checkpoint_that_does_not_fit(win, qtbot, tmp_path, monkeypatch):
    import torch

    import studio
    from tests.conftest import TEMPLATES

    view = win.training.tryit
    wrong = tmp_path / "moons.pt"
    torch.save(studio.build_model(studio.load_project(TEMPLATES / "moons_mlp.json")).state_dict(), wrong)
    monkeypatch.setattr(file_dialogs, "open_path", lambda *a: str(wrong))
    qtbot.mouseClick(view.checkpoint_button, Qt.MouseButton.LeftButton)
    assert "different graph" in view.caption.text() and view.subject is None


def test_tabular_features_predict_as_they_change(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    from studio.training.explain import Subject

    w = open_window(qtbot, load_project(copied_template(tmp_path, "moons_mlp")), size=(1400, 900))
    view = w.training.tryit
    with qtbot.waitSignal(view.answered, timeout=10_000):
        view.set_subject(Subject.from_project(w.document.project), "untrained")
    assert view.stack.currentWidget() is view.features and len(view.spins) == 2
    before = view.last_probs.copy()
    view.spins[0].setFocus()
    for _ in range(10):
        QTest.keyClick(view.spins[0], Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: not np.array_equal(before, view.last_probs), timeout=10_000)
    with qtbot.waitSignal(view.answered, timeout=10_000):
        view.why.setCurrentIndex(view.why.findData("saliency"))
    assert view.last_attribution.values.shape == (2,) and "f0:" in view.note.text()
    w.document.undo_stack.setClean()


@pytest.mark.fault("try it", "a model whose input it cannot take, after one it could",
                   "said in the dock; the last model's answer cleared, not left beside it")
def test_a_model_it_cannot_take_clears_the_last_answer(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    from studio.training.explain import Subject
    from tests.conftest import TEMPLATES

    w = open_window(qtbot, load_project(copied_template(tmp_path, "moons_mlp")), size=(1400, 900))
    view = w.training.tryit
    with qtbot.waitSignal(view.answered, timeout=10_000):
        view.set_subject(Subject.from_project(w.document.project), "untrained")
    assert len(view.shown_top()) == 2 and view.prediction.isVisible()
    sequence = Subject.from_project(load_project(TEMPLATES / "lstm_sequence.json"))  # [20, 1] steps
    view.set_subject(sequence, "another run")
    assert view.subject is None and "this model's input is [20, 1]" in view.caption.text()
    assert view.shown_top() == [] and not view.prediction.isVisible() and view.last_probs is None
    assert not any(bar.isVisible() for bar in view.bars) and view.note.text() == ""
    w.document.undo_stack.setClean()


def test_the_newest_input_wins(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    """Inputs faster than the helper thread: the screen ends on the newest one's answer."""
    from studio.training.explain import Subject, predict

    w = open_window(qtbot, load_project(copied_template(tmp_path, "moons_mlp")), size=(1400, 900))
    view = w.training.tryit
    subject = Subject.from_project(w.document.project)
    with qtbot.waitSignal(view.answered, timeout=10_000):
        view.set_subject(subject, "untrained")
    spin = view.spins[1]
    for k in range(20):
        spin.setValue(spin.minimum() + k * (spin.maximum() - spin.minimum()) / 19)
    qtbot.waitUntil(lambda: view._pending is None and not view._busy, timeout=10_000)
    expected = predict(subject.model, view.current_input())
    np.testing.assert_allclose(view.last_probs, expected, rtol=1e-6)
    w.document.undo_stack.setClean()


@pytest.mark.fault("try it", "a dropped file that is not a picture", "said beside the canvas")
def test_drop_a_picture_on_the_canvas(win, qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QColor, QDropEvent, QImage
    from studio.training.explain import Subject

    view = win.training.tryit
    with qtbot.waitSignal(view.answered, timeout=10_000):
        view.set_subject(Subject.from_project(win.document.project), "untrained")

    def drop(path) -> None:
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(path))])
        event = QDropEvent(QPointF(view.canvas.rect().center()), Qt.DropAction.CopyAction, data,
                           Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        view.canvas.dropEvent(event)  # Qt delivers no synthetic drop outside a drag: the handler directly

    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    drop(bad)
    assert "not a picture" in view.note.text()
    good = tmp_path / "white.png"
    img = QImage(16, 16, QImage.Format.Format_RGB32)
    img.fill(QColor(30, 30, 30))  # dark: kept as it is (light ink on black already)
    img.setPixelColor(8, 8, QColor("white"))
    img.save(str(good))
    with qtbot.waitSignal(view.answered, timeout=10_000):
        drop(good)
    x = view.current_input()
    assert float(x.max()) > float(x.min())  # the bright dot arrived
