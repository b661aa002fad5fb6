"""Files: save / reopen, broken files, autosave and crash recovery, the unsaved-changes prompt,
new from a template, recent files."""
from __future__ import annotations

import json
import os
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.core.project import load_project
from studio.ui.commands import AddNode, SetParam
from studio.ui.files import autosave_path

from .window_helpers import TEMPLATES, dialog_log, isolated, open_window, template_window, window  # noqa: F401


def graph_record(graph) -> dict:
    return {"nodes": [(n.id, n.type, n.params, tuple(round(v, 1) for v in n.pos)) for n in graph.nodes.values()],
            "edges": [(e.source, e.target, e.source_port, e.target_port) for e in graph.edges]}


def test_save_and_reopen_gives_the_same_graph(qtbot, isolated, dialog_log):
    w = open_window(qtbot)
    assert w.files.open_template(TEMPLATES / "resnet_block.json", ask=False)
    assert w.document.path is None  # a template opens as a new project
    doc = w.document
    doc.push(SetParam(doc.graph, "conv_a", "kernel_size", 5))
    doc.push(SetParam(doc.graph, "conv_a", "padding", 2))
    doc.push(AddNode(doc.graph, "Dropout", (100, 500), {"p": 0.2}, node_id="extra"))
    target = isolated / "mine.json"
    dialog_log.save_path = str(target)
    w.canvas.setFocus()
    QTest.keyClick(w.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert target.exists()
    assert doc.path == target and not w.isWindowModified()
    assert w.windowTitle().endswith("— mine.json[*]")
    saved = graph_record(doc.graph)
    other = open_window(qtbot)
    assert other.files.open_path(target, ask=False)
    assert graph_record(other.document.graph) == saved
    assert other.document.project.name == doc.project.name
    assert str(target.resolve()) == other.files.recent_files()[0]


@pytest.mark.fault('GUI files', 'opening a broken or newer-version project over unsaved work',
                   'an error naming the file; the current work and its undo history kept')
def test_broken_file_shows_why_and_keeps_the_current_work(window, dialog_log, isolated):
    doc = window.document
    doc.push(SetParam(doc.graph, "conv1", "out_channels", 8))
    before = graph_record(doc.graph)
    bad = isolated / "broken.json"
    bad.write_text('{"format": "netstudio", "version": 1, "nodes": [', encoding="utf-8")
    assert not window.files.open_path(bad)
    assert len(dialog_log.errors) == 1
    title, message = dialog_log.errors[0]
    assert "broken.json" in message and "not valid JSON" in message
    assert graph_record(doc.graph) == before
    assert doc.undo_stack.count() == 1 and doc.modified
    assert doc.path.name == "cnn_digits.json"
    assert dialog_log.save_prompts == []  # nothing was replaced, so nothing to ask
    newer = isolated / "newer.json"
    newer.write_text(json.dumps({"format": "netstudio", "version": 99}), encoding="utf-8")
    assert not window.files.open_path(newer)
    assert "newer NetStudio" in dialog_log.errors[-1][1]


@pytest.mark.fault('crash', 'the window goes away without closing after an autosave (in-process)',
                   'reopening the project offers and restores the edit, marked unsaved')
def test_autosave_and_recovery_after_a_crash(qtbot, isolated, dialog_log):
    project_file = isolated / "proj.json"
    project_file.write_text((TEMPLATES / "cnn_digits.json").read_text(encoding="utf-8"), encoding="utf-8")
    old = time.time() - 60
    os.utime(project_file, (old, old))
    w = open_window(qtbot)
    assert w.files.open_path(project_file, ask=False)
    doc = w.document
    doc.push(SetParam(doc.graph, "conv1", "out_channels", 24))
    side = autosave_path(project_file)
    assert side.name == ".proj.autosave.json" and side.parent == isolated
    w.files.timer.setInterval(20)
    w.files.timer.start()
    qtbot.waitUntil(side.exists, timeout=5000)
    assert json.loads(side.read_text(encoding="utf-8"))["nodes"][1]["params"]["out_channels"] == 24
    # "crash": the window goes away without closing (no prompt, no cleanup); the side file stays
    w.files.timer.stop()
    doc.undo_stack.setClean()
    w.files.discard_autosave = lambda: None
    w.close()
    assert side.exists()
    again = open_window(qtbot)
    assert again.files.open_path(project_file, ask=False)
    assert dialog_log.restore_prompts == ["CNN on digits"]
    assert again.document.graph.node("conv1").params["out_channels"] == 24
    assert again.document.path == project_file
    assert again.document.modified and again.isWindowModified()
    assert not side.exists()
    again.document.undo_stack.setClean()


@pytest.mark.fault('crash', 'recovery offered and declined',
                   'the saved file opens as it was; the side file is removed')
def test_declining_recovery_opens_the_file_and_drops_the_side_file(qtbot, isolated, dialog_log):
    project_file = isolated / "proj.json"
    project_file.write_text((TEMPLATES / "cnn_digits.json").read_text(encoding="utf-8"), encoding="utf-8")
    side = autosave_path(project_file)
    rec = json.loads(project_file.read_text(encoding="utf-8"))
    rec["nodes"][1]["params"]["out_channels"] = 99
    side.write_text(json.dumps(rec), encoding="utf-8")
    os.utime(project_file, (time.time() - 60, time.time() - 60))
    dialog_log.restore_answer = False
    w = open_window(qtbot)
    assert w.files.open_path(project_file, ask=False)
    assert w.document.graph.node("conv1").params["out_channels"] == 16
    assert not side.exists() and not w.document.modified


def test_untitled_work_is_recovered_at_start(qtbot, isolated, dialog_log):
    w = open_window(qtbot)
    doc = w.document
    doc.push(AddNode(doc.graph, "Input", (0, 0), {"shape": [4]}, node_id="x"))
    side = w.files.autosave()
    assert side == autosave_path(None) and side.exists()
    doc.undo_stack.setClean()
    w.files.discard_autosave = lambda: None  # crash: no cleanup
    w.close()
    again = open_window(qtbot)
    assert again.files.recover_untitled()
    assert "x" in again.document.graph and again.document.path is None and again.document.modified
    again.document.undo_stack.setClean()


def test_close_prompt_on_unsaved_work(qtbot, isolated, dialog_log):
    target = isolated / "p.json"
    w = open_window(qtbot)
    w.files.open_template(TEMPLATES / "cnn_digits.json", ask=False)
    doc = w.document
    doc.push(SetParam(doc.graph, "conv1", "out_channels", 8))
    dialog_log.save_answer = "cancel"
    assert not w.close()
    assert w.isVisible() and dialog_log.save_prompts == ["Untitled"]
    dialog_log.save_answer = "save"
    dialog_log.save_path = ""  # then cancel the Save As dialog: still open
    assert not w.close()
    assert w.isVisible()
    dialog_log.save_path = str(target)
    assert w.close()
    assert load_project(target).graph.node("conv1").params["out_channels"] == 8


def test_discard_closes_without_saving(qtbot, isolated, dialog_log):
    w = template_window(qtbot)
    path = w.document.path
    w.document.push(SetParam(w.document.graph, "conv1", "out_channels", 8))
    dialog_log.save_answer = "discard"
    assert w.close()
    assert load_project(path).graph.node("conv1").params["out_channels"] == 16
    assert not autosave_path(path).exists()


def test_open_asks_before_replacing_unsaved_work(qtbot, isolated, dialog_log):
    w = template_window(qtbot)
    w.document.push(SetParam(w.document.graph, "conv1", "out_channels", 8))
    dialog_log.save_answer = "cancel"
    dialog_log.open_path = str(TEMPLATES / "mlp_digits.json")
    assert not w.actions_.open.trigger() and w.document.path.name == "cnn_digits.json"
    dialog_log.save_answer = "discard"
    w.actions_.open.trigger()
    assert w.document.path.name == "mlp_digits.json"


def test_new_from_the_template_gallery(qtbot, isolated, dialog_log):
    w = template_window(qtbot)
    dialog_log.template = (True, TEMPLATES / "resnet_block.json")
    w.actions_.new.trigger()
    assert w.document.project.name == "Residual block" and w.document.path is None
    assert "add" in w.document.graph
    dialog_log.template = (True, None)
    w.actions_.new.trigger()
    assert len(w.document.graph) == 0 and w.windowTitle().startswith("Untitled — Untitled")


def test_template_gallery_lists_every_template(qtbot):
    from studio.ui.template_gallery import TemplateGallery, list_templates

    gallery = TemplateGallery()
    qtbot.addWidget(gallery)
    templates = list_templates()
    assert len(templates) == len(list(TEMPLATES.glob("*.json")))
    assert gallery.list.count() == len(templates) + 1
    texts = [gallery.list.item(i).text() for i in range(gallery.list.count())]
    assert texts[0].startswith("Blank project")
    assert any(t.startswith("CNN on digits\n") and "8x8" in t for t in texts)
    gallery.list.setCurrentRow(0)
    gallery.accept()
    assert gallery.choice is None


def test_recent_files_menu(qtbot, isolated, dialog_log):
    w = open_window(qtbot)
    w.files.open_path(TEMPLATES / "cnn_digits.json", ask=False)
    w.files.open_path(TEMPLATES / "mlp_digits.json", ask=False)
    recent = w.files.recent_files()
    assert recent[0].endswith("mlp_digits.json") and recent[1].endswith("cnn_digits.json")
    w.fill_recent_menu()
    texts = [a.text() for a in w.recent_menu.actions()]
    assert texts[0].endswith("mlp_digits.json")
    w.files.clear_recent()
    assert w.files.recent_files() == []
