"""A block definition's exposed params as its class's source declares them (classes.py): each
constructor parameter with a default that drives a layer's param, a nested block's param or a
layer's switch (`... if downsample else None`), named, defaulted and documented as in the source,
with each instance's value read back from its layers."""
from __future__ import annotations

from ..core.blocks import ExposedParam, Target
from ..core.registry import default_registry

_KINDS = {"int": "int", "float": "float", "bool": "bool", "str": "str"}
_RESERVED = {"block", "repeat", "first", "enabled"}


def from_source(graph, members: list[str], info) -> tuple[list[ExposedParam], dict[str, dict], set]:
    """(exposed params, member definition -> {param: value}, the (node, param) pairs they cover).
    `members[0]` is the definition that holds every layer."""
    registry = default_registry()
    inner = graph.blocks[members[0]].graph
    exposed: list[ExposedParam] = []
    values: dict[str, dict] = {m: {} for m in members}
    covered: set = set()
    for name, default in info.params.items():
        kind = _KINDS.get(info.kinds.get(name, ""))
        if kind is None or name in _RESERVED:
            continue
        targets, like = [], None
        for attr, arg in info.targets.get(name, []):
            node = inner.nodes.get(attr)
            if node is None:
                continue
            if arg == "enabled":
                targets.append(Target(attr, "enabled"))
                continue
            spec = inner.spec_of(node, registry)
            param = spec.param(arg) if spec is not None else None
            if param is not None:
                targets.append(Target(attr, arg))
                like = like or param
        if not targets:
            continue
        if like is None:
            exposed.append(ExposedParam(name, kind, default, info.docs.get(name, ""), targets=tuple(targets)))
        else:  # the bounds of the layer param it sets; an int stays an int where a size takes one
            kind = "int" if like.kind == "size" and kind == "int" else like.kind
            exposed.append(ExposedParam(name, kind, default, info.docs.get(name, like.doc), like.min, like.max,
                                        like.choices, like.optional, like.arity, targets=tuple(targets)))
        covered |= {(t.node, t.param) for t in targets}
        for m in members:
            values[m][name] = _instance_value(graph.blocks[m].graph, targets, default, registry)
    return exposed, values, covered


def _instance_value(inner, targets, default, registry):
    """The value one member's layers show for a param: the first target it holds."""
    for t in targets:
        node = inner.nodes.get(t.node)
        if t.param == "enabled":
            return node is not None
        if node is None:
            continue
        spec = inner.spec_of(node, registry)
        return node.params.get(t.param, spec.param(t.param).default)
    return default
