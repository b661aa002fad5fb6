"""What each traced call becomes: a node type and its params, or the reason it has none.

Modules map by class name to the node type of that name (the node library names its types and params
after PyTorch's), with their constructor values read back from the module's attributes; functions and
tensor methods map through the table below. Anything that does not fit raises Unmapped with the reason,
so the importer can name it with its module path and source line.
"""
from __future__ import annotations

import operator
from typing import Any


class Unmapped(Exception):
    """This call has no node type (the message says why)."""


# module attributes that change what a layer computes and that no node type has a param for:
# a value other than the default is refused rather than dropped silently
_MUST_BE = {
    "padding_mode": "zeros", "return_indices": False, "track_running_stats": True,
    "count_include_pad": True, "divisor_override": None,
}


# params a torch.nn layer keeps on an inner module rather than as its own attribute
_HELD_IN = {"nhead": "self_attn.num_heads", "dim_feedforward": "linear1.out_features", "layer_norm_eps": "norm1.eps"}


def _held(module, name: str):
    value = module
    for part in _HELD_IN[name].split("."):
        value = getattr(value, part)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def tidy(spec, params: dict) -> dict:
    """The params as a person would write them: a size equal in every dimension as one number
    ((3, 3) -> 3), and values equal to the node's default left out. Raises ParamError when a value
    does not fit the node."""
    spec.resolve_params(params)
    out = {}
    for name, value in params.items():
        p = spec.param(name)
        if p is not None and p.kind == "size" and isinstance(value, list) and value and \
                all(v == value[0] for v in value):
            value = value[0]
        if p is not None and value == p.default:
            continue
        out[name] = value
    return out


def module_params(module, spec) -> dict:
    """The node params of a leaf module whose class has a node type of its name."""
    for attr, default in _MUST_BE.items():
        if hasattr(module, attr) and getattr(module, attr) != default:
            raise Unmapped(f"{type(module).__name__} with {attr}={getattr(module, attr)!r} (no node param for it)")
    dilation = getattr(module, "dilation", 1)
    if spec.param("dilation") is None and _plain(dilation) not in (1, [1], [1, 1]):
        raise Unmapped(f"{type(module).__name__} with dilation={dilation!r} (no node param for it)")
    params: dict[str, Any] = {}
    for p in spec.params:
        if p.name == "bias" and hasattr(module, "bias") and not isinstance(module.bias, bool):
            params["bias"] = module.bias is not None
        elif p.name == "normalized_dims" and hasattr(module, "normalized_shape"):
            params[p.name] = len(module.normalized_shape)
            if getattr(module, "bias", 0) is None and getattr(module, "elementwise_affine", False):
                raise Unmapped("LayerNorm with bias=False (no node param for it)")
        elif hasattr(module, p.name) or p.name in _HELD_IN:
            value = _plain(getattr(module, p.name) if hasattr(module, p.name) else _held(module, p.name))
            if p.kind == "float" and hasattr(value, "p") and type(value).__name__.startswith("Dropout"):
                value = value.p  # a layer's dropout held as an nn.Dropout (PositionalEncoding)
            if callable(value) and getattr(value, "__name__", None) in (p.choices or ()):
                value = value.__name__  # activation=F.relu is the choice "relu"
            if value is None and p.default is not None:
                raise Unmapped(f"{type(module).__name__} with {p.name}=None (the node needs a value)")
            params[p.name] = value
    if spec.param("stride") is not None and spec.param("stride").default is None and \
            params.get("stride") == params.get("kernel_size"):
        params["stride"] = None  # pooling's stride defaults to its window, and is written so
    return params


def _arg(node, index: int, name: str, default: Any = None) -> Any:
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def _const(value: Any, what: str) -> Any:
    import torch.fx

    if isinstance(value, torch.fx.Node):
        raise Unmapped(f"{what} is computed in the model, but a node needs it as a fixed value")
    return _plain(value)


def _window(node, kind: str, ceil_at: int) -> tuple[str, dict]:
    """The params pooling functions share; `ceil_at`: where ceil_mode stands in the signature."""
    stride = _arg(node, 2, "stride", None)
    return kind, {"kernel_size": _const(_arg(node, 1, "kernel_size"), "kernel_size"),
                  "stride": _const(stride, "stride") if stride not in ((), []) else None,
                  "padding": _const(_arg(node, 3, "padding", 0), "padding"),
                  "ceil_mode": _const(_arg(node, ceil_at, "ceil_mode", False), "ceil_mode")}


def _pool(kind: str, dims: int):
    """F.max_pool*(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)."""
    def rule(node):
        if _arg(node, 4, "dilation", 1) not in (1, (1,) * dims, [1] * dims):
            raise Unmapped(f"{kind} with a dilation (no node param for it)")
        if _arg(node, 6, "return_indices", False):
            raise Unmapped(f"{kind} returning indices (no node for it)")
        return _window(node, kind, 5)
    return rule


def _avgpool(kind: str):
    """F.avg_pool*(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)."""
    def rule(node):
        if not _arg(node, 5, "count_include_pad", True) or _arg(node, 6, "divisor_override", None) is not None:
            raise Unmapped(f"{kind} with count_include_pad=False or a divisor_override (no node param for it)")
        return _window(node, kind, 4)
    return rule


def _simple(kind: str, **names):
    """A call whose only tensor is its first argument; `names` maps node params to (position, default)."""
    def rule(node):
        return kind, {p: _const(_arg(node, i, p, d), p) for p, (i, d) in names.items()}
    return rule


def _dim_rule(kind: str):
    def rule(node):
        dim = _arg(node, 1, "dim", None)
        if dim is None:
            raise Unmapped(f"{kind} without a dim (PyTorch guesses one; name it)")
        return kind, {"dim": _const(dim, "dim")}
    return rule


def _binary(kind: str):
    def rule(node):
        import torch.fx

        if len(node.args) != 2 or not all(isinstance(a, torch.fx.Node) for a in node.args) or node.kwargs:
            raise Unmapped(f"{kind} with a constant operand (only tensor {kind.lower()} tensor maps to a node)")
        return kind, {}
    return rule


def _cat(node):
    tensors = _arg(node, 0, "tensors")
    if len(tensors) == 1:  # a cat of one tensor (DenseNet's first layer) is that tensor
        return "Identity", {}, [tensors[0]]
    return "Concat", {"dim": _const(_arg(node, 1, "dim", 0), "dim")}, list(tensors)


def _flatten(node):
    return "Flatten", {"start_dim": _const(_arg(node, 1, "start_dim", 0), "start_dim"),
                       "end_dim": _const(_arg(node, 2, "end_dim", -1), "end_dim")}


def _view_flat(node):
    """`x.view(x.size(0), -1)` / `x.reshape(b, -1)`: the batch kept, the rest flattened."""
    import torch.fx

    shape = list(node.args[1:])
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = list(shape[0])
    x = node.args[0]
    if (len(shape) == 2 and shape[1] == -1 and isinstance(shape[0], torch.fx.Node)
            and shape[0].op == "call_method" and shape[0].target == "size"
            and shape[0].args[0] is x and _arg(shape[0], 1, "dim", None) == 0):
        return "Flatten", {"start_dim": 1, "end_dim": -1}, [x]
    if all(isinstance(s, int) for s in shape) and shape and shape[0] == -1:
        return "Reshape", {"shape": shape[1:]}, [x]
    raise Unmapped(f"{node.target} to a shape computed in the model (only x.{node.target}(x.size(0), -1) "
                   "and fixed shapes with -1 for the batch map to a node)")


def _relu6(node):
    return "ReLU6", {}


def _hardtanh(node):
    if (_arg(node, 1, "min_val", -1.0), _arg(node, 2, "max_val", 1.0)) == (0.0, 6.0):
        return "ReLU6", {}
    raise Unmapped("hardtanh with bounds other than 0 and 6 (no node for it)")


def function_rules() -> dict:
    """Call target (a function, or a method name) -> rule(node) -> (type, params[, tensor inputs])."""
    import torch
    import torch.nn.functional as F

    rules: dict[Any, Any] = {
        operator.add: _binary("Add"), torch.add: _binary("Add"), "add": _binary("Add"),
        operator.sub: _binary("Subtract"), torch.sub: _binary("Subtract"), "sub": _binary("Subtract"),
        operator.mul: _binary("Multiply"), torch.mul: _binary("Multiply"), "mul": _binary("Multiply"),
        operator.truediv: _binary("Divide"), torch.div: _binary("Divide"),
        operator.matmul: _binary("MatMul"), torch.matmul: _binary("MatMul"),
        torch.maximum: _binary("Maximum"), torch.minimum: _binary("Minimum"),
        torch.cat: _cat, torch.concat: _cat,
        torch.flatten: _flatten, "flatten": _flatten, "view": _view_flat, "reshape": _view_flat,
        torch.reshape: _view_flat,
        F.relu6: _relu6, F.hardtanh: _hardtanh,
        F.max_pool2d: _pool("MaxPool2d", 2), F.max_pool1d: _pool("MaxPool1d", 1),
        F.avg_pool2d: _avgpool("AvgPool2d"), F.avg_pool1d: _avgpool("AvgPool1d"),
        F.adaptive_avg_pool2d: _simple("AdaptiveAvgPool2d", output_size=(1, None)),
        F.adaptive_avg_pool1d: _simple("AdaptiveAvgPool1d", output_size=(1, None)),
        F.dropout: _simple("Dropout", p=(1, 0.5)), F.dropout2d: _simple("Dropout2d", p=(1, 0.5)),
        F.leaky_relu: _simple("LeakyReLU", negative_slope=(1, 0.01)),
        F.gelu: _simple("GELU", approximate=(99, "none")),
        F.elu: _simple("ELU", alpha=(1, 1.0)),
        F.softmax: _dim_rule("Softmax"), F.log_softmax: _dim_rule("LogSoftmax"),
        torch.softmax: _dim_rule("Softmax"), torch.log_softmax: _dim_rule("LogSoftmax"),
        "softmax": _dim_rule("Softmax"), "log_softmax": _dim_rule("LogSoftmax"),
    }
    for kind, fns in {"ReLU": (F.relu, torch.relu, "relu", "relu_"), "Sigmoid": (torch.sigmoid, F.sigmoid, "sigmoid"),
                      "Tanh": (torch.tanh, F.tanh, "tanh"), "SiLU": (F.silu,), "Mish": (F.mish,),
                      "Hardswish": (F.hardswish,)}.items():
        for fn in fns:
            rules[fn] = _simple(kind)
    return rules


def describe_target(node) -> str:
    """A person's name for what a call does: `torch.fft.rfft`, `Tensor.view`, `operator.add`."""
    import builtins

    target = node.target
    if target is builtins.getattr and len(node.args) > 1:
        return f"Tensor.{node.args[1]}"
    if isinstance(target, str):
        return f"Tensor.{target}" if node.op == "call_method" else target
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))
    if module == "torch._C._nn":
        module = "torch.nn.functional"
    elif module in ("torch._C._fft", "torch._C._linalg", "torch._C._special"):
        module = "torch." + module.rsplit("_", 1)[-1]  # torch.fft.rfft is torch._C._fft.fft_rfft
        name = name.removeprefix(module.rsplit(".", 1)[-1] + "_")
    elif module.startswith("torch._C") or module == "":
        module = "torch"
    return f"{module}.{name}" if module else name
