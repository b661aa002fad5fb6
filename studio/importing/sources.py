"""Where an imported model comes from: `torchvision:NAME`, `path/to/file.py:Class` or `package.module:Class`.

Importing a file or a module runs its code (as `python file.py` would); the CLI's help says so. The
torchvision weights come only from torch's cache or a download through torchvision's weights API.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import sys
from pathlib import Path


class ImportRefused(ValueError):
    """The model cannot be imported; the message says why and how to fix it."""


class WeightsUnavailable(ImportRefused):
    """The pretrained weights asked for are neither in torch's cache nor downloadable (offline); the
    import may go on with random weights only when the person agrees (--random-if-offline, or the
    window's question)."""


def parse_args_json(text: str | None) -> dict:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRefused(f"--args is not valid JSON ({exc.msg} at column {exc.colno}); "
                            "write an object, e.g. --args '{\"num_classes\": 10}'") from None
    if not isinstance(value, dict):
        raise ImportRefused(f"--args must be a JSON object of constructor arguments, got {type(value).__name__}")
    return value


MODEL_FILES = {".onnx": "onnx", ".pt2": "pt2"}  # files that hold a graph and weights, no code to run


def file_kind(source: str) -> str | None:
    """"onnx" or "pt2" when SOURCE names such a file (by its ending), else None."""
    return MODEL_FILES.get(Path(source).suffix.lower())


def split_source(source: str) -> tuple[str, str]:
    """(where, name) of SOURCE; refused when it has not the form WHERE:NAME."""
    kind, sep, name = source.rpartition(":")
    if not sep or not name or not kind:
        raise ImportRefused(f"SOURCE {source!r} must be torchvision:NAME, path/to/file.py:ClassName, "
                            "package.module:ClassName, model.onnx or model.pt2")
    return kind, name


def load_source(source: str, args: dict, weights: str | None):
    """The nn.Module that SOURCE names, built with `args`, and a short name for the project."""
    kind, name = split_source(source)
    if kind == "torchvision":
        return _torchvision(name, args, weights), name
    if weights is not None:
        raise ImportRefused("--weights names torchvision weights; for your own class, load its weights in "
                            "its constructor or import the project and then load a state dict")
    cls = _user_class(kind, name)
    return _construct(cls, args, f"{source}"), name


def _construct(factory, args: dict, what: str):
    import torch

    try:
        inspect.signature(factory).bind(**args)
    except TypeError as exc:
        raise ImportRefused(f"{what}: the constructor arguments do not fit ({exc}); pass them with "
                            "--args '{\"name\": value}'") from None
    except ValueError:
        pass  # no signature to check (a builtin): let the call say
    try:
        model = factory(**args)
    except Exception as exc:  # the person's code failed: say where, without our traceback
        raise ImportRefused(f"{what}: building the model failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(model, torch.nn.Module):
        raise ImportRefused(f"{what}: gives a {type(model).__name__}, not a torch.nn.Module")
    return model


def _user_class(where: str, name: str):
    if where.endswith(".py"):
        path = Path(where).expanduser()
        if not path.is_file():
            raise ImportRefused(f"{where}: no such Python file")
        mod_name = "_netstudio_import_" + path.stem.replace("-", "_")
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise ImportRefused(f"{where}: cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module  # dataclasses and pickling look a class's module up here
        sys.path.insert(0, str(path.parent.resolve()))  # its own sibling imports, as `python file.py`
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise ImportRefused(f"{where}: running the file failed: {type(exc).__name__}: {exc}") from None
        finally:
            sys.path.remove(str(path.parent.resolve()))
    else:
        try:
            module = importlib.import_module(where)
        except Exception as exc:
            raise ImportRefused(f"{where}: cannot import the module ({type(exc).__name__}: {exc})") from None
    cls = getattr(module, name, None)
    if cls is None:
        found = sorted(n for n, v in vars(module).items() if inspect.isclass(v) and _is_module_class(v))
        raise ImportRefused(f"{where}: has no {name!r}" + (f"; its model classes: {', '.join(found)}" if found else ""))
    return cls


def _is_module_class(value) -> bool:
    import torch

    return issubclass(value, torch.nn.Module)


def _torchvision(name: str, args: dict, weights: str | None):
    from torchvision import models

    available = models.list_models()
    if name not in available:
        close = [m for m in available if name.lower() in m or m in name.lower()][:8]
        raise ImportRefused(f"torchvision has no model {name!r}" +
                            (f"; did you mean {', '.join(close)}?" if close else
                             "; see torchvision.models.list_models() for the names"))
    builder = models.get_model_builder(name)
    if weights is None:
        return _construct(builder, args, f"torchvision:{name}")
    try:
        enum = models.get_model_weights(name)
        chosen = enum.DEFAULT if weights == "DEFAULT" else enum[weights]
    except (KeyError, ValueError):
        options = ", ".join(["DEFAULT", *(w.name for w in models.get_model_weights(name))])
        raise ImportRefused(f"torchvision:{name} has no weights {weights!r}; choose one of {options}") from None
    state = _cached_state_dict(name, chosen)
    model = _construct(builder, {**_weights_args(chosen, args), **args}, f"torchvision:{name}")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ImportRefused(f"torchvision:{name}: the weights {chosen} do not fit the model built with --args "
                            f"({str(exc).splitlines()[0]}); drop the arguments that change its size") from None
    return model


def _weights_args(chosen, args: dict) -> dict:
    """What torchvision's builder would set from the weights (the class count) unless --args says it."""
    categories = chosen.meta.get("categories")
    return {"num_classes": len(categories)} if categories and "num_classes" not in args else {}


def _cached_state_dict(name: str, chosen) -> dict:
    import torch

    cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(chosen.url)
    fetch = f"python -c \"import torchvision; torchvision.models.get_model('{name}', weights='{chosen.name}')\""
    try:  # weights_only inside torchvision's loader; a download only when the file is not cached
        return chosen.get_state_dict(progress=False, check_hash=True)
    except Exception as exc:
        where = "is not in torch's cache" if not cached.exists() else "in torch's cache could not be read"
        raise WeightsUnavailable(
            f"the weights {chosen} {where} ({cached}) and could not be downloaded ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}). Get them on a machine that is online "
            f"with {fetch}, then copy {cached.name} into {cached.parent} (or set TORCH_HOME); or import "
            "without --weights for random weights (--random-if-offline does that when they cannot be had)") from None
