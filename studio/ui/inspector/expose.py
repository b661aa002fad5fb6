"""Right-click a param of a node inside an open block: "Expose as block param" makes it a param
of the definition (the instances then set it), "Stop exposing" takes it back. One command each."""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QMenu

from .. import block_commands


def driving(bdef, node_id: str, param: str):
    """The exposed param of `bdef` that drives `node_id`.`param` (None: none does)."""
    return next((p for p in bdef.params if any(t.node == node_id and t.param == param for t in p.targets)), None)


def expose(bdef, node_id: str, param, value):
    """The definition's exposed params with `node_id`.`param` exposed (named after the param,
    made unique), starting at the inner node's current value."""
    from studio.core.blocks import ExposedParam, Target
    from studio.core.graph import suggest_id

    name = suggest_id(param.name, {p.name for p in bdef.params})
    new = ExposedParam(name=name, kind=param.kind, default=value, doc=param.doc or f"{node_id}.{param.name}",
                       min=param.min, max=param.max, choices=param.choices, optional=param.optional,
                       arity=param.arity, targets=(Target(node_id, param.name),))
    return tuple(bdef.params) + (new,), name


def unexpose(bdef, node_id: str, param: str):
    out = []
    for p in bdef.params:
        targets = tuple(t for t in p.targets if not (t.node == node_id and t.param == param))
        if targets:
            out.append(p if targets == p.targets else replace(p, targets=targets))
    return tuple(out)


def expose_menu(panel, node_id: str | None, param_name: str, label, pos) -> QMenu | None:
    doc = panel.document
    bdef = doc.definition
    if bdef is None or node_id is None or node_id not in doc.graph:
        return None
    info = doc.analysis.nodes.get(node_id)
    spec = info.spec if info is not None else None
    param = spec.param(param_name) if spec is not None else None
    if param is None:
        return None
    root = doc.root.graph
    menu = QMenu(label)
    menu.setObjectName("exposeMenu")
    current = driving(bdef, node_id, param_name)
    if current is None:
        node = doc.graph.node(node_id)
        value = node.params.get(param_name, (info.params or {}).get(param_name, param.default))
        params, name = expose(bdef, node_id, param, value)
        menu.addAction("Expose as block param", lambda: block_commands.push_checked(doc, block_commands.SetExposedParams(
            root, bdef.name, params, f"Expose {node_id}.{param_name} as {bdef.name}.{name}")))
    else:
        menu.addAction(f"Stop exposing (driven by {bdef.name}.{current.name})", lambda: block_commands.push_checked(
            doc, block_commands.SetExposedParams(root, bdef.name, unexpose(bdef, node_id, param_name),
                                                 f"Stop exposing {node_id}.{param_name}")))
    panel.expose_menu = menu  # (tests find it here)
    if pos is not None:
        menu.popup(label.mapToGlobal(pos))
    return menu
