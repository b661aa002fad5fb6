"""The canvas's block edits (mixed into CanvasView, like editing.EditActions): group the selection
(Ctrl+G), ungroup a block (Ctrl+Shift+G), make a block unique, open it, add a block from the
palette (a library definition is copied into the project first). Each is one command pushed through
`view.push`."""
from __future__ import annotations

from PySide6.QtCore import QPointF

from .. import block_commands, block_model
from . import style


def free_name(taken, base: str) -> str:
    """A definition name like `base` that no definition has (and that can name a class)."""
    from studio.core.graph import suggest_id

    return suggest_id(base, taken)


class BlockActions:
    """Mixed into CanvasView (which provides document, graph, canvas_scene, push, status_message)."""

    @property
    def root_graph(self):
        return self.document.root.graph

    def group_selected(self, name: str | None = None) -> str | None:
        """Group the selected nodes into a new block; returns the instance id (None: refused)."""
        ids = self.canvas_scene.selected_ids()
        if not ids:
            self.status_message.emit("Select the nodes to group first (drag a box, or Ctrl+click)")
            return None
        name = name or free_name(self.root_graph.blocks, "Block")
        reason = block_model.why_not_group(self.graph, ids)
        if reason:
            self.status_message.emit(reason)
            return None
        command = block_commands.Group(self.root_graph, self.graph, ids, name)
        if not self._push_checked(command):
            return None
        self.canvas_scene.select_only([command.instance_id])
        self.status_message.emit(f"Grouped {len(ids)} nodes into block '{command.instance_id}' ({name}); "
                                 "double-click it to open it")
        return command.instance_id

    def _push_checked(self, command) -> bool:
        """Apply a block command and push it; a refusal (the core's reason) goes to the status bar."""
        reason = block_commands.push_checked(self.document, command)
        if reason:
            self.status_message.emit(reason)
        return reason is None

    def _one_block(self) -> str | None:
        ids = [n for n in self.canvas_scene.selected_ids() if block_model.is_block(self.graph.nodes.get(n))]
        if len(ids) != 1:
            self.status_message.emit("Select one block first")
            return None
        return ids[0]

    def ungroup_selected(self) -> list[str]:
        iid = self._one_block()
        if iid is None:
            return []
        command = block_commands.Ungroup(self.root_graph, self.graph, iid)
        if not self._push_checked(command):
            return []
        ids = list(command.undo_record.node_ids)
        self.canvas_scene.select_only(ids)
        self.status_message.emit(f"Ungrouped '{iid}' into {len(ids)} nodes")
        return ids

    def make_unique_selected(self) -> str | None:
        iid = self._one_block()
        if iid is None:
            return None
        old = self.graph.node(iid).block
        new = free_name(self.root_graph.blocks, f"{old}_{iid}")
        if not self._push_checked(block_commands.MakeUnique(self.root_graph, self.graph, iid, new)):
            return None
        self.status_message.emit(f"'{iid}' now has its own definition {new}; editing it leaves the other "
                                 f"{old} blocks as they are")
        return new

    def open_selected(self) -> bool:
        iid = self._one_block()
        return iid is not None and self.document.open_block(iid)

    # ---- the user library ---------------------------------------------------------------------
    def save_block_to_library(self, name: str):
        """Write definition `name` (and what it uses) to the user library; a file already there is
        replaced only when the person says so. Returns the path written (None: not written)."""
        from .. import block_dialogs, block_library

        root = self.root_graph
        try:
            try:
                path = block_library.save(root, name)
            except FileExistsError as exc:
                if not block_dialogs.ask_overwrite_block(self, name, str(exc)):
                    self.status_message.emit(f"Block {name} not saved: the library file was kept")
                    return None
                path = block_library.save(root, name, overwrite=True)
        except OSError as exc:
            from studio.core.atomic import reason

            self.status_message.emit(f"Could not save block {name} to the library: {reason(exc)}")
            return None
        self.library_changed.emit()
        self.status_message.emit(f"Saved block {name} to your library ({path})")
        return path

    # ---- expand in place (a view choice) ------------------------------------------------------
    def is_expanded(self, node_id: str) -> bool:
        return node_id in self.canvas_scene.expanded

    def toggle_expanded(self, node_id: str) -> None:
        from .block_expand import sync_expanded

        scene = self.canvas_scene
        if node_id in scene.expanded:
            scene.expanded.discard(node_id)
        elif block_model.is_block(self.graph.nodes.get(node_id)):
            scene.expanded.add(node_id)
        sync_expanded(scene)

    # ---- blocks from the palette --------------------------------------------------------------
    def add_block_at(self, ref: dict, scene_pos) -> str | None:
        """Add an instance of the definition `ref` names (palette_blocks) with its corner at
        `scene_pos`; a library definition is copied into the project first (one undo step)."""
        from ..block_library import LibraryError, definitions_to_add

        try:
            name, records = definitions_to_add(self.root_graph, ref)
        except LibraryError as exc:
            self.status_message.emit(str(exc))
            return None
        if self.document.definition is not None and block_model.reaches(self.root_graph, name,
                                                                        self.document.definition.name):
            self.status_message.emit(f"Block {name} cannot go inside {self.document.definition.name}: "
                                     "a block cannot contain itself")
            return None
        x, y = round(scene_pos.x() / 10) * 10, round(scene_pos.y() / 10) * 10
        from ..commands import AddNode, Macro

        add = AddNode(self.graph, block_model.BLOCK_TYPE, (x, y), node_id=self.graph.unique_id(name.lower()),
                      instance={"block": name})
        parts = [block_commands.AddDefinitions(self.root_graph, records, f"Add block {name}")] if records else []
        parts.append(add if self.document.at_root else block_commands.InDefinition(
            self.root_graph, self.document.definition.name, add))
        if not self.push(Macro(f"Add block {name}", parts) if len(parts) > 1 else parts[0]):
            return None
        self.canvas_scene.select_only([add.node_id])
        copied = f" (copied {', '.join(records)} into the project)" if records else ""
        self.status_message.emit(f"Added block '{add.node_id}' ({name}){copied}")
        return add.node_id

    def add_block_at_center(self, ref: dict) -> str | None:
        c = self._center_scene_pos()
        return self.add_block_at(ref, QPointF(c.x() - style.NODE_WIDTH / 2, c.y() - 50))
