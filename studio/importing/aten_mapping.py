"""What each aten call of an ExportedProgram becomes (a `.pt2` file, or torch.export where torch.fx
cannot trace): layers with weights (conv2d / convolution, conv_transpose2d, linear / addmm, batch_norm) become the
torch.nn modules they came from, holding the program's weights at their state-dict paths; the rest
become the torch functions the PyTorch import maps to node types. The module hierarchy is the
program's `nn_module_stack`. Written once for both sources.
"""
from __future__ import annotations

import operator

from .mapping import Unmapped
from .rebuild import Rebuilder, Scope, is_leaf_class, load_weights, valid_path
from .trace import _user_line

# calls on weights alone (a transposed Linear weight): computed once, kept as a constant
_ON_WEIGHTS = {"permute", "t", "transpose", "view", "reshape", "_unsafe_view", "clone", "detach", "alias",
               "contiguous"}
_IDENTITY = {"clone", "alias", "contiguous", "detach", "dropout_"}


def bound(node) -> dict:
    """The call's arguments by their schema names, defaults filled in."""
    schema = node.target._schema
    out = {}
    for i, a in enumerate(schema.arguments):
        if i < len(node.args):
            out[a.name] = node.args[i]
        elif a.name in node.kwargs:
            out[a.name] = node.kwargs[a.name]
        elif a.has_default_value():
            out[a.name] = a.default_value
    return out


def op_name(target) -> str:
    """`aten.conv2d.default` -> "conv2d"; "" for what is not an aten op."""
    name = getattr(target, "name", None)
    if callable(name) and getattr(target, "namespace", None) == "aten":
        return target._schema.name.split("::", 1)[1]
    return ""


def scope_of(node) -> Scope:
    stack = [(p, c) for p, c in (node.meta.get("nn_module_stack") or {}).values()]
    stack = [(p, c if isinstance(c, str) else f"{c.__module__}.{c.__qualname__}") for p, c in stack]
    kept = [(p, c) for p, c in stack if p and valid_path(p) and not is_leaf_class(c)]
    return Scope(kept, _user_line(node))


class AtenGraph:
    def __init__(self, program, rebuilder: Rebuilder) -> None:
        self.rb = rebuilder
        self.values: dict = {}  # program node -> rebuilt node
        self.consts: dict = {}  # program node -> tensor (weights, buffers, constants)
        self.names: dict = {}  # program node -> the state-dict name of the weight it is (or comes from)
        sig = program.graph_signature
        self.user_inputs = []
        by_name = {s.arg.name: s for s in sig.input_specs if hasattr(s.arg, "name")}
        for node in program.graph.nodes:
            if node.op != "placeholder":
                continue
            spec = by_name.get(node.name)
            if spec is None or spec.kind.name == "USER_INPUT":
                self.user_inputs.append(node)
                continue
            table = program.state_dict if spec.target in program.state_dict else program.constants
            if spec.target not in table:
                raise Unmapped(f"the program's {spec.kind.name.lower()} {spec.target!r} is missing from the file")
            self.consts[node] = table[spec.target]
            self.names[node] = spec.target

    def tensor(self, arg, what: str):
        if arg in self.values:
            return self.values[arg]
        if arg in self.consts:
            raise Unmapped(f"{what} is a weight or constant, but the node needs a computed tensor there")
        raise Unmapped(f"{what} is computed by a part that has no node type")

    def weight(self, arg, what: str):
        if arg is None:
            return None, ""
        if arg not in self.consts:
            raise Unmapped(f"{what} is computed from the input, but a layer needs it fixed")
        return self.consts[arg], self.names.get(arg, "")

    @staticmethod
    def shape(arg) -> list | None:
        val = getattr(arg, "meta", {}).get("val")
        return None if val is None else [d if isinstance(d, int) else None for d in val.shape]


def _path(name: str, fallback: str) -> str:
    for suffix in (".weight", ".running_mean", ".bias"):
        if name.endswith(suffix) and valid_path(name[:-len(suffix)]):
            return name[:-len(suffix)]
    return ""


def _conv(g: AtenGraph, node, scope, a: dict):
    import torch

    if a.get("transposed"):
        return _conv_transpose(g, node, scope, a)
    weight, name = g.weight(a["weight"], "its weight")
    bias, _ = g.weight(a.get("bias"), "its bias")
    dims = weight.dim() - 2
    cls = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d}.get(dims)
    if cls is None:
        raise Unmapped(f"a {dims}-D convolution (no node type for it)")
    padding = a.get("padding", 0)
    if isinstance(padding, str):
        if padding != "valid":
            raise Unmapped(f"padding={padding!r} (give the padding as numbers)")
        padding = 0
    groups = int(a.get("groups", 1))
    module = cls(weight.shape[1] * groups, weight.shape[0], list(weight.shape[2:]), stride=list(a.get("stride", [1])),
                 padding=list(padding) if isinstance(padding, (list, tuple)) else padding,
                 dilation=list(a.get("dilation", [1])), groups=groups, bias=bias is not None)
    load_weights(module, weight=weight, bias=bias)
    return g.rb.module(_path(name, "conv"), module, [g.tensor(a["input"], "its input")], scope, "conv")


def _conv_transpose(g: AtenGraph, node, scope, a: dict):
    """conv_transpose2d, or convolution with transposed=True: a ConvTranspose2d (weight [in, out/groups, kH, kW])."""
    import torch

    weight, name = g.weight(a["weight"], "its weight")
    bias, _ = g.weight(a.get("bias"), "its bias")
    if weight.dim() != 4:
        raise Unmapped(f"a {weight.dim() - 2}-D transposed convolution (only ConvTranspose2d has a node type)")
    groups = int(a.get("groups", 1))
    module = torch.nn.ConvTranspose2d(weight.shape[0], weight.shape[1] * groups, list(weight.shape[2:]),
                                      stride=list(a.get("stride", [1])), padding=list(a.get("padding", [0])),
                                      output_padding=list(a.get("output_padding", [0])), groups=groups,
                                      bias=bias is not None, dilation=list(a.get("dilation", [1])))
    load_weights(module, weight=weight, bias=bias)
    return g.rb.module(_path(name, "deconv"), module, [g.tensor(a["input"], "its input")], scope, "deconv")


def _linear_module(g: AtenGraph, x, weight, name, bias, scope):
    import torch

    module = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    load_weights(module, weight=weight, bias=bias)
    return g.rb.module(_path(name, "linear"), module, [g.tensor(x, "its input")], scope, "linear")


def _linear(g: AtenGraph, node, scope, a: dict):
    weight, name = g.weight(a["weight"], "its weight")
    bias, _ = g.weight(a.get("bias"), "its bias")
    return _linear_module(g, a["input"], weight, name, bias, scope)


def _addmm(g: AtenGraph, node, scope, a: dict):
    """bias + x @ W.T, as decompositions write a Linear."""
    if a.get("beta", 1) != 1 or a.get("alpha", 1) != 1:
        raise Unmapped("addmm with alpha or beta (only x @ W.T + b maps to Linear)")
    mat2, name = g.weight(a["mat2"], "its matrix")
    bias, _ = g.weight(a["self"], "its bias")
    return _linear_module(g, a["mat1"], mat2.t(), name, bias, scope)


def _batchnorm(g: AtenGraph, node, scope, a: dict):
    import torch

    if a.get("training"):
        raise Unmapped("batch_norm in training mode (export the model in eval mode)")
    weight, name = g.weight(a.get("weight"), "its weight")
    bias, _ = g.weight(a.get("bias"), "its bias")
    mean, mean_name = g.weight(a["running_mean"], "its running mean")
    var, _ = g.weight(a["running_var"], "its running variance")
    rank = len(g.shape(a["input"]) or [])
    cls = torch.nn.BatchNorm2d if rank == 4 else torch.nn.BatchNorm1d if rank in (2, 3) else None
    if cls is None:
        raise Unmapped(f"batch_norm of a {rank}-D tensor (no node type for it)")
    module = cls(mean.shape[0], eps=float(a["eps"]), momentum=float(a["momentum"]), affine=weight is not None)
    load_weights(module, weight=weight, bias=bias, running_mean=mean, running_var=var)
    return g.rb.module(_path(name or mean_name, "batchnorm"), module, [g.tensor(a["input"], "its input")], scope,
                       "batchnorm")


def _fn(path: str, *names, **renamed):
    """A call of torch function `path` (F.relu...) with the tensor first, then `names` as positional
    arguments and `renamed` (torch keyword -> aten name) as keywords."""
    def rule(g: AtenGraph, node, scope, a: dict):
        import torch
        import torch.nn.functional as F

        fn = getattr(F, path, None) or getattr(torch, path)
        first = next(iter(a))
        args = (g.tensor(a[first], "its input"), *(_plain(a[n]) for n in names if n in a))
        return g.rb.call(fn, args, scope, {k: _plain(a[v]) for k, v in renamed.items() if v in a})
    return rule


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _max_pool(g: AtenGraph, node, scope, a: dict):
    import torch.nn.functional as F

    k = list(a["kernel_size"])
    fn = {1: F.max_pool1d, 2: F.max_pool2d}.get(len(k))
    if fn is None:
        raise Unmapped(f"{len(k)}-D pooling (no node type for it)")
    stride = list(a.get("stride") or []) or None
    return g.rb.call(fn, (g.tensor(a["self"], "its input"), k, stride, _plain(a.get("padding", 0)),
                          _plain(a.get("dilation", 1)), bool(a.get("ceil_mode", False))), scope)


def _avg_pool(g: AtenGraph, node, scope, a: dict):
    import torch.nn.functional as F

    k = list(a["kernel_size"])
    fn = {1: F.avg_pool1d, 2: F.avg_pool2d}.get(len(k))
    if fn is None:
        raise Unmapped(f"{len(k)}-D pooling (no node type for it)")
    stride = list(a.get("stride") or []) or None
    return g.rb.call(fn, (g.tensor(a["self"], "its input"), k, stride, _plain(a.get("padding", 0)),
                          bool(a.get("ceil_mode", False)), bool(a.get("count_include_pad", True)),
                          a.get("divisor_override")), scope)


def _mean(g: AtenGraph, node, scope, a: dict):
    import torch.nn.functional as F

    rank = len(g.shape(a["self"]) or [])
    dims = sorted(int(d) % rank for d in (a.get("dim") or [])) if rank else []
    fn = {4: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool1d}.get(rank)
    if not a.get("keepdim") or fn is None or dims != list(range(2, rank)):
        raise Unmapped(f"a mean over dims {dims} of a {rank}-D tensor (only the spatial mean, kept, maps to a node)")
    return g.rb.call(fn, (g.tensor(a["self"], "its input"), 1), scope)


def _view(g: AtenGraph, node, scope, a: dict):
    return g.rb.reshape(g.tensor(a["self"], "its input"), g.shape(a["self"]), g.shape(node), scope)


def _cat(g: AtenGraph, node, scope, a: dict):
    import torch

    tensors = [g.tensor(t, f"input {i + 1}") for i, t in enumerate(a["tensors"])]
    return g.rb.call(torch.cat, (tensors, int(a.get("dim", 0))), scope)


def _binary(fn):
    def rule(g: AtenGraph, node, scope, a: dict):
        import torch

        other = a.get("other")
        if not isinstance(other, torch.fx.Node) or a.get("alpha", 1) != 1:
            raise Unmapped("an operation with a constant operand (only tensor with tensor maps to a node)")
        return g.rb.call(fn, (g.tensor(a["self"], "operand 1"), g.tensor(other, "operand 2")), scope)
    return rule


def _hardtanh(g: AtenGraph, node, scope, a: dict):
    import torch.nn.functional as F

    if (float(a.get("min_val", -1)), float(a.get("max_val", 1))) != (0.0, 6.0):
        raise Unmapped("hardtanh with bounds other than 0 and 6 (no node for it)")
    return g.rb.call(F.relu6, (g.tensor(a["self"], "its input"),), scope)


def _softmax(path: str):
    def rule(g: AtenGraph, node, scope, a: dict):
        import torch.nn.functional as F

        return g.rb.call(getattr(F, path), (g.tensor(a["self"], "its input"),), scope, {"dim": int(a["dim"])})
    return rule


def _dropout(g: AtenGraph, node, scope, a: dict):
    import torch.nn.functional as F

    return g.rb.call(F.dropout, (g.tensor(a["input"], "its input"),), scope, {"p": float(a.get("p", 0.5))})


def _flatten(g: AtenGraph, node, scope, a: dict):
    import torch

    return g.rb.call(torch.flatten, (g.tensor(a["self"], "its input"), int(a.get("start_dim", 0)),
                                     int(a.get("end_dim", -1))), scope)


def _matmul(g: AtenGraph, node, scope, a: dict):
    import torch

    return g.rb.call(torch.matmul, (g.tensor(a["self"], "a"), g.tensor(a["other"], "b")), scope)


RULES = {
    "conv2d": _conv, "conv1d": _conv, "convolution": _conv, "conv_transpose2d": _conv_transpose,
    "linear": _linear, "addmm": _addmm,
    "batch_norm": _batchnorm, "_native_batch_norm_legit_no_training": _batchnorm,
    "max_pool2d": _max_pool, "max_pool1d": _max_pool, "max_pool2d_with_indices": _max_pool,
    "avg_pool2d": _avg_pool, "avg_pool1d": _avg_pool,
    "adaptive_avg_pool2d": _fn("adaptive_avg_pool2d", "output_size"),
    "adaptive_avg_pool1d": _fn("adaptive_avg_pool1d", "output_size"), "mean": _mean,
    "flatten": _flatten, "view": _view, "reshape": _view, "_unsafe_view": _view, "cat": _cat,
    "add": _binary(operator.add), "sub": _binary(operator.sub), "mul": _binary(operator.mul),
    "div": _binary(operator.truediv), "matmul": _matmul,
    # in place (`out += identity`): the check before writing catches a value read again after it changed
    "add_": _binary(operator.add), "sub_": _binary(operator.sub), "mul_": _binary(operator.mul),
    "relu": _fn("relu"), "relu_": _fn("relu"), "sigmoid": _fn("sigmoid"), "tanh": _fn("tanh"),
    "silu": _fn("silu"), "silu_": _fn("silu"), "hardswish": _fn("hardswish"), "hardswish_": _fn("hardswish"),
    "mish": _fn("mish"), "hardtanh": _hardtanh, "hardtanh_": _hardtanh,
    "leaky_relu": _fn("leaky_relu", negative_slope="negative_slope"), "elu": _fn("elu", alpha="alpha"),
    "gelu": _fn("gelu", approximate="approximate"),
    "softmax": _softmax("softmax"), "_softmax": _softmax("softmax"),
    "log_softmax": _softmax("log_softmax"), "_log_softmax": _softmax("log_softmax"),
    "dropout": _dropout,
}

# targets a .pt2 may name (checked in the file before torch reads it)
ALLOWED = set(RULES) | _ON_WEIGHTS | _IDENTITY


def rebuild(program):
    """The torch rendering of an ExportedProgram (its graph and weights): a GraphModule, or UnmappedCalls."""
    rb = Rebuilder()
    g = AtenGraph(program, rb)
    if len(g.user_inputs) != 1:
        raise Unmapped(f"the program takes {len(g.user_inputs)} inputs; import handles one input for now")
    g.values[g.user_inputs[0]] = rb.input(g.user_inputs[0].name)
    outputs = []
    user_outputs = {s.arg.name for s in program.graph_signature.output_specs if s.kind.name == "USER_OUTPUT"}
    for node in program.graph.nodes:
        if node.op == "placeholder":
            continue
        if node.op == "output":
            outs = node.args[0] if isinstance(node.args[0], (list, tuple)) else [node.args[0]]
            for out in outs:
                if getattr(out, "name", None) in user_outputs:
                    try:
                        outputs.append(g.tensor(out, "the output"))
                    except Unmapped as exc:
                        if not rb.misses:
                            rb.miss(Scope([]), "the program's output", str(exc))
            continue
        scope = scope_of(node)
        if node.target is operator.getitem:  # one result of a call with several (batch_norm, pooling)
            source, index = node.args
            if source in g.values and index == 0:
                g.values[node] = g.values[source]
            elif source in g.values and node.users:  # batch statistics, pooling indices: unused is fine
                rb.miss(scope, f"item {index} of {source.name}", "a second result (indices, statistics) has no node")
            continue
        name = op_name(node.target)
        what = f"aten.{name or getattr(node.target, '__name__', str(node.target))}"
        try:
            if node.op != "call_function" or not name:
                raise Unmapped("has no node type")
            tensors = [x for x in node.all_input_nodes]
            if name in _ON_WEIGHTS and tensors and all(t in g.consts for t in tensors):
                g.consts[node] = node.target(*[g.consts.get(x, x) for x in node.args])
                g.names[node] = g.names.get(tensors[0], "")
                continue
            if name in _IDENTITY:
                g.values[node] = g.tensor(node.args[0], "its input")
                continue
            rule = RULES.get(name)
            if rule is None:
                raise Unmapped("has no node type")
            g.values[node] = rule(g, node, scope, bound(node))
        except Unmapped as exc:
            rb.miss(scope, what, str(exc))
    return rb.finish(outputs)
