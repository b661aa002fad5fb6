"""What a graph tells its listeners: the kinds of change (GraphEventKind), the event, and the error
of an edit that cannot be made. Apart from graph.py, so the block library can speak them too."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    source_port: str | None = None  # None: the node's first port
    target_port: str | None = None

    def touches(self, node_id: str) -> bool:
        return self.source == node_id or self.target == node_id


class GraphError(ValueError):
    """An edit that cannot be made (unknown node, duplicate id, ...)."""


class GraphEventKind(str, Enum):
    """What a GraphEvent says happened. A `str` Enum, so a listener comparing with the plain
    name still works; studio/ compares with the members."""

    NODE_ADDED = "node_added"
    NODE_REMOVED = "node_removed"
    EDGE_ADDED = "edge_added"
    EDGE_REMOVED = "edge_removed"
    PARAM_CHANGED = "param_changed"
    NODE_MOVED = "node_moved"
    NODE_RENAMED = "node_renamed"
    RESET = "reset"  # everything may have changed (a file opened, a batch of edits applied)
    # a block definition was added, removed or renamed, or its inner graph or exposed params
    # changed (event.name: the definition; event.value: the inner graph's event, if one)
    BLOCKS_CHANGED = "blocks_changed"
    EDIT_DONE = "edit_done"  # the last event of one held edit (Graph.hold); changes nothing itself

    def __str__(self) -> str:
        return self.value

    @property
    def changes_wiring(self) -> bool:
        """Nodes or wires came or went (a move or a param edit leaves the topology alone)."""
        return self not in (GraphEventKind.NODE_MOVED, GraphEventKind.PARAM_CHANGED, GraphEventKind.EDIT_DONE,
                            GraphEventKind.BLOCKS_CHANGED)


@dataclass(frozen=True)
class GraphEvent:
    """What changed. `structural` is False for moves (which never change shapes) and for the
    end of a held edit."""

    kind: GraphEventKind
    node_id: str | None = None
    edge: Edge | None = None
    name: str | None = None  # param name, or the new id for node_renamed
    value: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", GraphEventKind(self.kind))  # a plain name is taken too

    @property
    def structural(self) -> bool:
        return self.kind not in (GraphEventKind.NODE_MOVED, GraphEventKind.EDIT_DONE)


Listener = Callable[[GraphEvent], None]
