"""Block instances as source: one nn.Module class per block definition, written once however many
instances and repeats use it, then instantiated by the model (or by the class of a block around it):

    class BasicBlock(nn.Module):
        def __init__(self, in_channels: int, planes: int = 64, stride: int = 1, downsample: bool = False) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=3, stride=stride, padding=1, bias=False)
            ...
            self.downsample = Downsample(in_channels=in_channels, out_channels=planes, stride=stride) if downsample else None

    self.layer2 = nn.Sequential(BasicBlock(in_channels=64, planes=128, stride=2, downsample=True), BasicBlock(...))

A constructor argument that is the same in every instance is written as its value; one that differs
becomes a parameter of the class, named after the exposed param whose values it follows, else after the
argument (in_channels, num_features, ...). A node switched off (`enabled` false) in some instances is
None there, and forward() skips it as torchvision skips `downsample`. Instances whose layers differ in
kind (a choice param that picks the layer) get a class each (BasicBlock, BasicBlock2).

The walk over the compiled model (which submodule is a copy of which definition, with which exposed
values) is in block_tree.py; this module decides the classes and writes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ExportError
from .block_tree import BlockCopy, Call
from .constructors import ClassSources, Name, literal, render_call
from .safe import docstring, ident, is_identifier

ANNOTATIONS = (bool, int, float, str)
NOT_NAMES = {"self", "torch", "nn", "F", "math", "super"}


def _same(a, b) -> bool:
    """Equal values of equal types all the way down (2 is not 2.0, True, or [2])."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return repr(a) == repr(b)


_ABSENT = object()  # the layer is switched off in this copy: any value will do


@dataclass
class BlockClass:
    """One generated class: the definition it writes, its copies, its parameters (name -> one value
    per copy) and its child lines."""

    name: str
    definition: object  # studio.core.blocks.BlockDef
    copies: list[BlockCopy]
    params: dict[str, list] = field(default_factory=dict)
    source: str = ""

    def values_for(self, copy: BlockCopy) -> dict:
        i = next(k for k, c in enumerate(self.copies) if c is copy)
        return {name: values[i] for name, values in self.params.items()}


class BlockWriter:
    """Classes for every block copy of a model, dependencies first (`classes`), and `call(copy)`."""

    def __init__(self, copies: list[BlockCopy], sources: ClassSources, taken: set[str]) -> None:
        self.sources = sources
        self.taken = set(taken)
        self.classes: list[BlockClass] = []
        self.class_of: dict[int, BlockClass] = {}  # id(copy) -> its class
        self.uses_functional = False
        by_def: dict[str, list[BlockCopy]] = {}
        for c in copies:
            by_def.setdefault(c.definition.name, []).append(c)
        for name in _dependency_order(by_def):
            self._classes_for(by_def[name])

    # ---- grouping copies into classes ----------------------------------------------------------
    def _classes_for(self, copies: list[BlockCopy]) -> None:
        for members in self._groups(copies):
            cls = BlockClass(self._class_name(members[0].definition.name), members[0].definition, members)
            self._plan(cls)
            self.classes.append(cls)
            for c in members:
                self.class_of[id(c)] = cls

    def _groups(self, copies: list[BlockCopy]) -> list[list[BlockCopy]]:
        """Copies that can share one class. They must agree on the kind of every child (its layer class
        and argument names, its block class, a repeat's length) and, for a graph, on forward() with every
        switchable layer bypassed. Switchable layers may be missing in some copies, as long as one copy
        of the class holds every switchable layer any of them holds (its forward() is the one written)."""
        by_key: dict[tuple, dict[frozenset, list[BlockCopy]]] = {}
        for c in copies:
            off = c.switchable
            fixed = tuple((n, self._call_shape(call)) for n, call in c.children.items() if n not in off)
            profile = frozenset((n, self._call_shape(call)) for n, call in c.children.items()
                                if n in off and call is not None)
            by_key.setdefault((fixed, c.forward_key), {}).setdefault(profile, []).append(c)
        groups = []
        for profiles in by_key.values():
            merged: list[tuple[frozenset, list[BlockCopy]]] = []
            for profile in sorted(profiles, key=len, reverse=True):
                home = next((m for m in merged if profile <= m[0]), None)
                if home is None:
                    merged.append((profile, list(profiles[profile])))
                else:
                    home[1].extend(profiles[profile])
            groups += [members for _, members in merged]
        return groups

    def _call_shape(self, call: Call | None):
        if call is None:
            return None
        if call.items is not None:
            return ("repeat", tuple(self._call_shape(i) for i in call.items))
        if call.copy is not None:
            return ("block", self.class_of[id(call.copy)].name)
        return ("leaf", call.cls, tuple(sorted(call.args)))

    def _class_name(self, definition_name: str) -> str:
        base = definition_name if is_identifier(definition_name) else "Block"
        name, k = base, 2
        while name in self.taken or name in NOT_NAMES:
            name, k = f"{base}{k}", k + 1
        self.taken.add(name)
        return name

    # ---- parameters --------------------------------------------------------------------------
    def _slots(self, cls: BlockClass) -> list[tuple[tuple, list]]:
        """(slot, one value per copy): every constructor argument of every child, and whether a
        child that some copies switch off is there."""
        slots: dict[tuple, list] = {}
        n = len(cls.copies)
        names = list(cls.copies[0].children)
        for i, c in enumerate(cls.copies):
            for child in names:
                for slot, value in _call_slots(child, c.children.get(child), self):
                    slots.setdefault(slot, [_ABSENT] * n)[i] = value
        switches = {cls.copies[0].names.get(t.node, t.node) for p in cls.definition.params for t in p.targets
                    if t.param == "enabled"}
        for child in names:
            present = [c.children.get(child) is not None for c in cls.copies]
            if not all(present) or child in switches:
                slots[(child, "enabled")] = present
        return list(slots.items())

    def _targets(self, cls: BlockClass, slots: list) -> dict[tuple, str]:
        """slot -> the exposed param that drives it: a layer's argument of the target param's name
        (node params are named after the constructor's), a nested block's parameter, or the switch
        of a layer. Written as the parameter even where every copy has the same value, so the class
        reads as the definition does (and an import of the file finds the definition again)."""
        have = {slot for slot, _ in slots}
        names = cls.copies[0].names
        out = {}
        for p in cls.definition.params:
            if not self._free(p.name):
                continue
            for t in p.targets:
                child = names.get(t.node, t.node)
                slot = (child, "enabled") if t.param == "enabled" else (child, None, t.param)
                if slot in have:
                    out[slot] = p.name
        return out

    def _plan(self, cls: BlockClass) -> None:
        exposed = [(p.name, [c.exposed.get(p.name, _ABSENT) for c in cls.copies])
                   for p in cls.definition.params if self._free(p.name)]
        used: dict[str, list] = {}
        chosen: dict[tuple, str | None] = {}  # slot -> class parameter, or None for a constant
        slots = self._slots(cls)
        targets = self._targets(cls, slots)
        for slot, values in slots:
            if slot in targets and _agrees(values, dict(exposed)[targets[slot]]):
                chosen[slot] = targets[slot]
                used.setdefault(targets[slot], [None if v is _ABSENT else v for v in dict(exposed)[targets[slot]]])
                continue
            present = [v for v in values if v is not _ABSENT]
            follows = next((n for n, vals in exposed if n in set(targets.values()) and _agrees(values, vals)), None) \
                if _derived(cls, slot) else None
            if follows is not None:  # a size that follows from a param (BatchNorm2d(planes)) is written so
                chosen[slot] = follows
                used.setdefault(follows, [None if v is _ABSENT else v for v in dict(exposed)[follows]])
                continue
            if all(_same(v, present[0]) for v in present):
                chosen[slot] = None
                continue
            name = next((n for n, vals in [*exposed, *used.items()] if _agrees(values, vals)), None)
            if name is None:
                name = self._param_name(slot, used, {n for n, _ in exposed})
                used[name] = [None if v is _ABSENT else v for v in values]
            elif name not in used:
                used[name] = [None if v is _ABSENT else v for v in dict(exposed)[name]]
            chosen[slot] = name
        names = {n for n, _ in exposed}  # the sizes that follow from the input first, then the exposed params
        cls.params = {n: v for n, v in used.items() if n not in names} | {n: used[n] for n, _ in exposed if n in used}
        cls.source = self._source(cls, chosen)

    def _param_name(self, slot: tuple, used: dict, exposed: set) -> str:
        child, *_, arg = slot
        base = arg if self._free(arg) else "value"
        for name in (base, f"{child}_{base}" if is_identifier(child) else f"{base}{child}"):
            if name not in used and name not in exposed and self._free(name):
                return name
        k = 2
        while f"{base}{k}" in used or f"{base}{k}" in exposed or not self._free(f"{base}{k}"):
            k += 1
        return f"{base}{k}"

    def _free(self, name) -> bool:
        """Whether a class parameter may take this name: a plain name that hides nothing __init__ calls
        (nn, torch, a block class, a layer class copied into the file)."""
        return is_identifier(name) and name not in NOT_NAMES and name not in self.taken

    # ---- writing -----------------------------------------------------------------------------
    def _source(self, cls: BlockClass, chosen: dict) -> str:
        first = cls.copies[0]
        rep = max(cls.copies, key=lambda c: sum(v is not None for v in c.children.values()))
        args = []
        defaults = _defaults(cls)
        for name, values in cls.params.items():
            kinds = {type(v) for v in values if v is not None}
            hint = f": {kinds.pop().__name__}" if len(kinds) == 1 and next(iter(kinds)) in ANNOTATIONS else ""
            args.append(f"{name}{hint}{defaults.get(name, '')}")
        signature = ", ".join(["self", *args])
        doc = cls.definition.doc or f"Block {cls.definition.name}."
        documented = [f"    {p.name}: {' '.join(p.doc.split())}" for p in cls.definition.params
                      if p.name in cls.params and p.doc]
        if documented:  # Google style, as an import of this file reads it back
            doc = doc + "\n\nArgs:\n" + "\n".join(documented)
        base = "nn.Sequential" if cls.definition.sequential else "nn.Module"
        lines = [f"class {cls.name}({base}):", docstring(doc, "    "), "",
                 f"    def __init__({signature}) -> None:"]
        child_exprs = []
        for child in first.children:
            call = next(c.children[child] for c in cls.copies if c.children.get(child) is not None) \
                if any(c.children.get(child) is not None for c in cls.copies) else None
            if call is None:  # switched off in every copy: a graph need not hold it
                if cls.definition.sequential:
                    child_exprs.append((child, "nn.Identity()"))
                continue
            expr = self._expr(child, call, chosen, "        ")
            gate = chosen.get((child, "enabled"))
            off = "nn.Identity()" if cls.definition.sequential else "None"  # a Sequential keeps its numbering
            child_exprs.append((child, f"{expr} if {gate} else {off}" if gate else expr))
        if cls.definition.sequential:
            local = _locals(first, [child for child, _ in child_exprs], set(cls.params) | self.taken | NOT_NAMES)
            if local is None:
                lines.append("        super().__init__(")
                lines += [f"            {expr}," for _, expr in child_exprs]
                lines.append("        )")
            else:  # each layer named as in the definition; nn.Sequential numbers them 0, 1, ...
                lines += [f"        {local[child]} = {expr}" for child, expr in child_exprs]
                lines.append(f"        super().__init__({', '.join(local[c] for c, _ in child_exprs)})")
            return "\n".join(lines) + "\n"
        lines.append("        super().__init__()")
        lines += [f"        self.{ident(child, 'the layer')} = {expr}" for child, expr in child_exprs]
        params, body, n_out = rep.forward(self.optional(cls))
        self.uses_functional |= rep.uses_functional
        ins = ", ".join(["self", *(f"{p}: torch.Tensor" for p in params)])
        out = "torch.Tensor" if n_out == 1 else "tuple[" + ", ".join(["torch.Tensor"] * n_out) + "]"
        lines += ["", f"    def forward({ins}) -> {out}:"]
        lines += [f"        {line}" for line in body]
        return "\n".join(lines) + "\n"

    def optional(self, cls: BlockClass) -> set[str]:
        return {child for child in cls.copies[0].children
                if any(c.children.get(child) is None for c in cls.copies)}

    def _expr(self, child, call: Call, chosen: dict, indent: str, k=None) -> str:
        if call.items is not None:
            items = [self._expr(child, item, chosen, indent + "    ", j) for j, item in enumerate(call.items)]
            return "nn.Sequential(\n" + "".join(f"{indent}    {i},\n" for i in items) + f"{indent})"
        values = {}
        for arg, value in self.args_of(call).items():
            name = chosen.get((child, k, arg)) if chosen else None
            values[arg] = Name(name) if name else value
        where = f"layer '{child}'"
        if call.copy is not None:
            target = self.class_of[id(call.copy)]
            parts = [f"{ident(a, where + ' argument')}={literal(v, where)}" for a, v in values.items()]
            return f"{target.name}({', '.join(parts)})"
        return render_call(self.sources.ref(call.cls), call.cls, (), values, where)

    def args_of(self, call: Call) -> dict:
        """A layer's constructor arguments, or a copy's values of its class's parameters."""
        if call.copy is not None:
            return self.class_of[id(call.copy)].values_for(call.copy)
        return call.args

    def call(self, copy_or_call) -> str:
        """The expression that builds a top-level child (one copy, or a repeat's nn.Sequential)."""
        return self._expr("model", copy_or_call, {}, "        ")


def _derived(cls: BlockClass, slot: tuple) -> bool:
    """Whether a layer's constructor argument is no param of its node: a size inferred from the input
    (num_features, in_channels), which follows whatever param sets the size upstream."""
    from ...core.registry import default_registry

    if len(slot) != 3 or slot[1] is not None:
        return False
    ids = {name: node_id for node_id, name in cls.copies[0].names.items()}
    node = cls.definition.graph.nodes.get(ids.get(slot[0], slot[0]))
    spec = default_registry().get(node.type) if node is not None and node.type != "Block" else None
    return spec is not None and spec.param(slot[2]) is None


def _locals(copy: BlockCopy, children: list[str], taken: set) -> dict | None:
    """A sequential definition's inner node ids as local names for its layers, or None when one
    cannot be a name there."""
    ids = {name: node_id for node_id, name in copy.names.items()}
    local = {child: ids.get(child, "") for child in children}
    names = list(local.values())
    if len(set(names)) != len(names) or any(not is_identifier(n) or n in taken for n in names):
        return None
    return local


def _defaults(cls: BlockClass) -> dict[str, str]:
    """` = 64` for each class parameter that is an exposed param: the definition's default. They come
    after the sizes, which have none; if one cannot be written, none is (Python wants all or none)."""
    out = {}
    for p in cls.definition.params:
        if p.name in cls.params:
            try:
                out[p.name] = f" = {literal(p.default, f'block {cls.name}')}"
            except ExportError:
                return {}
    return out


def _agrees(values: list, candidate: list) -> bool:
    return all(v is _ABSENT or (c is not _ABSENT and _same(v, c)) for v, c in zip(values, candidate))


def _call_slots(child: str, call: Call | None, writer: BlockWriter, k=None):
    """(slot, value) for each argument of one child's constructor in one copy."""
    if call is None:
        return
    if call.items is not None:
        for j, item in enumerate(call.items):
            yield from _call_slots(child, item, writer, j)
        return
    for arg, value in writer.args_of(call).items():
        yield (child, k, arg), value


def _dependency_order(by_def: dict[str, list[BlockCopy]]) -> list[str]:
    """The definitions in use, each after those its copies hold (definitions never reach themselves)."""
    after: dict[str, set[str]] = {name: set() for name in by_def}
    for name, copies in by_def.items():
        for c in copies:
            for call in c.children.values():
                for item in (call.items or [call]) if call is not None else ():
                    if item.copy is not None:
                        after[name].add(item.copy.definition.name)
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for used in sorted(after[name]):
            visit(used)
        order.append(name)

    for name in by_def:
        visit(name)
    return order
