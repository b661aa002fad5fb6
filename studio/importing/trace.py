"""A model traced with torch.fx, turned into a flat NetStudio graph (one node per call), with each
node's source module path, the module it calls and the module stack it was called in."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core.graph import Graph
from ..core.node_ids import suggest_id
from ..core.registry import default_registry
from ..core.spec import ParamError
from .mapping import Unmapped, describe_target, function_rules, module_params, tidy
from .sources import ImportRefused

MAX_INPUTS = 4  # nodes/unmapped.py: the ports an Unmapped node has


@dataclass
class Miss:
    """A call with no node type: where it is and why."""

    path: str  # the module path it was called in ("" for the top-level forward)
    what: str
    reason: str
    line: str  # "file.py:42" of the person's code, or "" when fx kept none

    def text(self) -> str:
        where = f"{self.path or '(the model itself)'}: {self.what}"
        return f"{where}: {self.reason}" + (f" (at {self.line})" if self.line else "")


@dataclass
class Flat:
    graph: Graph
    source_module: dict[str, str] = field(default_factory=dict)  # node id -> module path whose weights it has
    stack: dict[str, list[tuple[str, type]]] = field(default_factory=dict)  # node id -> enclosing modules
    unmapped: list[tuple[str, "Miss"]] = field(default_factory=list)  # (Unmapped node id, why), partial only


class UnmappedCalls(ImportRefused):
    def __init__(self, misses: list[Miss]) -> None:
        self.misses = misses
        lines = "\n".join("  " + m.text() for m in misses)
        super().__init__(f"{len(misses)} part(s) of the model have no node type, so nothing was written:\n{lines}")


def as_traceable(model):
    """A model that is itself one torch.nn layer (`torch.nn:Linear`) is traced as a container holding
    it, so it maps to its node rather than to the functions inside its forward."""
    import torch.fx
    from collections import OrderedDict

    if not (torch.fx.Tracer().is_leaf_module(model, "") or library_class(model)):
        return model
    return torch.nn.Sequential(OrderedDict([(suggest_id(type(model).__name__.lower()), model)]))


def library_class(module) -> bool:
    """Whether the module's class is one of the node library's own layers (nodes/*.py), or a copy of
    one (the code exporter writes their source into the file): then it is a leaf mapped to its node,
    not traced into."""
    import inspect

    cls = type(module)
    twin = _library_classes().get(cls.__name__)
    if twin is None:
        return False
    if twin is cls:
        return True
    try:
        return inspect.getsource(twin) == inspect.getsource(cls)
    except (OSError, TypeError):
        return False


def _library_classes() -> dict:
    import importlib
    import inspect
    import pkgutil

    import nodes
    import torch

    found = {}
    for info in pkgutil.iter_modules(nodes.__path__):
        module = importlib.import_module(f"nodes.{info.name}")
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, torch.nn.Module) and value.__module__ == module.__name__:
                found[name] = value
    return {n: c for n, c in found.items() if default_registry().get(n) is not None}


def trace(model):
    import torch.fx

    class _Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m, qualified_name: str) -> bool:
            return super().is_leaf_module(m, qualified_name) or library_class(m)

    tracer = _Tracer()
    tracer.record_stack_traces = True
    try:
        return tracer.trace(model)
    except Exception as exc:  # control flow on values, unsupported Python: fx says what
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportRefused(f"torch.fx could not trace the model ({type(exc).__name__}: {first}); a forward "
                            "whose steps depend on the data (if/for on tensor values) cannot become a graph") from None


def _user_line(node) -> str:
    """The innermost frame of the stack trace that is not torch's own code: the person's line."""
    import re

    frames = re.findall(r'File "([^"]+)", line (\d+)', node.stack_trace or "")
    mine = [(f, n) for f, n in frames if "/torch/" not in f.replace("\\", "/")]
    return f"{mine[-1][0]}:{mine[-1][1]}" if mine else ""


def _stack(node) -> list[tuple[str, type]]:
    """(module path, class) of the modules the call sits in, outermost first, leaving out the called leaf."""
    entries = [(path, cls) for path, cls in node.meta.get("nn_module_stack", {}).values()]
    if node.op == "call_module" and entries and entries[-1][0] == node.target:
        entries = entries[:-1]
    return entries


def flatten(model, fx_graph, input_shape: list[int], partial: bool = False) -> Flat:
    """One node per call. A call with no node type stops the import (UnmappedCalls), or, with
    `partial`, becomes an Unmapped node that keeps its op, module path, line and shapes."""
    import torch.fx

    registry = default_registry()
    rules = function_rules()
    flat = Flat(Graph())
    g = flat.graph
    ids: dict[torch.fx.Node, str] = {}
    wires: list[tuple[str, list]] = []
    misses: list[Miss] = []
    first_call: dict[str, str] = {}
    placeholders = [n for n in fx_graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise ImportRefused(f"the model's forward takes {len(placeholders)} tensors; import handles one input for now")
    shapes = _shapes(model, fx_graph, input_shape) if partial else {}

    def add(node, type_name, params, inputs, base, **extra):
        stack = _stack(node)
        prefix = stack[-1][0].replace(".", "_") + "_" if stack else ""
        node_id = suggest_id(prefix + base, g.nodes)
        g.add_node(type_name, params, (0, 0), node_id=node_id, **extra)
        ids[node] = node_id
        flat.stack[node_id] = stack
        wires.append((node_id, inputs))
        return node_id

    causal_masks = _causal_masks(fx_graph)
    owners: dict[int, str] = {}  # id(parameter) -> the node that holds it first (tied weights)
    for node in fx_graph.nodes:
        if node in causal_masks:
            continue  # the layer's `causal` says it
        try:
            if node.op == "placeholder":
                params = {"shape": input_shape} | ({"dtype": "int64"} if _takes_ids(model, node) else {})
                add(node, "Input", params, [], str(node.target))  # the forward argument's name
            elif node.op == "output":
                outs = node.args[0] if isinstance(node.args[0], (list, tuple)) else [node.args[0]]
                for i, out in enumerate(outs):
                    if not isinstance(out, torch.fx.Node):
                        raise Unmapped("the model returns a value that is not a tensor")
                    add(node, "Output", {}, [out], "output" if len(outs) == 1 else f"output_{i}")
            elif node.op == "call_module":
                module = model.get_submodule(node.target)
                spec = registry.get(type(module).__name__)
                if spec is None:
                    raise Unmapped(f"{type(module).__module__}.{type(module).__name__} has no node type")
                params = module_params(module, spec)
                called = {_KWARG_PARAMS.get(k, k): v for k, v in node.kwargs.items()}
                params.update({k: v for k, v in called.items() if spec.param(k) is not None
                               and not isinstance(v, torch.fx.Node)})  # need_weights=False, as called
                params = _check_params(spec, params)
                shares = first_call.get(node.target) if any(True for _ in module.parameters()) else None
                shares = shares or next((owners[id(t)] for t in module.parameters() if id(t) in owners), None)
                node_id = add(node, spec.type, params, _module_inputs(spec, node),
                              node.target.rsplit(".", 1)[-1], shares=shares)
                first_call.setdefault(node.target, node_id)
                for tensor in module.parameters():
                    owners.setdefault(id(tensor), node_id)
                flat.source_module[node_id] = node.target
            elif node.op in ("call_function", "call_method"):
                if node.op == "call_method" and node.target == "size":
                    continue  # a shape read: only the view(x.size(0), -1) pattern uses it (checked there)
                port = _output_port(node, ids, g, registry)
                if port is not None:  # attn_out = self.attn(q, k, v)[0]: the layer's output port
                    ids[node] = port
                    continue
                rule = rules.get(node.target)
                if rule is None:
                    raise Unmapped("has no node type")
                result = rule(node)
                type_name, params = result[0], result[1]
                inputs = result[2] if len(result) > 2 else (
                    list(node.args) if type_name in _BINARY else [node.args[0]])
                params = _check_params(registry[type_name], {k: v for k, v in params.items() if v is not None})
                base = getattr(node.target, "__name__", None) or str(node.target)
                add(node, type_name, params, inputs, base.strip("_"))
            else:  # get_attr: a parameter or buffer used directly, outside a layer
                raise Unmapped("a parameter or buffer used outside a layer has no node type")
        except Unmapped as exc:
            what = (f"{type(model.get_submodule(node.target)).__name__} module {node.target!r}"
                    if node.op == "call_module" else describe_target(node))
            # fx keeps no stack for some calls (an attribute read like `.real`): the input's place tells
            near = next((a for a in node.args if isinstance(a, torch.fx.Node) and a.op != "placeholder"), node)
            stack = _stack(node) or _stack(near)
            miss = Miss(stack[-1][0] if stack else "", what, str(exc), _user_line(node) or _user_line(near))
            tensors = [a for a in node.args if isinstance(a, torch.fx.Node)]
            if partial and node.op != "output" and len(tensors) <= MAX_INPUTS:
                node_id = _add_unmapped(g, node, miss, tensors, shapes, stack)
                ids[node], flat.stack[node_id] = node_id, stack
                wires.append((node_id, tensors))
                flat.unmapped.append((node_id, miss))
            else:
                misses.append(miss)
    if misses:
        raise UnmappedCalls(misses)
    for node_id, inputs in wires:
        _wire(g, registry, node_id, inputs, ids)
    return flat


def _shapes(model, fx_graph, input_shape) -> dict:
    """fx node -> the shape of its result in one run at batch 1 ('' where not a tensor)."""
    import torch
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp

    module = torch.fx.GraphModule(model, fx_graph)
    try:
        ShapeProp(module).propagate(torch.zeros(1, *input_shape))
    except Exception:  # the call fails at this size: the shapes stay unknown, the nodes are still made
        return {}
    out = {}
    for n in fx_graph.nodes:
        meta = n.meta.get("tensor_meta")
        out[n] = str(list(meta.shape)[1:]) if hasattr(meta, "shape") else ""
    return out


def _add_unmapped(g: Graph, node, miss: Miss, tensors: list, shapes: dict, stack) -> str:
    prefix = stack[-1][0].replace(".", "_") + "_" if stack else ""
    base = miss.what.rsplit(".", 1)[-1].split(" ")[0].strip("'_") or "unmapped"
    node_id = suggest_id(prefix + base, g.nodes)
    params = {"op": miss.what, "module": miss.path, "line": miss.line, "reason": miss.reason,
              "input_shapes": ", ".join(shapes.get(t, "") or "?" for t in tensors) if shapes else "",
              "output_shapes": shapes.get(node, "")}
    g.add_node("Unmapped", params, (0, 0), node_id=node_id)
    return node_id


_KWARG_PARAMS = {"is_causal": "causal"}  # a layer's call argument that its node keeps as a param
_MASKS = ("src_mask", "attn_mask", "mask", "tgt_mask")


def _causal_masks(fx_graph) -> set:
    """The calls that only build the mask of a layer called with is_causal=True (the node makes it
    from its `causal` param)."""
    import torch.fx

    found: set = set()
    for n in fx_graph.nodes:
        if n.op == "call_module" and n.kwargs.get("is_causal") is True:
            found |= {n.kwargs[k] for k in _MASKS if isinstance(n.kwargs.get(k), torch.fx.Node)}
    changed = bool(found)
    while changed:  # and what only they use
        changed = False
        for n in fx_graph.nodes:
            if n not in found and n.op != "placeholder" and n.users and all(u in found for u in n.users):
                found.add(n)
                changed = True
    return found


def _module_inputs(spec, node) -> list:
    """The tensors a layer is called with; a trailing one that repeats the one before is left to the
    optional port that defaults to it (MultiheadAttention's key and value are the query unwired)."""
    import torch.fx

    tensors = [a for a in node.args if isinstance(a, torch.fx.Node)]
    while (len(tensors) > 1 and len(tensors) <= len(spec.inputs) and tensors[-1] is tensors[-2]
           and spec.inputs[len(tensors) - 1].optional):
        tensors.pop()
    return tensors


def _output_port(node, ids: dict, g: Graph, registry):
    """What `node` takes when it is item k of a layer with several outputs: (node id, port), or
    ("partial", node id, items) for a step on the way (an LSTM's `h_n, c_n` pair); else None."""
    import operator

    import torch.fx

    if node.target is not operator.getitem or not isinstance(node.args[1], int):
        return None
    source = node.args[0]
    if not isinstance(source, torch.fx.Node) or source not in ids:
        return None
    ref = ids[source]
    if isinstance(ref, str):
        if source.op != "call_module":
            return None
        source_id, items = ref, (node.args[1],)
    elif len(ref) == 3:
        source_id, items = ref[1], ref[2] + (node.args[1],)
    else:
        return None
    spec = g.spec_of(g.node(source_id), registry)
    if spec is None:
        return None
    if spec.type in _TUPLE_OUTPUTS:
        ports = {(k,): p.name for k, p in enumerate(spec.outputs)}
    elif spec.type in _RECURRENT and not g.node(source_id).params.get("bidirectional"):
        ports = _RECURRENT[spec.type]
    else:
        return None
    if items in ports:  # the first output is the one a wire need not name, as drawn
        return source_id, ports[items] if ports[items] != spec.outputs[0].name else None
    if any(key[:len(items)] == items for key in ports):
        return "partial", source_id, items
    return None


# layers whose forward returns a tuple in the order of the node's output ports
_TUPLE_OUTPUTS = {"MultiheadAttention"}
# a recurrent layer's result (out, state): the items that are its node's ports (one direction; the
# last layer's state is item -1 of PyTorch's h_n, as the code exporter writes `lstm_h_n[-1]`)
_RECURRENT = {"LSTM": {(0,): "out", (1, 0, -1): "hidden", (1, 1, -1): "cell"},
              "GRU": {(0,): "out", (1, -1): "hidden"}, "RNN": {(0,): "out", (1, -1): "hidden"}}


def _takes_ids(model, placeholder) -> bool:
    """An input read first by an nn.Embedding holds token ids (int64), not measurements."""
    import torch

    return any(u.op == "call_module" and isinstance(model.get_submodule(u.target), torch.nn.Embedding)
               for u in placeholder.users)


_BINARY = {"Add", "Subtract", "Multiply", "Divide", "MatMul", "Maximum", "Minimum"}


def _check_params(spec, params: dict) -> dict:
    try:
        return tidy(spec, params)
    except ParamError as exc:
        raise Unmapped(f"its settings do not fit the {spec.type} node ({exc})") from None


def _wire(g: Graph, registry, node_id: str, inputs: list, ids: dict) -> None:
    import torch.fx

    spec = g.spec_of(g.node(node_id), registry)
    ports = spec.inputs
    for i, source in enumerate(inputs):
        if not isinstance(source, torch.fx.Node) or source not in ids or (
                isinstance(ids[source], tuple) and len(ids[source]) == 3):  # a partial item used as a tensor
            raise UnmappedCalls([Miss("", node_id, f"takes an input that is not a layer's output ({source!r})", "")])
        # a wire into the only required port names none, as a person's file does (src of an encoder)
        alone = i == 0 and len(inputs) == 1 and all(p.optional for p in ports[1:])
        port = None if len(ports) == 1 or alone else ports[min(i, len(ports) - 1)].name
        source_id, source_port = ids[source] if isinstance(ids[source], tuple) else (ids[source], None)
        g.connect(source_id, node_id, source_port, port)
