"""The one way NetStudio reads a PyTorch file a person gives it (a training checkpoint, a state
dict): only a regular file of a size that fits in memory, read with `torch.load(weights_only=True)`,
so a pickle that would run code is refused, and every refusal or corrupt file is one message."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

from .limits import FileRefused, check_regular_file, memory_bytes


def load_torch_file(path: str | os.PathLike, what: str = "checkpoint file") -> object:
    """What `path` holds, read on the CPU. Raises FileRefused (a ValueError naming the path) when
    it is missing, not a regular file, larger than this machine's memory, holds Python objects
    beyond tensors and plain values, or is not a readable PyTorch file."""
    import torch

    path = Path(path)
    if not path.exists():
        raise FileRefused(path, "no such checkpoint file")
    check_regular_file(path, memory_bytes(), what)  # a FIFO or a device would block torch.load or never end
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise FileRefused(path, "refused: it holds Python objects that could run code when loaded (only tensors "
                                f"and plain values are accepted). {_first_line(exc, '')}".rstrip()) from None
    except Exception as exc:  # torch raises RuntimeError/EOFError/zipfile errors for broken files
        raise FileRefused(path, f"is not a readable PyTorch checkpoint ({type(exc).__name__}: "
                                f"{_first_line(exc, 'truncated or corrupt')})") from None


def _first_line(exc: BaseException, default: str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else default
