"""torch.export as an import path: the fallback where torch.fx's symbolic trace fails, and `.pt2`
files (an ExportedProgram saved with torch.export.save).

A `.pt2` from someone else is hostile. torch.export.load unpickles weights and constants marked
`use_pickle` (torch.load(weights_only=False), pickle.loads), loads AOTInductor shared libraries,
hands each `expr_str` of a symbolic shape to sympy.sympify (eval), and ExportedProgram.module() execs the
file's `guards_code`. So the archive is read here first and refused unless every tensor is raw bytes,
there is no compiled code, every call target is one the mapping knows, and every shape expression is
plain arithmetic on size symbols; the sample inputs must load with weights_only=True. Only then does
torch read it (from those same bytes), and its guards are dropped before the program runs.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

from .mapping import Unmapped
from .sources import ImportRefused

# a size expression as torch writes it: symbols (s0, u1), numbers, arithmetic and sympy's size functions
_EXPR_TOKEN = re.compile(r"\s*(?:[a-z]\d+|\d+(?:\.\d+)?|[-+*/%(),<>=!&|~]|FloorDiv|Mod|PythonMod|CeilDiv|"
                         r"CleanDiv|ModularIndexing|FloorToInt|CeilToInt|Max|Min|Eq|Ne|Ge|Gt|Le|Lt|And|Or|Not|"
                         r"True|False|oo)")


def trace_or_export(model, input_shape: list[int]):
    """(root, fx graph) of `model`: torch.fx's symbolic trace, or where that fails, torch.export at
    the input size, rebuilt from its aten calls (the module hierarchy from nn_module_stack)."""
    from .trace import trace

    try:
        return model, trace(model)
    except ImportRefused as fx_failure:
        import torch

        from .aten_mapping import rebuild

        try:
            example = torch.randn(2, *input_shape, generator=torch.Generator().manual_seed(0))
            program = torch.export.export(model, (example,), strict=False)
        except Exception as exc:  # both failed: say both, without our traceback
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ImportRefused(f"{fx_failure}; torch.export could not capture it either ({type(exc).__name__}: "
                                f"{first})") from None
        try:
            gm = rebuild(program)
        except Unmapped as exc:
            raise ImportRefused(f"the model exported with torch.export (torch.fx could not trace it): {exc}") from None
        return gm, gm.graph


def _walk(value, key=None):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def _safe_expr(text: str) -> bool:
    pos = 0
    while pos < len(text):
        m = _EXPR_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            return False
        pos = m.end()
    return True


def check_archive(data: bytes, path: Path) -> None:
    """Refuse a .pt2 that torch.export.load would unpickle, load code from, or eval (see the module doc)."""
    import torch

    from .aten_mapping import ALLOWED

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportRefused(f"{path}: is not a readable .pt2 file ({exc}); save it again with torch.export.save") from None

    def refuse(why: str):
        raise ImportRefused(f"{path}: {why}; NetStudio reads only .pt2 files whose contents are data "
                            "(save it again with torch.export.save from a plain model)")

    roots = {n.split("/", 1)[0] for n in names}
    models = [n for n in names if re.fullmatch(r"[^/]+/models/[^/]+\.json", n)]
    if len(roots) != 1 or not models:
        raise ImportRefused(f"{path}: holds no exported program (no models/*.json); save it with torch.export.save")
    root = roots.pop()
    if any(n.startswith(f"{root}/data/aotinductor/") for n in names):
        refuse("it holds AOTInductor compiled code")
    try:
        for kind in ("weights", "constants"):
            for n in [n for n in names if n.startswith(f"{root}/data/{kind}/") and n.endswith("config.json")]:
                for fqn, meta in json.loads(archive.read(n)).get("config", {}).items():
                    if meta.get("use_pickle") or not str(meta.get("path_name", "")).startswith(("weight_", "tensor_")):
                        refuse(f"its {kind[:-1]} {fqn!r} is a pickled object")
            if any(re.fullmatch(rf"{re.escape(root)}/data/{kind}/[^/]+\.pt", n) for n in names):
                refuse(f"its {kind} are pickled (an old .pt2 format)")
        for n in models:
            program = json.loads(archive.read(n))
            for key, value in _walk(program):
                if key == "target" and isinstance(value, str):
                    target = value.removeprefix("torch.ops.aten.").rsplit(".", 1)[0]
                    if value != "_operator.getitem" and (not value.startswith("torch.ops.aten.") or target not in ALLOWED):
                        raise ImportRefused(f"{path}: calls {value}, which has no node type; nothing was written")
                elif key == "expr_str" and not (isinstance(value, str) and _safe_expr(value)):
                    refuse(f"a shape expression is not plain arithmetic ({str(value)[:60]!r})")
        for n in [n for n in names if n.startswith(f"{root}/data/sample_inputs/")]:
            torch.load(io.BytesIO(archive.read(n)), weights_only=True)
    except ImportRefused:
        raise
    except Exception as exc:  # a malformed archive: one line
        raise ImportRefused(f"{path}: is not a readable .pt2 file ({type(exc).__name__}: {exc})") from None


def load_pt2(path: Path):
    import torch

    if not path.is_file():
        raise ImportRefused(f"{path}: no such .pt2 file")
    data = path.read_bytes()
    check_archive(data, path)
    try:
        program = torch.export.load(io.BytesIO(data))
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ImportRefused(f"{path}: torch could not read the exported program ({type(exc).__name__}: {first})") from None
    program._guards_code = []  # Python source from the file, exec'd by .module(): never run
    return program


def read_pt2(source: str, input_shape: list[int] | None):
    from .aten_mapping import rebuild
    from .rebuild import Batched, Loaded

    path = Path(source).expanduser()
    program = load_pt2(path)
    try:
        gm = rebuild(program)
    except Unmapped as exc:
        raise ImportRefused(f"{path}: {exc}") from None
    placeholder = next(n for n in gm.graph.nodes if n.op == "placeholder")
    user = next(n for n in program.graph.nodes if n.op == "placeholder" and n.name == placeholder.target)
    dims = [d if isinstance(d, int) else None for d in user.meta["val"].shape]
    fixed = dims[1:]
    if input_shape is None:
        if any(d is None for d in fixed):
            raise ImportRefused(f"{path}: the input's size per sample is not fixed in the program; give it with "
                                "--input-shape")
        input_shape = fixed
    elif all(d is not None for d in fixed) and fixed != list(input_shape):
        raise ImportRefused(f"{path}: --input-shape {list(input_shape)} differs from the program's input size "
                            f"{fixed}; leave --input-shape out")
    reference = Batched(program.module(), dims[0] if dims else None)
    return Loaded(gm, reference, list(input_shape), path.stem)
