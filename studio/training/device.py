"""Choosing the training device, seeding, and AMP settings."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from .errors import TrainingError


def resolve_device(name: str, local_rank: int | None = None, field: str = "training.device") -> torch.device:
    """auto: CUDA (this process's local rank under torchrun), then MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank or 0)
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            raise TrainingError(f"{field} is mps but Apple's MPS backend is not available here; use cpu or auto")
        return torch.device("mps")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainingError(f"{field} is {name} but this machine has no usable CUDA GPU "
                                "(torch.cuda.is_available() is False); use cpu or auto")
        index = int(name.split(":")[1]) if ":" in name else (local_rank or 0)
        count = torch.cuda.device_count()
        if index >= count:
            raise TrainingError(f"{field} is {name} but this machine has {count} CUDA GPU"
                                f"{'s' * (count != 1)} (cuda:0 to cuda:{count - 1})")
        return torch.device("cuda", index)
    raise TrainingError(f"{field} must be auto, cpu, cuda, cuda:N or mps, got {name!r}")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def seed_everything(seed: int, deterministic: bool = False) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def amp_dtype(amp: str, device: torch.device) -> tuple[torch.dtype | None, str | None]:
    """The autocast dtype for a config value, and a notice when AMP cannot be used here."""
    if amp == "off":
        return None, None
    if device.type != "cuda":
        return None, f"mixed precision (training.amp) runs on CUDA only; training in float32 on {device.type}"
    if amp == "bf16" or (amp == "auto" and torch.cuda.is_bf16_supported()):
        if not torch.cuda.is_bf16_supported():
            return torch.float16, "this GPU has no bfloat16; using float16 mixed precision"
        return torch.bfloat16, None
    return torch.float16, None


def rng_state() -> dict:
    """Every random state training depends on, as tensors and plain values (weights_only-loadable)."""
    state = {"torch": torch.get_rng_state(), "python": _py_state(),
             "numpy": torch.from_numpy(np.random.get_state()[1].astype(np.int64))}
    np_state = np.random.get_state()
    state["numpy_pos"] = [int(np_state[2]), int(np_state[3]), float(np_state[4])]
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _py_state():
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def set_rng_state(state: dict) -> None:
    if "torch" in state:
        torch.set_rng_state(state["torch"])
    if "python" in state:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
    if "numpy" in state and "numpy_pos" in state:
        pos, has_gauss, cached = state["numpy_pos"]
        np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        states = state["cuda"]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)
