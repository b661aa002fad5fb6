"""The generated nn.Module class: __init__ creates one layer per node, named after the node id, with
explicit constructor arguments; forward() is written from the compiled graph."""
from __future__ import annotations

import re

from ..diagnose import record
from ..errors import ExportError
from ..prepare import EXAMPLE_BATCH, Prepared
from .constructors import ClassSources, constructor_call, render_call
from .block_tree import BlockTree
from .blocks import BlockWriter
from .forward import ForwardWriter
from .safe import docstring, ident


def class_name(project_name: str) -> str:
    """"LeNet on CIFAR-10" -> "LeNetOnCIFAR10Net"."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", project_name) if w]
    name = "".join(w[0].upper() + w[1:] for w in words) or "Model"
    if name[0].isdigit():
        name = "Model" + name
    return name if name.endswith("Net") else name + "Net"


def _annotation(n: int) -> str:
    return "torch.Tensor" if n == 1 else "tuple[" + ", ".join(["torch.Tensor"] * n) + "]"


def _tied(model) -> list[str]:
    """`self.decoder.weight = self.encoder.weight` for each parameter one layer holds of another
    (weight sharing, studio/core/sharing.py), after every layer is made."""
    first: dict[int, str] = {}
    lines = []
    for name, param in model.named_parameters(remove_duplicate=False):
        owner = first.setdefault(id(param), name)
        if owner != name:
            dotted = [".".join(ident(part, "the parameter") for part in n.split(".")) for n in (name, owner)]
            lines.append(f"self.{dotted[0]} = self.{dotted[1]}  # tied: one tensor, one gradient")
    return lines


def model_class(prep: Prepared, name: str, sources: ClassSources) -> tuple[str, bool]:
    """(class source, whether forward uses torch.nn.functional)."""
    model = prep.model
    tree = BlockTree(prep)
    held = {id(c.module) for c in tree.copies}  # a layer class copied into the file keeps its name
    blocks = BlockWriter(tree.copies, sources, {name} | {type(m).__name__ for m in model.modules() if id(m) not in held})
    layers = []
    seen = set()
    for node in model.graph.nodes:
        if node.op != "call_module" or node.target in seen:
            continue
        seen.add(node.target)
        if node.target in tree.top:
            layers.append(f"self.{ident(node.target, 'the layer')} = {blocks.call(tree.top[node.target])}")
            continue
        cls, args, kwargs = constructor_call(prep, node.target)
        if cls is not type(model.get_submodule(node.target)):
            raise ExportError(f"code: '{node.target}' builds a {cls.__name__} the second time but the model holds "
                              f"a {type(model.get_submodule(node.target)).__name__}")
        where = f"{prep.analysis.nodes[node.target].type} '{node.target}'"
        layers.append(f"self.{ident(node.target, 'the layer')} = {render_call(sources.ref(cls), cls, args, kwargs, where)}")
    layers += _tied(model)
    missing = [n for n, _ in model.named_children() if n not in seen]
    if missing:
        raise ExportError(f"code: layers {', '.join(missing)} are held by the model but never called")
    writer = ForwardWriter(model, record(model, prep.inputs(EXAMPLE_BATCH, seed=1)))
    params, body = writer.write()
    ins = ", ".join(f"{p}: torch.Tensor" for p in params)
    text = "\n".join([f"{prep.name}.", "", *(f"Input:  {d}" for d in prep.describe("inputs")),
                      *(f"Output: {d}" for d in prep.describe("outputs")), ""])
    lines = [f"class {ident(name, 'the class')}(nn.Module):", docstring(text, "    "), "",
             "    def __init__(self) -> None:",
             "        super().__init__()"]
    lines += [f"        {line}" for line in layers]
    lines += ["", f"    def forward(self, {ins}) -> {_annotation(len(prep.output_names))}:"]
    lines += [f"        {line}" for line in body]
    classes = "\n\n".join(c.source for c in blocks.classes)
    source = "\n".join(lines) + "\n"
    return (classes + "\n\n" + source if classes else source), writer.uses_functional or blocks.uses_functional
