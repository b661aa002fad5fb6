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
    return None


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
