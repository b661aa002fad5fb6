"""How each layer is constructed, written as source: `nn.Conv2d(3, 6, kernel_size=5)`.

The node's spec builds its module again while the constructor call is recorded, so the source
repeats exactly the arguments the spec passed (defaults left out), whatever the node type, including
node types from third-party packages. Classes outside torch.nn have their source copied into the
file (with what they need from their module), since the generated file must not import NetStudio.
"""
from __future__ import annotations

import ast
import contextlib
import inspect
import sys
import textwrap

from ..errors import ExportError
from .safe import ident

OWN_PACKAGES = ("studio", "nodes")  # never imported by generated code: their source is copied
MAX_POSITIONAL = 2
_EXTRA_DEFAULTS = {"nonlinearity": "tanh"}  # keyword-only options taken through **kwargs (nn.RNN)


@contextlib.contextmanager
def recording_constructors(bases=None):
    """While active (in this thread only), every nn.Module (or instance of `bases`) created records
    the arguments of its outermost __init__ call: yields a dict id(obj) -> (obj, args, kwargs). A
    profile hook reads them from the __init__ frame, so no class is patched and other threads are
    unaffected."""
    import torch

    bases = bases or torch.nn.Module
    calls: dict = {}
    previous = sys.getprofile()

    def hook(frame, event, arg):
        if event != "call" or frame.f_code.co_name != "__init__":
            return
        code = frame.f_code
        if not code.co_argcount:
            return
        names = code.co_varnames
        local = frame.f_locals
        obj = local.get(names[0])
        if not isinstance(obj, bases) or id(obj) in calls:
            return
        n = code.co_argcount + code.co_kwonlyargcount
        args = [local[a] for a in names[1:code.co_argcount] if a in local]
        kwargs = {a: local[a] for a in names[code.co_argcount:n] if a in local}
        i = n
        if code.co_flags & inspect.CO_VARARGS:
            args.extend(local.get(names[i], ()))
            i += 1
        if code.co_flags & inspect.CO_VARKEYWORDS:
            kwargs.update(local.get(names[i], {}))
        calls[id(obj)] = (obj, tuple(args), kwargs)  # obj kept alive so ids stay unique

    sys.setprofile(hook)
    try:
        yield calls
    finally:
        sys.setprofile(None)
        if previous is not None:  # give a running profiler back its hook
            if callable(previous):
                sys.setprofile(previous)
            elif hasattr(previous, "enable"):
                previous.enable()  # cProfile.Profile installs itself from C


def constructor_call(prep, node_id: str):
    """(module class, args, kwargs) with which the spec of `node_id` builds its layer."""
    info = prep.analysis.nodes[node_id]
    with recording_constructors() as calls:
        module = info.spec.build(info.params, info.inputs)
    hit = calls.get(id(module)) if module is not None else None
    if hit is None:
        raise ExportError(f"code: {info.type} '{node_id}' builds its layer in a way the code exporter cannot "
                          "record; export to TorchScript, ONNX or pt2 instead")
    return type(module), hit[1], hit[2]


class Name:
    """A parameter of the generated class passed on as a constructor argument (a block class's
    `planes`): written as its name, not as a literal. Made only from checked identifiers."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def literal(value, where: str) -> str:
    """Python source for a constructor argument, or ExportError."""
    import torch

    if isinstance(value, Name):
        return value.text
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, torch.dtype):
        return str(value)
    if isinstance(value, torch.Size):
        value = tuple(value)
    if isinstance(value, tuple):
        items = ", ".join(literal(v, where) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v, where) for v in value) + "]"
    raise ExportError(f"code: {where} takes a {type(value).__name__} argument that cannot be written as source; "
                      "export to TorchScript, ONNX or pt2 instead")


def _signature(cls) -> list[inspect.Parameter]:
    for klass in cls.__mro__:
        if "__init__" not in klass.__dict__:
            continue
        try:
            params = list(inspect.signature(klass.__init__).parameters.values())[1:]
        except (TypeError, ValueError):
            return []
        if klass is cls and any(p.kind is p.VAR_POSITIONAL for p in params):
            continue  # nn.LSTM(*args, **kwargs): the real signature is on the base class (RNNBase)
        if klass is not cls and params and params[0].name == "mode":
            params = params[1:]  # RNNBase(mode, ...): the subclass passes the mode itself
        return [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return []


def _is_default(value, default) -> bool:
    if default is inspect.Parameter.empty:
        return False
    if callable(default) and isinstance(value, str):
        return getattr(default, "__name__", None) == value  # activation="relu" vs F.relu
    return type(value) is type(default) and value == default


def bind(cls, args: tuple, kwargs: dict, where: str) -> tuple[list[inspect.Parameter], dict]:
    """(the constructor's parameters, the arguments by name: positional ones named, then kwargs)."""
    params = _signature(cls)
    bound: dict = {}
    for i, value in enumerate(args):
        if i >= len(params):
            raise ExportError(f"code: {where} passes more arguments than {cls.__name__} declares")
        bound[params[i].name] = value
    bound.update(kwargs)
    return params, bound


def bind_arguments(cls, args: tuple, kwargs: dict, where: str) -> dict:
    """Constructor arguments by name, defaults filled in for what the signature declares, so two
    copies that pass an argument differently (one leaves it at the default) compare slot by slot."""
    params, bound = bind(cls, args, kwargs, where)
    out = {}
    for p in params:
        if p.name in bound:
            out[p.name] = bound.pop(p.name)
        elif p.default is not inspect.Parameter.empty:
            out[p.name] = p.default
    out.update(bound)  # through **kwargs
    return out


def render_call(ref: str, cls, args: tuple, kwargs: dict, where: str) -> str:
    """`ref(a, b, key=value)`: the first (at most two) required arguments by position, as in
    `nn.Conv2d(3, 6, kernel_size=5)`; the others by keyword, left out when they are the default."""
    params, bound = bind(cls, args, kwargs, where)
    parts, positional = [], True
    for p in params:
        if p.name not in bound:
            positional = positional and p.default is not inspect.Parameter.empty
            continue
        value = bound.pop(p.name)
        if (p.default is inspect.Parameter.empty and positional and p.kind is not p.KEYWORD_ONLY
                and len(parts) < MAX_POSITIONAL):
            parts.append(literal(value, where))
            continue
        positional = False
        if p.name in ("device", "dtype") and value is None or _is_default(value, p.default):
            continue
        parts.append(f"{p.name}={literal(value, where)}")
    for name, value in bound.items():  # through **kwargs
        if _EXTRA_DEFAULTS.get(name, object()) != value:
            parts.append(f"{ident(name, where + ' argument')}={literal(value, where)}")
    return f"{ref}({', '.join(parts)})"


class ClassSources:
    """Where each layer class comes from: `nn.X`, an import, or source copied into the file."""

    def __init__(self) -> None:
        self.imports: set[str] = set()
        self.blocks: list[str] = []  # copied source, dependencies first
        self._copied: set[int] = set()

    def ref(self, cls) -> str:
        import torch

        if getattr(torch.nn, cls.__name__, None) is cls:
            return f"nn.{cls.__name__}"
        if cls.__module__.split(".")[0] in OWN_PACKAGES or cls.__module__ == "__main__":
            self.copy(cls)
            return cls.__name__
        self.imports.add(_import_line(cls.__name__, cls))
        return cls.__name__

    def copy(self, obj) -> None:
        if id(obj) in self._copied:
            return
        self._copied.add(id(obj))
        try:
            source = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError):
            raise ExportError(f"code: the source of {obj.__qualname__} cannot be found, so the generated file "
                              "could not define it; export to TorchScript, ONNX or pt2 instead") from None
        module = sys.modules.get(obj.__module__)
        scope = vars(module) if module else {}
        for name in _free_names(source):
            if name not in scope:
                continue  # a builtin or a local
            value = scope[name]
            if inspect.ismodule(value):
                self.imports.add(_module_import(name, value))
            elif (inspect.isclass(value) or inspect.isfunction(value)) and (
                    value.__module__.split(".")[0] in OWN_PACKAGES or value.__module__ == obj.__module__):
                self.copy(value)
            elif inspect.isclass(value) or inspect.isfunction(value) or callable(value):
                self.imports.add(_import_line(name, value))
            else:
                self.blocks.append(f"{name} = {literal(value, f'{obj.__qualname__} (global {name})')}\n")
        self.blocks.append(source)


def _free_names(source: str) -> list[str]:
    tree = ast.parse(source)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in names:
            names.append(node.id)
    return names


def _module_import(name: str, module) -> str:
    full = module.__name__
    if full == name:
        return f"import {name}"
    if "." in full:
        parent, leaf = full.rsplit(".", 1)
        if leaf == name:
            return f"from {parent} import {leaf}"
    return f"import {full} as {name}"


def _import_line(name: str, obj) -> str:
    module = getattr(obj, "__module__", None)
    real = getattr(obj, "__name__", name)
    if not module or module.split(".")[0] in OWN_PACKAGES:
        raise ExportError(f"code: cannot write an import for {name}")
    return f"from {module} import {real}" + ("" if real == name else f" as {name}")
