"""PyTorch's broadcasting and type promotion, on per-sample shapes (the batch dimension is shared).

Shapes are compared from the right, as torch does; a sample of lower rank is given size-1 dims
right after the batch dimension when the model runs (`align`), so its batch dim lines up with the
other input's batch dim instead of with one of its sample dims."""
from __future__ import annotations

from ._common import ShapeError, TensorType, fmt_shape

# torch's promotion categories (torch.result_type): bool < integers < floating point; within one,
# the wider type wins, and float16 with bfloat16 gives float32 (tests check every pair against
# torch.promote_types).
_CATEGORY = {"bool": 0, "int32": 1, "int64": 1, "float16": 2, "bfloat16": 2, "float32": 2, "float64": 2}
_BITS = {"bool": 1, "int32": 32, "int64": 64, "float16": 16, "bfloat16": 16, "float32": 32, "float64": 64}


def promote(a: str, b: str) -> str:
    if a == b:
        return a
    for d in (a, b):
        if d not in _CATEGORY:
            raise ShapeError(f"cannot combine a {d} tensor with others; use float32 or int64 inputs")
    ca, cb = _CATEGORY[a], _CATEGORY[b]
    if ca != cb:
        return a if ca > cb else b
    if {a, b} == {"float16", "bfloat16"}:
        return "float32"
    return a if _BITS[a] >= _BITS[b] else b


def _cell(d) -> str:
    return "·" if d is None else str(d)


def aligned(shapes) -> list[str]:
    """Shapes written with their sizes in right-aligned columns ("·" where a shape has no dim), so
    the sizes torch compares sit under each other: [64, 32, 32] / [ ·, 48,  1]."""
    rank = max(len(s) for s in shapes)
    rows = [[None] * (rank - len(s)) + list(s) for s in shapes]
    widths = [max(len(_cell(r[i])) for r in rows) for i in range(rank)]
    return ["[" + ", ".join(_cell(r[i]).rjust(widths[i]) for i in range(rank)) + "]" for r in rows]


def _fix(shape_a, shape_b, residual: bool) -> str:
    """A fix in the person's terms: a gate or per-channel scale shaped [C, 1, 1]; for a sum or a
    difference of equal rank, the residual's projection of the shortcut."""
    small, big = (shape_a, shape_b) if len(shape_a) < len(shape_b) or (
        len(shape_a) == len(shape_b) and _numel(shape_a) < _numel(shape_b)) else (shape_b, shape_a)
    kept = [d for d in small if d != 1]
    if kept and len(kept) < len(big) and list(big[:len(kept)]) == kept:
        target = kept + [1] * (len(big) - len(kept))
        return (f"to scale or gate each channel, give the {fmt_shape(small)} input the shape {fmt_shape(target)} "
                f"(Reshape to {fmt_shape(target)}, or Unsqueeze at the end); otherwise make the sizes equal")
    if residual and len(shape_a) == len(shape_b):
        return ("for a residual, match the shortcut to the branch (a 1x1 Conv2d for channels, a Linear for "
                "features), or make a size 1 where one input is to be repeated")
    return ("make the sizes equal, or 1 where one input is to be repeated (e.g. a per-channel gate as "
            "[C, 1, 1] through Reshape or Unsqueeze)")


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def broadcast_pair(a, b, what: str, names=("the first input", "the second input"), fix=None,
                   residual=False) -> tuple[int, ...]:
    """The broadcast of two per-sample shapes, or a ShapeError showing both aligned (and `fix`, or a
    fix for gating when none is given)."""
    out = []
    rank = max(len(a), len(b))
    pa, pb = (1,) * (rank - len(a)) + tuple(a), (1,) * (rank - len(b)) + tuple(b)
    for i, (x, y) in enumerate(zip(pa, pb)):
        if x != y and 1 not in (x, y):
            top, bottom = aligned([a, b])
            raise ShapeError(
                f"cannot {what} {fmt_shape(a)} and {fmt_shape(b)}: sizes are compared from the right, "
                f"{top} against {bottom}, and dim {i + 1} of the batched tensor is {x} in {names[0]} but {y} in "
                f"{names[1]} (broadcasting needs them equal, or one of them 1); {fix or _fix(a, b, residual)}")
        out.append(max(x, y) if 1 in (x, y) else x)
    return tuple(out)


def broadcast_types(inputs, what: str, names=None, residual=False) -> TensorType:
    """The per-sample type of an element-wise op on `inputs` (torch's broadcasting and promotion)."""
    shape = tuple(inputs[0].shape)
    dtype = inputs[0].dtype
    for i, t in enumerate(inputs[1:], start=1):
        pair = names or (f"inputs 1..{i}" if i > 1 else "input 1", f"input {i + 1}")
        shape = broadcast_pair(shape, t.shape, what, pair, residual=residual)
        dtype = promote(dtype, t.dtype)
    return TensorType(shape, dtype)


def align_build(inputs):
    """The module that aligns the inputs' ranks (see nodes.tensor_modules.AlignRanks), or None when
    they already have one rank, which is the common case (a residual Add): then the op is plain."""
    top = max(t.rank for t in inputs)
    extra = [top - t.rank for t in inputs]
    if not any(extra):
        return None
    from .tensor_modules import AlignRanks

    return AlignRanks(extra)


def aligned_inputs(call, inputs) -> list:
    """The inputs as the merge combines them: each through the AlignRanks module when one was built."""
    if call is None:
        return list(inputs)
    return [call(x, i) for i, x in enumerate(inputs)]
