"""Which submodules of a compiled model are copies of block definitions, and what each child of a
copy is built from: a layer's constructor call (recorded from its spec, as for top-level layers), a
nested copy, or a repeat (nn.Sequential of copies). Also the forward() of a copy, written from its
own torch.fx graph.

A copy is found through the analysis: an instance's NodeInfo.block holds one result per copy (its
exposed values, its inner analysis, its module names). A graph definition compiles to a
torch.fx.GraphModule whose submodules are named after the inner node ids (a node switched off by
`enabled` holds none: its input passes through); a sequential one to an nn.Sequential numbered in
chain order (a node switched off is an nn.Identity there, keeping the numbers).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ExportError
from .constructors import bind_arguments, recording_constructors
from .forward import ForwardWriter

PORTS = ("BlockInput", "BlockOutput")


@dataclass
class Call:
    """How one child is built: a layer (cls, args by name), a block copy, or a repeat (items)."""

    cls: type | None = None
    args: dict = field(default_factory=dict)
    copy: "BlockCopy | None" = None
    items: "list[Call] | None" = None


@dataclass(eq=False)
class BlockCopy:
    definition: object  # studio.core.blocks.BlockDef
    path: str  # dotted, as in the state dict: "layer1.0"
    module: object  # torch.fx.GraphModule, or nn.Sequential for a sequential definition
    exposed: dict  # the exposed params' values in this copy
    children: dict = field(default_factory=dict)  # child attribute -> Call, None where switched off
    values: dict = field(default_factory=dict)  # fx node name -> (args, kwargs, result), from one run
    switchable: set = field(default_factory=set)  # children an exposed param can switch off, by attribute
    forward_key: str = ""  # forward() with every switchable layer bypassed: equal in copies that share a class
    names: dict = field(default_factory=dict)  # inner node id -> its attribute (its index when sequential)
    uses_functional: bool = False

    def forward(self, optional: set[str]) -> tuple[list[str], list[str], int]:
        """(parameter names, body lines, number of outputs), layers in `optional` guarded by
        `if self.x is not None`."""
        writer = ForwardWriter(self.module, self.values, optional=optional)
        params, body = writer.write()
        self.uses_functional = self.uses_functional or writer.uses_functional
        out = next(n for n in self.module.graph.nodes if n.op == "output").args[0]
        return params, body, len(out) if isinstance(out, (tuple, list)) else 1


def switchable(definition) -> set[str]:
    """Inner nodes an exposed param can switch off (a target of its `enabled`)."""
    return {t.node for p in definition.params for t in p.targets if t.param == "enabled"}


class BlockTree:
    """Walks the compiled model along its analysis: `copies` (children first), `top` (root child ->
    Call of each block instance at the root)."""

    def __init__(self, prep) -> None:
        self.prep = prep
        self.library = getattr(prep.graph, "blocks", None)  # the definitions, when the graph has any
        self.copies: list[BlockCopy] = []
        self.top: dict[str, Call] = {}
        for name, module in prep.model.named_children():
            info = prep.analysis.nodes.get(name)
            if info is not None and getattr(info, "block", None) is not None:
                self.top[name] = self._instance(info, module, name)
        if self.copies:
            self._record()

    # ---- the walk ----------------------------------------------------------------------------
    def _instance(self, info, module, path: str) -> Call:
        inst = info.block
        if inst.repeat == 1:
            return Call(copy=self._copy(inst.copies[0], module, path))
        return Call(items=[Call(copy=self._copy(result, sub, f"{path}.{k}"))
                           for k, (result, sub) in enumerate(zip(inst.copies, module))])

    def _copy(self, result, module, path: str) -> BlockCopy:
        definition = self.library[result.definition]
        copy = BlockCopy(definition, path, module, dict(result.values), names=dict(result.module_names))
        copy.switchable = {result.module_names.get(n, n) for n in switchable(definition)}
        held = dict(module.named_children())
        inner = [n for n in definition.graph.nodes.values() if n.type not in PORTS]
        if definition.sequential:
            inner.sort(key=lambda n: int(result.module_names.get(n.id, "-1")))
        for node in inner:
            name = result.module_names.get(node.id, node.id)
            info = result.analysis.nodes.get(node.id)
            if info is None:
                continue
            where = f"{path}.{name}"
            if info.passthrough:
                copy.children[name] = None  # switched off here
            elif name not in held:
                continue  # computes without a layer (Add, Concat): only forward() shows it
            elif info.block is not None:
                copy.children[name] = self._instance(info, held[name], where)
            else:
                copy.children[name] = self._leaf(where, info, held[name])
        self.copies.append(copy)
        return copy

    def _leaf(self, path: str, info, module) -> Call:
        with recording_constructors() as calls:
            built = info.spec.build(info.params, info.inputs) if info.spec is not None else None
        hit = calls.get(id(built)) if built is not None else None
        if hit is None or type(built) is not type(module):
            raise ExportError(f"code: {info.type} '{path}' builds its layer in a way the code exporter cannot "
                              "record; export to TorchScript, ONNX or pt2 instead")
        return Call(cls=type(module), args=bind_arguments(type(module), hit[1], hit[2], f"{info.type} '{path}'"))

    # ---- one run, to learn what every inner fx node computes ---------------------------------
    def _record(self) -> None:
        import torch
        from torch import fx

        from ..prepare import EXAMPLE_BATCH

        by_module = {id(c.module): c for c in self.copies}

        class _Recorder(fx.Interpreter):
            def __init__(self, module, seen):
                super().__init__(module)
                self.seen = seen

            def run_node(self, n):
                args, kwargs = self.fetch_args_kwargs_from_env(n)
                result = super().run_node(n)
                self.seen[n.name] = (args, kwargs, result)
                return result

            def call_module(self, target, args, kwargs):
                sub = self.fetch_attr(target)
                return run(sub, args, kwargs)

        def run(module, args, kwargs):
            copy = by_module.get(id(module))
            if copy is not None and isinstance(module, fx.GraphModule) and not kwargs:
                return _Recorder(module, copy.values).run(*args)
            if isinstance(module, torch.nn.Sequential) and not kwargs and len(args) == 1:
                x = args[0]
                for m in module:
                    x = run(m, (x,), {})
                return x
            return module(*args, **kwargs)

        with torch.no_grad():
            _Recorder(self.prep.model, {}).run(*self.prep.inputs(EXAMPLE_BATCH, seed=1))
        for c in self.copies:
            if not c.definition.sequential:
                c.forward_key = self._key(c)

    def _key(self, copy: BlockCopy) -> str:
        """forward() of the copy with every switchable layer it holds bypassed."""
        from torch import fx

        graph = fx.Graph()
        out = graph.graph_copy(copy.module.graph, {})
        graph.output(out)
        off = copy.switchable
        for n in list(graph.nodes):
            if n.op == "call_module" and n.target in off and len(n.args) == 1 and not n.kwargs:
                n.replace_all_uses_with(n.args[0])
                graph.erase_node(n)
        writer = ForwardWriter(copy.module, copy.values, graph=graph)
        params, body = writer.write()
        return "\n".join([", ".join(params), *body])
