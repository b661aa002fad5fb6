"""Weight sharing: a node may name another node (`"shares": "enc1"` in the project file) whose
weights it uses.

- Same type: one module, registered once under the other node's id and called at both places (a
  siamese encoder applied to two inputs). Both nodes need the same resolved params and input shapes.
- A Linear naming an Embedding: the Linear's weight is the Embedding's (`decoder.weight =
  encoder.weight`, the tied embedding/decoder of a language model; an Embedding's [num_embeddings,
  embedding_dim] table is exactly a Linear(embedding_dim, num_embeddings) weight). The bias stays
  the Linear's own.

`check_sharing` is the analyzer's part (each message names both nodes); `ModuleTable` the
compiler's (where a node's module is built and registered).
"""
from __future__ import annotations

import functools
import json
from typing import Any, Callable

# (sharing type, shared type) -> (the parameter tied, the check of the two NodeInfos: a reason or None)
WHOLE = "module"


def _linear_embedding(info, other) -> str | None:
    vocab, width = other.params["num_embeddings"], other.params["embedding_dim"]
    out, inp = info.params["out_features"], info.inputs[0].shape[-1]
    if out != vocab or inp != width:
        return (f"ties its weight [{out}, {inp}] (out_features, in_features) to the table of {other.label} "
                f"[{vocab}, {width}] (num_embeddings, embedding_dim); set out_features to {vocab} and feed it "
                f"{width} features")
    return None


TIES: dict[tuple[str, str], tuple[str, Callable]] = {("Linear", "Embedding"): ("weight", _linear_embedding)}


def tie_of(node_type: str, other_type: str) -> tuple[str, Callable] | None:
    return TIES.get((node_type, other_type))


def has_weights(info) -> bool:
    """Whether the node's layer holds parameters (built on the meta device: no memory, cached)."""
    try:
        key = json.dumps(info.params, sort_keys=True)
    except TypeError:
        return True  # params that are not plain data: let the build say
    return _has_weights(info.spec, key, tuple(info.inputs))


@functools.lru_cache(maxsize=4096)
def _has_weights(spec, params_key: str, inputs: tuple) -> bool:
    import torch

    with torch.device("meta"):
        module = spec.build(json.loads(params_key), list(inputs))
    return module is not None and next(iter(module.parameters()), None) is not None


def _differences(a: dict, b: dict) -> list[str]:
    return [f"{k} {a.get(k)!r} vs {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def check_sharing(graph, infos: dict, fail: Callable[[str, str], None]) -> None:
    """Report every share that cannot be made; mark the valid ones on the NodeInfos (`shares`,
    `shares_whole`, `shared_numel`) for the compiler and the parameter counts."""
    for node in graph.nodes.values():
        other_id = node.shares
        info = infos.get(node.id)
        if other_id is None or info is None or info.spec is None:
            continue
        label = info.label
        other = infos.get(other_id)
        fix = "pick another node in its Shares field, or clear it"
        if other is None:
            fail(node.id, f"{label} shares the weights of '{other_id}', which is not in the graph; {fix}")
            continue
        if other_id == node.id:
            fail(node.id, f"{label} cannot share its own weights; {fix}")
            continue
        if graph.nodes[other_id].shares:
            fail(node.id, f"{label} shares {other.label}, which itself shares "
                          f"'{graph.nodes[other_id].shares}'; share that node directly")
            continue
        if info.params is None or other.params is None or not info.outputs or not other.outputs:
            continue  # either node's own problem is reported already
        tie = tie_of(info.type, other.type)
        if info.type != other.type and tie is None:
            kinds = ", ".join(f"a {a} may tie its {p} to an {b}" for (a, b), (p, _) in TIES.items())
            fail(node.id, f"{label} cannot share the weights of {other.label}: a node shares only a node of its "
                          f"own type ({kinds}); {fix}")
            continue
        if tie is not None:
            reason = tie[1](info, other)
            if reason:
                fail(node.id, f"{label} {reason}")
                continue
            info.shares, info.shares_whole = other_id, False
            info.shared_numel = other.params["num_embeddings"] * other.params["embedding_dim"]
            continue
        if not has_weights(other):
            fail(node.id, f"{label} shares {other.label}, which has no weights to share; clear its Shares field")
            continue
        diff = _differences(info.params, other.params)
        if diff:
            fail(node.id, f"{label} shares the weights of {other.label} but their params differ "
                          f"({'; '.join(diff)}); sharing needs the same params: make them equal")
            continue
        if list(info.inputs) != list(other.inputs):
            got = ", ".join(str(t) for t in info.inputs)
            want = ", ".join(str(t) for t in other.inputs)
            fail(node.id, f"{label} gets {got} but {other.label}, whose weights it shares, gets {want}; "
                          "a shared layer needs the same input shape at both places")
            continue
        info.shares, info.shares_whole = other_id, True


def compatible(graph, infos: dict, node_id: str) -> list[str]:
    """Ids of the nodes `node_id` could share (for the inspector's choice): of its type with the same
    params and input shapes, or the kind of node it may tie to; none that itself shares."""
    info = infos.get(node_id)
    if info is None or info.spec is None or info.params is None:
        return []
    out = []
    for other_id, other in infos.items():
        if other_id == node_id or other.params is None or graph.nodes[other_id].shares:
            continue
        tie = tie_of(info.type, other.type)
        if tie is not None:
            if info.inputs and other.outputs and tie[1](info, other) is None:
                out.append(other_id)
        elif (other.type == info.type and other.params == info.params and list(other.inputs) == list(info.inputs)
              and other.outputs and has_weights(other)):
            out.append(other_id)
    return out


class ModuleTable:
    """Builds each node's module once and registers it on `root` under its node id; a node sharing
    another of its type gets that node's module (and name) instead of its own, a tied Linear its own
    module whose weight is the Embedding's Parameter."""

    def __init__(self, analysis, root, prebuilt: dict | None = None) -> None:
        self.analysis, self.root = analysis, root
        self._built: dict[str, Any] = {}
        self._prebuilt = prebuilt or {}  # layers built already, by node id (compile_graph's `modules`)

    def _own(self, node_id: str):
        if node_id not in self._built:
            info = self.analysis.nodes[node_id]
            module = self._prebuilt.get(node_id)
            if module is None:
                module = info.spec.build(info.params, info.inputs)
            if module is not None:
                self.root.add_module(node_id, module)
            self._built[node_id] = module
        return self._built[node_id]

    def module(self, node_id: str) -> tuple[Any, str]:
        """(the module `node_id` calls, the name it is registered under)."""
        info = self.analysis.nodes[node_id]
        other = getattr(info, "shares", None)
        if other is not None and info.shares_whole:
            return self._own(other), other
        module = self._own(node_id)
        if other is not None:
            name, _ = TIES[(info.type, self.analysis.nodes[other].type)]
            setattr(module, name, getattr(self._own(other), name))  # the same Parameter: one tensor, one grad
        return module, node_id
