"""Find which node an exporter stumbles on, so the message can name it: run the model once
recording every node's inputs and result, then try the failing step on one layer at a time."""
from __future__ import annotations

import re
from typing import Callable

from .quiet import quiet


def record(model, inputs: tuple) -> dict:
    """node name -> (args, kwargs, result) for every node of an fx GraphModule, on real tensors."""
    import torch
    from torch import fx

    seen: dict = {}

    class _Recorder(fx.Interpreter):
        def run_node(self, n):
            args, kwargs = self.fetch_args_kwargs_from_env(n)
            result = super().run_node(n)
            seen[n.name] = (args, kwargs, result)
            return result

    with torch.no_grad():
        _Recorder(model).run(*inputs)
    return seen


def layer_type(prep, node_id: str) -> str:
    info = prep.analysis.nodes.get(node_id)
    return info.type if info is not None else "layer"


def find_culprit(prep, inputs: tuple, attempt: Callable) -> tuple[str, str, str] | None:
    """attempt(module, args, kwargs) raises when a layer cannot be exported. Returns (node id,
    node type, first line of the error) for the first layer that fails alone, or None."""
    try:
        seen = record(prep.model, inputs)
    except Exception:  # noqa: BLE001 - diagnosis only; the caller reports the original error
        return None
    for node in prep.model.graph.nodes:
        if node.op != "call_module" or node.name not in seen:
            continue
        args, kwargs, _ = seen[node.name]
        module = prep.model.get_submodule(node.target)
        try:
            with quiet():
                attempt(module, args, kwargs)
        except Exception as exc:  # noqa: BLE001
            return node.target, layer_type(prep, node.target), first_line(exc)
    return _first_failing_prefix(prep, inputs, attempt, seen)


def _first_failing_prefix(prep, inputs: tuple, attempt: Callable, seen: dict) -> tuple[str, str, str] | None:
    """Every layer passes alone (a mask built between layers, or a layer that fails only with what
    flows into it): bisect the model's leading parts for the first one that fails, and name the
    node whose wiring made its last operation (the compiler tags each operation with its node)."""
    nodes = [n for n in prep.model.graph.nodes if n.op.startswith("call_") and "node_id" in n.meta]

    def failure(k: int) -> str | None:
        try:
            part = _leading_part(prep.model, nodes[k], seen)
            with quiet():
                attempt(part, inputs, {})
        except Exception as exc:  # noqa: BLE001
            return first_line(exc)
        return None

    lo, hi, error = 0, len(nodes) - 1, None
    if not nodes or (error := failure(hi)) is None:
        return None
    while lo < hi:  # invariant: the part up to nodes[hi] fails
        mid = (lo + hi) // 2
        found = failure(mid)
        if found is None:
            lo = mid + 1
        else:
            hi, error = mid, found
    node_id = nodes[hi].meta["node_id"]
    return node_id, layer_type(prep, node_id), error


def _leading_part(model, last, seen: dict):
    """A GraphModule of `model`'s operations up to `last`, returning every tensor they make."""
    import torch
    from torch import fx

    graph, env, outs = fx.Graph(), {}, []
    for n in model.graph.nodes:
        if n.op == "output":
            break
        env[n] = graph.node_copy(n, env.__getitem__)
        if n.op != "placeholder" and isinstance(seen.get(n.name, (None, None, None))[2], torch.Tensor):
            outs.append(env[n])
        if n is last:
            break
    graph.output(tuple(outs))
    return fx.GraphModule(model, graph)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def first_line(exc: BaseException) -> str:
    """The most telling line of an exporter's error: the root cause from the ONNX exporter's
    "Exception summary" when there is one, else the first non-empty line."""
    text = _ANSI.sub("", str(exc))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if "## Exception summary" in lines:
        rest = lines[lines.index("## Exception summary") + 1:]
        if rest:
            return re.sub(r"^<class '[\w.]+'>: ", "", rest[0])[:300]
    return lines[0][:300] if lines else type(exc).__name__
