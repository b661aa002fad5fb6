"""The 'Faster, slightly different numerics' switch (issue 19): off by default, a click writes
training.precision "bf16" as one undoable step, and the trainer sees it."""
from __future__ import annotations


import pytest
from PySide6.QtCore import QPoint, Qt

from studio.core.project import load_project
from studio.training.config import parse_config

from .window_helpers import TEMPLATES, dialog_log, isolated, copied_template, open_window  # noqa: F401


@pytest.fixture
def win(qtbot, isolated, dialog_log, tmp_path):
    w = open_window(qtbot, load_project(copied_template(tmp_path)), size=(1600, 1000))
    yield w
    w.document.undo_stack.setClean()


def test_bf16_switch_is_off_by_default_and_sets_precision_undoably(win, qtbot):
    form, doc = win.training.panel.form, win.document
    box = form.bf16
    assert not box.isChecked() and "precision" not in (doc.project.training or {})
    assert parse_config(doc.project.training).precision == "float32"
    box.ensurePolished()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    qtbot.waitUntil(lambda: doc.project.training.get("precision") == "bf16", timeout=5000)
    assert box.isChecked() and parse_config(doc.project.training).precision == "bf16"
    assert doc.undo_stack.undoText() == "Set precision"
    doc.undo_stack.undo()
    assert "precision" not in doc.project.training and not box.isChecked()


def test_the_note_under_the_switch_says_what_it_does_on_the_chosen_device(win, qtbot, monkeypatch):
    from studio.training.fastpath import variants

    form = win.training.panel.form
    cpu = form.device.findData("cpu")
    expected = ("This CPU has no bf16 instructions: runs here stay float32" if variants.cpu_bf16_hardware()
                else "Slightly different results than float32")
    form.device.setCurrentIndex(cpu)
    assert form.bf16_note.text() == expected
    form.device.addItem("cuda:7 (not on this machine)", "cuda:7")  # as load() shows a project's missing device
    form.device.setCurrentIndex(form.device.count() - 1)
    assert form.bf16_note.text() == "Acts on the CPU; on a GPU choose Mixed precision"
    monkeypatch.setattr(variants, "cpu_bf16_hardware", lambda: None)  # a CPU with bf16 hardware
    form.device.setCurrentIndex(cpu)
    assert form.bf16_note.text() == "Slightly different results than float32"
