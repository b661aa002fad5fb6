"""Runs of one block definition as one instance with `repeat`: the children of an nn.Sequential
(torchvision's `layer1`, a stretch of MobileNetV2's `features`) that became instances of the same
definition, each feeding only the next, are one instance of that definition repeated, as a person
would draw it. The copies after the first must agree on every exposed value; where the first differs
(a stride of 2, a projection shortcut switched on) its values go to `first`."""
from __future__ import annotations

from ..core.node_ids import suggest_id


def make_repeats(graph, instance_paths: dict[str, str], paths: dict[str, list[str]]) -> None:
    """`instance_paths`: root instance id -> the module path it was grouped from. `paths` (node id ->
    its compiled module path as parts) is updated: copy k of a repeat sits at `<instance>.<k>`."""
    by_parent: dict[str, list[tuple[int, str]]] = {}
    for instance, path in instance_paths.items():
        parent, _, index = path.rpartition(".")
        if instance in graph.nodes and index.isdigit():
            by_parent.setdefault(parent, []).append((int(index), instance))
    children = {p: [i for _, i in sorted(items)] for p, items in by_parent.items()}
    for parent, members in children.items():
        siblings = sum(1 for path in _child_paths(instance_paths, parent))
        for run in _runs(graph, members):
            whole = len(run) == len(members) == siblings and parent and not _taken(graph, parent, run)
            first_index = instance_paths[run[0]].rpartition(".")[2]
            last_index = instance_paths[run[-1]].rpartition(".")[2]
            base = parent.replace(".", "_") if whole else f"{parent.replace('.', '_')}_{first_index}_{last_index}"
            _fold(graph, run, suggest_id(base, set(graph.nodes) - set(run)), paths)


def _child_paths(instance_paths: dict, parent: str):
    return (p for p in instance_paths.values() if p.rpartition(".")[0] == parent)


def _taken(graph, parent: str, run: list[str]) -> bool:
    return parent.replace(".", "_") in graph.nodes and parent.replace(".", "_") not in run


def _runs(graph, members: list[str]) -> list[list[str]]:
    """Maximal stretches (two or more) of consecutive members that can be one repeated instance."""
    runs, current = [], []
    for m in members:
        if current and _continues(graph, current, m):
            current.append(m)
        else:
            if len(current) > 1:
                runs.append(current)
            current = [m] if _repeatable(graph, m) else []
    if len(current) > 1:
        runs.append(current)
    return runs


def _repeatable(graph, node_id: str) -> bool:
    node = graph.node(node_id)
    if node.type != "Block" or node.repeat != 1:
        return False
    ins, outs = graph.blocks[node.block].ports()
    return len(ins) == 1 and len(outs) == 1


def _continues(graph, run: list[str], candidate: str) -> bool:
    last, node = graph.node(run[-1]), graph.node(candidate)
    if not _repeatable(graph, candidate) or node.block != last.block:
        return False
    if len(run) > 1 and node.params != graph.node(run[1]).params:
        return False  # the copies after the first are alike
    out, into = graph.out_edges(run[-1]), graph.in_edges(candidate)
    return len(out) == 1 and len(into) == 1 and out[0] is into[0]


def _fold(graph, run: list[str], new_id: str, paths: dict[str, list[str]]) -> None:
    first, rest = graph.node(run[0]), graph.node(run[1])
    later = dict(rest.params)
    overrides = {k: v for k, v in first.params.items() if later.get(k) != v}
    keep_out = [(e.target, e.source_port, e.target_port) for e in graph.out_edges(run[-1])]
    with graph.edit():
        for node_id in run[1:]:
            graph.remove_node(node_id)
        for name in list(first.params):
            graph.reset_param(run[0], name)
        for name, value in later.items():
            graph.set_param(run[0], name, value)
        graph.set_instance(run[0], repeat=len(run), first=overrides or None)
        for target, source_port, target_port in keep_out:
            graph.connect(run[0], target, source_port, target_port)
        if new_id != run[0]:
            graph.rename_node(run[0], new_id)
    position = {instance: k for k, instance in enumerate(run)}
    for parts in paths.values():
        if parts[0] in position:
            parts[:1] = [new_id, str(position[parts[0]])]
