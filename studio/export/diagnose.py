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
    node type, first line of the error) for the first layer that fails alone, or None. Inside a block
    instance that fails, the layer within it that fails is named by its path (`layer2.0.conv1`)."""
    try:
        found = _culprit_in(prep, prep.model, inputs, {}, attempt, "", _block_paths(prep))
        return found or _first_failing_prefix(prep, inputs, attempt, record(prep.model, inputs))
    except Exception:  # noqa: BLE001 - diagnosis only; the caller reports the original error
        return None


def _calls(module, args: tuple, kwargs: dict):
    """(name, submodule, args, kwargs) of each layer a block's module calls, on real values: the
    call_module nodes of a GraphModule, or the items of an nn.Sequential chained."""
    import torch
    from torch import fx

    if isinstance(module, fx.GraphModule):
        seen = record(module, args)
        for node in module.graph.nodes:
            if node.op == "call_module" and node.name in seen:
                a, k, _ = seen[node.name]
                yield node.target, module.get_submodule(node.target), a, k
    elif isinstance(module, torch.nn.Sequential) and len(args) == 1 and not kwargs:
        x = args[0]
        for name, sub in module.named_children():
            yield name, sub, (x,), {}
            with torch.no_grad():
                x = sub(x)


def _culprit_in(prep, module, args, kwargs, attempt, prefix: str, blocks: set[str]):
    for name, sub, a, k in _calls(module, args, kwargs):
        try:
            with quiet():
                attempt(sub, a, k)
        except Exception as exc:  # noqa: BLE001
            path = prefix + name
            inner = _culprit_in(prep, sub, a, k, attempt, path + ".", blocks) if path in blocks else None
            return inner or (path, layer_type(prep, path), first_line(exc))
    return None


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


def _block_paths(prep) -> set[str]:
    """Module paths of block instances and their copies (the modules worth looking inside)."""
    out: set[str] = set()
    for path, _ in prep.model.named_modules():
        if path and (getattr(prep.analysis.nodes.get(path), "block", None) is not None
                     or _is_copy(prep, path)):
            out.add(path)
    return out


def _is_copy(prep, path: str) -> bool:
    """`layer1.0`: copy 0 of a repeated instance."""
    head, _, last = path.rpartition(".")
    info = prep.analysis.nodes.get(head) if head else None
    return last.isdigit() and getattr(info, "block", None) is not None and info.block.repeat > 1


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
