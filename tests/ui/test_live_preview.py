"""The live preview while designing (issue 18, item 1), through the window with real events: the
toggle in the View menu, the inspector's fields, the chooser; each card's thumbnail data compared
before and after an edit (the thumbnails come from the preview thread: waited for, never slept on)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from .test_window_inspector import retype  # typing into an inspector field, as a person does
from .window_helpers import dialog_log, isolated, window  # noqa: F401

WAIT = 20000  # ms: the first preview loads the dataset and torch's kernels on a loaded machine


def faces(window) -> dict:
    return {n: item.preview for n, item in window.canvas.canvas_scene.nodes.items()}


def snapshot(window) -> dict:
    """Each card's thumbnail data (the values drawn and the range under them)."""
    out = {}
    for node_id, face in faces(window).items():
        t = face.thumb if face is not None else None
        out[node_id] = None if t is None else (t.kind, t.shape, np.array(t.values, copy=True), t.lo, t.hi)
    return out


def changed(a, b) -> bool:
    if a is None or b is None:
        return a is not b
    return a[:2] != b[:2] or a[2].shape != b[2].shape or not np.allclose(a[2], b[2], equal_nan=True) \
        or (a[3], a[4]) != (b[3], b[4])


def toggle_from_view_menu(window, qtbot) -> None:
    """Ctrl+Shift+L, the View menu's shortcut, pressed in the window."""
    qtbot.keyClick(window.canvas, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def wait_for_preview(window, qtbot) -> None:
    preview = window.preview
    qtbot.waitUntil(lambda: not preview.pending and preview.last_result is not None, timeout=WAIT)


def edit_and_wait(window, qtbot, edit) -> None:
    preview = window.preview
    before = preview.last_result
    with qtbot.waitSignal(preview.updated, timeout=WAIT):
        edit()
    qtbot.waitUntil(lambda: not preview.pending, timeout=WAIT)
    assert preview.last_result is not before


def test_off_by_default_and_costs_nothing(window, qtbot):
    preview = window.preview
    assert not window.preview.action.isChecked() and preview._thread is None
    window.document.graph.set_param("conv1", "kernel_size", 5)
    qtbot.wait(50)  # (nothing may happen: there is no signal to wait for)
    assert preview.requests == 0 and all(f is None for f in faces(window).values())


def test_thumbnails_follow_normalisation_and_kernel(window, qtbot):
    preview = window.preview
    toggle_from_view_menu(window, qtbot)
    assert preview.action.isChecked() and preview.enabled
    wait_for_preview(window, qtbot)
    first = snapshot(window)
    assert all(first[n] is not None for n in first), [n for n in first if first[n] is None]
    assert first["conv1"][0] == "grid" and first["conv1"][1] == (16, 8, 8)
    assert first["fc2"][0] == "bars" and first["input"][0] == "heat"
    assert "val sample 0 of" in preview.chooser.index.toolTip()

    # the Input's normalisation, typed into the inspector: every card's output changes
    window.document.set_selection(["input"])
    insp = window.inspector
    edit_and_wait(window, qtbot, lambda: retype(qtbot, insp.rows["mean"].editor.line, "0.5"))
    normalised = snapshot(window)
    assert [n for n in first if not changed(first[n], normalised[n])] == []

    # conv2's kernel: its card and every card after it change, the ones before it do not
    window.document.set_selection(["conv2"])
    edit_and_wait(window, qtbot, lambda: retype(qtbot, insp.rows["kernel_size"].editor.line, "5"))
    after = snapshot(window)
    order = list(window.document.analysis.order)
    downstream = order[order.index("conv2"):]
    assert [n for n in downstream if not changed(normalised[n], after[n])] == []
    assert [n for n in order[:order.index("conv2")] if changed(normalised[n], after[n])] == []
    assert after["conv2"][1] == (32, 2, 2)


def test_toggle_off_clears_cards_and_stops_the_thread(window, qtbot):
    preview = window.preview
    preview.action.trigger()
    wait_for_preview(window, qtbot)
    height = window.canvas.canvas_scene.nodes["conv1"].height
    preview.action.trigger()
    assert not preview.enabled and preview._thread is None
    assert all(f is None for f in faces(window).values())
    assert window.canvas.canvas_scene.nodes["conv1"].height < height
    sent = preview.requests
    window.document.graph.set_param("conv1", "kernel_size", 5)
    qtbot.wait(50)
    assert preview.requests == sent
