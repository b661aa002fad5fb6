"""Pad and CropToMatch: make feature maps fit, so U-Net skips join at any size (the pytorch U-Net
pads the upsampled map with F.pad; the paper crops the skip to the upsampled size)."""
from __future__ import annotations

from ._common import NodeSpec, Param, ParamError, Port, ShapeError, fmt_shape

_MODES = ("constant", "reflect", "replicate")
_SIDES = ("left", "right", "top", "bottom")


def _pad_infer(p, inputs):
    """`padding` is F.pad's tuple, last dim first: [left, right] pads the last dim (1-D), [left, right,
    top, bottom] the last two (2-D). [3, 30, 30] with [1, 1, 2, 2] -> [3, 34, 32]. constant mode may
    take negative numbers (they crop); reflect needs each number below the size of its dim, and
    reflect / replicate pad [channels, length] or [length] (1-D) and [channels, height, width] or
    [height, width] (2-D) samples, as torch.nn.functional.pad does."""
    (t,) = inputs
    pad, mode = p["padding"], p["mode"]
    k = len(pad) // 2
    if t.rank < k:
        raise ShapeError(f"pads the last {k} dims but gets {fmt_shape(t.shape)}; give 2 numbers to pad only "
                         "the last dim")
    if mode != "constant" and t.rank > k + 1:
        raise ShapeError(f"pads in {mode} mode only [channels, length] or [channels, height, width] samples "
                         f"(the last {k} dim{'s' if k > 1 else ''} with at most a channel dim in front), "
                         f"as torch does, but gets {fmt_shape(t.shape)}; Reshape it, or use constant mode")
    shape = list(t.shape)
    for i in range(k):
        d = t.rank - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        if mode == "reflect" and max(before, after) >= shape[d]:
            raise ShapeError(f"cannot reflect-pad {max(before, after)} positions of a dim of size {shape[d]} "
                             f"(dim {d + 1} of the batched tensor, sample {fmt_shape(t.shape)}): reflect padding must be "
                             f"smaller than the dim, as torch requires; pad at most {shape[d] - 1}, or use "
                             "replicate or constant mode")
        size = shape[d] + before + after
        if size < 1:
            raise ShapeError(f"crops dim {d + 1} of {fmt_shape(t.shape)} to nothing ({shape[d]} {before:+} "
                             f"{after:+} = {size}); use smaller negative numbers")
        shape[d] = size
    return [t.with_shape(*shape)]


def _pad_validate(p):
    pad = p["padding"]
    if len(pad) not in (2, 4):
        raise ParamError(f"'padding' takes 2 numbers [left, right] (the last dim) or 4 [left, right, top, bottom] "
                         f"(the last two dims), in F.pad's order; got {pad}")
    if p["mode"] != "constant" and any(v < 0 for v in pad):
        raise ParamError(f"'padding' {pad} has negative numbers, which crop; only constant mode crops, or "
                         "use CropToMatch or Slice")
    if p["mode"] != "constant" and p["value"] != 0.0:
        raise ParamError(f"'value' is used by constant mode only; mode {p['mode']!r} copies values from the "
                         "input: set value to 0 or the mode to constant")


def _pad_wire(call, inputs, p):
    import torch.nn.functional as F

    if p["mode"] == "constant":
        return [F.pad(inputs[0], list(p["padding"]), mode="constant", value=p["value"])]
    return [F.pad(inputs[0], list(p["padding"]), mode=p["mode"])]


PAD = NodeSpec(
    type="Pad", category="shape",
    doc="Pads the last dim (1-D) or the last two (2-D) with a constant, a reflection or the edge values "
        "(F.pad).",
    params=(Param("padding", "dims", [1, 1, 1, 1], "F.pad's order: [left, right] for the last dim, then "
                  "[top, bottom] for the one before.", min=2),
            Param("mode", "choice", "constant", "constant: the value; reflect: mirror the inside; "
                  "replicate: repeat the edge.", choices=_MODES),
            Param("value", "float", 0.0, "The fill value in constant mode.")),
    infer=_pad_infer, validate=_pad_validate, build=lambda p, i: None, wire=_pad_wire,
    key_params=("padding", "mode"),
)


def _crop_infer(p, inputs):
    """Port `in` [C, H, W] is cropped to the spatial size of port `like` [C', h, w] (every dim but the
    first, channels), centred: it starts (H - h) // 2 rows in, so an odd extra row is cut at the
    end. Output [C, h, w]; the two may differ in channels, not in rank; `like` gives only its size."""
    big, ref = inputs
    if big.rank < 2 or big.rank != ref.rank:
        raise ShapeError(f"crops [channels, length] or [channels, height, width] samples of one rank, but gets "
                         f"'in' {fmt_shape(big.shape)} and 'like' {fmt_shape(ref.shape)}; wire two feature maps")
    for d in range(1, big.rank):
        if big.shape[d] < ref.shape[d]:
            raise ShapeError(f"cannot crop 'in' {fmt_shape(big.shape)} to the size of 'like' {fmt_shape(ref.shape)}: "
                             f"along dim {d + 1} of the batched tensor it is smaller ({big.shape[d]} < {ref.shape[d]}); wire the larger map into "
                             "'in' (the skip connection, in a U-Net), or Pad the smaller one instead")
    return [big.with_shape(big.shape[0], *ref.shape[1:])]


def _crop_build(p, inputs):
    big, ref = inputs
    from .tensor_modules import CenterCrop

    starts = [(size - target) // 2 for size, target in zip(big.shape[1:], ref.shape[1:])]
    return CenterCrop(starts, list(ref.shape[1:]))


CROP = NodeSpec(
    type="CropToMatch", category="shape",
    doc="Crops the first input to the size of the second, centred (the U-Net paper's skip crop).",
    inputs=(Port("in", "the larger map, cropped"), Port("like", "the map whose size it takes")),
    infer=_crop_infer, build=_crop_build, wire=lambda call, inputs, p: [call(inputs[0])],
)

SPECS = [PAD, CROP]
