"""Issue 18, Try it for every kind of data set: a token model (type text: the next character's top five
and a continuation), a regression (its value), an autoencoder (its reconstruction beside the drawing),
and pictures that do not read (cut short, or claiming a size past Qt's allocation limit). Untrained
models from the templates (what the dock shows does not depend on training); each answer is checked
against the model called directly. Real key and mouse events; waits on signals."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.core.project import load_project
from studio.ui.training import file_dialogs

from .window_helpers import copied_template, dialog_log, isolated, open_window  # noqa: F401


def tried(qtbot, tmp_path, name: str):
    from studio.training.explain import Subject

    w = open_window(qtbot, load_project(copied_template(tmp_path, name)), size=(1400, 900))
    view = w.training.tryit
    w.docks["tryit"].raise_()
    subject = Subject.from_project(w.document.project)
    with qtbot.waitSignal(view.answered, timeout=20_000):
        view.set_subject(subject, "untrained")
    return w, view, subject


@pytest.fixture
def lm(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    w, view, subject = tried(qtbot, tmp_path, "char_transformer_lm")
    yield view, subject
    w.document.undo_stack.setClean()


def test_type_text_see_the_next_character_and_a_continuation(lm, qtbot):
    view, subject = lm
    assert view.kind == "text" and view.text.text() == subject.sampling.prompt and not view.why.isEnabled()
    view.text.clear()
    view.text.setFocus()
    QTest.keyClicks(view.text, "for x in rang")
    qtbot.waitUntil(lambda: not view._busy and view._pending is None and view.text.text() in view.continuation.text(),
                    timeout=20_000)
    ids = torch.tensor([[subject.sampling.vocabulary.index(c) for c in "for x in rang"] + [0] * (64 - 13)])
    subject.model.eval()
    with torch.no_grad():
        ref = torch.softmax(subject.model(ids)[0, 12], 0).numpy()
    np.testing.assert_allclose(view.last_probs, ref, rtol=1e-5, atol=1e-7)
    top = view.shown_top()
    best = np.argsort(ref)[::-1][:5]
    assert [name for name, _ in top] == [subject.class_name(int(k)) for k in best]
    written = view.continuation.text().split("\u2503", 1)[1]
    assert len(written) == 40 and set(written) <= set(subject.sampling.vocabulary)
    assert set(view.last_ms) == {"predict", "continue"}


@pytest.mark.fault("try it", "typed text with a character the vocabulary lacks", "named in the note, no answer shown")
def test_a_character_the_model_never_saw(lm, qtbot):
    view, _subject = lm
    view.text.setFocus()
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    with qtbot.waitSignal(view.answered, timeout=20_000):  # QTest types ASCII only: the key event itself
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(view.text, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, "\u263a"))
    assert view.text.text().endswith("\u263a")
    qtbot.waitUntil(lambda: not view._busy and view._pending is None, timeout=20_000)
    assert "'\u263a'" in view.note.text() and "vocabulary" in view.note.text()
    assert view.shown_top() == [] and view.prediction.text() == ""


def test_a_regression_shows_its_value(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    w, view, subject = tried(qtbot, tmp_path, "linear_regression")
    assert view.kind == "features" and len(view.spins) == 1
    view.spins[0].setFocus()
    with qtbot.waitSignal(view.answered, timeout=10_000):
        QTest.keyClick(view.spins[0], Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: not view._busy and view._pending is None, timeout=10_000)
    subject.model.eval()
    with torch.no_grad():
        ref = float(subject.model(view.current_input())[0, 0])
    assert view.prediction.text() == f"{ref:.4g}" and view.shown_top() == []
    w.document.undo_stack.setClean()


def test_an_autoencoder_shows_its_reconstruction_beside_the_drawing(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    w, view, subject = tried(qtbot, tmp_path, "autoencoder_digits")
    assert view.kind == "image" and view.reconstruction.isVisible() and not view.why.isEnabled()
    canvas = view.canvas
    r = canvas._target()
    x, top, bottom = int(r.center().x()), int(r.top() + 20), int(r.bottom() - 20)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, top))
    QTest.mouseMove(canvas, QPoint(x, bottom))
    with qtbot.waitSignal(view.answered, timeout=10_000):
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, bottom))
    inp = view.current_input()
    subject.model.eval()
    with torch.no_grad():
        ref = subject.model(inp)[0].numpy()
    np.testing.assert_allclose(view.last_output, ref, rtol=1e-6)
    pic = view.reconstruction.picture
    assert pic is not None and (pic.width(), pic.height()) == (8, 8)
    mse = float(((ref - inp[0].numpy()) ** 2).mean())
    assert view.prediction.text() == f"MSE {mse:.4g}"
    w.document.undo_stack.setClean()


def _png(width: int, height: int, cut: int = 0) -> bytes:
    """A one-pixel grey PNG whose header claims `width` x `height` (its CRC right), `cut` bytes short."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"\x00\x80")
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    return data[:len(data) - cut] if cut else data


@pytest.mark.fault("try it", "a picture cut short / claiming 60000x60000 pixels", "the reader's reason said, canvas kept")
def test_hostile_pictures_are_refused_with_a_reason(qtbot, isolated, dialog_log, tmp_path, monkeypatch):  # noqa: F811
    w, view, _subject = tried(qtbot, tmp_path, "cnn_digits")
    before = view.canvas.pixels().copy()
    for name, data, says in (("cut.png", _png(8, 8)[:40], "not a picture this program can read ("),
                             ("huge.png", _png(60000, 60000), "a picture of 60000 x 60000 pixels, more than the")):
        path = tmp_path / name
        path.write_bytes(data)
        monkeypatch.setattr(file_dialogs, "open_path", lambda *a, p=path: str(p))
        view.note.setText("")
        qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
        assert f"{name}: {says}" in view.note.text()
        np.testing.assert_array_equal(view.canvas.pixels(), before)
    w.document.undo_stack.setClean()


def test_a_chosen_checkpoint_is_tried(qtbot, isolated, dialog_log, tmp_path, monkeypatch):  # noqa: F811
    """The Checkpoint… picker (opening in the project's runs folder): its weights, read weights_only,
    give the answers; the model tried before is replaced."""
    import studio

    w, view, subject = tried(qtbot, tmp_path, "cnn_digits")
    other = studio.build_model(w.document.project)
    torch.manual_seed(1)
    for p in other.parameters():
        torch.nn.init.normal_(p)
    path = tmp_path / "other.pt"
    torch.save(other.state_dict(), path)
    asked = []
    monkeypatch.setattr(file_dialogs, "open_path", lambda *a: asked.append(a[2]) or str(path))
    with qtbot.waitSignal(view.answered, timeout=10_000):
        qtbot.mouseClick(view.checkpoint_button, Qt.MouseButton.LeftButton)
    assert asked == [str(w.training.runs_root())] or asked == [""]
    assert view.subject is not subject and str(path) in view.source
    other.eval()
    with torch.no_grad():
        ref = torch.softmax(other(view.current_input())[0], 0).numpy()
    np.testing.assert_allclose(view.last_probs, ref, rtol=1e-5, atol=1e-7)
    w.document.undo_stack.setClean()
