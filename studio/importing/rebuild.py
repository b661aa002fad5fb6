"""A torch-level fx graph rebuilt from a model that arrives as something other than Python code: an
ONNX file's nodes or an ExportedProgram's aten calls. Layers with weights become the torch.nn modules
they were (holding those weights, at their source module paths), the rest torch functions; each call
carries the module stack that torch.fx would have written. So the PyTorch import's flatten, blocks,
ids and weight loading apply unchanged to what comes out of here."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .trace import Miss, UnmappedCalls

_PART = re.compile(r"[A-Za-z0-9_]+")
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
_classes: dict[str, type] = {}


def scope_class(qualname: str) -> type:
    """A stand-in class for a module class known only by name (`torchvision.models.resnet.BasicBlock`):
    one per name, so instances of one class are recognised as such when blocks are made."""
    if qualname not in _classes:
        module, _, name = qualname.rpartition(".")
        # the name becomes a block definition's: from a file, so kept to a short identifier
        name = re.sub(r"\W", "_", name, flags=re.ASCII)[:64].strip("_") or "Module"
        name = "M_" + name if name[0].isdigit() else name
        _classes[qualname] = type(name, (), {"__module__": module[:200] or "imported", "__qualname__": name})
    return _classes[qualname]


def is_leaf_class(qualname: str) -> bool:
    """A torch.nn layer (its calls map to nodes; it is not a level of the hierarchy)."""
    return qualname.startswith("torch.nn.") and qualname.rpartition(".")[2] not in _CONTAINERS


def valid_path(path: str) -> bool:
    return bool(path) and all(_PART.fullmatch(p) for p in path.split("."))


@dataclass
class Scope:
    """Where a call sits: (module path, class name) of the enclosing modules, outermost first, leaving
    out the root and torch.nn layers; `where` names the call in the file for messages."""

    stack: list[tuple[str, str]]
    where: str = ""

    def path(self) -> str:
        return self.stack[-1][0] if self.stack else ""


def load_weights(module, **tensors) -> None:
    """Copy the file's tensors (numpy arrays or torch tensors) into a new layer, shape by shape."""
    import torch

    from .mapping import Unmapped

    with torch.no_grad():
        for name, value in tensors.items():
            if value is None:
                continue
            value = torch.from_numpy(value.copy()) if not isinstance(value, torch.Tensor) else value.detach()
            target = getattr(module, name)
            if tuple(target.shape) != tuple(value.shape):
                raise Unmapped(f"its {name} has shape {list(value.shape)} where the layer needs {list(target.shape)}")
            target.copy_(value.to(target.dtype))


class Rebuilder:
    def __init__(self) -> None:
        import torch
        import torch.fx

        self.root = torch.nn.Module()
        self.graph = torch.fx.Graph()
        self.misses: list[Miss] = []
        self._leaves: dict[str, object] = {}

    def miss(self, scope: Scope, what: str, reason: str) -> None:
        self.misses.append(Miss(scope.path(), what, reason, scope.where))

    def _meta(self, node, scope: Scope) -> None:
        node.meta["nn_module_stack"] = {f"s{i}": (path, scope_class(cls)) for i, (path, cls) in enumerate(scope.stack)}

    def input(self, name: str):
        return self.graph.placeholder(re.sub(r"\W", "_", name).strip("_") or "x")

    def module(self, path: str, module, inputs: list, scope: Scope, fallback: str):
        """Call `module` (holding its weights) registered at `path`; a path that is not a valid
        module path, or taken by another module, is replaced by one made from `fallback`."""
        if not valid_path(path) or (path in self._leaves and self._leaves[path] is not module) or \
                any(p.startswith(path + ".") or path.startswith(p + ".") for p in self._leaves if p != path):
            base = re.sub(r"\W", "_", fallback).strip("_") or "layer"
            prefix = scope.path() + "." if scope.path() and valid_path(scope.path()) else ""
            path, n = prefix + base, 1
            while not self._free(path):
                path, n = f"{prefix}{base}_{n}", n + 1
        if path not in self._leaves:
            holder = self.root
            for part in path.split(".")[:-1]:
                if not hasattr(holder, part):
                    import torch

                    holder.add_module(part, torch.nn.Module())
                holder = getattr(holder, part)
            holder.add_module(path.rsplit(".", 1)[-1], module)
            self._leaves[path] = module
        node = self.graph.call_module(path, tuple(inputs))
        self._meta(node, scope)
        return node

    def _free(self, path: str) -> bool:
        return valid_path(path) and path not in self._leaves and \
            not any(p.startswith(path + ".") or path.startswith(p + ".") for p in self._leaves)

    def call(self, fn, args: tuple, scope: Scope, kwargs: dict | None = None):
        node = self.graph.call_function(fn, args, kwargs or {})
        self._meta(node, scope)
        return node

    def method(self, name: str, args: tuple, scope: Scope):
        node = self.graph.call_method(name, args)
        self._meta(node, scope)
        return node

    def reshape(self, x, before: list | None, after: list | None, scope: Scope):
        """A reshape that keeps the batch: Flatten to one dim per sample, else Reshape to a fixed shape.
        (Exporters write the batch as a number or a symbol; either way it must stay where it is.)"""
        import torch

        from .mapping import Unmapped

        if not before or not after or before[0] != after[0] or before[0] is None or \
                not all(isinstance(d, int) and d > 0 for d in after[1:]):
            raise Unmapped(f"a reshape from {before} to {after} (only one that keeps the batch and gives a fixed "
                           "shape per sample maps to a node)")
        if len(after) == 2:
            return self.call(torch.flatten, (x, 1), scope)
        return self.method("reshape", (x, [-1, *after[1:]]), scope)

    def finish(self, outputs: list):
        """The rebuilt model as a GraphModule; every part with no node type listed, or nothing."""
        import torch.fx

        if self.misses:
            raise UnmappedCalls(self.misses)
        self.graph.output(outputs[0] if len(outputs) == 1 else tuple(outputs))
        self.graph.lint()
        return torch.fx.GraphModule(self.root, self.graph)


@dataclass
class Loaded:
    """A model file read and rebuilt: the GraphModule to import, what it must compute, at what size."""

    root: object
    reference: object
    input_shape: list[int]
    name: str


class Batched:
    """A reference model run on any batch size: one exported for a fixed batch runs in chunks of that
    batch (the last one padded by repeating its rows), so the check before writing can use its own."""

    def __init__(self, fn, batch: int | None) -> None:
        self.fn, self.batch = fn, batch

    def __call__(self, x):
        import torch

        if not self.batch or len(x) == self.batch:
            return self.fn(x)
        rows = []
        for start in range(0, len(x), self.batch):
            chunk = x[start:start + self.batch]
            padded = torch.cat([chunk] * (self.batch // len(chunk) + 1))[:self.batch]
            rows.append(self.fn(padded)[:len(chunk)])
        return torch.cat(rows)
