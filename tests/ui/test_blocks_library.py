"""The block library: built-in definitions (resources/blocks) and the user's own (one JSON file each
in the user data folder). Saving never overwrites without asking; a broken or hostile file there is
skipped with a message naming it; a library definition dropped on the canvas is copied into the
project, so the saved project stands alone."""
from __future__ import annotations

import json
import os

import pytest
from PySide6.QtCore import QPoint, QPointF

from studio.core.project import load_project
from studio.ui import block_dialogs, block_library
from studio.ui.block_model import to_record
from studio.ui.palette_blocks import BLOCK_ROLE, block_mime_data

from .blocks_helpers import STAGE, staged_project, settled_window
from .canvas_helpers import drop_mime, make_view
from .window_helpers import dialog_log, isolated  # noqa: F401  (fixtures)


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return path


def _good(name="Stage", stage=None):
    return json.dumps({"format": "netstudio-block", "version": 2, "name": name,
                       "blocks": {name: stage or STAGE}})


def test_save_writes_one_file_and_never_overwrites_without_asking(qtbot, isolated, monkeypatch):
    view = make_view(qtbot, staged_project())
    folder = block_library.user_dir()
    path = view.save_block_to_library("ConvStage")
    assert path == folder / "ConvStage.json"
    record = json.loads(path.read_text())
    assert record["format"] == "netstudio-block" and record["name"] == "ConvStage"
    assert record["blocks"]["ConvStage"] == to_record(view.document.root.graph.blocks["ConvStage"])
    [entry] = [e for e in block_library.load(user=folder).entries if not e.builtin]
    assert entry.name == "ConvStage" and not entry.builtin
    path.write_text(_good("ConvStage"))  # a version of it the person keeps
    kept = path.read_text()
    asked = []
    monkeypatch.setattr(block_dialogs, "ask_overwrite_block", lambda parent, name, p: asked.append(p) or False)
    assert view.save_block_to_library("ConvStage") is None
    assert asked == [str(path)] and path.read_text() == kept
    monkeypatch.setattr(block_dialogs, "ask_overwrite_block", lambda parent, name, p: True)
    assert view.save_block_to_library("ConvStage") == path and path.read_text() != kept


@pytest.mark.fault("blocks", "hostile or broken files in the user block library (not JSON, not UTF-8, a list, "
                   "another format, a newer version, a definition that contains itself, a bad node, a missing "
                   "definition it uses, a folder named .json, a FIFO)",
                   "each is skipped with a message naming the file and why; the good file beside them is offered")
def test_broken_library_files_are_skipped_with_a_message(tmp_path):
    folder = tmp_path / "blocks"
    cyclic = json.loads(_good("Loop"))
    cyclic["blocks"]["Loop"]["nodes"].insert(2, {"id": "inner", "type": "Block", "block": "Loop", "pos": [0, 90]})
    bad_node = json.loads(_good("BadNode"))
    bad_node["blocks"]["BadNode"]["nodes"][1]["id"] = "not an id"
    uses_missing = json.loads(_good("Uses"))
    uses_missing["blocks"]["Uses"]["nodes"].append({"id": "sub", "type": "Block", "block": "Elsewhere", "pos": [0, 90]})
    files = {
        "a_not_json.json": "{ nope",
        "b_binary.json": b"\xff\xfe\x00garbage",
        "c_list.json": "[1, 2, 3]",
        "d_other.json": json.dumps({"format": "netstudio", "version": 2, "nodes": []}),
        "e_newer.json": _good("Newer").replace('"version": 2', '"version": 99'),
        "f_cycle.json": json.dumps(cyclic),
        "g_bad_node.json": json.dumps(bad_node),
        "h_uses_missing.json": json.dumps(uses_missing),
        "i_nan.json": _good("Nan").replace('"default": 16', '"default": NaN'),
        "z_good.json": _good("Stage"),
    }
    for name, text in files.items():
        _write(folder, name, text)
    (folder / "j_folder.json").mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "k_fifo.json")
    lib = block_library.load(builtin_dir=tmp_path / "none", user=folder)
    assert [e.name for e in lib.entries] == ["Stage"]
    skipped = sorted(files)[:-1] + ["j_folder.json"] + (["k_fifo.json"] if hasattr(os, "mkfifo") else [])
    assert len(lib.problems) == len(skipped), lib.problems
    for name, line in zip(skipped, lib.problems):
        assert name in line, (name, line)
    text = "\n".join(lib.problems)
    assert "not valid JSON (line 1" in text and "not UTF-8" in text and "version 99" in text
    assert "Loop" in text and "itself" in text and "Elsewhere" in text and "NaN" in text


def test_no_library_folder_and_no_builtin_folder_show_nothing(tmp_path):
    lib = block_library.load(builtin_dir=tmp_path / "none", user=tmp_path / "nothing")
    assert lib.entries == [] and lib.problems == []


def test_a_library_block_dropped_on_the_canvas_is_copied_into_the_project(qtbot, isolated, dialog_log, tmp_path):
    folder = block_library.user_dir()
    _write(folder, "Stage.json", _good("Stage"))
    w = settled_window(qtbot)  # a blank project
    assert w.palette.blocks.names("user") == ["Stage"]
    ref = w.palette.blocks.items[("user", "Stage")].data(0, BLOCK_ROLE)
    mime = w.palette.tree.mimeData([w.palette.blocks.items[("user", "Stage")]])
    assert drop_mime(w.canvas, mime, QPoint(300, 300))
    graph = w.document.graph
    [node] = graph.nodes.values()
    assert node.type == "Block" and node.block == "Stage" and "Stage" in graph.blocks
    assert w.palette.blocks.names("project") == ["Stage"]
    assert w.document.undo_stack.count() == 1  # the copy and the instance: one step
    # the project stands alone: saved and reopened without the library
    (folder / "Stage.json").unlink()
    path = tmp_path / "alone.json"
    w.document.save(path)
    again = load_project(path)
    assert to_record(again.graph.blocks["Stage"]) == to_record(graph.blocks["Stage"])
    # the same definition again: not copied twice
    assert w.canvas.add_block_at({**ref, "source": "project"}, QPointF(0, 300)) is not None
    assert list(graph.blocks) == ["Stage"]
    w.document.undo_stack.undo()
    w.document.undo_stack.undo()
    assert not graph.nodes and "Stage" not in graph.blocks
    w.document.undo_stack.setClean()


def test_a_name_clash_copies_under_a_free_name(qtbot, isolated, tmp_path):
    other = json.loads(json.dumps(STAGE))
    other["nodes"][3]["params"]["kernel_size"] = 1  # a different definition of the same name
    path = _write(block_library.user_dir(), "ConvStage.json", _good("ConvStage", other))
    view = make_view(qtbot, staged_project())
    messages = []
    view.status_message.connect(messages.append)
    graph = view.document.root.graph
    node_id = view.add_block_at({"source": "library", "name": "ConvStage", "path": str(path)}, QPointF(0, 400))
    assert graph.node(node_id).block == "ConvStage_1" and set(graph.blocks) == {"ConvStage", "ConvStage_1"}
    assert graph.blocks["ConvStage"].graph.node("pool").params["kernel_size"] == 2  # the project's, untouched
    assert "copied ConvStage_1 into the project" in messages[-1]


@pytest.mark.fault("blocks", "a library file changed into garbage after the palette listed it, then dragged in",
                   "nothing is added; the status bar names the file and what is wrong")
def test_a_file_broken_after_listing_is_refused_on_drop(qtbot, isolated):
    path = _write(block_library.user_dir(), "Stage.json", _good("Stage"))
    view = make_view(qtbot)
    messages = []
    view.status_message.connect(messages.append)
    path.write_text("{ broken")
    assert view.add_block_at({"source": "library", "name": "Stage", "path": str(path)}, QPointF(0, 0)) is None
    assert not view.document.graph.nodes and view.document.undo_stack.count() == 0
    assert str(path) in messages[-1] and "not valid JSON" in messages[-1]


def test_library_problems_reach_the_problems_list(qtbot, isolated, dialog_log):
    _write(block_library.user_dir(), "broken.json", "{")
    w = settled_window(qtbot)
    model = w.problems.model
    lines = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
    assert any("broken.json" in line and "Block library" in line for line in lines), lines


def test_a_block_from_the_palette_with_block_mime_data():
    mime = block_mime_data({"source": "project", "name": "X"})
    from studio.ui.palette_blocks import read_block_mime

    assert read_block_mime(mime) == {"source": "project", "name": "X"}
    mime.setData("application/x-netstudio-block", b"\xff not json")
    assert read_block_mime(mime) is None


def test_every_built_in_block_is_offered_and_copies_into_a_project(qtbot, isolated, tmp_path):
    """resources/blocks (written by the blocks export work): each file is offered, none is skipped,
    and each copies into a project that saves and loads on its own."""
    folder = block_library.BUILTIN_DIR
    assert folder.is_dir() and list(folder.glob("*.json")), "resources/blocks ships the built-in blocks"
    lib = block_library.load(user=tmp_path / "none")
    assert lib.problems == [] and lib.entries and all(e.builtin for e in lib.entries)
    assert len(lib.entries) == len(list(folder.glob("*.json")))
    view = make_view(qtbot)
    graph = view.document.root.graph
    for i, entry in enumerate(lib.entries):
        ref = {"source": "library", "name": entry.name, "path": str(entry.path)}
        node_id = view.add_block_at(ref, QPointF(0, 200 * i))
        assert node_id is not None and graph.node(node_id).block in graph.blocks, entry.name
    path = tmp_path / "zoo.json"
    view.document.save(path)
    assert set(load_project(path).graph.blocks.names()) == set(graph.blocks.names())
    view.document.undo_stack.setClean()
