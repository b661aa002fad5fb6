"""Shape inference and validation: what every node outputs, and every problem in a person's words.

`analyze(graph)` is a pure function of the graph; `Analyzer` keeps a per-node cache keyed by the
node's type, params and input types, so after one edit only the changed node and what lies
downstream of it run their inference again.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .blocks_analysis import ROOT_SCOPE, BlockAnalyzer, Instance, Scope, check_placement, find_inner
from .graph import Edge, Graph, GraphEventKind
from .plain import freeze
from .problems import ERROR, WARNING, Problem
from .registry import Registry, default_registry
from .spec import NodeSpec, ParamError
from .topology import cycle_nodes, find_cycle, reachable_from, reaching, to_networkx
from .types import ShapeError, TensorType

# attribute names of torch.nn.Module / torch.fx.GraphModule that a layer name would shadow
RESERVED_IDS = frozenset({
    "code", "graph", "forward", "training", "parameters", "named_parameters", "modules", "named_modules",
    "children", "named_children", "buffers", "named_buffers", "state_dict", "load_state_dict", "eval",
    "train", "to", "cuda", "cpu", "type", "float", "double", "half", "bfloat16", "apply", "zero_grad",
    "register_buffer", "register_parameter", "add_module", "register_module", "get_submodule",
    "recompile", "meta", "device", "dtype", "extra_repr", "requires_grad_", "share_memory", "compile",
})
INPUT_TYPE = "Input"
OUTPUT_TYPE = "Output"
PLACED = frozenset({INPUT_TYPE, OUTPUT_TYPE, "BlockInput", "BlockOutput", "Block"})  # checked for where they sit


@dataclass
class NodeInfo:
    id: str
    type: str
    spec: NodeSpec | None = None
    params: dict | None = None  # resolved (defaults filled in, coerced) when valid
    inputs: list[TensorType] = field(default_factory=list)  # in wire order, per input port
    outputs: list[TensorType] | None = None  # one per output port, when inference succeeded
    error: str | None = None  # the first error, as a whole sentence
    block: Instance | None = None  # a Block instance: its copies, each its definition's analysis
    passthrough: bool = False  # switched off by a block's `enabled` param: its input goes straight out

    @property
    def output(self) -> TensorType | None:
        return self.outputs[0] if self.outputs else None

    @property
    def label(self) -> str:
        return f"{self.type} '{self.id}'"


class NodeTable(dict):
    """NodeInfo by node id; also answers a dotted path inside a block instance (`layer1.0.conv1`:
    instance, copy when repeated, inner node or module index), though iteration lists only this
    graph's own nodes."""

    def __missing__(self, key):
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def get(self, key, default=None):
        found = dict.get(self, key)
        if found is None and isinstance(key, str) and "." in key:
            found = find_inner(self, key)
        return default if found is None else found

    def __contains__(self, key) -> bool:
        return self.get(key) is not None


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo]
    problems: list[Problem]
    order: list[str]  # topological (empty when the graph has a cycle)
    inputs: list[str]  # Input node ids, in document order
    outputs: list[tuple[str, str | None]]  # (node id, output port) of the model's outputs
    edge_types: dict[Edge, TensorType]

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def problems_for(self, node_id: str) -> list[Problem]:
        """The problems of a node, and those inside it when it is a block instance."""
        inside = node_id + "."
        return [p for p in self.problems if p.node_id == node_id or (p.node_id or "").startswith(inside)]


_freeze = freeze


class Analyzer:
    """Re-analyses a graph after each change, reusing per-node inference results."""

    def __init__(self, graph: Graph, registry: Registry | None = None,
                 blocks: BlockAnalyzer | None = None) -> None:
        self.graph = graph
        self.registry = registry or default_registry()
        # analyses of block definitions, shared by this graph and every inner graph
        self.blocks = blocks if blocks is not None else BlockAnalyzer(graph.blocks, self.registry, Analyzer)
        self._cache: dict[tuple, tuple[list[TensorType] | None, str | None]] = {}  # (outputs, error) per key
        self._last: Analysis | None = None
        self._last_revision = -1
        self._params: dict[str, tuple] = {}  # node id -> (type, frozen params, resolved or ParamError)
        self._topology: tuple | None = None  # (topology revision, nx graph, nodes on cycles, order,
        #                                       document position of each node)
        self._reach: tuple | None = None  # (key, reachable from the inputs, reaching the outputs)
        graph.subscribe(self._forget)

    def _forget(self, event) -> None:
        if event.kind in (GraphEventKind.PARAM_CHANGED, GraphEventKind.NODE_REMOVED, GraphEventKind.NODE_ADDED):
            self._params.pop(event.node_id, None)
        elif event.kind in (GraphEventKind.RESET, GraphEventKind.NODE_RENAMED):
            self._params.clear()

    def _resolve(self, node, spec, overrides=None):
        if overrides:  # values a block's exposed params set: not kept, they differ per instance
            given = {**node.params, **overrides}
            try:
                return _freeze(given), spec.resolve_params(given)
            except ParamError as exc:
                return _freeze(given), exc
        hit = self._params.get(node.id)
        if hit is None or hit[0] is not spec:
            try:
                hit = (spec, _freeze(node.params), spec.resolve_params(node.params))
            except ParamError as exc:
                hit = (spec, _freeze(node.params), exc)
            self._params[node.id] = hit
        return hit[1], hit[2]

    def _topo(self):
        graph = self.graph
        if self._topology is None or self._topology[0] != graph.topology_revision:
            nxg = to_networkx(graph)
            on_cycle = cycle_nodes(nxg)
            order: list[str] = []
            position = {n: i for i, n in enumerate(graph.nodes)}
            if not on_cycle:
                import networkx as nx

                order = list(nx.lexicographical_topological_sort(nxg, key=position.__getitem__))
            self._topology = (graph.topology_revision, nxg, on_cycle, order, position)
        return self._topology[1:]

    def _reachability(self, nxg, input_ids: list[str], output_nodes: list[str]) -> tuple[set, set]:
        """(nodes reachable from the inputs, nodes that reach an Output), kept until the wiring
        changes: a param edit does not move them, and at 5,000 nodes they cost ~10 ms an edit."""
        key = (self.graph.topology_revision, tuple(input_ids), tuple(output_nodes))
        if self._reach is None or self._reach[0] != key:
            useful = reaching(nxg, output_nodes) if output_nodes else set()
            self._reach = (key, frozenset(reachable_from(nxg, input_ids)), frozenset(useful))
        return self._reach[1], self._reach[2]

    def analysis(self) -> Analysis:
        if self._last is None or self._last_revision != self.graph.revision:
            self._last = self._run()
            self._last_revision = self.graph.revision
            if len(self._cache) > 20000:
                self._cache.clear()
        return self._last

    # ------------------------------------------------------------------------------------------
    def _run(self, scope: Scope | None = None) -> Analysis:
        """Analyse the graph; `scope` (a definition's graph analysed for one instance) gives the
        types arriving at its BlockInputs, the values its exposed params set and what they switch off."""
        scope = scope or ROOT_SCOPE
        overrides, port_types, disabled = scope.overrides, scope.port_types, scope.disabled
        graph, registry = self.graph, self.registry
        problems: list[Problem] = []
        infos: dict[str, NodeInfo] = {}  # a plain dict while it is filled (NodeTable's get is Python)

        def fail(node_id: str, message: str, fld: str | None = None, severity: str = ERROR) -> None:
            problems.append(Problem(severity, message, node_id, fld))
            info = infos.get(node_id)
            if info is not None and info.error is None and severity == ERROR:
                info.error = message

        # 1. types and params
        frozen: dict[str, str] = {}
        for node in graph.nodes.values():
            spec = registry.get(node.type) if node.type != "Block" else graph.spec_of(node, registry)
            info = infos[node.id] = NodeInfo(node.id, node.type, spec)
            if spec is None:
                fail(node.id, self.blocks.unknown(node))
                continue
            if node.id in RESERVED_IDS:
                fail(node.id, f"{info.label}: the id '{node.id}' is a reserved name in PyTorch modules "
                              f"(it would hide model.{node.id}); rename the node, e.g. '{node.id}_1'")
            if node.type in PLACED:
                misplaced = check_placement(info, scope) or self.blocks.check(node, info, scope)
                if misplaced:
                    fail(node.id, misplaced)
            frozen[node.id], resolved = self._resolve(node, spec, overrides.get(node.id) if overrides else None)
            if isinstance(resolved, ParamError):
                fld = next((k for k in node.params if f"'{k}'" in str(resolved)), None)
                fail(node.id, f"{info.label}: {resolved}", fld)
            else:
                info.params = resolved

        # 2. wires: ends, ports, and how many wires each input port gets
        wires: dict[str, dict[str, list[Edge]]] = {n: {} for n in graph.nodes}
        good_edges: list[Edge] = []
        for e in graph.edges:
            src, dst = infos.get(e.source), infos.get(e.target)
            if src is None or dst is None:
                missing = e.source if src is None else e.target
                where = e.target if src is None else e.source
                if where in infos:
                    fail(where, f"A wire connects '{e.source}' to '{e.target}', but there is no node "
                                f"'{missing}'; delete the wire")
                else:
                    problems.append(Problem(ERROR, f"A wire connects '{e.source}' to '{e.target}', "
                                                   "but neither node exists; delete the wire"))
                continue
            if src.spec is None or dst.spec is None:
                continue
            out_port = src.spec.output_port(e.source_port)
            in_port = dst.spec.input_port(e.target_port)
            if out_port is None:
                names = ", ".join(p.name for p in src.spec.outputs) or "none"
                fail(e.source, f"{src.label} has no output port '{e.source_port}' (its outputs: {names})")
                continue
            if in_port is None:
                names = ", ".join(p.name for p in dst.spec.inputs) or "none"
                fail(e.target, f"{dst.label} has no input port '{e.target_port}' (its inputs: {names})")
                continue
            wires[e.target].setdefault(in_port.name, []).append(e)
            good_edges.append(e)

        for node_id, info in infos.items():
            if info.spec is None:
                continue
            for port in info.spec.inputs:
                got = wires[node_id].get(port.name, [])
                name = f" '{port.name}'" if len(info.spec.inputs) > 1 else ""
                if not got:
                    fail(node_id, f"{info.label} has nothing wired into its input{name}; "
                                  "connect an upstream layer to it")
                elif len(got) > 1 and not port.multi:
                    srcs = ", ".join(f"'{e.source}'" for e in got)
                    fail(node_id, f"{info.label} gets {len(got)} wires ({srcs}) into its input{name}, "
                                  "which takes one; remove one, or merge them with Add or Concat")

        # 3. cycles
        nxg, on_cycle, order, position = self._topo()
        if on_cycle:
            cyc = find_cycle(nxg) or sorted(on_cycle)
            path = " -> ".join(cyc + cyc[:1])
            for node_id in on_cycle:
                fail(node_id, f"{infos[node_id].label} is part of a cycle ({path}); a network must "
                              "flow one way: remove one of these wires")

        # 4. shape inference, in order
        edge_types: dict[Edge, TensorType] = {}
        for node_id in order:
            info = infos[node_id]
            if info.spec is None or info.params is None or info.error:
                continue
            inputs: list[TensorType] = []
            if port_types and info.type == "BlockInput":  # inside a definition: what the instance gets
                if node_id not in port_types:
                    continue
                inputs = list(port_types[node_id])
            complete = True
            for port in info.spec.inputs:
                for e in wires[node_id].get(port.name, []):
                    src = infos[e.source]
                    if not src.outputs:
                        complete = False
                        break
                    assert src.spec is not None  # a node without a spec has no outputs
                    t = src.outputs[src.spec.output_index(e.source_port)]
                    edge_types[e] = t
                    inputs.append(t)
            info.inputs = inputs
            if not complete:
                continue  # an upstream problem is already reported
            if info.type == "Block" or (disabled and node_id in disabled):
                err = self.blocks.infer(graph.nodes[node_id], info, scope, problems)
                if err:
                    fail(node_id, err)
                continue
            key = (info.type, frozen[node_id], tuple(inputs), tuple(len(wires[node_id].get(p.name, []))
                                                                          for p in info.spec.inputs))
            cached = self._cache.get(key)
            if cached is None:
                try:
                    cached = (list(info.spec.infer(info.params, inputs)), None)
                except ShapeError as exc:
                    cached = (None, str(exc))
                except ParamError as exc:
                    cached = (None, str(exc))
                self._cache[key] = cached
            outs, err = cached
            if err:
                fail(node_id, f"{info.label} {err}" if not err.startswith(info.type) else err)
            else:
                info.outputs = outs

        # 5. inputs, outputs, reachability
        input_ids = [n for n, i in infos.items() if i.type == scope.input_type]
        output_nodes = [n for n, i in infos.items() if i.type == scope.output_type]
        if scope.definition is not None:
            input_ids, output_nodes = scope.ports
        if not graph.nodes:
            problems.append(Problem(ERROR, "The graph is empty; add an Input node and some layers"))
        elif scope.definition is not None:
            if not output_nodes:
                problems.append(Problem(ERROR, f"Block definition '{scope.definition}' has no BlockOutput; "
                                               "add one and wire the block's result into it"))
        elif not input_ids:
            problems.append(Problem(ERROR, "The graph has no Input node; add one from the io category "
                                           "and set the shape of one sample"))
        from_inputs, useful = self._reachability(nxg, input_ids, output_nodes)
        outputs: list[tuple[str, str | None]] = []
        if output_nodes:
            outputs = [(n, None) for n in output_nodes]
            for n in output_nodes:
                if input_ids and n not in from_inputs and wires[n]:
                    fail(n, f"{infos[n].label} is not reached from any Input; wire a path to it")
        else:
            loose = [n for n in from_inputs if not nxg.out_degree(n) and infos[n].spec is not None]
            loose.sort(key=position.__getitem__)
            for n in loose:
                spec = infos[n].spec
                assert spec is not None  # chosen above
                outputs.extend((n, p.name if len(spec.outputs) > 1 else None) for p in spec.outputs[:1])
            if len(loose) > 1:
                names = ", ".join(f"'{n}'" for n in loose)
                problems.append(Problem(WARNING, f"The graph has no Output node, so its {len(loose)} loose "
                                                 f"ends ({names}) all become model outputs; add an Output "
                                                 "node to say which one you mean"))
        if graph.nodes and input_ids and not outputs and scope.definition is None:
            problems.append(Problem(ERROR, "No path leads from an Input to an output; wire the layers "
                                           "from the Input to an Output node"))
        if output_nodes:
            for n in from_inputs - useful:
                problems.append(Problem(WARNING, f"{infos[n].label} does not lead to any Output; its "
                                                 "result is unused (a dead branch)", n))

        problems.sort(key=lambda p: (p.severity != ERROR, position.get((p.node_id or "").split(".")[0], -1)))
        return Analysis(NodeTable(infos), problems, order, input_ids, outputs, edge_types)


def analyze(graph: Graph, registry: Registry | None = None) -> Analysis:
    return Analyzer(graph, registry).analysis()
