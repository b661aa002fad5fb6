"""The generated class's forward(), written from the compiled torch.fx graph so it computes exactly
what the model computes, in the style of hand-written PyTorch:

    x = self.conv1(input)
    x = self.pool1(x)
    lstm_out, (lstm_h_n, lstm_c_n) = self.lstm(x)
    x = self.head(lstm_h_n[-1])

A value flowing along a chain of layers is kept in `x`; a branch that must stay alive while another
is computed gets the next free name (`out`, `h`, `z`, `x5`, ...). Tuples returned by recurrent and
attention layers are unpacked into named parts; indexing is written inline where it is used once.
"""
from __future__ import annotations

import builtins
import keyword
import operator

from ..errors import ExportError
from .safe import ident

BINARY = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
          operator.floordiv: "//", operator.matmul: "@", operator.pow: "**", operator.mod: "%"}
TUPLE_PARTS = {"LSTM": ("out", ("h_n", "c_n")), "GRU": ("out", "h_n"), "RNN": ("out", "h_n"),
               "MultiheadAttention": ("out", "weights")}
POOL = ("x", "out", "h", "z")
RESERVED = {"self", "torch", "nn", "F", "math", *keyword.kwlist}


def _pool_name(k: int) -> str:
    return POOL[k] if k < len(POOL) else f"x{k + 1}"


def _is_index(node, base) -> bool:
    return (node.op == "call_function" and node.target is operator.getitem and node.args[0] is base
            and isinstance(node.args[1], int))


class ForwardWriter:
    """values: fx node name -> (args, kwargs, result) from one real run (diagnose.record). graph: the
    fx graph to write when not the model's own; optional: layers that may be None (a block's layer
    switched off in some instances), skipped when they are."""

    def __init__(self, model, values: dict, graph=None, optional=()) -> None:
        self.model = model
        self.values = values
        self.nodes = list((graph if graph is not None else model.graph).nodes)
        self.optional = set(optional)
        self.var: dict = {}  # holder node -> variable name
        self.pooled: set = set()  # holders whose variable is a pool name (x, out, ...), reusable once dead
        self.unpacked: set = set()  # tuple results replaced by an unpacking pattern
        self.patterns: dict = {}  # unpacked node -> "a, (b, c)"
        self.uses_functional = False

    # ---- structure -----------------------------------------------------------------------------
    def _result(self, node):
        return self.values.get(node.name, (None, None, None))[2]

    def _unpack(self, value, nodes, spec, name: str, used: set) -> str:
        """Assignment pattern for a tuple result whose users only index it: "a, (b, c)"."""
        users = [u for n in nodes for u in n.users]
        if (isinstance(value, (tuple, list)) and value and (users or isinstance(spec, tuple))
                and all(any(_is_index(u, n) for n in nodes) for u in users)):
            self.unpacked.update(nodes)
            parts = []
            for i, item in enumerate(value):
                sub = [u for u in users if u.args[1] % len(value) == i]
                sub_spec = spec[i] if isinstance(spec, tuple) and i < len(spec) else None
                sub_name = f"{self._root}_{sub_spec}" if isinstance(sub_spec, str) else f"{name}_{i}"
                parts.append(self._unpack(item, sub, sub_spec, sub_name, used))
            return f"({', '.join(parts)}{',' if len(parts) == 1 else ''})"
        if value is None and not users:
            return "_"
        var = _unique(name, used)
        for n in nodes:
            self.var[n] = var
        return var

    def _plan(self) -> None:
        used = set(RESERVED)
        for n in self.nodes:
            if n.op == "placeholder":
                self.var[n] = _unique(n.target if n.target not in RESERVED else f"{n.target}_", used)
                if self.var[n] in POOL:
                    self.pooled.add(n)  # an input named x may be overwritten once it is no longer needed
        for n in self.nodes:
            if n.op in ("placeholder", "output") or n in self.var or n in self.unpacked:
                continue
            value = self._result(n)
            if (type(value) in (tuple, list) and n.users and n.target is not builtins.getattr
                    and all(_is_index(u, n) for u in n.users)):  # not torch.Size: x.shape[0] stays inline
                cls = type(self.model.get_submodule(n.target)).__name__ if n.op == "call_module" else ""
                self._root = n.target if n.op == "call_module" else n.name
                text = self._unpack(value, [n], TUPLE_PARTS.get(cls), self._root, used)
                self.patterns[n] = text[1:-1].rstrip(",") if text.startswith("(") else text
        self.fixed_names = {v for h, v in self.var.items() if h not in self.pooled}
        # a getitem/getattr used once is written inline where it is used
        self.inline = {n for n in self.nodes if n not in self.var and n not in self.patterns
                       and n.op == "call_function" and n.target in (operator.getitem, builtins.getattr)
                       and len(n.users) == 1}
        needed: set = set()
        for n in reversed(self.nodes):
            if n.op in ("output", "call_module") or any(u in needed for u in n.users):
                needed.add(n)
        self.statements = [n for n in self.nodes if n in needed and n not in self.inline and n not in self.var
                           and (n not in self.unpacked or n in self.patterns)]

    def _holders(self, arg, out: list) -> None:
        from torch import fx

        if isinstance(arg, fx.Node):
            if arg in self.inline:
                for a in (*arg.args, *arg.kwargs.values()):
                    self._holders(a, out)
            else:
                out.append(arg)
        elif isinstance(arg, (list, tuple)):
            for a in arg:
                self._holders(a, out)
        elif isinstance(arg, dict):
            for a in arg.values():
                self._holders(a, out)
        elif isinstance(arg, slice):
            for a in (arg.start, arg.stop, arg.step):
                self._holders(a, out)

    # ---- writing -------------------------------------------------------------------------------
    def write(self) -> tuple[list[str], list[str]]:
        """Returns (forward's parameter names, body lines)."""
        self._plan()
        refs = []
        for s in self.statements:
            found: list = []
            self._holders((s.args, s.kwargs), found)
            refs.append(found)
        last: dict = {}
        for i, found in enumerate(refs):
            for h in found:
                last[h] = i
        lines = []
        for i, node in enumerate(self.statements):
            expr = self.expression(node)
            if node.op == "output":
                lines.append(f"return {expr}")
            elif node in self.patterns:
                lines.append(f"{self.patterns[node]} = {expr}")
            else:
                name = self._choose(i, refs[i], last)
                self.var[node] = name
                self.pooled.add(node)
                lines.append(f"{name} = {expr}")
        return [ident(self.var[n], 'the input') for n in self.nodes if n.op == "placeholder"], lines

    def _choose(self, i: int, refs: list, last: dict) -> str:
        """Reuse the variable of an argument that is not needed after this line (x = self.fc(x));
        otherwise take the first pool name that holds nothing still needed."""
        dying = [self.var[h] for h in refs if h in self.pooled and last.get(h) == i]
        if dying:
            return min(dying, key=_pool_index)
        live = {self.var[h] for h in self.pooled if h in self.var and last.get(h, -1) > i}
        k = 0
        while _pool_name(k) in live or _pool_name(k) in self.fixed_names:
            k += 1
        return _pool_name(k)

    def expression(self, node) -> str:
        op, target = node.op, node.target
        if op == "output":
            outs = node.args[0]
            return self.arg(outs) if not isinstance(outs, (tuple, list)) else ", ".join(self.arg(a) for a in outs)
        if op == "call_module":
            call = f"{attribute(target, 'the layer')}({self.call_args(node.args, node.kwargs)})"
            if target in self.optional and len(node.args) == 1 and not node.kwargs:
                layer = attribute(target, "the layer")
                return f"{self.arg(node.args[0])} if {layer} is None else {call}"
            return call
        if op == "call_method":
            return f"{self.arg(node.args[0])}.{ident(target, 'the method')}({self.call_args(node.args[1:], node.kwargs)})"
        if op == "get_attr":
            return attribute(target, "the attribute")
        if target in BINARY:
            return f"{self.arg(node.args[0])} {BINARY[target]} {self.arg(node.args[1])}"
        if target is operator.neg:
            return f"-{self.arg(node.args[0])}"
        if target is operator.getitem:
            return f"{self.arg(node.args[0])}[{self.index(node.args[1])}]"
        if target is builtins.getattr:
            return f"{self.arg(node.args[0])}.{ident(node.args[1], 'the attribute')}"
        return f"{self.function_name(node)}({self.call_args(node.args, node.kwargs)})"

    def function_name(self, node) -> str:
        import torch
        import torch.nn.functional as F
        from torch.fx.node import _get_qualified_name

        fn = node.target
        name = getattr(fn, "__name__", "")
        if getattr(F, name, None) is fn:
            self.uses_functional = True
            return f"F.{name}"
        if getattr(torch, name, None) is fn:
            return f"torch.{name}"
        if getattr(builtins, name, None) is fn:
            return name
        raise ExportError(f"code: the model calls {_get_qualified_name(fn)} (at '{node.name}'), which the code "
                          "exporter cannot write; export to TorchScript, ONNX or pt2 instead")

    def call_args(self, args, kwargs) -> str:
        parts = [self.arg(a) for a in args] + [f"{ident(k, 'the argument')}={self.arg(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)

    def index(self, idx) -> str:
        if isinstance(idx, tuple):
            items = [self.index(i) for i in idx]
            return ", ".join(items) + ("," if len(items) == 1 else "")
        if isinstance(idx, slice):
            parts = ["" if v is None else self.arg(v) for v in (idx.start, idx.stop, idx.step)]
            return ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
        return self.arg(idx)

    def arg(self, a) -> str:
        import torch
        from torch import fx

        if isinstance(a, fx.Node):
            if a in self.inline:
                return self.expression(a)
            return self.var[a]
        if isinstance(a, list):
            return "[" + ", ".join(self.arg(x) for x in a) + "]"
        if isinstance(a, tuple):
            return "(" + ", ".join(self.arg(x) for x in a) + ("," if len(a) == 1 else "") + ")"
        if isinstance(a, slice):
            return f"slice({self.arg(a.start)}, {self.arg(a.stop)}, {self.arg(a.step)})"
        if isinstance(a, (torch.dtype, torch.device)):
            return f"torch.{a}" if isinstance(a, torch.dtype) and not str(a).startswith("torch.") else (
                str(a) if isinstance(a, torch.dtype) else f"torch.device({str(a)!r})")
        if a is Ellipsis:
            return "..."
        if a is None or isinstance(a, (bool, int, float, str)):
            return repr(a)
        raise ExportError(f"code: cannot write the value {a!r} ({type(a).__name__}) in source")


def attribute(target: str, what: str) -> str:
    """`self.layer1[0].conv1` for the submodule path "layer1.0.conv1" (nn.Sequential items by index)."""
    parts = ["self"]
    for part in target.split("."):
        parts.append(f"[{int(part)}]" if part.isascii() and part.isdigit() else f".{ident(part, what)}")
    return "".join(parts)


def _pool_index(name: str) -> int:
    return POOL.index(name) if name in POOL else int(name[1:]) - 1


def _unique(name: str, used: set) -> str:
    base, k = name, 2
    while name in used:
        name = f"{base}{k}"
        k += 1
    used.add(name)
    return name
