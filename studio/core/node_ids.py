"""The rules of node ids (and block names): a Python identifier that no attribute of a PyTorch module
has, since the compiled model holds each node as an attribute named by its id."""
from __future__ import annotations

import keyword
import re
import sys

from .graph_events import GraphError

_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def derive_reserved() -> set[str]:
    """The names a node id may not take, from torch itself: every attribute of nn.Module and
    fx.GraphModule (their classes and fresh instances, whose __init__ adds _modules, graph, code,
    ...), since the compiled model holds each node as an attribute named by its id; and the
    arguments of the forward fx writes (`self`), which a node's value would shadow there."""
    import ast

    from torch import fx, nn

    gm = fx.GraphModule(nn.Module(), fx.Graph())
    forward = next(n for n in ast.walk(ast.parse(gm.code.strip())) if isinstance(n, ast.FunctionDef))
    return (set(dir(nn.Module)) | set(dir(nn.Module())) | set(dir(fx.GraphModule)) | set(dir(gm))
            | {a.arg for a in forward.args.args})


def reserved_ids() -> frozenset[str]:
    """The stored derivation (loading a project imports no torch) and Python's keywords, joined by
    the live derivation once torch is imported (another torch version may add attributes)."""
    global _RESERVED, _LIVE
    if _RESERVED is None:
        from .reserved_names import MODULE_ATTRIBUTES

        _RESERVED = MODULE_ATTRIBUTES | frozenset(keyword.kwlist)
    if _LIVE is None and "torch.fx" in sys.modules:
        _LIVE = _RESERVED | frozenset(derive_reserved())
    return _LIVE or _RESERVED


_RESERVED: frozenset[str] | None = None
_LIVE: frozenset[str] | None = None


def is_reserved(node_id: str) -> bool:
    return node_id in (_LIVE or reserved_ids()) or (node_id[:2] == "__" and node_id[-2:] == "__")


def suggest_id(node_id: str, taken=()) -> str:
    """A free id close to `node_id`: not reserved, not in `taken` (anything supporting `in`)."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", str(node_id)).strip("_") or "node"
    if base[0].isdigit():
        base = "n_" + base
    if not is_reserved(base) and base not in taken:
        return base
    n = 1
    while is_reserved(f"{base}_{n}") or f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def check_node_id(node_id: str, taken=()) -> None:
    """Refuse an id that cannot name a layer; `taken` (the other ids) keeps the suggestion free."""
    # fullmatch, not match: "$" also matches before a trailing newline
    if not isinstance(node_id, str) or not _ID_RE.fullmatch(node_id):
        raise GraphError(f"node id {node_id!r} must start with a letter or '_' and hold only letters, "
                         "digits and '_' (it names the layer in the generated PyTorch code)")
    if is_reserved(node_id):
        why = ("a Python keyword" if keyword.iskeyword(node_id) else
               "a Python special name" if node_id.startswith("__") and node_id.endswith("__") else
               "the name of an attribute every PyTorch module has")
        raise GraphError(f"node id {node_id!r} is {why}, so the layer cannot be named after it; "
                         f"use another id, e.g. {suggest_id(node_id, taken)!r}")
