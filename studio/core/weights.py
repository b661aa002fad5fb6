"""Loading weights into a compiled model, safely: `torch.load(weights_only=True)` only, and a
checkpoint from another graph is refused with a message that names the mismatched layers."""
from __future__ import annotations

import os

from .limits import FileRefused
from .torch_files import load_torch_file


class WeightsError(ValueError):
    pass


def read_state_dict(path: str | os.PathLike) -> dict:
    """The model weights in a file: a training checkpoint (its "model" entry), a plain state dict,
    or a safetensors file (a project's weights, e.g. after an import)."""
    if str(path).lower().endswith(".safetensors"):
        return _read_safetensors(path)
    try:
        data = load_torch_file(path, "weights file")
    except FileRefused as exc:
        raise WeightsError(str(exc)) from None
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise WeightsError(f"{path}: holds no state dict (expected a mapping of parameter names to tensors)")
    return data


def _read_safetensors(path) -> dict:
    """safetensors holds tensors only (no pickle, nothing runs); the file is still checked first."""
    from pathlib import Path

    from safetensors.torch import load_file

    from .limits import check_regular_file, memory_bytes

    if not Path(path).exists():
        raise WeightsError(f"{path}: no such weights file; it should sit beside the project (import the model "
                           "again, or remove \"weights\" from the project to start from random weights)")
    try:
        check_regular_file(Path(path), memory_bytes(), "weights file")
        return load_file(str(path), device="cpu")
    except FileRefused as exc:
        raise WeightsError(str(exc)) from None
    except Exception as exc:  # safetensors raises its own SafetensorError / OSError for broken files
        raise WeightsError(f"{path}: is not a readable safetensors file ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else 'truncated or corrupt'})") from None


def load_project_weights(model, project) -> None:
    """Load the weights the project names (its "weights" file), if it names one."""
    path = project.weights_path() if hasattr(project, "weights_path") else None
    if path is not None:
        load_weights(model, path)


def check_state_dict(model, state: dict) -> None:
    """Refuse weights that do not fit the model, naming the layers that differ."""
    import torch

    own = model.state_dict()
    not_tensors = sorted(k for k in own if k in state and not isinstance(state[k], torch.Tensor))
    if not_tensors:
        k = not_tensors[0]
        raise WeightsError(f"{k}: the file holds {type(state[k]).__name__} where the model has a tensor; "
                           "these are not weights saved from a model")
    # load_state_dict would cast silently: int64 weights (ids, counts, a file saved from integers)
    # become floats that mean nothing; a float64 file for a float32 model is only rounded
    kinds = sorted(k for k in own if k in state and _kind(state[k]) != _kind(own[k]))
    if kinds:
        detail = "; ".join(f"{k}: file {str(state[k].dtype).removeprefix('torch.')} vs model "
                           f"{str(own[k].dtype).removeprefix('torch.')}" for k in kinds[:4])
        raise WeightsError(f"refused: weights of another kind of number than the model's ({detail}); "
                           "save the weights as floating-point tensors (tensor.float()) and load them again")
    missing = sorted(k for k in own if k not in state)
    unexpected = sorted(k for k in state if k not in own)
    wrong = sorted(k for k in own if k in state and hasattr(state[k], "shape")
                   and tuple(state[k].shape) != tuple(own[k].shape))
    if not (missing or unexpected or wrong):
        return

    def layers(keys):
        return ", ".join(sorted({k.split(".")[0] for k in keys}))

    parts = []
    if wrong:
        detail = "; ".join(f"{k}: file {list(state[k].shape)} vs model {list(own[k].shape)}" for k in wrong[:4])
        parts.append(f"layers with other sizes: {layers(wrong)} ({detail})")
    if missing:
        parts.append(f"layers missing from the file: {layers(missing)}")
    if unexpected:
        parts.append(f"layers the model does not have: {layers(unexpected)}")
    raise WeightsError("the checkpoint was saved from a different graph: " + "; ".join(parts))


def _kind(t) -> str:
    import torch

    if t.dtype == torch.bool:
        return "bool"
    return "complex" if t.is_complex() else "float" if t.is_floating_point() else "int"


def load_weights(model, source) -> None:
    state = source if isinstance(source, dict) else read_state_dict(source)
    check_state_dict(model, state)
    model.load_state_dict(state)


def save_with_weights(project, out, weights_file, state: dict, written_by: str) -> None:
    """Write `state` to the safetensors file `weights_file`, then `project` (which names it) to `out`,
    each atomically: weights first, so a failure leaves no project without its weights."""
    from safetensors.torch import save

    from .atomic import atomic_write_bytes

    atomic_write_bytes(weights_file, save(state, metadata={"format": "pt", "written_by": written_by}))
    try:
        project.save(out)
    except BaseException:
        weights_file.unlink(missing_ok=True)
        raise
