"""The live preview's first result in a session: the cards say at once that it is being prepared
(and take their full height then, so the result changes no card's size), and the first run has the
GUI's own CPU priority (the thread lowers its own after it, for the edits' previews)."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from studio.training import preview as engine_module
from studio.ui.preview.controller import PREPARING

from .test_live_preview import toggle_from_view_menu, wait_for_preview
from .window_helpers import dialog_log, isolated, window  # noqa: F401


def notes(window) -> set:
    return {item.preview.note if item.preview is not None else None
            for item in window.canvas.canvas_scene.nodes.values()}


def test_cards_say_preparing_at_once_and_keep_their_size_for_the_result(window, qtbot):
    scene = window.canvas.canvas_scene
    toggle_from_view_menu(window, qtbot)
    assert notes(window) == {PREPARING}  # before the worker has answered
    heights = {n: item.height for n, item in scene.nodes.items()}
    wait_for_preview(window, qtbot)
    assert all(item.preview.thumb is not None for item in scene.nodes.values())
    assert {n: item.height for n, item in scene.nodes.items()} == heights


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own nice value is Linux's")
def test_first_run_at_the_guis_priority_later_ones_below_it(window, qtbot, monkeypatch):
    seen = []
    run = engine_module.PreviewEngine.run

    def recording(self, req):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return run(self, req)

    monkeypatch.setattr(engine_module.PreviewEngine, "run", recording)
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    toggle_from_view_menu(window, qtbot)
    wait_for_preview(window, qtbot)
    window.document.graph.set_param("conv1", "kernel_size", 5)
    qtbot.waitUntil(lambda: len(seen) == 2 and not window.preview.pending, timeout=20000)
    assert seen[0] == own and seen[1] > own


def test_a_file_opened_with_the_preview_on_shows_computing_until_its_result(window, qtbot, monkeypatch, tmp_path):
    from studio.ui.preview.controller import COMPUTING

    from .window_helpers import copied_template

    toggle_from_view_menu(window, qtbot)
    wait_for_preview(window, qtbot)
    gate = threading.Event()
    run = engine_module.PreviewEngine.run

    def held(self, req):
        assert gate.wait(20)  # the result waits until the cards have been looked at
        return run(self, req)

    monkeypatch.setattr(engine_module.PreviewEngine, "run", held)
    try:
        assert window.files.open_path(copied_template(tmp_path, "resnet_digits"), ask=False)
        scene = window.canvas.canvas_scene
        qtbot.waitUntil(lambda: all(i.preview is not None for i in scene.nodes.values()), timeout=5000)
        assert notes(window) == {COMPUTING} and window.preview.pending
        heights = {n: item.height for n, item in scene.nodes.items()}
    finally:
        gate.set()
    wait_for_preview(window, qtbot)
    assert all(item.preview.thumb is not None for item in scene.nodes.values())
    assert {n: item.height for n, item in scene.nodes.items()} == heights
