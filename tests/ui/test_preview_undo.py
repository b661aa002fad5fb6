"""Undo and redo with the live preview on: the thumbnails follow (Ctrl+Z, Ctrl+Shift+Z pressed in
the window), back to exactly what they were before the edit."""
from __future__ import annotations

from PySide6.QtCore import Qt

from .test_window_inspector import retype
from .test_live_preview import changed, edit_and_wait, snapshot, toggle_from_view_menu, wait_for_preview
from .window_helpers import dialog_log, isolated, window  # noqa: F401

CTRL = Qt.KeyboardModifier.ControlModifier


def test_thumbnails_follow_undo_and_redo(window, qtbot):
    toggle_from_view_menu(window, qtbot)
    wait_for_preview(window, qtbot)
    before = snapshot(window)
    window.document.set_selection(["conv2"])
    field = window.inspector.rows["kernel_size"].editor.line
    edit_and_wait(window, qtbot, lambda: retype(qtbot, field, "5"))  # typed: one command on the undo stack
    edited = snapshot(window)
    assert changed(before["conv2"], edited["conv2"]) and edited["conv2"][1] == (32, 2, 2)
    window.canvas.setFocus()
    edit_and_wait(window, qtbot, lambda: qtbot.keyClick(window.canvas, Qt.Key.Key_Z, CTRL))
    undone = snapshot(window)
    assert [n for n in before if changed(before[n], undone[n])] == []
    edit_and_wait(window, qtbot, lambda: qtbot.keyClick(window.canvas, Qt.Key.Key_Z,
                                                         CTRL | Qt.KeyboardModifier.ShiftModifier))
    redone = snapshot(window)
    assert [n for n in edited if changed(edited[n], redone[n])] == []
