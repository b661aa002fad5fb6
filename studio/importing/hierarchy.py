"""The module hierarchy as blocks: each module whose class occurs more than once becomes a Block
instance; instances of one class with the same inner structure share one definition, and the inner
values that differ between them (channels, strides) become the definition's exposed params.

Containers (nn.Sequential, nn.ModuleList) and classes used once stay flat: their layers' ids carry the
path (`features_3`). Grouping goes through studio.core.blocks_edit, so the result is what a person
would get by selecting the layers and pressing Group.
"""
from __future__ import annotations

import json
from collections import Counter

from ..core import blocks_edit
from ..core.blocks import ExposedParam, Target
from ..core.graph import GraphError
from ..core.node_ids import suggest_id
from ..core.registry import default_registry
from .classes import read_class
from .from_source import from_source
from .repeats import make_repeats
from .trace import Flat

_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def make_blocks(flat: Flat) -> dict[str, list[str]]:
    """Group the flat graph into blocks; returns node id -> its compiled module path (as parts)."""
    graph = flat.graph
    paths = {node_id: [node_id] for node_id in graph.nodes}
    stacks = dict(flat.stack)
    modules: dict[str, tuple[type, int]] = {}
    for stack in stacks.values():
        for depth, (path, cls) in enumerate(stack):
            modules.setdefault(path, (cls, depth))
    counts = Counter(cls for cls, _ in modules.values())
    candidates = [p for p, (cls, _) in modules.items()
                  if cls.__name__ not in _CONTAINERS and (counts[cls] > 1 or _reads_as_definition(cls))]
    candidates.sort(key=lambda p: -modules[p][1])  # the deepest first: a block's inner blocks exist before it
    made: list[tuple[str, type]] = []  # (definition name, class) in the order made
    instance_paths: dict[str, str] = {}  # instance id -> the module path it was grouped from
    for path in candidates:
        ids = [n for n in graph.nodes if any(p == path for p, _ in stacks.get(n, ()))]
        if not ids:
            continue
        name = f"{modules[path][0].__name__}__{len(made)}"
        instance = suggest_id(path.replace(".", "_"), set(graph.nodes) - set(ids))
        try:
            blocks_edit.group(graph, ids, name, instance_id=instance)
        except GraphError:
            continue  # e.g. a layer shared across its edge: it stays flat
        made.append((name, modules[path][0]))
        instance_paths[instance] = path
        rename = _strip_prefix(graph, name, path.replace(".", "_") + "_", instance)
        modules_at = _as_source_says(graph, name, modules[path][0], rename)
        inside = set(ids)
        stacks[instance] = [e for e in stacks[ids[0]] if e[0] != path and not e[0].startswith(path + ".")]
        for parts in paths.values():
            if parts[0] in inside:
                new = rename.get(parts[0], parts[0])
                parts[:1] = [instance, modules_at.get(new, new)]
    _merge_definitions(graph, made)
    make_repeats(graph, instance_paths, paths)
    return paths


def _value(inner, node_id: str, key: str, default, absent):
    """A member's value of (node, param); a member that switches the node off agrees (`absent`)."""
    node = inner.nodes.get(node_id)
    return absent if node is None else node.params.get(key, default)


def _strip_prefix(graph, name: str, prefix: str, instance: str) -> dict[str, str]:
    """Inside the new definition, ids lose the instance's path (`layer1_0_conv1` -> `conv1`), so two
    instances of a class compare equal and the compiled keys read `layer1_0.conv1.weight`."""
    inner = graph.blocks[name].graph
    rename: dict[str, str] = {}
    for old in list(inner.nodes):
        new = suggest_id(old[len(prefix):], inner.nodes) if old.startswith(prefix) else old
        if new != old:
            try:
                inner.rename_node(old, new)
            except GraphError:
                continue
            rename[old] = new
    # a lone port reads as the templates' do: `x` in, `out` out
    for kind, name in (("BlockInput", "x"), ("BlockOutput", "out")):
        ports = [n for n, node in inner.nodes.items() if node.type == kind]
        if len(ports) == 1 and name not in inner.nodes:
            original = next((o for o, n in rename.items() if n == ports[0]), ports[0])
            inner.rename_node(ports[0], name)
            rename[original] = name
    # the instance's wires name its ports: follow the port nodes' new ids
    for e in [e for e in graph.edges if instance in (e.source, e.target)]:
        sp = rename.get(e.source_port, e.source_port) if e.source == instance else e.source_port
        tp = rename.get(e.target_port, e.target_port) if e.target == instance else e.target_port
        if (sp, tp) != (e.source_port, e.target_port):
            graph.disconnect(e)
            graph.connect(e.source, e.target, sp, tp)
    return rename


def _reads_as_definition(cls) -> bool:
    """A class used once is a definition too when its source says so: its constructor takes params
    with defaults that drive its layers, or it is an nn.Sequential of its own."""
    import torch

    info = read_class(cls)
    return info is not None and (bool(info.targets) or (issubclass(cls, torch.nn.Sequential) and bool(info.order)))


def _as_source_says(graph, name: str, cls, rename: dict) -> dict[str, str]:
    """An nn.Sequential subclass becomes a sequential definition, its layers named after the locals
    passed to super().__init__ (compiled, they are numbered: returns new id -> its index); the
    docstring is the definition's doc."""
    import torch

    info = read_class(cls)
    if info is None:
        return {}
    d = graph.blocks[name]
    inner = d.graph
    layers = [n for n, node in inner.nodes.items() if node.type not in ("BlockInput", "BlockOutput")]
    sequential = issubclass(cls, torch.nn.Sequential) and len(info.order) == len(layers)
    graph.blocks.set_options(name, sequential=sequential or d.sequential, doc=info.doc or d.doc)
    if not sequential:
        return {}
    at = {}
    for k, (old, new) in enumerate(zip(layers, info.order)):
        if new != old and new not in inner.nodes:
            inner.rename_node(old, new)
            for original, now in rename.items():
                if now == old:
                    rename[original] = new
        at[new if new in inner.nodes else old] = str(k)
    return at


def _structure(d, gated: set = frozenset()) -> str:
    """The nodes and wires of a definition, with the layers in `gated` bypassed (a switched-off
    layer passes its input through), so a BasicBlock with a shortcut layer and one without compare
    equal when the class switches that layer on and off."""
    nodes = [(n.id, n.type, n.block, n.repeat, n.shares) for n in d.graph.nodes.values() if n.id not in gated]
    into = {e.target: e.source for e in d.graph.edges if e.target in gated}

    def origin(node_id):
        while node_id in gated and node_id in into:
            node_id = into[node_id]
        return node_id
    edges = sorted((origin(e.source), e.target, e.source_port or "", e.target_port or "") for e in d.graph.edges
                   if e.target not in gated)
    return json.dumps([sorted(nodes), edges])


def _merge_definitions(graph, made: list[tuple[str, type]]) -> None:
    """One definition per (class, structure); the values that differ become exposed params. A
    definition is compared once the blocks inside it are merged (their names are final then)."""
    classes = dict(made)
    pending = [name for name, _ in made]
    taken: Counter = Counter()
    while pending:
        ready = [n for n in pending if not any(m.block in pending for m in graph.blocks[n].graph.nodes.values())]
        waiting = {classes[n] for n in pending if n not in ready}
        ready = [n for n in ready if classes[n] not in waiting] or ready  # a class's copies compare together
        groups: dict[tuple[str, str], list[str]] = {}
        for name in ready:
            info = read_class(classes[name])
            gated = set(info.gates) if info is not None else set()
            groups.setdefault((classes[name].__name__, _structure(graph.blocks[name], gated)), []).append(name)
        for (cls_name, _), members in groups.items():
            canonical = _merge(graph, members, read_class(classes[members[0]]))
            taken[cls_name] += 1
            final = cls_name if taken[cls_name] == 1 else f"{cls_name}_{taken[cls_name]}"
            blocks_edit.rename_definition(graph, canonical, final)
        pending = [n for n in pending if n not in ready]


def _merge(graph, members: list[str], info=None) -> str:
    """Make `members` one definition; returns the one kept."""
    registry = default_registry()
    # the member that holds every switchable layer is the definition (the others switch some off)
    canonical = max(members, key=lambda m: len(graph.blocks[m].graph.nodes))
    members = [canonical, *(m for m in members if m != canonical)]
    inner = graph.blocks[canonical].graph
    preset, values, covered = from_source(graph, members, info) if info is not None else ([], {}, set())
    # (node, param) pairs whose values differ between the members; pairs that always agree with
    # each other become one exposed param (conv1 and conv2 of a BasicBlock share `out_channels`)
    differing: dict[str, list] = {}
    for node_id, node in inner.nodes.items():
        spec = inner.spec_of(node, registry)
        keys = sorted({k for m in members if node_id in graph.blocks[m].graph.nodes
                       for k in graph.blocks[m].graph.node(node_id).params})
        for key in keys:
            param = spec.param(key) if spec is not None else None
            if param is None or (node_id, key) in covered:
                continue
            mine = node.params.get(key, param.default)
            got = [_value(graph.blocks[m].graph, node_id, key, param.default, mine) for m in members]
            if any(v != got[0] for v in got):
                entry = differing.setdefault(json.dumps([param.kind, param.arity, got]), [param, got, []])
                entry[2].append(Target(node_id, key))
    names = Counter(entry[0].name for entry in differing.values())
    exposed: list[ExposedParam] = list(preset)
    values = {m: dict(values.get(m, {})) for m in members}
    reserved = {"block", "repeat", "first", "enabled"}
    for param, got, targets in differing.values():
        base = param.name if names[param.name] == 1 else f"{targets[0].node}_{param.name}"
        pname = suggest_id(base, {p.name for p in exposed} | reserved)
        exposed.append(ExposedParam(pname, param.kind, got[0], param.doc, param.min, param.max, param.choices,
                                    param.optional, param.arity, targets=tuple(targets)))
        for m, v in zip(members, got):
            values[m][pname] = v
    for p in preset:  # the definition's own layers hold the defaults, as a person's definition does
        for t in p.targets:
            if t.param != "enabled":
                spec = inner.spec_of(inner.node(t.node), registry)
                if spec.param(t.param).default == p.default:
                    inner.reset_param(t.node, t.param)
                else:
                    inner.set_param(t.node, t.param, p.default)
    if exposed:
        blocks_edit.set_exposed_params(graph, canonical, exposed)
    for m in members:
        for holder, node_id in graph.blocks.instances(m):
            g = graph if holder is None else graph.blocks[holder].graph
            if m != canonical:
                g.set_instance(node_id, block=canonical)
            for pname, v in values[m].items():
                g.set_param(node_id, pname, v)
        if m != canonical:
            blocks_edit.remove_definition(graph, m)
    return canonical
