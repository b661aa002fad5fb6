"""Reading module calls out of a model's fx graphs, for the CPU rewrites that act on a few modules
in a row (relu_pool.py, conv_pool.py): only a module called once, whose output has one user, can
be computed another way without anyone else seeing the difference."""
from __future__ import annotations

from torch import fx


def call_counts(model) -> dict[int, int]:
    """id(module) -> how many call_module nodes call it, over every fx graph in the model."""
    counts: dict[int, int] = {}
    for gm in model.modules():
        if isinstance(gm, fx.GraphModule):
            for node in gm.graph.nodes:
                if node.op == "call_module":
                    m = gm.get_submodule(node.target)
                    counts[id(m)] = counts.get(id(m), 0) + 1
    return counts


def single_use_calls(model):
    """(graph module, node, called module) for every module call whose output has exactly one user."""
    for gm in model.modules():
        if not isinstance(gm, fx.GraphModule):
            continue
        for node in gm.graph.nodes:
            if node.op == "call_module" and len(node.users) == 1:
                yield gm, node, gm.get_submodule(node.target)


def calls_alone(gm, node, arg, kinds) -> bool:
    """`node` calls a module of exactly one of the types `kinds`, on `arg` alone."""
    return (node.op == "call_module" and node.args == (arg,) and not node.kwargs
            and type(gm.get_submodule(node.target)) in kinds)


def inputs_read_only_by(model, kinds) -> bool:
    """Every input of `model` (an fx graph module) is read only by modules of one of the types
    `kinds`, each called on it alone: nothing else sees the input as it was given."""
    if not isinstance(model, fx.GraphModule):
        return False
    inputs = [node for node in model.graph.nodes if node.op == "placeholder"]
    return bool(inputs) and all(node.users and all(calls_alone(model, user, node, kinds) for user in node.users)
                                for node in inputs)
