"""The scene mirrors the document's graph: one card per node, one wire per edge.

It never edits the graph. It follows `document.graph_changed` event by event (a `reset` rebuilds
everything; any other event touches only the items it names) and `analysis_changed` (cards and
wires repaint only where what they show changed). Selection is kept in sync with the document.

An edit near the input of a large graph changes every downstream shape. The scene compares old
and new per card and per wire and touches only what changed; of that, what no view shows yet is
left stale and brought up to date when it is painted or read: cards whose only change is their
shapes build their new face on their next detailed paint (NodeItem.defer), and pills whose width
changed are placed when a view is about to show them (`place_stale_pills`, from the view's paint).

Opening a file (`rebuild`) makes every item at once: nothing per item that the first paint, at
whatever zoom, does not need (no pill items, elided texts or tooltips yet; see the items), and the
scene rect set once from the graph. (Pausing the garbage collector while the items are made was
tried: the full collection it saved from the open landed in the first edit instead.)"""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPolygonF
from PySide6.QtWidgets import QGraphicsScene

from studio.core.graph import Edge, GraphEvent, GraphEventKind

from ..block_model import BLOCK_TYPE, BLOCKS_CHANGED

from ..theme import current_theme
from . import style
from .block_card import card_for
from .block_expand import sync_expanded
from .node_item import NodeItem
from .wire_item import WireItem

RECT_MARGIN = 3000.0


class CanvasScene(QGraphicsScene):
    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.theme = style.theme(current_theme())  # the app's theme at start-up (a light one is remembered)
        self.registry = document.analyzer.registry
        self.nodes: dict[str, NodeItem] = {}
        self.wires: dict[Edge, WireItem] = {}
        self._syncing = False
        self._dirty: set[str] = set()  # cards whose params changed since the last analysis
        self._selected_wires: set = set()
        self.stale_pills: set[WireItem] = set()  # wires whose pill must be placed before it is seen
        self._resized: dict[NodeItem, QRectF] = {}  # cards whose height changed -> their rect before
        self.show_ports = True  # False when zoomed out: ports are neither drawn nor targets
        self.expanded: set[str] = set()  # blocks drawn expanded in place (a view choice: block_expand)
        # The scene's rect is fixed around the cards (see _fit_rect): its index divides that rect,
        # so a huge rect would leave hundreds of items per index cell, and an automatic one that
        # grows with every wire rebuilds the whole index on the next query. The view pans further.
        self.setItemIndexMethod(QGraphicsScene.BspTreeIndex)
        document.graph_changed.connect(self._on_graph_event)
        document.analysis_changed.connect(self._on_analysis)
        document.selection_changed.connect(self._on_document_selection)
        document.locked_changed.connect(self._on_locked)
        self.selectionChanged.connect(self._on_scene_selection)
        self.rebuild()

    @property
    def graph(self):
        return self.document.graph

    # ---- building ---------------------------------------------------------------------------
    def rebuild(self) -> None:
        self._syncing = True
        try:
            for wire in self.wires.values():
                wire.detach()
            self.clear()
            self.nodes.clear()
            self.wires.clear()
            self.stale_pills.clear()
            self._resized.clear()
            analysis = self.document.analysis
            warnings = self._warnings(analysis)
            self._fit_rect()  # around every card: no card needs to grow it (_ensure_in_rect)
            for node in self.graph.nodes.values():
                self._add_node(node, analysis.nodes.get(node.id), warnings.get(node.id), grow_rect=False)
            errors = {n for n, i in analysis.nodes.items() if i.error}
            for edge in self.graph.edges:
                wire = self._add_wire(edge, route=False)  # new ports: nothing to repaint yet
                if wire is not None:
                    wire.set_type(analysis.edge_types.get(edge), edge.target in errors, reroute=False)
            # route the wires once every card is in place; their pills are placed when first seen
            # (placing one asks the scene's index which cards it would cover)
            for wire in self.wires.values():
                wire.route_later()
        finally:
            self._syncing = False
        self.expanded.clear()  # another level or file: nothing is expanded there yet
        self._on_document_selection(self.document.selection)

    def _add_node(self, node, info=None, warning=None, grow_rect: bool = True) -> NodeItem:
        item = NodeItem(node.id, self.card(node, info, warning))
        if info is not None:
            item.shown_outputs, item.shown_key = info.outputs, (info.error, warning)
        item.setPos(QPointF(*node.pos))
        self.addItem(item)
        self.nodes[node.id] = item
        if grow_rect:
            self._ensure_in_rect(item)
        if not self.show_ports:
            for port in item.ports():
                port.setVisible(False)
        return item

    def _ensure_in_rect(self, item: NodeItem) -> None:
        rect = item.sceneBoundingRect()
        if not self.sceneRect().contains(rect):
            grown = rect.adjusted(-RECT_MARGIN, -RECT_MARGIN, RECT_MARGIN, RECT_MARGIN)
            self.setSceneRect(self.sceneRect().united(grown))

    def _fit_rect(self) -> None:
        """Set the scene rect to a margin around where the graph's cards are (from the graph, before
        any item exists: asking an unset scene rect costs a pass over every item). It only grows,
        by _ensure_in_rect, until the next rebuild."""
        xs = [n.pos[0] for n in self.graph.nodes.values()] or [0.0]
        ys = [n.pos[1] for n in self.graph.nodes.values()] or [0.0]
        bounds = QRectF(min(xs), min(ys), max(xs) - min(xs) + style.NODE_WIDTH, max(ys) - min(ys) + 200)
        self.setSceneRect(bounds.adjusted(-RECT_MARGIN, -RECT_MARGIN, RECT_MARGIN, RECT_MARGIN))

    def _add_wire(self, edge: Edge, route: bool = True) -> WireItem | None:
        src, dst = self.nodes.get(edge.source), self.nodes.get(edge.target)
        if src is None or dst is None:
            return None
        out_port, in_port = src.output_port(edge.source_port), dst.input_port(edge.target_port)
        if out_port is None or in_port is None:
            return None  # the analyzer reports the bad port; there is nothing to draw it between
        wire = WireItem(edge, out_port, in_port)
        self.addItem(wire)  # (its pill enters the scene when first placed)
        self.wires[edge] = wire
        if route:
            wire.update_path()
            out_port.update()  # filled now that a wire ends there
            in_port.update()
        return wire

    def _remove_wire(self, edge: Edge) -> None:
        wire = self.wires.pop(edge, None)
        if wire is not None:
            self.stale_pills.discard(wire)
            wire.detach()
            wire.remove_pill()
            self.removeItem(wire)

    # ---- graph events -------------------------------------------------------------------------
    def _on_graph_event(self, event: GraphEvent) -> None:
        kind = event.kind
        if kind == GraphEventKind.RESET:
            self.rebuild()
        elif kind == GraphEventKind.NODE_ADDED:
            self._add_node(self.graph.node(event.node_id))
        elif kind == GraphEventKind.NODE_REMOVED:
            item = self.nodes.pop(event.node_id, None)
            if item is not None:
                for edge in [e for e in self.wires if e.touches(event.node_id)]:
                    self._remove_wire(edge)
                self._syncing = True
                try:
                    self.removeItem(item)
                finally:
                    self._syncing = False
                self._sync_selection_to_document()
        elif kind == GraphEventKind.PARAM_CHANGED:
            self._dirty.add(event.node_id)
        elif kind == GraphEventKind.EDGE_ADDED:
            self._add_wire(event.edge)
        elif kind == GraphEventKind.EDGE_REMOVED:
            self._remove_wire(event.edge)
        elif kind == GraphEventKind.NODE_MOVED:
            item = self.nodes.get(event.node_id)
            if item is not None:
                item.move_to(QPointF(*event.value))
                self._ensure_in_rect(item)
        elif kind == GraphEventKind.NODE_RENAMED:
            self._rename(event.node_id, event.name)
        elif kind == BLOCKS_CHANGED:  # a definition changed: its instances' cards show it anew
            self._dirty.update(n for n, node in self.graph.nodes.items() if node.type == BLOCK_TYPE)

    def card(self, node, info, warning=None):
        """What the card of `node` shows (a block's card reads its definition)."""
        return card_for(node, info, self.registry.get(node.type), warning, self.graph)

    def _show_card(self, item: NodeItem, data) -> None:
        """Show new card data; a block whose ports changed (its definition gained or renamed one)
        has its wires taken off and put back on the new ports."""
        old = item.data
        if old is None or (old.inputs, old.outputs) == (data.inputs, data.outputs):
            item.set_data(data)
            return
        edges = [e for e in self.wires if e.touches(item.node_id)]
        for edge in edges:
            self._remove_wire(edge)
        item.set_data(data)
        for edge in edges:
            self._add_wire(edge)

    def _rename(self, old: str, new: str) -> None:
        item = self.nodes.pop(old, None)
        if item is None:
            return
        self.nodes[new] = item
        item.node_id = new
        self._dirty.add(new)
        for edge in [e for e in self.wires if e.touches(old)]:
            wire = self.wires.pop(edge)
            wire.edge = Edge(new if edge.source == old else edge.source, new if edge.target == old else edge.target,
                             edge.source_port, edge.target_port)
            self.wires[wire.edge] = wire
        self._sync_selection_to_document()

    # ---- analysis -----------------------------------------------------------------------------
    @staticmethod
    def _warnings(analysis) -> dict[str, str]:
        out: dict[str, str] = {}
        for p in analysis.problems:
            if not p.is_error and p.node_id and p.node_id not in out:
                out[p.node_id] = p.message
        return out

    def _on_analysis(self, analysis) -> None:
        """Repaint what changed. The analyzer hands back the very same outputs list for a node whose
        type, params and inputs did not change (its inference cache), so an unchanged card is
        recognised by identity without recomputing what it shows. A card whose only change is its
        shapes gets its new data on its next detailed paint (or read)."""
        warnings = self._warnings(analysis)
        graph_nodes, infos = self.graph.nodes, analysis.nodes
        dirty, self._dirty = self._dirty, set()
        repaint = self.shows_detail()
        for node_id, item in self.nodes.items():
            node = graph_nodes.get(node_id)
            if node is None:
                continue
            info = infos.get(node_id)
            outs = info.outputs if info is not None else None
            key = (info.error if info is not None else None, warnings.get(node_id))
            if key == item.shown_key and node_id not in dirty:
                if outs is item.shown_outputs:
                    continue  # the same inference result, so the same inputs: nothing to show anew
                # only the shapes changed: the card's height and zoomed-out face stay the same
                item.defer(partial(self.card, node, info, key[1]), repaint)
                item.shown_outputs = outs
                continue
            self._show_card(item, self.card(node, info, key[1]))
            item.shown_outputs, item.shown_key = outs, key
        edge_types = analysis.edge_types
        for edge, wire in self.wires.items():
            info = infos.get(edge.target)
            wire.set_type(edge_types.get(edge), bool(info is not None and info.error))
        if self.expanded:
            sync_expanded(self)
        self.reroute_resized()

    # ---- cards that change size -----------------------------------------------------------------
    def note_resized(self, item: NodeItem, old: QRectF) -> None:
        """A card's height changed (NodeItem._resize); its wires are re-routed in one pass
        (`reroute_resized`) once every card of the change has its new size."""
        self._resized.setdefault(item, old)

    def reroute_resized(self) -> int:
        """Route anew the wires of the cards whose size changed (where their ports moved) and every
        wire that runs back between rows across what a card covered before or covers now: its lane
        must stay clear of the cards (routing.py). Returns how many wires were routed."""
        resized, self._resized = self._resized, {}
        if not resized:
            return 0
        wires: set[WireItem] = set()
        areas = []
        for item, old in resized.items():
            if item.scene() is not self:
                continue
            areas.append(old.united(QRectF(item.pos().x(), item.pos().y(), style.NODE_WIDTH, item.height)))
            for port in item.ports():
                wires.update(w for w in port.wires if w.ends != (w.source_port.scenePos(), w.target_port.scenePos()))
        if areas:
            for wire in self.wires.values():
                # (only a backward wire's route depends on the cards; its control rect holds its lane)
                if wire.backward and wire not in wires:
                    span = wire.visible_area()
                    if any(span.intersects(a) for a in areas):
                        wires.add(wire)
        for wire in wires:
            self.stale_pills.discard(wire)
            wire.update_path()
        return len(wires)

    def shows_detail(self) -> bool:
        """Whether some view shows this scene in detail (or none shows it at all: offscreen use)."""
        views = self.views()
        return not views or any(v.transform().m11() >= style.LOD_SIMPLE for v in views)

    def place_stale_pills(self, rect: QRectF | None = None) -> int:
        """Place the stale pills of wires that run through `rect` (all of them without one)."""
        if not self.stale_pills:
            return 0
        if rect is None:
            todo = list(self.stale_pills)
        else:
            todo = [w for w in self.stale_pills if w.visible_area().intersects(rect)]
        for wire in todo:
            self.stale_pills.discard(wire)
            wire.place_pill()
        return len(todo)

    def bring_up_to_date(self) -> None:
        """Apply everything deferred (before rendering the whole scene offscreen)."""
        for item in self.nodes.values():
            if item.stale:
                item.refresh()
        self.reroute_resized()
        self.place_stale_pills()

    # ---- selection ----------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n for n in self.graph.nodes if n in chosen]

    def selected_wires(self) -> list[WireItem]:
        return [i for i in self.selectedItems() if isinstance(i, WireItem)]

    def _on_scene_selection(self) -> None:
        wires = set(self.selected_wires())
        for wire in wires ^ self._selected_wires:  # pills are cached: repaint them in the new colour
            wire.update_pill()
        self._selected_wires = wires
        if not self._syncing:
            self._sync_selection_to_document()

    def _sync_selection_to_document(self) -> None:
        self.document.set_selection(self.selected_ids())

    def _on_document_selection(self, ids) -> None:
        if set(ids) == set(self.selected_ids()):
            return
        self._syncing = True
        try:
            wanted = set(ids)
            for item in self.selectedItems():
                if not (isinstance(item, NodeItem) and item.node_id in wanted):
                    item.setSelected(False)
            for node_id in ids:
                item = self.nodes.get(node_id)
                if item is not None:
                    item.setSelected(True)
        finally:
            self._syncing = False

    def select_only(self, node_ids) -> None:
        """Select these nodes (and nothing else), and tell the document once."""
        self._syncing = True
        try:
            self.clearSelection()
            for node_id in node_ids:
                item = self.nodes.get(node_id)
                if item is not None:
                    item.setSelected(True)
        finally:
            self._syncing = False
        self._sync_selection_to_document()

    # ---- theme and lock -----------------------------------------------------------------------
    def set_theme(self, theme: style.Theme) -> None:
        self.theme = theme
        for item in self.nodes.values():
            item.update()  # items cache their painting: each must be told
            for port in item.ports():
                port.update()
        for wire in self.wires.values():
            wire.update()  # and its pill
        self.update()

    def set_show_ports(self, show: bool) -> None:
        """Zoomed out, hide ports and shape pills: a thousand tiny items cost more to visit than
        to draw, and are too small to read or hit there anyway."""
        if show != self.show_ports:
            self.show_ports = show
            for item in self.nodes.values():
                for port in item.ports():
                    port.setVisible(show)
            for wire in self.wires.values():
                wire.set_pill_shown(show)

    def _on_locked(self, locked: bool) -> None:
        self.update()

    # ---- background grid ----------------------------------------------------------------------
    def drawBackground(self, painter, rect: QRectF) -> None:
        theme = self.theme
        painter.fillRect(rect, theme.background)
        scale = painter.worldTransform().m11() or 1.0
        step = style.GRID
        while step * scale < 14:
            step *= 5
        major = step * 5
        left, top = int(rect.left() // step) * step, int(rect.top() // step) * step
        minor_pts, major_pts = QPolygonF(), QPolygonF()
        y = top
        while y <= rect.bottom():
            x = left
            is_major_row = abs(y / major - round(y / major)) < 1e-6
            while x <= rect.right():
                if is_major_row and abs(x / major - round(x / major)) < 1e-6:
                    major_pts.append(QPointF(x, y))
                else:
                    minor_pts.append(QPointF(x, y))
                x += step
            y += step
        pen = painter.pen()
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.RoundCap)
        pen.setWidthF(1.6)
        pen.setColor(theme.grid_minor)
        painter.setPen(pen)
        painter.drawPoints(minor_pts)
        pen.setWidthF(2.6)
        pen.setColor(theme.grid_major)
        painter.setPen(pen)
        painter.drawPoints(major_pts)
