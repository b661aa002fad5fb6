"""The canvas's right-click menu: what can be done to the card (or selection) under the mouse, or,
on empty canvas, adding a node there, pasting and tidying up."""
from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from .finetune_actions import finetune_items
from .node_item import NodeItem
from .wire_item import WireItem


def canvas_menu(view, view_pos) -> QMenu | None:
    item = view.item_at(QPointF(view_pos))
    scene_pos = view.mapToScene(view_pos)
    menu = QMenu(view)
    editable = not view.document.locked

    def add(text, slot, shortcut=None, enabled=True):
        action = menu.addAction(text, slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setEnabled(enabled)
        return action

    if isinstance(item, NodeItem):
        if item.node_id not in view.canvas_scene.selected_ids():
            view.canvas_scene.select_only([item.node_id])
        n = len(view.canvas_scene.selected_ids())
        what = f"'{item.node_id}'" if n == 1 else f"{n} nodes"
        add(f"Copy {what}", view.copy, QKeySequence.Copy)
        add(f"Cut {what}", view.cut, QKeySequence.Cut, editable)
        add(f"Duplicate {what}", view.duplicate, "Ctrl+D", editable)
        menu.addSeparator()
        block_items(menu, add, view, item.node_id, n, what, editable)
        finetune_items(menu, add, view, item.node_id, view.canvas_scene.selected_ids(), editable)
        menu.addSeparator()
        add(f"Delete {what}", view.delete_selected, QKeySequence.Delete, editable)
    elif isinstance(item, WireItem):
        view.canvas_scene.select_only([])
        item.setSelected(True)
        add(f"Delete wire {item.edge.source} → {item.edge.target}", view.delete_selected, QKeySequence.Delete,
            editable)
    else:
        if not view.document.at_root:
            add("Back up (out of this block)", view.document.go_up, "Esc")
        add("Add node here…", lambda: view.open_quick_add(scene_pos), "Tab", editable)
        add("Paste", view.paste, QKeySequence.Paste, editable)
        menu.addSeparator()
        add("Select all", view.select_all, QKeySequence.SelectAll)
        add("Auto-layout", view.auto_layout, None, editable and bool(view.graph.nodes))
        add("Fit to view", view.fit_all, "F")
    return menu


def block_items(menu, add, view, node_id: str, n: int, what: str, editable: bool) -> None:
    """Group, and for one block: open, expand in place, ungroup, make unique, save to the library."""
    from .. import block_model

    add(f"Group {what} into a block", view.group_selected, "Ctrl+G", editable)
    node = view.graph.nodes.get(node_id)
    if n != 1 or not block_model.is_block(node):
        return
    bdef = block_model.definition_of(view.document.root.graph, node)
    add(f"Open block '{node_id}'", view.open_selected, None, bdef is not None)
    expand = add(f"Expand '{node_id}' in place (view only)", lambda: view.toggle_expanded(node_id), None,
                 bdef is not None)
    expand.setCheckable(True)
    expand.setChecked(view.is_expanded(node_id))
    add(f"Ungroup '{node_id}'", view.ungroup_selected, "Ctrl+Shift+G", editable and bdef is not None)
    others = len(block_model.instances(view.document.root.graph, node.block)) > 1
    add(f"Make '{node_id}' unique", view.make_unique_selected, None, editable and bdef is not None and others)
    add(f"Save block {node.block} to my library…", lambda: view.save_block_to_library(node.block), None,
        bdef is not None)
