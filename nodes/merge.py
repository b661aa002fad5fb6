"""merge: join branches, for residual connections, gating and multi-branch networks.

Add, Multiply, Maximum and Minimum take any number of wires into their one input port, in the order
they were connected; Subtract and Divide take exactly two, on ports `a` and `b` (a - b, a / b).
The element-wise merges broadcast as PyTorch does, on the per-sample shapes (see _broadcast)."""
from __future__ import annotations

import functools
import operator

from ._broadcast import align_build, aligned_inputs, broadcast_types
from ._common import FLOAT, NodeSpec, Param, Port, ShapeError, TensorType, batched_dim, fmt_shape

_IN = (Port("in", "two or more wires", multi=True),)
_AB = (Port("a", "the left operand"), Port("b", "the right operand"))

_BROADCAST_RULE = (
    "Broadcasts as PyTorch does, on the shapes of one sample (the batch dimension is shared): sizes are "
    "compared from the right and must be equal or 1 (a size-1 dim is repeated), and a sample with fewer "
    "dims gets size-1 dims in front, right after the batch dim; [64, 32, 32] with [64, 1, 1] gives "
    "[64, 32, 32] (a per-channel gate). The dtype is promoted as torch does (int64 with float32 gives "
    "float32).")


def _need_two(inputs):
    if len(inputs) < 2:
        raise ShapeError(f"joins two or more inputs but gets {len(inputs)}; wire another branch into it")


def _elementwise(verb: str, names=None, result_float=False, no_bool=False):
    def infer(p, inputs):
        _need_two(inputs)
        if no_bool and any(t.dtype == "bool" for t in inputs):
            raise ShapeError(f"cannot {verb} bool tensors (torch refuses it); subtract float or integer "
                             "tensors instead")
        out = broadcast_types(inputs, verb, names, residual=verb in ("add", "subtract"))
        if result_float and not out.is_float:
            out = TensorType(out.shape, FLOAT)  # true division, as torch's / (the default float dtype)
        return [out]

    infer.__doc__ = _BROADCAST_RULE
    return infer


def _reduce_wire(fn):
    def wire(call, inputs, p):
        return [functools.reduce(fn, aligned_inputs(call, inputs))]

    return wire


def _merge(type_name: str, doc: str, verb: str, fn, *, two=False, **kw) -> NodeSpec:
    names = ("port a", "port b") if two else None
    return NodeSpec(type=type_name, category="merge", doc=doc, inputs=_AB if two else _IN,
                    infer=_elementwise(verb, names, **kw), build=lambda p, i: align_build(i),
                    wire=_reduce_wire(fn))


def _concat_infer(p, inputs):
    """All inputs have the same rank and the same sizes outside `dim`, and one dtype; the output's
    size along `dim` is the sum of theirs."""
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


def _torch(name):
    def fn(a, b):
        import torch

        return getattr(torch, name)(a, b)

    return fn


SPECS = [
    _merge("Add", "Element-wise sum of its inputs (a residual connection); broadcasts.", "add", operator.add),
    _merge("Subtract", "a - b, element-wise (port a minus port b); broadcasts.", "subtract", operator.sub,
           two=True, no_bool=True),
    _merge("Multiply", "Element-wise product of its inputs (gating, per-channel scales); broadcasts.",
           "multiply", operator.mul),
    _merge("Divide", "a / b, element-wise true division (port a over port b); broadcasts.", "divide",
           operator.truediv, two=True, result_float=True),
    _merge("Maximum", "Element-wise maximum of its inputs (torch.maximum); broadcasts.", "take the maximum of",
           _torch("maximum")),
    _merge("Minimum", "Element-wise minimum of its inputs (torch.minimum); broadcasts.", "take the minimum of",
           _torch("minimum")),
    NodeSpec(type="Concat", category="merge",
             doc="Joins its inputs along dim of the batched tensor (1: channels or features).",
             params=(Param("dim", "int", 1, "Dimension of the batched tensor to join along (0, the batch, "
                           "is refused).", min=-8, max=8),),
             inputs=_IN, infer=_concat_infer, build=lambda p, i: None, wire=_concat_wire, key_params=("dim",)),
]
