"""Analysis through block instances. An instance's definition is analysed like any graph, with the
types wired into the instance at its BlockInputs and its exposed-param values set on their targets;
the result is kept per (definition and what it uses, param values, input types), so repeated copies
and equal instances share one analysis and an edit re-analyses only the instances whose key changed.
Problems inside carry the dotted path of the module they concern (`layer2.0.conv1`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

from .blocks import BLOCK_INPUT, BLOCK_OUTPUT, BLOCK_TYPE, ENABLED, BlockDef, BlockLibrary
from .plain import freeze
from .problems import ERROR, Problem
from .spec import ParamError
from .types import TensorType

# analysis.py (Analysis, Analyzer, NodeInfo) and graph.py (Graph, Node) import this module; their
# classes are named here as types only, to keep the imports one way
Analysis: TypeAlias = Any
Analyzer: TypeAlias = Any
NodeInfo: TypeAlias = Any
Graph: TypeAlias = Any
Node: TypeAlias = Any
Registry: TypeAlias = Any

# A project may hold at most this many nodes (project.MAX_NODES); a block that expands to more
# layers (repeat x nested repeats) is refused rather than built, whatever the file's size.
MAX_EXPANDED = 100_000


@dataclass(frozen=True)
class Scope:
    """What differs between analysing the root graph and a definition's graph for one instance."""

    definition: str | None = None
    port_types: dict[str, list[TensorType]] = field(default_factory=dict)  # BlockInput id -> [type]
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # inner id -> values set
    disabled: frozenset[str] = frozenset()  # inner ids switched off (`enabled` false)
    ports: tuple[list[str], list[str]] = ([], [])  # BlockInput ids, BlockOutput ids, top first
    stack: tuple[str, ...] = ()  # the definitions being analysed, outermost first

    @property
    def input_type(self) -> str:
        return "Input" if self.definition is None else BLOCK_INPUT

    @property
    def output_type(self) -> str:
        return "Output" if self.definition is None else BLOCK_OUTPUT


ROOT_SCOPE = Scope()


def check_placement(info: NodeInfo, scope: Scope) -> str | None:
    """Input/Output belong to the top-level graph, BlockInput/BlockOutput inside definitions."""
    inside = scope.definition is not None
    if inside and info.type in ("Input", "Output"):
        port = BLOCK_INPUT if info.type == "Input" else BLOCK_OUTPUT
        return (f"{info.label} is inside block definition '{scope.definition}', where data enters and leaves "
                f"through the block's ports; replace it with a {port}")
    if not inside and info.type in (BLOCK_INPUT, BLOCK_OUTPUT):
        port = "Input" if info.type == BLOCK_INPUT else "Output"
        return (f"{info.label} belongs inside a block definition (it is one of the block's ports); in the "
                f"top-level graph use an {port} node, or group the layers into a block")
    return None


@dataclass(eq=False)
class BlockResult:
    """One definition analysed for one (param values, input types); shared by every copy with that key."""

    definition: str
    values: dict[str, Any]
    analysis: Analysis
    outputs: list[TensorType] | None  # one per BlockOutput, top first; None after an error
    problems: list[Problem]  # node ids relative to the definition (`conv1`, `downsample.0`)
    module_names: dict[str, str]  # inner id -> its name in the compiled module ("0", "1" when sequential)
    disabled: frozenset[str]
    graph: Graph  # the definition's graph it was made from
    sequential: bool = False
    memo: dict = field(default_factory=dict)  # what others derive from it once (stats)

    def inner(self, name: str) -> NodeInfo | None:
        """An inner node by id, or by module name in a sequential definition."""
        info = self.analysis.nodes.get(name)
        if info is None and self.sequential:
            node_id = next((k for k, v in self.module_names.items() if v == name), None)
            info = self.analysis.nodes.get(node_id) if node_id else None
        return info


@dataclass
class Instance:
    """A Block node as analysed: its definition and one result per copy (fewer after an error)."""

    definition: str
    repeat: int
    copies: list[BlockResult]

    def copy_prefix(self, node_id: str, index: int) -> str:
        return node_id if self.repeat == 1 else f"{node_id}.{index}"


def find_inner(table: dict, path: str) -> NodeInfo | None:
    """The NodeInfo at a dotted path (`layer1.0.conv1`), or None."""
    parts = path.split(".")
    info = dict.get(table, parts[0])
    i = 1
    while info is not None and i < len(parts):
        inst = info.block
        if inst is None or not inst.copies:
            return None
        index = 0
        if inst.repeat > 1:
            if not parts[i].isdigit() or int(parts[i]) >= len(inst.copies):
                return None
            index, i = int(parts[i]), i + 1
            if i == len(parts):
                return None  # a copy is not a node
        info = inst.copies[index].inner(parts[i])
        i += 1
    return info


class BlockAnalyzer:
    """Analyses block instances for the Analyzer of a root graph and of every inner graph."""

    def __init__(self, library: BlockLibrary, registry: Registry, make_analyzer) -> None:
        self.library = library
        self.registry = registry
        self._make = make_analyzer  # analysis.Analyzer: an inner graph is analysed like any graph
        self._inner: dict[str, tuple[Any, "Analyzer"]] = {}
        self._cache: dict[tuple, BlockResult] = {}
        self._sizes: tuple[int, dict[str, int]] = (-1, {})
        self.runs = 0  # definitions analysed (not served from the cache): for tests and the bench

    def unknown(self, node: Node) -> str:
        if node.type != BLOCK_TYPE:
            hint = self.registry.suggest(node.type)
            fix = f"did you mean '{hint}'?" if hint else "replace it with a known layer"
            return f"Node '{node.id}' has an unknown type '{node.type}'; {fix}"
        if not isinstance(node.block, str):
            return f"Block '{node.id}' names no definition; set its \"block\" to one of the project's blocks"
        names = ", ".join(self.library.names()) or "none"
        return (f"Block '{node.id}' uses the definition '{node.block}', which this project does not have "
                f"(its blocks: {names}); add the definition or pick another")

    # ---- one node ------------------------------------------------------------------------
    def check(self, node: Node, info: NodeInfo, scope: Scope) -> str | None:
        """What is wrong with a Block node itself (before its wires and shapes are looked at)."""
        d = self.library.get(node.block)
        if node.type != BLOCK_TYPE or d is None:
            return None
        if d.name in scope.stack:
            loop = " -> ".join(scope.stack[scope.stack.index(d.name):] + (d.name,))
            return (f"{info.label} makes block '{d.name}' contain itself ({loop}); a block cannot hold an "
                    "instance of itself: remove this instance")
        repeat = node.repeat
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            return f"{info.label}: 'repeat' must be a whole number of at least 1, got {repeat!r}"
        size = repeat * self.expanded_size(d.name)
        if size > MAX_EXPANDED:
            return (f"{info.label} expands to {size:,} layers ({repeat} x block '{d.name}'), more than the "
                    f"{MAX_EXPANDED:,} a project may hold; lower its repeat")
        ins, outs = d.ports()
        if repeat > 1 and (len(ins) != 1 or len(outs) != 1):
            return (f"{info.label} repeats block '{d.name}' {repeat} times, but it has {len(ins)} inputs and "
                    f"{len(outs)} outputs; repeated copies are chained in -> out, so the block needs exactly "
                    "one BlockInput and one BlockOutput (or set repeat to 1)")
        if repeat > 1 and node.first is not None and not isinstance(node.first, dict):
            return f"{info.label}: 'first' must map exposed params to values, got {node.first!r}"
        return None

    def infer(self, node: Node, info: NodeInfo, scope: Scope, problems: list[Problem]) -> str | None:
        """Set info.outputs of a switched-off node or a block instance; returns an error for the node
        itself (problems inside are appended to `problems`, with their paths)."""
        if node.id in scope.disabled:
            return _pass_through(info, scope)
        d = self.library.get(node.block)
        assert d is not None and info.spec is not None and info.params is not None  # spec came from it
        repeat = node.repeat
        values = [info.params] * repeat
        if repeat > 1 and node.first:
            try:
                values[0] = info.spec.resolve_params({**node.params, **scope.overrides.get(node.id, {}),
                                                      **node.first})
            except ParamError as exc:
                return f"{info.label}: in 'first' (the values of copy 0): {exc}"
        inputs = list(info.inputs)
        inst = Instance(d.name, repeat, [])
        info.block = inst
        for index in range(repeat):
            result = self.result(d, values[index], inputs, scope.stack + (d.name,))
            inst.copies.append(result)
            prefix = inst.copy_prefix(node.id, index)
            problems.extend(Problem(p.severity, p.message, f"{prefix}.{p.node_id}" if p.node_id else prefix,
                                    p.field) for p in result.problems)
            if result.outputs is None:
                first_error = next((p for p in result.problems if p.is_error), None)
                where = f"{prefix}.{first_error.node_id}" if first_error and first_error.node_id else prefix
                info.error = (f"{info.label} has an error inside, at {where}: "
                              f"{first_error.message if first_error else 'see the problems list'}")
                return None
            inputs = list(result.outputs)
        info.outputs = inputs
        return None

    # ---- one definition ------------------------------------------------------------------
    def result(self, d: BlockDef, values: dict, inputs: list[TensorType], stack: tuple[str, ...]) -> BlockResult:
        key = (d.name, self.library.dependency_key(d.name), freeze(values), tuple(inputs))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        self.runs += 1
        problems: list[Problem] = []
        overrides: dict[str, dict[str, Any]] = {}
        disabled: set[str] = set()
        for ep in d.params:
            value = values.get(ep.name, ep.default)
            for t in ep.targets:
                if t.node not in d.graph.nodes:
                    problems.append(Problem(ERROR, f"Block definition '{d.name}': its param '{ep.name}' drives "
                                                   f"'{t.node}', which the block does not hold; remove that "
                                                   "target or restore the node", None, ep.name))
                elif t.param == ENABLED:
                    if not isinstance(value, bool):
                        problems.append(Problem(ERROR, f"Block definition '{d.name}': its param '{ep.name}' "
                                                       f"switches '{t.node}' on or off ('enabled'), so it must "
                                                       f"be true or false, got {value!r}", None, ep.name))
                    elif not value:
                        disabled.add(t.node)
                else:
                    overrides.setdefault(t.node, {})[t.param] = value
        ins, outs = d.ports()
        scope = Scope(d.name, {p: [t] for p, t in zip(ins, inputs)}, overrides, frozenset(disabled),
                      (ins, outs), stack)
        analyzer = self._analyzer(d)
        analysis = analyzer._run(scope)
        if len(inputs) != len(ins):  # the instance's wires are checked by its graph; a caller may differ
            problems.append(Problem(ERROR, f"Block definition '{d.name}' has {len(ins)} inputs but gets "
                                           f"{len(inputs)}", None))
        names = _module_names(d, analysis, problems) if d.sequential else {n: n for n in d.graph.nodes}
        for p in analysis.problems:
            if p.node_id and "." in p.node_id:  # from a nested instance: already says where
                head, rest = p.node_id.split(".", 1)
                problems.append(Problem(p.severity, p.message, f"{names.get(head, head)}.{rest}", p.field))
            else:
                node_id = names.get(p.node_id, p.node_id) if p.node_id else None
                said = f"definition '{d.name}'" in p.message  # a problem of the definition itself names it
                problems.append(Problem(p.severity, p.message if said else f"{p.message} (in block definition "
                                        f"'{d.name}')", node_id, p.field))
        ok = not any(p.is_error for p in problems)
        outputs = None
        if ok:
            found = [analysis.nodes[o].output for o in outs]
            outputs = [t for t in found if t is not None] if all(t is not None for t in found) else None
        result = BlockResult(d.name, dict(values), analysis, outputs, problems, names, frozenset(disabled),
                             d.graph, d.sequential)
        if len(self._cache) > 5000:
            self._cache.clear()
        self._cache[key] = result
        return result

    def _analyzer(self, d: BlockDef) -> Analyzer:
        held = self._inner.get(d.name)
        if held is None or held[0] is not d.graph:
            held = self._inner[d.name] = (d.graph, self._make(d.graph, self.registry, blocks=self))
        return held[1]

    def expanded_size(self, name: str) -> int:
        """How many layers one copy of `name` builds (nested repeats multiplied out)."""
        state = self.library.revision
        if self._sizes[0] != state:
            self._sizes = (state, {})
        memo = self._sizes[1]
        if name not in memo:
            memo[name] = 1  # a cycle (refused elsewhere) counts once instead of forever
            d = self.library[name]
            total = 0
            for n in d.graph.nodes.values():
                if n.type == BLOCK_TYPE and n.block in self.library:
                    r = n.repeat if isinstance(n.repeat, int) and not isinstance(n.repeat, bool) else 1
                    total += max(r, 1) * self.expanded_size(n.block)
                else:
                    total += 1
            memo[name] = min(total, MAX_EXPANDED + 1)
        return memo[name]


def _pass_through(info: NodeInfo, scope: Scope) -> str | None:
    spec = info.spec
    assert spec is not None
    if len(spec.inputs) != 1 or len(spec.outputs) != 1 or len(info.inputs) != 1:
        return (f"{info.label} is switched off by a param of block '{scope.definition}' ('enabled' false), but "
                f"only a node with one input and one output can pass its input through (it has "
                f"{len(spec.inputs)} input ports with {len(info.inputs)} wires, {len(spec.outputs)} outputs)")
    info.outputs = [info.inputs[0]]
    info.passthrough = True
    return None


def _module_names(d: BlockDef, analysis: Analysis, problems: list[Problem]) -> dict[str, str]:
    """Inner id -> "0", "1", ... in chain order, for a sequential definition (which must be a chain)."""
    graph = d.graph
    ins, outs = d.ports()
    why = None
    chain: list[str] = []
    if len(ins) != 1 or len(outs) != 1:
        why = f"it has {len(ins)} BlockInputs and {len(outs)} BlockOutputs (a chain has one of each)"
    else:
        succ: dict[str, list[str]] = {}
        pred: dict[str, int] = {}
        for e in graph.edges:
            succ.setdefault(e.source, []).append(e.target)
            pred[e.target] = pred.get(e.target, 0) + 1
        current = ins[0]
        while why is None:
            nxt = succ.get(current, [])
            if len(nxt) != 1:
                why = f"'{current}' feeds {len(nxt)} nodes (in a chain each feeds the next one)"
            elif nxt[0] == outs[0]:
                break
            elif pred.get(nxt[0], 0) != 1 or nxt[0] in chain:
                why = f"'{nxt[0]}' takes more than one wire"
            else:
                chain.append(nxt[0])
                current = nxt[0]
        if why is None and len(chain) + 2 != len(graph.nodes):
            loose = sorted(set(graph.nodes) - set(chain) - {ins[0], outs[0]})
            why = f"'{loose[0]}' is not on the chain from '{ins[0]}' to '{outs[0]}'"
    if why:
        problems.append(Problem(ERROR, f"Block definition '{d.name}' is marked sequential, but {why}; make its "
                                       "layers one chain, or turn 'sequential' off", None))
        return {n: n for n in graph.nodes}
    return {n: str(i) for i, n in enumerate(chain)} | {ins[0]: ins[0], outs[0]: outs[0]}
