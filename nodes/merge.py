"""merge: join branches, for residual connections and multi-branch networks. Each takes any number
of wires into its one input port, in the order they were connected."""
from __future__ import annotations

import functools
import operator

from ._common import NodeSpec, Param, Port, ShapeError, batched_dim, fmt_shape, same_shape

_IN = (Port("in", "two or more wires", multi=True),)


def _need_two(inputs):
    if len(inputs) < 2:
        raise ShapeError(f"joins two or more inputs but gets {len(inputs)}; wire another branch into it")


def _elementwise_infer(verb):
    def infer(p, inputs):
        _need_two(inputs)
        same_shape(inputs, verb)
        return [inputs[0]]

    return infer


def _concat_infer(p, inputs):
    _need_two(inputs)
    first = inputs[0]
    d = batched_dim(p["dim"], first.rank)
    for t in inputs[1:]:
        if t.rank != first.rank or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != d):
            shapes = " and ".join(fmt_shape(i.shape) for i in inputs)
            raise ShapeError(f"can only join tensors that match outside dim {p['dim']} but gets {shapes}; "
                             "pick another dim or make the branches agree")
        if t.dtype != first.dtype:
            raise ShapeError(f"can only join tensors of one dtype but gets {first.dtype} and {t.dtype}")
    total = sum(t.shape[d] for t in inputs)
    return [first.with_shape(*first.shape[:d], total, *first.shape[d + 1:])]


def _concat_wire(call, inputs, p):
    import torch

    return [torch.cat(list(inputs), dim=p["dim"])]


SPECS = [
    NodeSpec(type="Add", category="merge", doc="Element-wise sum of its inputs (a residual connection).",
             inputs=_IN, infer=_elementwise_infer("add"), build=lambda p, i: None,
             wire=lambda call, inputs, p: [functools.reduce(operator.add, inputs)]),
    NodeSpec(type="Multiply", category="merge", doc="Element-wise product of its inputs (gating).",
             inputs=_IN, infer=_elementwise_infer("multiply"), build=lambda p, i: None,
             wire=lambda call, inputs, p: [functools.reduce(operator.mul, inputs)]),
    NodeSpec(type="Concat", category="merge",
             doc="Joins its inputs along dim of the batched tensor (1: channels or features).",
             params=(Param("dim", "int", 1, "Dimension of the batched tensor to join along (0, the batch, "
                           "is refused).", min=-8, max=8),),
             inputs=_IN, infer=_concat_infer, build=lambda p, i: None, wire=_concat_wire, key_params=("dim",)),
]
