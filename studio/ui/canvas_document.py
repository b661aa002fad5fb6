"""What the canvas and the inspector see: the document at one level of its blocks.

At the root this is the document itself (its graph, analysis, selection). Opened into a block
(double-click a block card), it is that block definition's inner graph: its events, the root
analysis's infos for the nodes inside (by their dotted path, `layer2.0.conv1`, seen under their
inner ids), and a selection of its own. The canvas, its interactions and the inspector are the same
code at every level, and edit an inner graph with the same commands as the root; every command
still goes onto the document's one undo stack. Opening a block is a view choice, never an edit.

When the block shown goes away (undo of a group, an ungroup, another file), the view goes back up
to the deepest level that still exists."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from studio.core.graph import GraphEvent, GraphEventKind
from studio.core.problems import WARNING, Problem

from . import block_model
from .block_commands import BlockCommand, InDefinition


class UnanalysedLevel:
    """What the canvas shows inside a block no analysis reached (nothing arrives at its inputs):
    no shapes, and one problem saying why."""

    def __init__(self, graph, why: str) -> None:
        self.nodes: dict = {}
        self.problems = [Problem(WARNING, why)]
        self.order = list(graph.nodes)
        self.inputs: list = []
        self.outputs: list = []
        self.edge_types: dict = {}
        self.ok = False
        self.errors: list = []
        self.warnings = self.problems

    def problems_for(self, node_id: str) -> list:
        return []


class CanvasDocument(QObject):
    """A facade over `Document` with the few members the canvas and inspector use (graph,
    analysis, selection, push, locked and their signals); anything else is the document's."""

    graph_changed = Signal(object)
    analysis_changed = Signal(object)
    selection_changed = Signal(list)
    locked_changed = Signal(bool)
    level_changed = Signal()  # the canvas went into or out of a block

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent if parent is not None else document)
        self.root = document
        self.trail: list[str] = []  # instance ids from the root down to the block shown
        self._graph = None  # the shown inner graph (None: the root)
        self._unsubscribe = None
        self._selection: list[str] = []
        self._shown_crumbs: list = []
        self._analysis_cache = (None, None)  # (root analysis, its LevelAnalysis)
        document.graph_changed.connect(self._on_root_event)
        document.analysis_changed.connect(self._on_root_analysis)
        document.selection_changed.connect(self._on_root_selection)
        document.locked_changed.connect(self.locked_changed)

    def __getattr__(self, name):  # project, undo_stack, analyzer, path, save, ...
        if name in ("root", "_graph"):
            raise AttributeError(name)
        return getattr(self.root, name)

    # ---- the level shown ----------------------------------------------------------------------
    @property
    def at_root(self) -> bool:
        return self._graph is None

    @property
    def graph(self):
        return self.root.graph if self._graph is None else self._graph

    @property
    def definition(self):
        """The BlockDef shown (None at the root)."""
        return block_model.resolve(self.root.graph, self.trail)[-1][1] if self.trail else None

    def crumbs(self) -> list[tuple[str, str | None]]:
        """(instance id, definition name) per level below the root."""
        return [(iid, bdef.name) for iid, bdef in block_model.resolve(self.root.graph, self.trail)]

    def repeat_shown(self) -> int:
        """How many copies the open block's instance chains (1 at the root)."""
        if not self.trail:
            return 1
        graph = self.root.graph
        for _iid, bdef in block_model.resolve(graph, self.trail[:-1]):
            graph = bdef.graph
        node = graph.nodes.get(self.trail[-1])
        return block_model.repeat_of(node) if node is not None else 1

    def open_block(self, instance_id: str) -> bool:
        """Show the inside of the block instance `instance_id` of the graph shown now."""
        node = self.graph.nodes.get(instance_id)
        if node is None or block_model.definition_of(self.root.graph, node) is None:
            return False
        self._go(self.trail + [instance_id])
        return True

    def show_path(self, path: str) -> str | None:
        """Open the blocks on a dotted path (`stage2.0.conv`, as problems name nodes inside blocks)
        and select the node it ends at; returns that node's id (None: the path leads nowhere)."""
        parts = [p for p in path.split(".") if p]
        trail: list[str] = []
        graph = self.root.graph
        while parts:
            node_id = parts.pop(0)
            node = graph.nodes.get(node_id)
            if node is None:
                return None
            bdef = block_model.definition_of(self.root.graph, node)
            if not parts or bdef is None:
                break
            if block_model.repeat_of(node) > 1 and parts[0].isdigit():
                parts.pop(0)  # the copy: every copy shows the same inside
            trail.append(node_id)
            graph = bdef.graph
        self._go(trail)
        self.set_selection([node_id])
        return node_id

    def go_up(self, levels: int = 1) -> bool:
        if not self.trail:
            return False
        self._go(self.trail[:max(0, len(self.trail) - levels)])
        return True

    def go_to_level(self, depth: int) -> None:
        """0: the root; n: the n-th block on the trail."""
        if depth < len(self.trail):
            self._go(self.trail[:depth])

    def _go(self, trail: list[str]) -> None:
        levels = block_model.resolve(self.root.graph, trail)
        trail = trail[:len(levels)]
        graph = levels[-1][1].graph if levels else None
        if trail == self.trail and graph is self._graph:
            return
        came_from = self.trail[len(trail)] if len(trail) < len(self.trail) else None
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        self.trail, self._graph = trail, graph
        if graph is not None:
            self._unsubscribe = graph.subscribe(self.graph_changed.emit)
        self._selection = []
        self._shown_crumbs = self.crumbs()
        self.graph_changed.emit(GraphEvent(GraphEventKind.RESET))
        self.analysis_changed.emit(self.analysis)
        self.level_changed.emit()
        # going up selects the block the view came out of; the views hear the level's selection
        # even when the document's did not change (it was the block that was opened)
        self.set_selection([came_from] if came_from and came_from in self.graph else [])
        self.selection_changed.emit(self.selection)

    def recheck(self) -> None:
        """Go up to the deepest level of the trail that still exists (after any root change)."""
        levels = block_model.resolve(self.root.graph, self.trail)
        graph = levels[-1][1].graph if levels else None
        if len(levels) != len(self.trail) or graph is not self._graph:
            self._go(self.trail[:len(levels)])
        elif self.trail and self.crumbs() != self._shown_crumbs:  # a definition renamed: the same level
            self._shown_crumbs = self.crumbs()
            self.level_changed.emit()

    # ---- analysis -----------------------------------------------------------------------------
    @property
    def analysis(self):
        root = self.root.analysis
        if self._graph is None:
            return root
        inner = block_model.inner_analysis(root, self.trail)
        if inner is not None:
            return inner
        cached_for, level = self._analysis_cache
        if cached_for is not root or level is None:
            where = " › ".join(self.trail)
            level = UnanalysedLevel(self._graph, f"No shapes inside '{where}': the block gets no input "
                                    "that could be analysed (see the problems of the model around it)")
            self._analysis_cache = (root, level)
        return level

    # ---- relaying the root --------------------------------------------------------------------
    def _on_root_event(self, event) -> None:
        if self._graph is None:
            self.graph_changed.emit(event)
        elif event.kind == GraphEventKind.RESET:  # another file (or the whole graph anew): from the top
            self._go([])
        elif event.kind in (GraphEventKind.NODE_REMOVED, GraphEventKind.NODE_RENAMED, GraphEventKind.PARAM_CHANGED,
                            block_model.BLOCKS_CHANGED, GraphEventKind.EDIT_DONE):
            self._follow_rename(event)
            self.recheck()

    def _follow_rename(self, event) -> None:
        if event.kind == GraphEventKind.NODE_RENAMED and self.trail and self.trail[0] == event.node_id:
            self.trail = [event.name] + self.trail[1:]

    def _on_root_analysis(self, _analysis) -> None:
        self.recheck()
        self.analysis_changed.emit(self.analysis)

    def _on_root_selection(self, ids) -> None:
        if self._graph is None:
            self.selection_changed.emit(ids)

    # ---- selection and editing ----------------------------------------------------------------
    @property
    def selection(self) -> list[str]:
        return self.root.selection if self._graph is None else list(self._selection)

    def set_selection(self, node_ids) -> None:
        if self._graph is None:
            self.root.set_selection(node_ids)
            return
        ids = [n for n in node_ids if n in self._graph]
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit(ids)

    def push(self, command) -> bool:
        """Onto the document's one undo stack; made inside a block, the command finds the block's
        graph by its definition's name each time it runs (block_commands.InDefinition)."""
        if self._graph is not None and not isinstance(command, BlockCommand):
            command = InDefinition(self.root.graph, self.definition.name, command)
        return self.root.push(command)

    @property
    def locked(self) -> bool:
        return self.root.locked


def canvas_document(document) -> CanvasDocument:
    """The canvas facade of `document` (one per document, shared by the canvas and the inspector)."""
    if isinstance(document, CanvasDocument):
        return document
    facade = getattr(document, "_canvas_document", None)
    if facade is None:
        facade = CanvasDocument(document)
        document._canvas_document = facade
    return facade
