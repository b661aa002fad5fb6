"""The palette's Blocks category: the project's block definitions, the built-in ones and the user's
library. A row drags as BLOCK_MIME (JSON: where the definition comes from and its name); the canvas
makes an instance of it, copying a library definition into the project first."""
from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtWidgets import QTreeWidgetItem

from . import block_library, block_model, icons

BLOCK_MIME = "application/x-netstudio-block"
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 3  # {"source": "project" | "library", "name": ..., "path": ...}
SOURCES = (("project", "In this project"), ("builtin", "Built in"), ("user", "My library"))


def block_mime_data(ref: dict) -> QMimeData:
    mime = QMimeData()
    mime.setData(BLOCK_MIME, json.dumps(ref).encode("utf-8"))
    mime.setText(ref.get("name", ""))
    return mime


def read_block_mime(mime) -> dict | None:
    """The reference a drag carries, or None when it is not a block (or is garbled)."""
    if not mime.hasFormat(BLOCK_MIME):
        return None
    try:
        ref = json.loads(bytes(mime.data(BLOCK_MIME)).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or ref.get("source") not in (
            "project", "library"):
        return None
    return ref


class BlocksCategory:
    """Fills and refreshes the Blocks top-level row of the palette's tree."""

    def __init__(self, tree, type_role, doc_role) -> None:
        self.tree, self.type_role, self.doc_role = tree, type_role, doc_role
        self.top = QTreeWidgetItem(["Blocks"])
        self.top.setIcon(0, icons.category_icon("block"))
        self.top.setFlags(Qt.ItemFlag.ItemIsEnabled)
        tree.addTopLevelItem(self.top)  # after the layers: a first project is drawn from layers
        self.items: dict[tuple[str, str], QTreeWidgetItem] = {}  # (source, name) -> row
        self.library = block_library.Library([], [])
        self.top.setHidden(True)

    def refresh(self, root_graph, reload_library: bool = False) -> list[str]:
        """Show the project's definitions and the library's (re-read from disk when asked); returns
        the library's problems (files skipped)."""
        if reload_library:
            self.library = block_library.load()
        self.top.takeChildren()
        self.items.clear()
        rows = [("project", name, getattr(d, "doc", "") or f"{len(d.graph)} nodes", None)
                for name, d in sorted((d.name, d) for d in block_model.library(root_graph).definitions())]
        rows += [("builtin" if e.builtin else "user", e.name, e.doc, str(e.path)) for e in self.library.entries]
        labels = dict(SOURCES)
        for source, name, doc, path in rows:
            item = QTreeWidgetItem([name])
            item.setIcon(0, icons.category_icon("block"))
            ref = {"source": "project" if source == "project" else "library", "name": name}
            if path:
                ref["path"] = path
            item.setData(0, BLOCK_ROLE, ref)
            item.setData(0, self.type_role, f"block:{source}:{name}")
            # where it comes from first: the row cuts a long doc, and two rows may share a name
            item.setData(0, self.doc_role, f"{labels[source]} · {doc}" if doc else labels[source])
            item.setData(0, Qt.ItemDataRole.ToolTipRole,
                         f"<b>{name}</b> <span style='opacity:0.7'>({labels[source].lower()})</span><br>{doc}"
                         "<br><i>Drag onto the canvas, or double-click to add.</i>")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
            self.top.addChild(item)
            self.items[(source, name)] = item
        self.top.setHidden(not rows)
        if any(source == "project" for source, *_ in rows):
            self.top.setExpanded(True)  # the project's own blocks are in use: show them (the built-in
            # ones alone stay folded until asked for, below the layers)
        self.top.setData(0, Qt.ItemDataRole.ToolTipRole, f"{len(rows)} blocks")
        return list(self.library.problems)

    def names(self, source: str | None = None) -> list[str]:
        return [n for (s, n) in self.items if source is None or s == source]
