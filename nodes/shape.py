"""shape: change how the numbers of a sample are arranged."""
from __future__ import annotations

import math

from ._common import NodeSpec, Param, ParamError, ShapeError, batched_dim, fmt_shape, nn


def _flatten_infer(p, inputs):
    (t,) = inputs
    if t.rank == 0:
        return [t]
    start, end = batched_dim(p["start_dim"], t.rank, "start_dim"), batched_dim(p["end_dim"], t.rank, "end_dim")
    if start > end:
        raise ParamError(f"'start_dim' {p['start_dim']} comes after 'end_dim' {p['end_dim']}")
    merged = math.prod(t.shape[start:end + 1])
    return [t.with_shape(*t.shape[:start], merged, *t.shape[end + 1:])]


FLATTEN = NodeSpec(
    type="Flatten", category="shape", torch_name="torch.nn.Flatten",
    doc="Flattens each sample to a vector (e.g. [16, 5, 5] -> [400]) before Linear layers.",
    params=(Param("start_dim", "int", 1, "First dimension of the batched tensor to flatten.", min=-8, max=8),
            Param("end_dim", "int", -1, "Last dimension to flatten.", min=-8, max=8)),
    infer=_flatten_infer, build=lambda p, i: nn.Flatten(p["start_dim"], p["end_dim"]),
)


def _unflatten_infer(p, inputs):
    (t,) = inputs
    d = batched_dim(p["dim"], t.rank)
    sizes = p["unflattened_size"]
    if math.prod(sizes) != t.shape[d]:
        raise ShapeError(f"cannot split dimension {p['dim']} of size {t.shape[d]} into {fmt_shape(sizes)} "
                         f"({math.prod(sizes)} elements); make the sizes multiply to {t.shape[d]}")
    return [t.with_shape(*t.shape[:d], *sizes, *t.shape[d + 1:])]


UNFLATTEN = NodeSpec(
    type="Unflatten", category="shape", torch_name="torch.nn.Unflatten",
    doc="Splits one dimension into several (e.g. [784] -> [1, 28, 28]).",
    params=(Param("dim", "int", 1, "Dimension of the batched tensor to split.", min=-8, max=8),
            Param("unflattened_size", "shape", [1, 28, 28], "Sizes it becomes.")),
    infer=_unflatten_infer, build=lambda p, i: nn.Unflatten(p["dim"], tuple(p["unflattened_size"])),
    key_params=("unflattened_size",),
)


def _reshape_target(p, t):
    shape = list(p["shape"])
    if shape.count(-1) > 1:
        raise ParamError("'shape' may hold at most one -1")
    if any(s == 0 or s < -1 for s in shape):
        raise ParamError(f"'shape' sizes must be positive (or one -1), got {shape}")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if t.numel % known:
            raise ShapeError(f"cannot reshape {fmt_shape(t.shape)} ({t.numel} elements) to {fmt_shape(shape)}; "
                             f"{t.numel} is not a multiple of {known}")
        shape[shape.index(-1)] = t.numel // known
    if math.prod(shape) != t.numel:
        raise ShapeError(f"cannot reshape {fmt_shape(t.shape)} ({t.numel} elements) to {fmt_shape(shape)} "
                         f"({math.prod(shape)} elements); the sizes must multiply to {t.numel}")
    return shape


RESHAPE = NodeSpec(
    type="Reshape", category="shape",
    doc="Rearranges each sample to a new shape with the same number of elements (one size may be -1).",
    params=(Param("shape", "dims", [-1], "Shape of one sample, without the batch dimension."),),
    infer=lambda p, i: [i[0].with_shape(*_reshape_target(p, i[0]))],
    build=lambda p, i: None,
    wire=lambda call, inputs, p: [inputs[0].reshape(inputs[0].shape[0], *p["shape"])],
    key_params=("shape",),
)


def _permute_infer(p, inputs):
    """`dims` orders all dims of the batched tensor and keeps 0 (the batch) first: [channels, length]
    with [0, 2, 1] -> [length, channels]. To swap just two dims, Transpose."""
    (t,) = inputs
    dims = p["dims"]
    if sorted(dims) != list(range(t.rank + 1)):
        raise ParamError(f"'dims' must be an order of 0..{t.rank} (the batched input has {t.rank + 1} "
                         f"dimensions), got {dims}")
    if dims[0] != 0:
        raise ParamError("'dims' must keep the batch dimension first (start with 0)")
    return [t.with_shape(*(t.shape[d - 1] for d in dims[1:]))]


PERMUTE = NodeSpec(
    type="Permute", category="shape",
    doc="Reorders the dimensions, as torch.permute on the batched tensor (e.g. [0, 2, 1] swaps "
        "[channels, length] to [length, channels]).",
    params=(Param("dims", "dims", [0, 2, 1], "New order of the batched tensor's dimensions; 0 stays first.",
                  min=1),),
    infer=_permute_infer, build=lambda p, i: None,
    wire=lambda call, inputs, p: [inputs[0].permute(*p["dims"])],
    key_params=("dims",),
)

_MODES = ("nearest", "linear", "bilinear", "bicubic")


def _upsample_infer(p, inputs):
    (t,) = inputs
    spatial = t.rank - 1
    if spatial not in (1, 2):
        raise ShapeError(f"needs [channels, length] or [channels, height, width] per sample but gets "
                         f"{fmt_shape(t.shape)}")
    mode = p["mode"]
    if (mode == "linear" and spatial != 1) or (mode in ("bilinear", "bicubic") and spatial != 2):
        raise ParamError(f"'mode' {mode!r} does not fit a {spatial}-D input; use "
                         f"{'linear' if spatial == 1 else 'bilinear'} or nearest")
    if (p["size"] is None) == (p["scale_factor"] is None):
        raise ParamError("set exactly one of 'size' and 'scale_factor'")
    if p["size"] is not None:
        size = p["size"]
        if len(size) != spatial:
            raise ParamError(f"'size' needs {spatial} numbers for input {fmt_shape(t.shape)}, got {size}")
        return [t.with_shape(t.shape[0], *size)]
    return [t.with_shape(t.shape[0], *(math.floor(s * p["scale_factor"]) for s in t.shape[1:]))]


def _upsample_build(p, inputs):
    kw = {"mode": p["mode"]}
    if p["mode"] in ("linear", "bilinear", "bicubic"):
        kw["align_corners"] = False
    if p["size"] is not None:
        return nn.Upsample(size=tuple(p["size"]), **kw)
    return nn.Upsample(scale_factor=p["scale_factor"], **kw)


UPSAMPLE = NodeSpec(
    type="Upsample", category="shape", torch_name="torch.nn.Upsample",
    doc="Enlarges images or sequences by a scale factor or to a size.",
    params=(Param("scale_factor", "float", 2.0, "Multiplier for each spatial size.", min=0.01, max=64.0,
                  optional=True),
            Param("size", "shape", None, "Target spatial size instead of a scale factor.", optional=True),
            Param("mode", "choice", "nearest", "How new values are filled in.", choices=_MODES)),
    infer=_upsample_infer, build=_upsample_build, key_params=("scale_factor", "mode"),
)

SPECS = [FLATTEN, UNFLATTEN, RESHAPE, PERMUTE, UPSAMPLE]
