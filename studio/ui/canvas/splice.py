"""Splicing: a card held over a wire (a layer dragged from the palette, or an unwired card being
moved) is inserted into that wire on release, source -> node -> target, when its ports and the
shapes allow. While it hovers, the wire it would go into is drawn in the accent colour; when it
does not fit, the status bar says why and the release is a plain drop.

Whether it fits is worked out locally from the current analysis (what flows in the wire, the
node's own inference on that, and the target's inference on what the node would give it), so
hovering stays cheap on large graphs; the analyzer re-checks everything after the edit anyway.
Whether the wires may be made at all (a cycle, a port already taken) the graph decides."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt

from studio.core.graph import Edge
from studio.core.spec import ParamError
from studio.core.types import ShapeError
from studio.ui import commands

from .wire_item import WireItem

HOVER_RADIUS_PX = 12.0  # view pixels around the pointer that find a wire (a palette drag)
_SAMPLES = 24  # points along a curve when telling which of several wires is nearest


@dataclass(frozen=True)
class SplicePlan:
    edge: Edge
    in_port: str | None = None  # the node's ports, as an Edge names them
    out_port: str | None = None
    reason: str | None = None  # why it does not fit (then it is not spliced)

    @property
    def ok(self) -> bool:
        return self.reason is None


def plan_splice(document, edge: Edge, type_name: str, params: dict, node_id: str | None = None) -> SplicePlan:
    """Whether a node of `type_name` with `params` fits into the wire `edge`, and through which ports.
    `node_id`: the card held, when it is already in the graph (moved onto the wire); the graph
    says whether its two new wires may be made."""
    spec = document.analyzer.registry.get(type_name)
    if spec is None:
        return SplicePlan(edge, reason=f"there is no layer type '{type_name}'")
    if not spec.inputs:
        return SplicePlan(edge, reason=f"{type_name} has no input to take the wire")
    if not spec.outputs:
        return SplicePlan(edge, reason=f"{type_name} has no output to pass the wire on")
    required = [p for p in spec.inputs if not p.optional]  # optional ones (an LSTM's h0) may stay unwired
    if len(required) > 1:
        names = ", ".join(p.name for p in required)
        return SplicePlan(edge, reason=f"{type_name} has {len(required)} inputs ({names}); wire them by hand")
    taken = required[0] if required else spec.inputs[0]
    in_port = taken.name if len(spec.inputs) > 1 else None
    out_port = spec.outputs[0].name if len(spec.outputs) > 1 else None
    plan = SplicePlan(edge, in_port, out_port)
    graph = document.graph
    if node_id is not None and node_id in graph:
        registry = document.analyzer.registry
        reason = (graph.check_connect(edge.source, node_id, edge.source_port, in_port, registry=registry)
                  or graph.check_connect(node_id, edge.target, out_port, edge.target_port, registry=registry,
                                         replacing=edge))
        if reason:
            return SplicePlan(edge, reason=reason)
    analysis = document.analysis
    flowing = analysis.edge_types.get(edge)
    if flowing is None:
        return plan  # nothing known flows here yet (an upstream problem): the ports decide
    try:
        new = list(spec.infer(spec.resolve_params(params), [flowing if p is taken else None for p in spec.inputs]))[0]
    except (ShapeError, ParamError) as exc:
        return SplicePlan(edge, reason=_sentence(type_name, exc))
    reason = _target_refuses(document.graph, analysis, edge, new)
    if reason:
        return SplicePlan(edge, reason=f"{type_name} gives {new}, but {reason}")
    return plan


def _target_refuses(graph, analysis, edge: Edge, new) -> str | None:
    """Why the target would fail on `new` in place of what the wire carries (None: it takes it).
    A target that fails already is not held against the splice: the new node may be the fix."""
    info = analysis.nodes.get(edge.target)
    if info is None or info.spec is None or info.params is None or info.outputs is None:
        return None
    inputs = []
    wired = [e for e in graph.edges if e.target == edge.target]
    for port in info.spec.inputs:  # in the analyzer's order: per port, in wire order
        ours = [e for e in wired if info.spec.input_port(e.target_port) is port]
        if port.optional and not ours:
            inputs.append(None)  # an unwired optional port, as the analyzer passes it
        for e in ours:
            t = new if e == edge else analysis.edge_types.get(e)
            if t is None:
                return None
            inputs.append(t)
    try:
        info.spec.infer(info.params, inputs)
    except (ShapeError, ParamError) as exc:
        return _sentence(info.label, exc)
    return None


def _sentence(subject: str, exc: Exception) -> str:
    """The analyzer's way: shape and param messages are written without the node's name."""
    text = str(exc)
    return text if text.startswith(subject.split(" ")[0]) else f"{subject} {text}"


def wire_under(scene, rect: QRectF, point: QPointF) -> WireItem | None:
    """The shown wire crossing `rect` that runs nearest to `point`."""
    wires = [i for i in scene.items(rect, Qt.IntersectsItemShape) if isinstance(i, WireItem) and i.isVisible()]
    if len(wires) <= 1:
        return wires[0] if wires else None

    def distance(wire: WireItem) -> float:
        curve = wire.curve()
        best = float("inf")
        for k in range(_SAMPLES + 1):
            d = curve.pointAtPercent(k / _SAMPLES) - point
            best = min(best, d.x() * d.x() + d.y() * d.y())
        return best
    return min(wires, key=distance)


class SpliceHover:
    """The wire a held card would go into, shown while it hovers. The interactions call `update`
    as the card moves and `command` on release."""

    def __init__(self, view) -> None:
        self.view = view
        self.wire: WireItem | None = None
        self.plan: SplicePlan | None = None
        self._plans: dict = {}  # (edge, what is held, graph revision) -> plan

    def update(self, rect: QRectF, point: QPointF, type_name: str, params: dict, key,
               node_id: str | None = None) -> None:
        wire = wire_under(self.view.canvas_scene, rect, point)
        if wire is self.wire:
            return
        self.clear()
        if wire is None:
            return
        document = self.view.document
        cache_key = (wire.edge, key, document.graph.revision)
        plan = self._plans.get(cache_key)
        if plan is None:
            plan = self._plans[cache_key] = plan_splice(document, wire.edge, type_name, params, node_id)
        self.wire, self.plan = wire, plan
        where = f"{wire.edge.source} → {wire.edge.target}"
        if plan.ok:
            wire.set_splice_hint(True)
            self.view.status_message.emit(f"Release to insert {type_name} into {where}")
        else:
            self.view.status_message.emit(f"Would not insert into {where}: {plan.reason}")

    def clear(self) -> None:
        if self.wire is not None:
            self.wire.set_splice_hint(False)
        self.wire, self.plan = None, None

    def take(self) -> SplicePlan | None:
        """The plan for the wire under the card now (it may be refused), and stop showing it."""
        plan = self.plan if self.wire is not None and self.wire.edge in self.view.canvas_scene.wires else None
        self.clear()
        self._plans.clear()
        return plan

    def command(self, plan: SplicePlan, first, node_id: str):
        return commands.splice(self.view.document.graph, first, plan.edge, node_id, plan.in_port, plan.out_port)

    @staticmethod
    def refused_message(plan: SplicePlan) -> str:
        return f"Not inserted into {plan.edge.source} → {plan.edge.target}: {plan.reason}"
