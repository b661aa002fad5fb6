"""The window's Open with paths that are not project files (a FIFO, a 2 GB file) and files whose node
ids are attributes of every PyTorch module; and a rename to such an id in the inspector. Each shows
why at once and keeps the current work."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from studio.ui.commands import SetParam

from .window_helpers import TEMPLATES, dialog_log, isolated, window  # noqa: F401


def graph_record(graph) -> dict:
    return {"nodes": [(n.id, n.type, n.params) for n in graph.nodes.values()],
            "edges": [(e.source, e.target) for e in graph.edges]}


def _unblock_fifo_later(path, after_s: float) -> threading.Thread:
    """If Open blocks on the FIFO (it must not), a writer arrives after `after_s` so the test ends
    (failing) instead of hanging."""
    def writer():
        time.sleep(after_s)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no reader: Open did not block, nothing to release
            return
        os.write(fd, b"{}")
        os.close(fd)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    return t


@pytest.mark.fault("GUI files", "opening a FIFO, a 2 GB file, or a project whose node id is '_modules'",
                   "an error at once naming the file and why (named pipe / too large / reserved id with a free "
                   "suggestion); the current work kept")
@pytest.mark.parametrize("kind", ["fifo", "huge", "reserved"])
def test_open_refuses_paths_that_are_not_sane_project_files(window, dialog_log, isolated, kind):
    doc = window.document
    doc.push(SetParam(doc.graph, "conv1", "out_channels", 8))
    before = graph_record(doc.graph)
    path = isolated / "p.json"
    if kind == "fifo":
        os.mkfifo(path)
        _unblock_fifo_later(path, 10.0)
    elif kind == "huge":
        with open(path, "wb") as fh:
            fh.truncate(2 << 30)
    else:
        record = json.loads((TEMPLATES / "moons_mlp.json").read_text())
        record = json.loads(json.dumps(record).replace('"fc1"', '"_modules"'))
        path.write_text(json.dumps(record))
    t0 = time.perf_counter()
    assert not window.files.open_path(path)
    assert time.perf_counter() - t0 < 5.0
    (_, message), = dialog_log.errors
    expect = {"fifo": "is a named pipe (FIFO)", "huge": "too large for a project file",
              "reserved": "node id '_modules' is the name of an attribute every PyTorch module has"}[kind]
    assert str(path) in message and expect in message, message
    if kind == "reserved":
        assert "e.g. 'modules_1'" in message
    assert graph_record(doc.graph) == before and doc.modified


@pytest.mark.fault("editing", "renaming a node in the inspector to an attribute of nn.Module ('_modules', 'cuda')",
                   "refused under the id field with a suggestion free in this graph; the node keeps its id")
def test_inspector_rename_to_a_reserved_id_suggests_a_free_one(window, qtbot):
    doc = window.document
    doc.set_selection(["conv1"])
    insp = window.inspector
    line: QLineEdit = insp.id_edit
    for bad, suggestion in (("_modules", "modules_1"), ("cuda", "cuda_1")):
        line.setFocus()
        line.selectAll()
        qtbot.keyClick(line, Qt.Key.Key_Backspace)
        qtbot.keyClicks(line, bad)
        qtbot.keyClick(line, Qt.Key.Key_Return)
        assert insp.id_error.isVisible(), bad
        assert f"use another id, e.g. '{suggestion}'" in insp.id_error.text()
        assert "conv1" in doc.graph and bad not in doc.graph
    assert insp.node_id == "conv1"
