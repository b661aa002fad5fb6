"""The live preview while designing (Qt-free): one sample of the project's dataset through the
compiled graph, before any training, and the output of every node as a thumbnail (preview_thumbs).

Weights are random but seeded per node (the seed and the node's id), so a preview is stable between
edits and an edit changes only the weights of the node it touches; when a trained run's checkpoint is
chosen, every layer whose shapes still match takes its trained weights.

Each edit must cost little (docs/performance.md), so `PreviewEngine` keeps two caches between runs:
- modules: a node whose type, params, input types (and block definition) did not change keeps its
  module and weights (the compiler takes them: `compile_graph(..., modules=...)`), so an edit builds
  and initialises only the layers it changed;
- values: a node whose own key and every upstream key did not change keeps its output, so an edit
  near the output does not run the layers before it again.
"""
from __future__ import annotations

import hashlib
import json
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import fx

from studio.core.analysis import analyze
from studio.core.blocks_compile import instance_module
from studio.core.blocks_io import definition_to_json
from studio.core.compiler import MAX_PARAMS, compile_graph, graph_module
from studio.core.problems import CompileError, Problem
from studio.core.topology import reaching, to_networkx

from .preview_data import SampleSource
from .preview_thumbs import Thumb, make_thumb


@dataclass(frozen=True)
class PreviewRequest:
    graph: object  # a copy of the graph (the worker never reads the live one)
    training: dict | None = None
    base_dir: Path | None = None
    sample: int = 0
    seed: int = 0
    checkpoint: Path | None = None  # trained weights to use where shapes match
    revision: int = 0
    trail: tuple = ()  # the blocks opened on the canvas (instance ids): their inner nodes are shown


@dataclass
class PreviewResult:
    revision: int
    thumbs: dict[str, Thumb] = field(default_factory=dict)  # node id -> thumbnail (absent: no preview)
    failed: dict[str, str] = field(default_factory=dict)  # node id -> why it shows none
    note: str = ""  # why the whole graph shows none (it does not compile), else ""
    sample_text: str = ""
    sample_index: int = 0
    sample_count: int = 0
    weights_text: str = ""
    ms: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # ms per step of this run (where the time went)


class PreviewEngine:
    """Runs on one thread (the preview worker's); keeps its caches between runs."""

    def __init__(self) -> None:
        self.samples = SampleSource()
        self._modules: dict[str, tuple[str, torch.nn.Module]] = {}  # node id -> (module key, module)
        self._values: dict[tuple, torch.Tensor] = {}  # (value key, k-th fx node of that node) -> output
        self._thumbs: dict[str, Thumb] = {}
        self._state: tuple | None = None  # (checkpoint path, mtime, its state dict)
        self._whole_run = False  # this run compiled the graph at once: nothing of it is kept
        self._sizes: dict[str, int] = {}  # module key -> its parameter count (the size check)
        self._phases: dict[str, float] = {}
        self._t = 0.0

    def run(self, req: PreviewRequest) -> PreviewResult:
        t0 = time.perf_counter()
        result = PreviewResult(req.revision)
        self._phases, self._t = result.phases, t0
        try:
            self._run(req, result)
        except CompileError as exc:
            result.thumbs.clear()
            result.note = f"no preview: {exc.problems[0].message if exc.problems else _first_line(exc)}"
        except Exception as exc:  # noqa: BLE001 - a preview that fails shows a note, never a traceback
            result.thumbs.clear()
            result.note = f"no preview: {_first_line(exc)}"
        result.ms = (time.perf_counter() - t0) * 1e3
        return result

    def _lap(self, phase: str) -> None:
        now = time.perf_counter()
        self._phases[phase] = self._phases.get(phase, 0.0) + (now - self._t) * 1e3
        self._t = now

    def _run(self, req: PreviewRequest, result: PreviewResult) -> None:
        graph = req.graph
        analysis = analyze(graph)
        self._lap("analyse")
        if not analysis.ok:
            result.note = "no preview: the graph has errors (see Problems)"
            return
        state, result.weights_text = self._checkpoint(req.checkpoint)
        keys = self._module_keys(graph, analysis, req)
        self._whole_run = False
        model = self._model(graph, analysis, keys, req.seed, state)
        self._lap("build")
        inputs = []
        for node_id in analysis.inputs:
            t = analysis.nodes[node_id].output
            sample = self.samples.sample(req.training, req.base_dir, req.sample, tuple(t.shape), t.dtype,
                                         req.seed + zlib.crc32(node_id.encode()))
            inputs.append(sample.x)
            if len(inputs) == 1:
                result.sample_text, result.sample_index, result.sample_count = (sample.text, sample.index,
                                                                                sample.count)
        self._lap("sample")
        value_keys = self._value_keys(graph, analysis, keys, inputs)
        level = _inner_level(model, analysis, req.trail) if req.trail else None
        reuse = not self._whole_run and level is None  # inside a block its instance must run
        outputs = _Capture(model, value_keys, self._values if reuse else {})
        if level is not None:
            with level.hooked():
                outputs.capture(*inputs)
            self._values = {}
            for inner_id, value in level.values.items():
                result.thumbs[inner_id] = make_thumb(value[0].detach().float().cpu().numpy())
            return
        outputs.capture(*inputs)
        self._lap("forward")
        self._values = outputs.cache if reuse else {}
        thumbs: dict[str, Thumb] = {}
        for node_id in analysis.order:
            info = analysis.nodes[node_id]
            value = outputs.value_of(node_id, info, graph)
            if value is None:
                continue
            key = value_keys.get(node_id)
            thumb = self._thumbs.get(key) if key is not None else None
            if thumb is None:
                thumb = make_thumb(value[0].detach().float().cpu().numpy())
            thumbs[key] = thumb
            result.thumbs[node_id] = thumb
        self._thumbs = thumbs
        self._lap("thumbnails")

    # ---- weights ----------------------------------------------------------------------------------
    def _checkpoint(self, path: Path | None) -> tuple[dict | None, str]:
        if path is None:
            self._state = None
            return None, "random weights (seeded)"
        from studio.core.weights import read_state_dict

        stamp = (str(path), Path(path).stat().st_mtime_ns)
        if self._state is None or self._state[0] != stamp:
            self._state = (stamp, read_state_dict(path))
        return self._state[1], f"trained weights: {Path(path).parent.name}/{Path(path).name}"

    def _module_keys(self, graph, analysis, req: PreviewRequest) -> dict[str, str]:
        """What a node's module depends on: type, params, input types, block definitions, weights."""
        weights = "" if req.checkpoint is None else str(self._state[0]) if self._state else str(req.checkpoint)
        keys = {}
        for node_id in analysis.order:
            node, info = graph.nodes[node_id], analysis.nodes[node_id]
            block = ""
            if info.block is not None and node.block in graph.blocks:
                block = json.dumps([definition_to_json(graph.blocks[n]) for n, _ in
                                    graph.blocks.dependency_key(node.block)], sort_keys=True, default=str)
            keys[node_id] = json.dumps([node.type, info.params, [str(t) for t in info.inputs], node.shares,
                                        node.instance_fields(), block, req.seed, weights, info.passthrough],
                                       sort_keys=True, default=str)
        return keys

    def _value_keys(self, graph, analysis, keys: dict[str, str], inputs) -> dict[str, str]:
        """A node's output depends on its module and on everything upstream, in wire order: a digest
        of its module key, its sample and its inputs' digests. (Digests, not nested tuples: hashing a
        tuple walks all of it, and the upstream of a residual chain doubles with every block.)"""
        samples = {n: f"{tuple(x.shape)}:{zlib.crc32(x.numpy().tobytes())}" for n, x in zip(analysis.inputs, inputs)}
        incoming: dict[str, list] = {n: [] for n in graph.nodes}
        for e in graph.edges:
            incoming[e.target].append(e)
        out: dict[str, str] = {}
        for node_id in analysis.order:
            h = hashlib.sha1(keys[node_id].encode())
            h.update(samples.get(node_id, "").encode())
            for e in incoming[node_id]:
                h.update(f"|{out.get(e.source)}:{e.source_port}:{e.target_port}".encode())
            out[node_id] = h.hexdigest()
        return out

    # ---- the model ---------------------------------------------------------------------------------
    def _model(self, graph, analysis, keys: dict[str, str], seed: int, state: dict | None):
        """The compiled graph with kept modules where their key is unchanged and new seeded ones
        elsewhere. Shared weights tie modules together, so such a graph is compiled whole (seeded)."""
        if any(node.shares for node in graph.nodes.values()):
            return self._whole(graph, analysis, seed, state)
        needed = reaching(to_networkx(graph), [n for n, _ in analysis.outputs])
        self._check_size(analysis, needed, keys)
        kept: dict[str, tuple[str, torch.nn.Module]] = {}
        for node_id in analysis.order:
            key = keys.get(node_id)
            cached = self._modules.get(node_id)
            if cached is not None and cached[0] == key:
                module = cached[1]
            elif node_id not in needed:
                continue  # a dead branch: not in the model (compile_graph leaves it out too)
            else:
                module = self._build(analysis.nodes[node_id], node_id, seed)
                if module is None:
                    continue  # a function of its inputs (a ReLU as F.relu, a Flatten): no weights
                _load_matching(module, state, node_id + ".")
            kept[node_id] = (key, module.eval())
        self._modules = kept
        # graph_module, not compile_graph: its size check counts FLOPs too, and the first FLOP count
        # in a process imports torch._dynamo (seconds on a loaded machine) that the preview never uses
        model = graph_module(graph, analysis, analysis.inputs, analysis.outputs, "NetStudioModel", needed,
                             {n: m for n, (_k, m) in kept.items()})
        return model.eval()

    def _check_size(self, analysis, needed: set[str], keys: dict[str, str]) -> None:
        """Refuse a model too large to build (compile_graph's limit) before any layer is allocated:
        each layer's parameters counted on the meta device (kept per module key)."""
        counts, total = {}, 0
        for node_id in needed:
            key = keys.get(node_id)
            n = self._sizes.get(key)
            if n is None:
                n = _param_count(analysis.nodes[node_id])
            counts[key] = n
            total += n
            if total > MAX_PARAMS:
                info = analysis.nodes[node_id]
                raise CompileError([Problem("error", f"{info.label} has {n:,} parameters (the model at least "
                                                     f"{total:,}); that is too large to build: reduce its size",
                                            node_id)])
        self._sizes = counts

    def _whole(self, graph, analysis, seed: int, state: dict | None):
        """The graph compiled at once with one seed (no module is kept between runs, nor any value)."""
        self._modules.clear()
        self._values.clear()
        self._whole_run = True
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = compile_graph(graph, analysis=analysis)
        _load_matching(model, state, "")
        return model.eval()

    @staticmethod
    def _build(info, node_id: str, seed: int) -> torch.nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed((seed * 1_000_003 + zlib.crc32(node_id.encode())) % (2 ** 63))
            if info.block is not None:
                return instance_module(info, graph_module)
            return info.spec.build(info.params, info.inputs)


def _param_count(info) -> int:
    """A layer's parameters, from its build on the meta device (no memory, no initialisation)."""
    if info.passthrough:
        return 0
    with torch.device("meta"):
        try:
            module = instance_module(info, graph_module) if info.block is not None else \
                info.spec.build(info.params, info.inputs)
        except RuntimeError:  # weights whose byte size overflows torch's storage size
            return MAX_PARAMS + 1
    return 0 if module is None else sum(p.numel() for p in module.parameters())


class _InnerLevel:
    """The inner nodes of the block opened at the end of a trail: forward hooks on the modules of
    its first copy record their outputs while the whole model runs (a node of the definition that
    makes no module of its own shows none)."""

    def __init__(self, modules: dict[str, torch.nn.Module], infos: dict) -> None:
        self.modules, self.infos = modules, infos
        self.values: dict[str, torch.Tensor] = {}

    def hooked(self):
        import contextlib

        stack = contextlib.ExitStack()
        for inner_id, module in self.modules.items():
            stack.callback(module.register_forward_hook(
                lambda _m, _i, out, inner_id=inner_id: self._keep(inner_id, out)).remove)
        return stack

    def _keep(self, inner_id: str, out) -> None:
        out = out[0] if isinstance(out, tuple) else out
        want = self.infos[inner_id].output if inner_id in self.infos else None
        if isinstance(out, torch.Tensor) and want is not None and tuple(out.shape[1:]) == tuple(want.shape):
            self.values[inner_id] = out


def _inner_level(model, analysis, trail: tuple) -> _InnerLevel | None:
    path, infos = [], analysis.nodes
    result = None
    for iid in trail:
        info = infos.get(iid) if infos is not None else None
        inst = info.block if info is not None else None
        if inst is None or not inst.copies:
            return None
        path.append(inst.copy_prefix(iid, 0))
        result = inst.copies[0]
        infos = result.analysis.nodes
    try:
        root = model.get_submodule(".".join(path))
    except AttributeError:
        return None
    modules = {}
    for inner_id in result.analysis.order:
        name = result.module_names.get(inner_id, inner_id)
        try:
            modules[inner_id] = root.get_submodule(name)
        except AttributeError:
            continue  # computed without a module of its own
    return _InnerLevel(modules, result.analysis.nodes)


def _load_matching(module: torch.nn.Module, state: dict | None, prefix: str) -> None:
    """Trained weights for every tensor whose name and shape still match (an edited layer keeps its
    seeded weights)."""
    if not state:
        return
    own = module.state_dict()
    found = {k: state[prefix + k] for k, v in own.items()
             if isinstance(state.get(prefix + k), torch.Tensor) and state[prefix + k].shape == v.shape}
    if found:
        module.load_state_dict(found, strict=False)


class _Capture(fx.Interpreter):
    """Runs the model node by node, keeping every fx node's output per graph node (fx nodes carry the
    id of the graph node that made them in meta["node_id"]); a node whose value key is unchanged
    takes its outputs from the last run instead of computing them."""

    def __init__(self, model, value_keys: dict[str, str], old: dict) -> None:
        super().__init__(model)
        self.value_keys, self.old, self.cache = value_keys, old, {}
        self.values: dict[str, list] = {}
        self._count: dict[str, int] = {}

    @torch.no_grad()
    def capture(self, *inputs):
        self.run(*inputs)
        return self

    def run_node(self, n):
        node_id = n.target if n.op == "placeholder" else n.meta.get("node_id")
        if node_id is None or n.op == "output":
            return super().run_node(n)
        k = self._count.get(node_id, 0)
        self._count[node_id] = k + 1
        key = (self.value_keys.get(node_id), k)
        value = self.old.get(key) if key[0] is not None else None
        if value is None or n.op == "placeholder":
            value = super().run_node(n)
        if key[0] is not None:
            self.cache[key] = value
        self.values.setdefault(node_id, []).append(value)
        return value

    def value_of(self, node_id: str, info, graph):
        """The node's first output: the last value it made whose shape is that output's; a node that
        makes no value of its own (an Output, a switched-off block) shows what flows into it."""
        want = info.output
        if want is None and info.inputs:
            want = info.inputs[0]  # an Output node: what it receives
        if want is None:
            return None
        for value in reversed(self.values.get(node_id, [])):
            if isinstance(value, torch.Tensor) and tuple(value.shape[1:]) == tuple(want.shape):
                return value
        if node_id not in self.values:
            edges = graph.in_edges(node_id)
            if len(edges) == 1:
                for value in reversed(self.values.get(edges[0].source, [])):
                    if isinstance(value, torch.Tensor) and tuple(value.shape[1:]) == tuple(want.shape):
                        return value
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
