"""Blocks on the canvas: the block card, opening a block (double-click) with its breadcrumb, going
back up (Escape, the breadcrumb), editing inside with the same commands, expand in place."""
from __future__ import annotations

import json

import pytest

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.ui.commands import SetParam

from .blocks_helpers import staged_project
from .canvas_helpers import card_pos, double_click, make_view


def _open_by_double_click(qtbot, view, node_id):
    pos = card_pos(view, node_id)
    double_click(view.viewport(), pos)
    qtbot.waitUntil(lambda: view.document.trail == [node_id], timeout=3000)


def test_block_card_shows_definition_params_shape_and_ports(qtbot):
    view = make_view(qtbot, staged_project())
    d1, d2 = view.canvas_scene.nodes["stage1"].data, view.canvas_scene.nodes["stage2"].data
    assert (d1.title, d1.type, d1.category) == ("stage1", "ConvStage", "block")
    assert d1.params == (("channels", "16"),) and d2.params == (("channels", "32"),)
    assert d1.footer == "[16, 4, 4]" and d2.footer == "[32, 2, 2]"
    assert d1.inputs == (("x", False),) and d1.outputs == ("out",)
    assert d1.badge == ""  # repeat 1
    view.document.root.graph.set_instance("stage2", repeat=3)
    qtbot.waitUntil(lambda: view.canvas_scene.nodes["stage2"].data.badge == "×3", timeout=3000)


def test_double_click_opens_the_block_and_escape_goes_back_up(qtbot):
    view = make_view(qtbot, staged_project())
    _open_by_double_click(qtbot, view, "stage2")
    assert set(view.canvas_scene.nodes) == {"x", "conv", "relu", "pool", "out"}
    assert view.breadcrumb.isVisible() and view.breadcrumb.texts() == ["Model", "stage2 (ConvStage)"]
    # the inside shows the shapes of this instance: stage2 sets channels = 32 on conv
    conv = view.canvas_scene.nodes["conv"].data
    assert conv.footer == "[32, 4, 4]" and ("out_channels", "32") in conv.params
    view.setFocus()
    QTest.keyClick(view, Qt.Key_Escape)
    qtbot.waitUntil(lambda: view.document.at_root, timeout=3000)
    assert "stage2" in view.canvas_scene.nodes and not view.breadcrumb.isVisible()
    assert view.document.selection == ["stage2"]  # the block the view came out of


def test_the_breadcrumb_goes_back_up(qtbot):
    view = make_view(qtbot, staged_project())
    _open_by_double_click(qtbot, view, "stage1")
    QTest.mouseClick(view.breadcrumb.buttons[0], Qt.LeftButton)
    qtbot.waitUntil(lambda: view.document.at_root, timeout=3000)
    assert "stage1" in view.canvas_scene.nodes


def test_an_edit_inside_is_one_undo_step_and_changes_every_instance(qtbot):
    project = staged_project()
    before = json.loads(json.dumps(project.to_json()))
    view = make_view(qtbot, project)
    doc = view.document
    _open_by_double_click(qtbot, view, "stage1")
    assert doc.push(SetParam(doc.graph, "pool", "kernel_size", 1))
    # both instances use the definition: stage2's output is no longer pooled twice
    qtbot.waitUntil(lambda: str(doc.root.analysis.nodes["stage2"].output) == "[32, 8, 8]", timeout=3000)
    assert view.canvas_scene.nodes["pool"].data.footer == "[16, 8, 8]"
    assert doc.undo_stack.count() == 1
    doc.go_up()
    doc.undo_stack.undo()  # undone from the root: it finds the definition's graph itself
    assert json.loads(json.dumps(project.to_json())) == before
    assert view.canvas_scene.nodes["stage2"].data.footer == "[32, 2, 2]"
    doc.undo_stack.redo()
    assert project.graph.blocks["ConvStage"].graph.node("pool").params["kernel_size"] == 1


def test_adding_a_node_inside_a_block_lands_in_its_definition(qtbot):
    project = staged_project()
    view = make_view(qtbot, project)
    _open_by_double_click(qtbot, view, "stage1")
    node_id = view.add_node_at("BatchNorm2d", view.mapToScene(50, 50))
    assert node_id in project.graph.blocks["ConvStage"].graph and node_id not in project.graph
    assert node_id in view.canvas_scene.nodes
    view.document.undo_stack.undo()
    assert node_id not in project.graph.blocks["ConvStage"].graph and node_id not in view.canvas_scene.nodes


def test_undoing_what_made_the_open_block_goes_back_up(qtbot):
    project = staged_project()
    view = make_view(qtbot, project)
    doc = view.document
    from studio.ui import block_commands

    assert doc.push(block_commands.RenameDefinition(project.graph, "ConvStage", "Stage"))
    _open_by_double_click(qtbot, view, "stage1")
    assert view.breadcrumb.texts()[-1] == "stage1 (Stage)"
    doc.undo_stack.undo()  # the rename: the open block still exists, under its old name
    assert view.breadcrumb.texts()[-1] == "stage1 (ConvStage)"
    project.graph.remove_node("stage1")  # (a file change, an undo: the block shown goes away)
    qtbot.waitUntil(lambda: doc.at_root, timeout=3000)
    assert "stage1" not in view.canvas_scene.nodes and "stage2" in view.canvas_scene.nodes


def test_expand_in_place_is_a_view_choice_not_an_edit(qtbot):
    project = staged_project()
    before = json.loads(json.dumps(project.to_json()))
    view = make_view(qtbot, project)
    from studio.ui.canvas.block_expand import ExpandedBlock

    view.toggle_expanded("stage1")
    card = view.canvas_scene.nodes["stage1"]
    frames = [c for c in card.childItems() if isinstance(c, ExpandedBlock)]
    assert len(frames) == 1 and [c[0] for c in frames[0]._layout[0]] == ["x", "conv", "relu", "pool", "out"]
    assert dict((c[0], c[3]) for c in frames[0]._layout[0])["conv"] == "[16, 8, 8]"  # stage1's own shapes
    assert json.loads(json.dumps(project.to_json())) == before and view.document.undo_stack.count() == 0
    assert not frames[0].flags() & frames[0].GraphicsItemFlag.ItemIsSelectable
    view.toggle_expanded("stage1")
    assert not [c for c in card.childItems() if isinstance(c, ExpandedBlock)]


def test_renaming_a_node_inside_keeps_the_exposed_params_driving_it(qtbot):
    from studio.ui.block_commands import RenameInDefinition

    project = staged_project()
    before = json.loads(json.dumps(project.to_json()))
    view = make_view(qtbot, project)
    doc = view.document
    assert doc.open_block("stage2")
    assert doc.push(RenameInDefinition(project.graph, "ConvStage", "conv", "conv3x3"))
    [param] = project.graph.blocks["ConvStage"].params
    assert [t.node for t in param.targets] == ["conv3x3"]
    assert str(doc.root.analysis.nodes["stage2"].output) == "[32, 2, 2]"  # still 32 channels
    assert "conv3x3" in view.canvas_scene.nodes and doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert json.loads(json.dumps(project.to_json())) == before


def test_a_problem_inside_a_block_opens_it_at_that_node(qtbot):
    from studio.ui.commands import SetParam

    project = staged_project()
    project.graph.set_instance("stage2", repeat=2)
    view = make_view(qtbot, project)
    doc = view.document
    # a 9x9 kernel cannot fit the 2x2 map of stage2's second copy: the problem names its path
    project.graph.blocks["ConvStage"].graph.set_param("conv", "padding", 0)
    problems = [p for p in doc.root.analysis.problems if p.is_error]
    assert problems and problems[0].node_id.startswith("stage")
    assert doc.show_path("stage2.1.conv") == "conv"
    assert doc.trail == ["stage2"] and doc.selection == ["conv"]
    assert doc.show_path("fc1") == "fc1" and doc.at_root and doc.selection == ["fc1"]
    assert doc.show_path("nowhere.conv") is None
    assert doc.push(SetParam(doc.graph, "fc1", "out_features", 8))  # (the root is editable again)


def test_wiring_inside_a_block_with_the_mouse(qtbot):
    from studio.core.graph import Edge
    from studio.ui.commands import Disconnect

    from .canvas_helpers import wire

    project = staged_project()
    view = make_view(qtbot, project)
    doc = view.document
    _open_by_double_click(qtbot, view, "stage1")
    inner = project.graph.blocks["ConvStage"].graph
    assert doc.push(Disconnect(doc.graph, Edge("relu", "pool")))
    assert Edge("relu", "pool") not in inner.edges and ("relu", "pool") not in {
        (e.source, e.target) for e in view.canvas_scene.wires}
    view.fit_all()
    wire(view, "relu", "pool")
    qtbot.waitUntil(lambda: Edge("relu", "pool") in inner.edges, timeout=3000)
    assert str(doc.root.analysis.nodes["stage2"].output) == "[32, 2, 2]"
    doc.undo_stack.undo()
    assert Edge("relu", "pool") not in inner.edges


def test_a_block_inside_a_block_shows_the_values_the_outer_block_sets(qtbot):
    from studio.core.project import load_project

    from .blocks_helpers import TEMPLATES

    view = make_view(qtbot, load_project(TEMPLATES / "resnet18.json"))
    layer2 = view.canvas_scene.nodes["layer2"].data
    assert ("stride", "2, then 1") in layer2.params and ("downsample", "on, then off") in layer2.params
    assert view.document.open_block("layer2")
    inner = view.canvas_scene.nodes["downsample"].data  # copy 0: projected, at stride 2
    assert ("planes", "128") in inner.params and ("stride", "2") in inner.params
    assert inner.footer == "[128, 28, 28]"


def test_opening_another_file_from_inside_a_block_shows_its_top_level(qtbot):
    view = make_view(qtbot, staged_project())
    assert view.document.open_block("stage1")
    view.document.root.set_project(staged_project())  # (File > Open of a project with the same ids)
    assert view.document.at_root and not view.breadcrumb.isVisible()
    assert "stage1" in view.canvas_scene.nodes and "conv" not in view.canvas_scene.nodes


@pytest.mark.fault("blocks", "pasting a block instance into its own definition (copied at the model, pasted inside)",
                   "refused with a status message before anything changes; no loop for the analysis to report")
def test_pasting_a_block_into_its_own_definition_is_refused(qtbot):
    project = staged_project()
    before = json.loads(json.dumps(project.to_json()))
    view = make_view(qtbot, project)
    doc = view.document
    pos = card_pos(view, "stage1")
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, pos)
    assert view.canvas_scene.selected_ids() == ["stage1"]
    QTest.keyClick(view, Qt.Key_C, Qt.ControlModifier)
    _open_by_double_click(qtbot, view, "stage1")
    inside = set(doc.graph.nodes)
    with qtbot.waitSignal(view.status_message, timeout=3000) as said:
        QTest.keyClick(view, Qt.Key_V, Qt.ControlModifier)
    assert said.args[0] == "Cannot paste block ConvStage inside ConvStage: a block cannot contain itself"
    assert set(doc.graph.nodes) == inside and doc.undo_stack.count() == 0
    assert json.loads(json.dumps(project.to_json())) == before
    assert not any("contain" in p.message for p in doc.root.analysis.problems)
    doc.go_up()  # at the model the same copy pastes as a second instance
    QTest.keyClick(view, Qt.Key_V, Qt.ControlModifier)
    assert doc.undo_stack.count() == 1 and len(project.graph.blocks.instances("ConvStage")) == 3
