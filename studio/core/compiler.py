"""Graph -> torch.fx.GraphModule. Submodules are named after node ids, so `print(model.code)` reads
like hand-written PyTorch and the export tools (TorchScript, ONNX, torch.export) accept it."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Sequence

from .analysis import Analysis, analyze
from . import tuning
from .blocks_compile import instance_module
from .graph import Graph
from .problems import CompileError, Problem
from .registry import Registry
from .sharing import ModuleTable
from .topology import reaching, to_networkx
from .types import TensorType


@dataclass(frozen=True)
class Signature:
    """What the compiled model takes and returns (per sample, without the batch dimension)."""

    inputs: tuple[tuple[str, TensorType | None], ...]  # None: not inferred (a graph with errors)
    outputs: tuple[tuple[str, TensorType | None], ...]

    def example_inputs(self, batch: int = 2, device="cpu") -> tuple:
        import torch

        out = []
        for name, t in self.inputs:
            assert t is not None, f"input {name!r} has no inferred type"  # compiled graphs have every type
            if t.is_float:
                out.append(torch.randn(batch, *t.shape, dtype=getattr(torch, t.dtype), device=device))
            else:
                out.append(torch.randint(0, 2, (batch, *t.shape), dtype=getattr(torch, t.dtype), device=device))
        return tuple(out)


def signature(analysis: Analysis) -> Signature:
    ins = tuple((n, analysis.nodes[n].output) for n in analysis.inputs)
    outs = []
    for node_id, port in analysis.outputs:
        info = analysis.nodes[node_id]
        idx = info.spec.output_index(port) if info.spec else 0
        outs.append((node_id if port is None else f"{node_id}_{port}", info.outputs[idx] if info.outputs else None))
    return Signature(ins, tuple(outs))


MAX_PARAMS = 2_000_000_000  # 8 GB of float32 weights: beyond this a typo is likelier than intent


def _check_size(analysis: Analysis, needed: set[str]) -> None:
    """Refuse a model too large to build (a typo such as out_features=1000000 after a big Flatten)
    before allocating it, naming the largest layer."""
    from .stats import node_stats

    sizes = {n: (node_stats(analysis.nodes[n]) or _NO_STATS).params for n in needed}
    total = sum(sizes.values())
    if total > MAX_PARAMS:
        worst = max(sizes, key=sizes.__getitem__)
        info = analysis.nodes[worst]
        raise CompileError([Problem("error", f"{info.label} has {sizes[worst]:,} parameters (the model "
                                             f"{total:,}, about {total * 4 / 2**30:.0f} GiB); that is too large "
                                             "to build: reduce its size", worst)])


class _NoStats:
    params = 0


_NO_STATS = _NoStats()


def _unwrap(value):
    from torch import fx

    # recursive: a recurrent layer takes its state as a tuple (h0, c0)
    return fx.node.map_aggregate(value, lambda v: v.node if isinstance(v, fx.Proxy) else v)


def _no_layer(*_args, **_kwargs):
    raise AssertionError("an Input has no layer to call")  # its wire only computes on the placeholder


def _input_value(proxy, node_id: str, analysis: Analysis, fx_graph):
    """An Input's value: its placeholder through the spec's wire (the Input's normalisation, which
    adds no op at mean 0 and std 1); the ops it adds name the Input as the node that made them."""
    info = analysis.nodes.get(node_id)
    if info is None or info.spec is None or info.params is None or info.type != "Input":
        return proxy  # a block's input port: its value as it comes
    before = len(fx_graph.nodes)
    value = info.spec.wire(_no_layer, [proxy], info.params)[0]
    for fx_node in itertools.islice(reversed(fx_graph.nodes), len(fx_graph.nodes) - before):
        fx_node.meta["node_id"] = node_id
    return value


def compile_graph(graph: Graph, registry: Registry | None = None, analysis: Analysis | None = None,
                  modules: dict | None = None):
    """Build the torch.fx.GraphModule of a graph; raises CompileError when the graph has errors.
    `modules`: layers already built, by node id, used instead of building them (the live preview
    keeps a node's layer and weights between edits that do not change it)."""
    analysis = analysis or analyze(graph, registry)
    if not analysis.ok:
        raise CompileError(analysis.errors)
    needed = reaching(to_networkx(graph), [n for n, _ in analysis.outputs])
    _check_size(analysis, needed)
    return graph_module(graph, analysis, analysis.inputs, analysis.outputs, "NetStudioModel", needed, modules)


def graph_module(graph: Graph, analysis: Analysis, input_ids: list[str], outputs: list[tuple[str, str | None]],
                 class_name: str, needed: set[str], prebuilt: dict | None = None):
    """One graph as a torch.fx.GraphModule: `input_ids` become its arguments (in that order), the
    values of `outputs` its result. Used for the top-level graph and, through blocks_compile, for
    each block definition's graph (whose instances are submodules built the same way)."""
    import torch
    from torch import fx

    root = torch.nn.Module()
    modules = ModuleTable(analysis, root, prebuilt)
    fx_graph = fx.Graph()
    tracer = fx.proxy.GraphAppendingTracer(fx_graph)
    values: dict[tuple[str, int], Any] = {}  # fx.Proxy, or what a node's wire() returned
    for node_id in input_ids:
        values[(node_id, 0)] = _input_value(fx.Proxy(fx_graph.placeholder(node_id), tracer), node_id, analysis,
                                            fx_graph)
    in_edges: dict[str, list] = {n: [] for n in graph.nodes}
    for e in graph.edges:
        in_edges[e.target].append(e)

    for node_id in analysis.order:
        if node_id not in needed or (node_id, 0) in values:
            continue  # dead branches are reported as warnings and left out of the model
        info = analysis.nodes[node_id]
        spec, params = info.spec, info.params
        assert spec is not None and params is not None  # analysis.ok: every node resolved
        args: list[Any] = []
        for port in spec.inputs:
            if port.optional and not any(spec.input_port(e.target_port) is port for e in in_edges[node_id]):
                args.append(None)  # an unwired optional port: the spec's wire() decides what that means
            for e in in_edges[node_id]:
                if spec.input_port(e.target_port) is port:
                    src_spec = analysis.nodes[e.source].spec
                    assert src_spec is not None
                    args.append(values[(e.source, src_spec.output_index(e.source_port))])
        if info.passthrough:  # switched off by a block's `enabled` param
            values[(node_id, 0)] = args[0]
            continue
        if info.block is not None:  # a block instance: its copies as one submodule
            module = prebuilt.get(node_id) if prebuilt else None
            module, name = module if module is not None else instance_module(info, graph_module), node_id
            root.add_module(node_id, module)
        else:
            module, name = modules.module(node_id)  # a node sharing another's weights gets its module
        if name == node_id:  # a node that shares weights follows the freezing of their owner
            tuning.mark(module, graph.node(node_id))
        call = None
        if module is not None:
            def call(*a, _name=name, **kw):
                args = tuple(_unwrap(x) for x in a)
                kwargs = {k: _unwrap(v) for k, v in kw.items()}
                return fx.Proxy(fx_graph.call_module(_name, args, kwargs), tracer)

        before = len(fx_graph.nodes)
        if info.block is not None:
            out = call(*args)
            results: Sequence[Any] = [out] if len(spec.outputs) == 1 else [out[i] for i in range(len(spec.outputs))]
        else:
            results = spec.wire(call, args, params)
        for fx_node in itertools.islice(reversed(fx_graph.nodes), len(fx_graph.nodes) - before):
            fx_node.meta["node_id"] = node_id  # which node made it: export messages name that node
        for i, r in enumerate(results):
            values[(node_id, i)] = r

    outs = []
    for node_id, out_port in outputs:
        out_spec = analysis.nodes[node_id].spec
        assert out_spec is not None
        outs.append(_unwrap(values[(node_id, out_spec.output_index(out_port))]))
    fx_graph.output(outs[0] if len(outs) == 1 else tuple(outs))
    fx_graph.lint()
    return fx.GraphModule(root, fx_graph, class_name=class_name)
