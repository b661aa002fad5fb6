"""Tensor operations for drawing attention or a custom head by hand: MatMul, Transpose, Squeeze /
Unsqueeze, Select / Slice, Split, reductions over a dim (Mean, Sum, Max) and a constant Scale.

Every `dim` counts the dimensions of the batched tensor, as PyTorch does (as Concat and Softmax do):
1 is the first dim of a sample, -1 the last; 0, the batch, is refused. Softmax / LogSoftmax over a
chosen dim and Permute of all dims live in activation.py and shape.py."""
from __future__ import annotations

from ._broadcast import align_build, aligned_inputs, broadcast_pair
from ._common import FLOAT, NodeSpec, Param, ParamError, Port, ShapeError, TensorType, batched_dim, fmt_shape


def _dim(name="dim", default=1, doc="Dimension of the batched tensor (1: the first of a sample, -1: the last; "
                                     "0, the batch, is refused)."):
    return Param(name, "int", default, doc, min=-8, max=8)


def index_along(dim: int, piece: slice) -> tuple:
    """x[index_along(d, s)] slices dim d of the batched tensor (negative d from the end) without
    knowing its rank, so the same indexing runs on tensors and on torch.fx proxies."""
    if dim < 0:
        return (Ellipsis, piece) + (slice(None),) * (-dim - 1)
    return (slice(None),) * dim + (piece,)


# ---- MatMul ---------------------------------------------------------------------------------------
def _matmul_infer(p, inputs):
    """a [..., n, m] @ b [..., m, p] -> [..., n, p] per sample, as torch.matmul on the batched
    tensors: the leading dims (between the batch and the last two) broadcast as in Add, a sample with
    fewer of them gets size-1 dims after the batch dim. Both inputs need at least two dims per sample
    (a vector per sample would become a matrix across the batch: Unsqueeze it to [m, 1] or [1, m])
    and one floating-point dtype."""
    a, b = inputs
    for name, t in (("a", a), ("b", b)):
        if not t.is_float:
            raise ShapeError(f"needs floating-point inputs but port {name} gets {t}; token ids go into an "
                             "Embedding first")
        if t.rank < 2:
            raise ShapeError(f"needs a matrix per sample on port {name} ([rows, columns], or more dims in "
                             f"front) but gets {fmt_shape(t.shape)}; Unsqueeze it to make a column "
                             f"[{t.shape[0] if t.rank else 1}, 1] or a row [1, {t.shape[0] if t.rank else 1}], "
                             "or use a Linear for a matrix times a vector")
    if a.dtype != b.dtype:
        raise ShapeError(f"needs both inputs of one dtype but gets {a.dtype} and {b.dtype}")
    if a.shape[-1] != b.shape[-2]:
        raise ShapeError(f"cannot multiply a {fmt_shape(a.shape)} by b {fmt_shape(b.shape)}: a's last dim "
                         f"({a.shape[-1]}) must equal b's second-to-last ({b.shape[-2]}); if b holds "
                         "[columns, rows], Transpose it (dims -2 and -1) first")
    lead = broadcast_pair(a.shape[:-2], b.shape[:-2], "batch-multiply the leading dims of",
                          ("port a", "port b"), "make the leading dims (e.g. the heads) equal, or 1 on the side "
                          "shared by all of them (Unsqueeze or Reshape)")
    return [TensorType((*lead, a.shape[-2], b.shape[-1]), a.dtype)]


def _matmul_wire(call, inputs, p):
    a, b = aligned_inputs(call, inputs)
    return [a @ b]


MATMUL = NodeSpec(
    type="MatMul", category="merge",
    doc="Matrix product a @ b (torch.matmul), batched over the leading dims: e.g. attention scores "
        "q @ kᵀ.",
    inputs=(Port("a", "the left matrix [..., n, m]"), Port("b", "the right matrix [..., m, p]")),
    infer=_matmul_infer, build=lambda p, i: align_build(i), wire=_matmul_wire,
)


# ---- Transpose, Squeeze, Unsqueeze --------------------------------------------------------------------
def _transpose_infer(p, inputs):
    """Swaps two dims of a sample: [time, features] with dims 1, 2 -> [features, time]."""
    (t,) = inputs
    d0, d1 = batched_dim(p["dim0"], t.rank, "dim0"), batched_dim(p["dim1"], t.rank, "dim1")
    shape = list(t.shape)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    return [t.with_shape(*shape)]


TRANSPOSE = NodeSpec(
    type="Transpose", category="shape",
    doc="Swaps two dims (torch.transpose), e.g. keys [time, d] -> [d, time] before a MatMul.",
    params=(_dim("dim0", -2, "One dim of the batched tensor to swap (0, the batch, is refused)."),
            _dim("dim1", -1, "The other dim to swap.")),
    infer=_transpose_infer, build=lambda p, i: None,
    wire=lambda call, inputs, p: [inputs[0].transpose(p["dim0"], p["dim1"])], key_params=("dim0", "dim1"),
)


def _squeeze_infer(p, inputs):
    """Removes `dim`, which must have size 1: [64, 1] with dim -1 -> [64]."""
    (t,) = inputs
    d = batched_dim(p["dim"], t.rank)
    if t.shape[d] != 1:
        ones = [i + 1 for i, s in enumerate(t.shape) if s == 1]
        hint = f"the size-1 dims are {', '.join(map(str, ones))}" if ones else "no dim of it has size 1"
        raise ShapeError(f"can only remove a dim of size 1, but dim {p['dim']} of {fmt_shape(t.shape)} has size "
                         f"{t.shape[d]} ({hint}); pick one of those, or use Select or a reduction (Mean, Sum, "
                         "Max) to drop a larger dim")
    return [t.with_shape(*t.shape[:d], *t.shape[d + 1:])]


SQUEEZE = NodeSpec(
    type="Squeeze", category="shape",
    doc="Removes a dim of size 1 (torch.squeeze with a dim): [64, 1] -> [64].",
    params=(_dim(default=-1),),
    infer=_squeeze_infer, build=lambda p, i: None,
    wire=lambda call, inputs, p: [inputs[0].squeeze(p["dim"])], key_params=("dim",),
)


def _unsqueeze_infer(p, inputs):
    """Inserts a size-1 dim so that the new dim is `dim` of the result: [64] with dim -1 -> [64, 1],
    with dim 1 -> [1, 64]."""
    (t,) = inputs
    d = batched_dim(p["dim"], t.rank + 1)
    return [t.with_shape(*t.shape[:d], 1, *t.shape[d:])]


UNSQUEEZE = NodeSpec(
    type="Unsqueeze", category="shape",
    doc="Inserts a dim of size 1 (torch.unsqueeze): a per-channel gate [64] -> [64, 1], twice -> [64, 1, 1].",
    params=(_dim(default=-1, doc="Where the new dim sits in the batched result (1: first of a sample, -1: "
                                 "last; 0, the batch, is refused)."),),
    infer=_unsqueeze_infer, build=lambda p, i: None,
    wire=lambda call, inputs, p: [inputs[0].unsqueeze(p["dim"])], key_params=("dim",),
)


# ---- Select, Slice, Split ---------------------------------------------------------------------------
def _select_infer(p, inputs):
    """Takes one position along `dim` and removes that dim: [time, features] with dim 1, index -1 ->
    [features] (the last step)."""
    (t,) = inputs
    d = batched_dim(p["dim"], t.rank)
    size, i = t.shape[d], p["index"]
    if not -size <= i < size:
        raise ShapeError(f"'index' {i} is outside dim {p['dim']} of {fmt_shape(t.shape)}, which has {size} "
                         f"positions (0..{size - 1}, or -{size}..-1 from the end)")
    return [t.with_shape(*t.shape[:d], *t.shape[d + 1:])]


SELECT = NodeSpec(
    type="Select", category="shape",
    doc="Picks one position along a dim and drops the dim (torch.select), e.g. the last time step.",
    params=(_dim(), Param("index", "int", 0, "Position to take; negative counts from the end.")),
    infer=_select_infer, build=lambda p, i: None,
    wire=lambda call, inputs, p: [inputs[0].select(p["dim"], p["index"])], key_params=("dim", "index"),
)


def _slice_length(p, t):
    d = batched_dim(p["dim"], t.rank)
    size = t.shape[d]
    n = len(range(*slice(p["start"], p["end"], p["step"]).indices(size)))
    if n == 0:
        end = "the end" if p["end"] is None else p["end"]
        raise ShapeError(f"takes nothing: dim {p['dim']} of {fmt_shape(t.shape)} has {size} positions and "
                         f"start {p['start']} to {end} holds none of them; pick a start before the end "
                         f"(negative numbers count from the end, as in Python)")
    return d, n


def _slice_infer(p, inputs):
    """Keeps positions start, start + step, ... before end along `dim`, with Python's slice rules
    (negative start or end count from the end; an end past the size stops at the size):
    [time, d] with dim 1, start 0, end 4 -> [4, d]."""
    (t,) = inputs
    d, n = _slice_length(p, t)
    return [t.with_shape(*t.shape[:d], n, *t.shape[d + 1:])]


SLICE = NodeSpec(
    type="Slice", category="shape",
    doc="Keeps a range of positions along a dim, x[..., start:end:step] (narrowing a dim).",
    params=(_dim(),
            Param("start", "int", 0, "First position kept; negative counts from the end."),
            Param("end", "int", None, "Position where the range stops (not kept); empty: to the end.",
                  optional=True),
            Param("step", "int", 1, "Keep every step-th position.", min=1)),
    infer=_slice_infer, build=lambda p, i: None,
    wire=lambda call, inputs, p: [inputs[0][index_along(p["dim"], slice(p["start"], p["end"], p["step"]))]],
    key_params=("dim", "start"),
)


def _split_infer(p, inputs):
    """Cuts `dim` in two: port `first` holds the first split_size positions, port `rest` the others:
    [time, 96] with dim -1, split_size 32 -> [time, 32] and [time, 64]. Ports are fixed in a node
    type, so a Split always has these two outputs, both always filled; cut three ways by splitting
    `rest` again, or take any range with Slice."""
    (t,) = inputs
    d = batched_dim(p["dim"], t.rank)
    size, k = t.shape[d], p["split_size"]
    if k >= size:
        raise ShapeError(f"'split_size' {k} leaves nothing for port 'rest': dim {p['dim']} of "
                         f"{fmt_shape(t.shape)} has {size} positions; pick a size below {size}")
    return [t.with_shape(*t.shape[:d], k, *t.shape[d + 1:]), t.with_shape(*t.shape[:d], size - k, *t.shape[d + 1:])]


SPLIT = NodeSpec(
    type="Split", category="shape",
    doc="Cuts a dim in two pieces (torch.split with [split_size, the rest]), e.g. a GLU's halves or "
        "q from [k, v].",
    params=(_dim(default=-1), Param("split_size", "int", 1, "Positions in the first piece.", min=1)),
    outputs=(Port("first", "the first split_size positions"), Port("rest", "the remaining positions")),
    infer=_split_infer, build=lambda p, i: None,
    wire=lambda call, inputs, p: [inputs[0][index_along(p["dim"], slice(None, p["split_size"]))],
                                  inputs[0][index_along(p["dim"], slice(p["split_size"], None))]],
    key_params=("dim", "split_size"),
)


# ---- reductions, Scale ---------------------------------------------------------------------------
_KEEPDIM = Param("keepdim", "bool", False, "Keep the reduced dim with size 1 (so the result broadcasts "
                                           "against the input).")


def _reduce(type_name: str, method: str, doc: str, dtype_rule):
    def infer(p, inputs):
        (t,) = inputs
        d = batched_dim(p["dim"], t.rank)
        shape = (*t.shape[:d], 1, *t.shape[d + 1:]) if p["keepdim"] else (*t.shape[:d], *t.shape[d + 1:])
        return [TensorType(shape, dtype_rule(t))]

    infer.__doc__ = ("Reduces `dim` (removed, or kept with size 1 with keepdim): [time, features] with dim 1 -> "
                     "[features]; with keepdim -> [1, features].")
    return NodeSpec(type=type_name, category="pooling", doc=doc, params=(_dim(), _KEEPDIM), infer=infer,
                    build=lambda p, i: None,
                    wire=lambda call, inputs, p: [getattr(inputs[0], method)(p["dim"], keepdim=p["keepdim"])],
                    key_params=("dim", "keepdim"))


def _mean_dtype(t):
    if not t.is_float:
        raise ShapeError(f"can only average floating-point values but gets {t} (torch.mean refuses integers); "
                         "use Sum, or an Embedding for token ids")
    return t.dtype


def _sum_dtype(t):
    return t.dtype if t.is_float else "int64"  # torch.sum widens integers and bools to int64


def _scale_infer(p, inputs):
    """Same shape; integers become float32 (an integer tensor times a Python float, as in torch)."""
    (t,) = inputs
    return [t if t.is_float else TensorType(t.shape, FLOAT)]


def _scale_validate(p):
    if p["scale"] == 0:
        raise ParamError("'scale' 0 makes every value 0 and stops all gradients; pick another number")


SCALE = NodeSpec(
    type="Scale", category="activation",
    doc="Multiplies by a constant, x * scale (e.g. 1/sqrt(d) for attention scores).",
    params=(Param("scale", "float", 1.0, "The constant factor (any finite number but 0)."),),
    infer=_scale_infer, build=lambda p, i: None, validate=_scale_validate,
    wire=lambda call, inputs, p: [inputs[0] * p["scale"]], key_params=("scale",),
)

SPECS = [
    MATMUL, TRANSPOSE, SQUEEZE, UNSQUEEZE, SELECT, SLICE, SPLIT,
    _reduce("Mean", "mean", "Mean over a dim (torch.mean), e.g. average over time.", _mean_dtype),
    _reduce("Sum", "sum", "Sum over a dim (torch.sum); integers sum to int64.", _sum_dtype),
    _reduce("Max", "amax", "Largest value over a dim (torch.amax; the values, not the indices).", lambda t: t.dtype),
    SCALE,
]
