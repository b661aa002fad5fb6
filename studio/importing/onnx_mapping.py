"""What each ONNX node becomes: the torch layer or function it computes (see rebuild.py), or the reason
it has none. Layers with weights (Conv, ConvTranspose, Gemm, MatMul with a constant, BatchNormalization) become torch.nn
modules holding the file's initializers; the rest become the torch functions that the PyTorch import
already maps to node types. The module hierarchy comes from the name scopes and class names that
torch.onnx writes into each node's metadata_props; a file without them imports flat.
"""
from __future__ import annotations

import ast
import operator

from .mapping import Unmapped
from .rebuild import Rebuilder, Scope, is_leaf_class, load_weights, valid_path

# inputs that only say how (a shape, bounds, axes, a ratio): the nodes that compute them alone are skipped
_SETTING_INPUTS = {"Reshape": (1,), "Clip": (1, 2), "ReduceMean": (1,), "Dropout": (1, 2)}


class OnnxGraph:
    """The file's tensors while mapping: constants (initializers, Constant nodes), the fx value of each
    computed tensor, and the inferred shape of each."""

    def __init__(self, model, rebuilder: Rebuilder) -> None:
        from onnx import numpy_helper

        self.model = model
        self.rb = rebuilder
        self.consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self.values: dict = {}
        self.shapes: dict[str, list] = {}
        for v in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
            dims = v.type.tensor_type.shape.dim
            self.shapes[v.name] = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in dims]
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
        self.users: dict[str, list] = {}
        for k, node in enumerate(model.graph.node):
            for i, name in enumerate(node.input):
                self.users.setdefault(name, []).append((node, i, k))
        self.absorbed: set[int] = set()  # nodes (by position) folded into an earlier layer (MatMul + Add -> Linear)

    def tensor(self, name: str, what: str):
        if name in self.values:
            return self.values[name]
        if name in self.consts:
            raise Unmapped(f"{what} is a constant in the file, but the node needs a computed tensor there")
        raise Unmapped(f"{what} ({name!r}) is computed by a part that has no node type")

    def const(self, node, index: int, default=None):
        if index >= len(node.input) or not node.input[index]:
            return default
        name = node.input[index]
        if name not in self.consts:
            raise Unmapped(f"input {index + 1} ({name!r}) is computed in the graph, but the node needs a fixed value")
        return self.consts[name]

    def rank(self, name: str) -> int | None:
        shape = self.shapes.get(name)
        return len(shape) if shape is not None else None


def attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def scope_of(node, parents: set[str] = frozenset()) -> Scope:
    """The enclosing modules from torch.onnx's metadata (`pkg.torch.onnx.name_scopes` and
    `class_hierarchy`), leaving out the root, torch.nn layers and the op itself."""
    meta = {p.key: p.value for p in node.metadata_props}
    try:
        paths = ast.literal_eval(meta.get("pkg.torch.onnx.name_scopes", "[]"))
        classes = ast.literal_eval(meta.get("pkg.torch.onnx.class_hierarchy", "[]"))
    except (ValueError, SyntaxError):
        paths, classes = [], []
    stack = [(p, c) for p, c in zip(paths, classes) if isinstance(p, str) and isinstance(c, str) and p
             and valid_path(p) and "." in c and not c.startswith("aten.") and not is_leaf_class(c)]
    if not paths:  # the TorchScript exporter keeps only paths, in the node name: one class per path, no
        # blocks; a path with no paths below it is a layer (relu), not a level of the hierarchy
        stack = [(p, f"onnx.path.{p}") for p in legacy_paths(node) if p in parents]
    return Scope(stack)


def legacy_paths(node) -> list[str]:
    """The module paths in a TorchScript-exported node name: `/layer1/layer1.0/conv1/Conv` ->
    layer1, layer1.0, layer1.0.conv1 (each segment is an attribute, or the full path again)."""
    if not node.name.startswith("/"):
        return []
    paths, path = [], ""
    for seg in node.name.strip("/").split("/")[:-1]:
        path = seg if not path or seg.startswith(path + ".") else f"{path}.{seg}"
        if not valid_path(path):
            return paths
        paths.append(path)
    return paths


def leaf_path(node, weight_name: str, fallback: str) -> tuple[str, str]:
    """The module path of a layer: its weight's state-dict name (`layer1.0.conv1.weight`) when the
    exporter kept it, else the layer's own name scope; and a fallback name."""
    if weight_name.endswith(".weight") and valid_path(weight_name[:-len(".weight")]):
        return weight_name[:-len(".weight")], fallback
    meta = {p.key: p.value for p in node.metadata_props}
    try:
        paths = ast.literal_eval(meta.get("pkg.torch.onnx.name_scopes", "[]"))
    except (ValueError, SyntaxError):
        paths = []
    modules = [p for p in paths[:-1] if isinstance(p, str) and valid_path(p)] or legacy_paths(node)
    return (modules[-1] if modules else ""), fallback


def skipped_settings(model) -> set[int]:
    """Nodes (by position) whose outputs only feed settings (Reshape's shape, Clip's bounds): the shape
    arithmetic an exporter writes (Shape, Gather, Concat...). The settings are read as constants or shapes."""
    nodes = list(model.graph.node)
    users: dict[str, list] = {}
    for k, node in enumerate(nodes):
        for i, name in enumerate(node.input):
            users.setdefault(name, []).append((k, i))
    outputs = {o.name for o in model.graph.output}
    skipped: set[int] = set()
    for k in reversed(range(len(nodes))):
        def only_settings(name):
            return name not in outputs and all(
                i in _SETTING_INPUTS.get(nodes[u].op_type, ()) or u in skipped for u, i in users.get(name, []))
        if nodes[k].output and all(only_settings(o) for o in nodes[k].output):
            skipped.add(k)
    return skipped


def _pads(a: dict, dims: int) -> list[int]:
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID", "NOTSET", "VALID"):
        raise Unmapped(f"auto_pad={a['auto_pad']!r} (give explicit pads)")
    pads = list(a.get("pads", [0] * 2 * dims))
    if pads[:dims] != pads[dims:]:
        raise Unmapped(f"pads {pads} differ before and after (no node param for uneven padding)")
    return pads[:dims]


def _conv(g: OnnxGraph, node, scope):
    import torch

    a = attrs(node)
    weight = g.const(node, 1)
    if weight is None:
        raise Unmapped("a Conv without weights")
    bias = g.const(node, 2)
    dims = weight.ndim - 2
    cls = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d}.get(dims)
    if cls is None:
        raise Unmapped(f"a {dims}-D convolution (no node type for it)")
    groups = int(a.get("group", 1))
    module = cls(weight.shape[1] * groups, weight.shape[0], list(weight.shape[2:]), stride=list(a.get("strides", [1] * dims)),
                 padding=_pads(a, dims), dilation=list(a.get("dilations", [1] * dims)), groups=groups,
                 bias=bias is not None)
    load_weights(module, weight=weight, bias=bias)
    path, fallback = leaf_path(node, node.input[1], "conv")
    return g.rb.module(path, module, [g.tensor(node.input[0], "its input")], scope, fallback)


def _conv_transpose(g: OnnxGraph, node, scope):
    """ConvTranspose (weight [in, out/group, kH, kW]) as a ConvTranspose2d."""
    import torch

    a = attrs(node)
    weight = g.const(node, 1)
    if weight is None:
        raise Unmapped("a ConvTranspose without weights")
    if weight.ndim != 4:
        raise Unmapped(f"a {weight.ndim - 2}-D transposed convolution (only ConvTranspose2d has a node type)")
    if "output_shape" in a:
        raise Unmapped("ConvTranspose with output_shape (give pads and output_padding instead)")
    groups = int(a.get("group", 1))
    module = torch.nn.ConvTranspose2d(weight.shape[0], weight.shape[1] * groups, list(weight.shape[2:]),
                                      stride=list(a.get("strides", [1, 1])), padding=_pads(a, 2),
                                      output_padding=list(a.get("output_padding", [0, 0])), groups=groups,
                                      bias=g.const(node, 2) is not None, dilation=list(a.get("dilations", [1, 1])))
    load_weights(module, weight=weight, bias=g.const(node, 2))
    path, fallback = leaf_path(node, node.input[1], "deconv")
    return g.rb.module(path, module, [g.tensor(node.input[0], "its input")], scope, fallback)


def _linear(g: OnnxGraph, node, scope, weight, bias, weight_name: str):
    import torch

    module = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    if bias is not None:
        if bias.size != weight.shape[0]:
            raise Unmapped(f"a bias of {bias.size} values for {weight.shape[0]} outputs (no node for a broadcast bias)")
        bias = bias.reshape(-1)
    load_weights(module, weight=weight, bias=bias)
    path, fallback = leaf_path(node, weight_name, "linear")
    return g.rb.module(path, module, [g.tensor(node.input[0], "its input")], scope, fallback)


def _gemm(g: OnnxGraph, node, scope):
    a = attrs(node)
    if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
        raise Unmapped("Gemm with transA, alpha or beta (only x @ W.T + b maps to Linear)")
    weight = g.const(node, 1)
    weight = weight if a.get("transB", 0) else weight.T
    return _linear(g, node, scope, weight, g.const(node, 2), node.input[1])


def _matmul(g: OnnxGraph, node, scope):
    import torch

    if node.input[1] not in g.consts:
        return g.rb.call(torch.matmul, (g.tensor(node.input[0], "a"), g.tensor(node.input[1], "b")), scope)
    weight = g.consts[node.input[1]]
    if weight.ndim != 2:
        raise Unmapped("MatMul with a constant that is not a matrix")
    bias = None
    users = g.users.get(node.output[0], [])
    if len(users) == 1 and users[0][0].op_type == "Add":  # x @ W + b, as exporters write a Linear
        add = users[0][0]
        other = add.input[1 - users[0][1]]
        if other in g.consts and g.consts[other].size == weight.shape[1]:
            bias = g.consts[other]
            g.absorbed.add(users[0][2])
    out = _linear(g, node, scope, weight.T, bias, node.input[1])
    if bias is not None:
        g.values[users[0][0].output[0]] = out
    return out


def _batchnorm(g: OnnxGraph, node, scope):
    import torch

    a = attrs(node)
    if a.get("training_mode", 0) or len([o for o in node.output if o]) > 1:
        raise Unmapped("BatchNormalization in training mode (export the model in eval mode)")
    scale, bias, mean, var = (g.const(node, i) for i in range(1, 5))
    rank = g.rank(node.input[0])
    cls = torch.nn.BatchNorm2d if rank == 4 else torch.nn.BatchNorm1d if rank in (2, 3) else None
    if cls is None:
        raise Unmapped(f"BatchNormalization of a {rank}-D tensor (no node type for it)")
    module = cls(scale.shape[0], eps=float(a.get("epsilon", 1e-5)),
                 momentum=round(1.0 - float(a.get("momentum", 0.9)), 6))
    load_weights(module, weight=scale, bias=bias, running_mean=mean, running_var=var)
    path, fallback = leaf_path(node, node.input[1], "batchnorm")
    return g.rb.module(path, module, [g.tensor(node.input[0], "its input")], scope, fallback)


def _pool(kind: str):
    def rule(g: OnnxGraph, node, scope):
        import torch.nn.functional as F

        a = attrs(node)
        k = list(a["kernel_shape"])
        dims = len(k)
        fns = {("Max", 1): F.max_pool1d, ("Max", 2): F.max_pool2d, ("Avg", 1): F.avg_pool1d, ("Avg", 2): F.avg_pool2d}
        if (kind, dims) not in fns:
            raise Unmapped(f"{dims}-D pooling (no node type for it)")
        if any(d != 1 for d in a.get("dilations", [1] * dims)):
            raise Unmapped("pooling with a dilation (no node param for it)")
        pads = _pads(a, dims)
        x = g.tensor(node.input[0], "its input")
        stride, ceil = list(a.get("strides", [1] * dims)), bool(a.get("ceil_mode", 0))
        if kind == "Max":
            if len(node.output) > 1 and node.output[1] and g.users.get(node.output[1]):
                raise Unmapped("MaxPool returning indices (no node for it)")
            return g.rb.call(fns[kind, dims], (x, k, stride, pads, 1, ceil), scope)
        if any(pads) and not a.get("count_include_pad", 0):
            raise Unmapped("AveragePool with padding and count_include_pad=0 (no node param for it)")
        return g.rb.call(fns[kind, dims], (x, k, stride, pads, ceil), scope)
    return rule


def _global_pool(g: OnnxGraph, node, scope):
    import torch.nn.functional as F

    fn = {3: F.adaptive_avg_pool1d, 4: F.adaptive_avg_pool2d}.get(g.rank(node.input[0]))
    if fn is None:
        raise Unmapped("global pooling of a tensor that is not 3-D or 4-D")
    return g.rb.call(fn, (g.tensor(node.input[0], "its input"), 1), scope)


def _reduce_mean(g: OnnxGraph, node, scope):
    """A mean over the spatial dims, kept (adaptive_avg_pool2d(1) as exporters write it)."""
    import torch.nn.functional as F

    a = attrs(node)
    axes = a.get("axes")
    if axes is None:
        axes = g.const(node, 1)
    rank = g.rank(node.input[0])
    if axes is None or rank is None:
        raise Unmapped("a mean over all axes (no node for it)")
    axes = sorted(int(x) % rank for x in list(axes))
    fn = {4: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool1d}.get(rank)
    if not a.get("keepdims", 1) or fn is None or axes != list(range(2, rank)):
        raise Unmapped(f"a mean over axes {axes} of a {rank}-D tensor (only the spatial mean, kept, maps to a node)")
    return g.rb.call(fn, (g.tensor(node.input[0], "its input"), 1), scope)


def _reshape(g: OnnxGraph, node, scope):
    x = g.tensor(node.input[0], "its input")
    return g.rb.reshape(x, g.shapes.get(node.input[0]), g.shapes.get(node.output[0]), scope)


def _flatten(g: OnnxGraph, node, scope):
    import torch

    if attrs(node).get("axis", 1) != 1:
        raise Unmapped("Flatten at an axis other than 1 (only the batch kept maps to a node)")
    return g.rb.call(torch.flatten, (g.tensor(node.input[0], "its input"), 1), scope)


def _clip(g: OnnxGraph, node, scope):
    import torch.nn.functional as F

    a = attrs(node)
    low, high = a.get("min"), a.get("max")
    if g.opset >= 11:
        low, high = g.const(node, 1), g.const(node, 2)
    low = None if low is None else float(low)
    high = None if high is None or float(high) == float("inf") else float(high)
    x = g.tensor(node.input[0], "its input")
    if (low, high) == (0.0, 6.0):
        return g.rb.call(F.relu6, (x,), scope)
    if (low, high) == (0.0, None):
        return g.rb.call(F.relu, (x,), scope)
    raise Unmapped(f"Clip to [{low}, {high}] (only [0, 6] (ReLU6) and [0, inf) (ReLU) map to a node)")


def _axis_rule(fn_name: str):
    def rule(g: OnnxGraph, node, scope):
        import torch.nn.functional as F

        axis = attrs(node).get("axis", -1 if g.opset >= 13 else 1)
        rank = g.rank(node.input[0])
        if g.opset < 13 and rank is not None and axis % rank != rank - 1:
            raise Unmapped(f"{node.op_type} before opset 13 over axis {axis} (it flattens; no node for it)")
        return g.rb.call(getattr(F, fn_name), (g.tensor(node.input[0], "its input"),), scope, {"dim": int(axis)})
    return rule


def _binary(fn):
    def rule(g: OnnxGraph, node, scope):
        if any(i in g.consts for i in node.input):
            raise Unmapped(f"{node.op_type} with a constant operand (only tensor {node.op_type.lower()} tensor maps "
                           "to a node)")
        return g.rb.call(fn, tuple(g.tensor(i, f"operand {n + 1}") for n, i in enumerate(node.input)), scope)
    return rule


def _unary(fn_path: str, **params):
    """`params`: node attribute -> (torch keyword, ONNX default)."""
    def rule(g: OnnxGraph, node, scope):
        import torch.nn.functional as F

        a = attrs(node)
        kwargs = {kw: (v.decode() if isinstance(v := a.get(attr, default), bytes) else v)
                  for attr, (kw, default) in params.items()}
        return g.rb.call(getattr(F, fn_path), (g.tensor(node.input[0], "its input"),), scope, kwargs)
    return rule


def _concat(g: OnnxGraph, node, scope):
    import torch

    tensors = [g.tensor(i, f"input {n + 1}") for n, i in enumerate(node.input)]
    return g.rb.call(torch.cat, (tensors, int(attrs(node)["axis"])), scope)


def _dropout(g: OnnxGraph, node, scope):
    import torch.nn.functional as F

    ratio = attrs(node).get("ratio", 0.5) if g.opset < 12 else g.const(node, 1, 0.5)
    return g.rb.call(F.dropout, (g.tensor(node.input[0], "its input"),), scope, {"p": round(float(ratio), 6)})


def _identity(g: OnnxGraph, node, scope):
    return g.tensor(node.input[0], "its input")


def rules() -> dict:
    import torch

    return {
        "Conv": _conv, "ConvTranspose": _conv_transpose, "Gemm": _gemm, "MatMul": _matmul, "BatchNormalization": _batchnorm,
        "MaxPool": _pool("Max"), "AveragePool": _pool("Avg"), "GlobalAveragePool": _global_pool,
        "ReduceMean": _reduce_mean, "Reshape": _reshape, "Flatten": _flatten, "Clip": _clip,
        "Softmax": _axis_rule("softmax"), "LogSoftmax": _axis_rule("log_softmax"),
        "Add": _binary(operator.add), "Sub": _binary(operator.sub), "Mul": _binary(operator.mul),
        "Div": _binary(operator.truediv), "Max": _binary(torch.maximum), "Min": _binary(torch.minimum),
        "Concat": _concat, "Dropout": _dropout, "Identity": _identity,
        "Relu": _unary("relu"), "Sigmoid": _unary("sigmoid"), "Tanh": _unary("tanh"),
        "LeakyRelu": _unary("leaky_relu", alpha=("negative_slope", 0.01)), "Elu": _unary("elu", alpha=("alpha", 1.0)),
        "Gelu": _unary("gelu", approximate=("approximate", "none")), "HardSwish": _unary("hardswish"),
        "Mish": _unary("mish"),
    }


def rebuild(model, input_name: str):
    """The torch rendering of an (inferred-shape) ONNX model: a GraphModule, or UnmappedCalls."""
    rb = Rebuilder()
    g = OnnxGraph(model, rb)
    g.values[input_name] = rb.input(input_name)
    table = rules()
    skipped = skipped_settings(model)
    named = {p for node in model.graph.node for p in legacy_paths(node)}
    parents = {a for a in named for b in named if b.startswith(a + ".")}
    for k, node in enumerate(model.graph.node):
        scope = scope_of(node, parents)
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            try:
                g.consts[node.output[0]] = _constant(node)
            except Unmapped as exc:
                rb.miss(scope, f"ONNX Constant node {node.name!r}", str(exc))
            continue
        if k in skipped or k in g.absorbed:
            continue
        if node.op_type == "Identity" and node.input[0] in g.consts:  # a weight passed on (old exporters)
            g.consts[node.output[0]] = g.consts[node.input[0]]
            continue
        what = f"ONNX {node.op_type} node {node.name!r}"
        rule = table.get(node.op_type) if node.domain in ("", "ai.onnx") else None
        try:
            if rule is None:
                raise Unmapped("has no node type" + (f" (domain {node.domain!r})" if node.domain else ""))
            g.values[node.output[0]] = rule(g, node, scope)
        except Unmapped as exc:
            rb.miss(scope, what, str(exc))
        except (KeyError, IndexError, ValueError, TypeError) as exc:  # a malformed node: say which
            rb.miss(scope, what, f"its attributes or inputs do not fit ({type(exc).__name__}: {exc})")
    outputs = []
    for out in model.graph.output:
        try:
            outputs.append(g.tensor(out.name, f"the output {out.name!r}"))
        except Unmapped as exc:
            if not rb.misses:
                rb.miss(Scope([]), f"ONNX output {out.name!r}", str(exc))
    return rb.finish(outputs)


def _constant(node):
    import numpy as np
    from onnx import numpy_helper

    a = {x.name: x for x in node.attribute}
    if "value" in a:
        return numpy_helper.to_array(a["value"].t)
    for key in ("value_float", "value_floats", "value_int", "value_ints"):
        if key in a:
            return np.asarray(attrs(node)[key])
    raise Unmapped("a Constant of a kind that has no node type")
