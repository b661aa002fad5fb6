"""What a module class's own source says about the block definition it is: its constructor's
parameters with defaults are the exposed params (named, defaulted and documented as there), and
the lines of __init__ say what each drives:

    def __init__(self, in_channels: int, planes: int = 64, stride: int = 1, downsample: bool = False):
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=3, stride=stride)    # conv1.out_channels, .stride
        self.downsample = Downsample(out_channels=planes) if downsample else None    # downsample.enabled

An argument of a layer's constructor is read by its name in that constructor's signature (node
params carry PyTorch's names); of a nested block class, by the name of that class's parameter. A
parameter without a default (`in_channels`) is a size that follows from the input, not an exposed
param. An nn.Sequential subclass names its layers by the locals passed to `super().__init__`. Only
the source is read (ast); nothing in it runs again. A class whose source cannot be read, or that
assigns its layers some other way, says nothing, and the importer works from the values alone."""
from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass
class ClassInfo:
    params: dict[str, object] = field(default_factory=dict)  # name -> default, in signature order
    kinds: dict[str, str] = field(default_factory=dict)  # name -> int / float / bool / str
    docs: dict[str, str] = field(default_factory=dict)  # name -> its line under "Args:" in the docstring
    doc: str = ""  # the docstring without its Args section
    targets: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # param -> [(attribute, arg)]
    gates: dict[str, str] = field(default_factory=dict)  # attribute -> the param that switches it on
    order: list[str] = field(default_factory=list)  # nn.Sequential subclass: its layers' local names


@lru_cache(maxsize=256)
def read_class(cls) -> ClassInfo | None:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return None
    node = tree.body[0] if tree.body and isinstance(tree.body[0], ast.ClassDef) else None
    init = next((b for b in node.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"), None) if node else None
    if init is None:
        return None
    info = ClassInfo()
    args = init.args.args[1:]
    defaults = [None] * (len(args) - len(init.args.defaults)) + list(init.args.defaults)
    for arg, default in zip(args, defaults):
        if default is None:
            continue  # a size that follows from the input
        try:
            value = ast.literal_eval(default)
        except ValueError:
            continue
        info.params[arg.arg] = value
        hint = arg.annotation.id if isinstance(arg.annotation, ast.Name) else type(value).__name__
        info.kinds[arg.arg] = hint
    _docstring(info, ast.get_docstring(node) or "")
    locals_: dict[str, ast.expr] = {}
    for stmt in init.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            if _super_call(stmt):
                info.order = [a.id for a in stmt.value.args if isinstance(a, ast.Name) and a.id in locals_]
                for name in info.order:
                    _read_expr(info, name, locals_[name], cls)
            continue
        target = stmt.targets[0]
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            _read_expr(info, target.attr, stmt.value, cls)
        elif isinstance(target, ast.Name):
            locals_[target.id] = stmt.value
    return info


def _super_call(stmt) -> bool:
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "__init__"
            and isinstance(call.func.value, ast.Call) and getattr(call.func.value.func, "id", "") == "super")


def _docstring(info: ClassInfo, text: str) -> None:
    head, sep, rest = text.partition("\nArgs:\n")
    info.doc = head.strip() if sep else text.strip()
    for line in rest.splitlines():
        name, colon, doc = line.strip().partition(": ")
        if colon and name in info.params:
            info.docs[name] = doc.strip()


def _read_expr(info: ClassInfo, attr: str, expr, owner) -> None:
    if isinstance(expr, ast.IfExp) and isinstance(expr.test, ast.Name) and expr.test.id in info.params:
        info.gates[attr] = expr.test.id
        info.targets.setdefault(expr.test.id, []).append((attr, "enabled"))
        expr = expr.body
    if not isinstance(expr, ast.Call):
        return
    factory = _resolve(expr.func, owner)
    names = _parameter_names(factory)
    for i, arg in enumerate(expr.args):
        if isinstance(arg, ast.Name) and arg.id in info.params and names and i < len(names):
            info.targets.setdefault(arg.id, []).append((attr, names[i]))
    for kw in expr.keywords:
        if kw.arg and isinstance(kw.value, ast.Name) and kw.value.id in info.params:
            info.targets.setdefault(kw.value.id, []).append((attr, kw.arg))


def _resolve(func, owner):
    """The class a constructor call names (`nn.Conv2d`, `Downsample`), looked up in the class's module."""
    import sys

    scope = vars(sys.modules.get(owner.__module__)) if owner.__module__ in sys.modules else {}
    parts = []
    while isinstance(func, ast.Attribute):
        parts.insert(0, func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or func.id not in scope:
        return None
    value = scope[func.id]
    for part in parts:
        value = getattr(value, part, None)
    return value


def _parameter_names(factory) -> list[str]:
    """A class's constructor arguments in order (positional calls are read by them)."""
    if not inspect.isclass(factory):
        return []
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
