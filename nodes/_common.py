"""Shared helpers for node specs: shape checks with messages in a person's words."""
from __future__ import annotations

from studio.core.spec import NodeSpec, Param, ParamError, Port
from studio.core.types import FLOAT, INT, ShapeError, TensorType, fmt_shape

__all__ = ["NodeSpec", "Param", "ParamError", "Port", "ShapeError", "TensorType", "FLOAT", "INT",
           "fmt_shape", "one", "need_float", "need_rank", "pair", "batched_dim", "same_shape",
           "sample_dim", "nn"]


class _Deferred:
    """A torch.nn class named now and looked up when a layer is built."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args, **kwargs):
        from torch import nn as torch_nn

        return getattr(torch_nn, self.name)(*args, **kwargs)


class _LazyNN:
    """`nn.Conv2d(...)` for the specs without importing torch until a layer is built: the specs (ports,
    params, shape inference) are all the canvas needs to draw a graph, and importing torch takes
    seconds, so the window paints the graph first."""

    def __getattr__(self, name: str) -> _Deferred:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Deferred(name)


nn = _LazyNN()


def one(inputs):
    return inputs[0]


def need_float(t: TensorType, what: str = "") -> None:
    if not t.is_float:
        raise ShapeError(f"needs floating-point input{what} but gets {t}; token ids (int64) go into an "
                         "Embedding first")


def need_rank(t: TensorType, ranks, expected: str, fix: str) -> None:
    if t.rank not in ranks:
        raise ShapeError(f"needs {expected} per sample but gets {fmt_shape(t.shape)}; {fix}")


def pair(v, n: int = 2) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


def batched_dim(dim: int, rank: int, name: str = "dim") -> int:
    """Map a `dim` of the batched tensor (PyTorch's convention) to a per-sample dim index.
    0 is the batch, which a layer may not act across."""
    full = rank + 1
    if not -full <= dim < full:
        raise ParamError(f"'{name}' is {dim}, outside the {full} dimensions of the batched input "
                         f"[batch, {', '.join(str(i) for i in range(1, full))}...]; pick one of 1..{rank} "
                         "or a negative index")
    d = dim % full
    if d == 0:
        raise ParamError(f"'{name}' 0 is the batch dimension, which would mix samples; use 1 "
                         "(the first dimension of a sample) or -1 (the last)")
    return d - 1


def sample_dim(dim: int, rank: int) -> int:
    return batched_dim(dim, rank)


def same_shape(inputs, verb: str) -> None:
    first = inputs[0]
    for t in inputs[1:]:
        if t.shape != first.shape:
            shapes = " and ".join(fmt_shape(i.shape) for i in inputs)
            raise ShapeError(f"can only {verb} tensors of the same shape but gets {shapes}; make the "
                             "branches agree (e.g. a 1x1 Conv2d or a Linear on the shortcut)")
        if t.dtype != first.dtype:
            raise ShapeError(f"can only {verb} tensors of one dtype but gets {first.dtype} and {t.dtype}")
