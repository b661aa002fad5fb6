"""conv: 1-D and 2-D convolutions and the transposed 2-D convolution."""
from __future__ import annotations

from ._common import NodeSpec, Param, ParamError, ShapeError, fmt_shape, need_float, pair, nn

_RANK_HELP = {
    1: ("a sequence [channels, length]", "use Unflatten or Reshape to add a channel dimension"),
    2: ("an image [channels, height, width]",
        "use Unflatten or Reshape to turn a flat vector into [channels, height, width]"),
}


def _conv_params(n: int, transposed: bool = False) -> tuple[Param, ...]:
    params = [
        Param("out_channels", "int", 16, "Number of output channels (filters).", min=1, max=65536),
        Param("kernel_size", "size", 3, "Size of the convolution window.", min=1, max=1024, arity=n),
        Param("stride", "size", 1, "Step between windows.", min=1, max=1024, arity=n),
        Param("padding", "size", 0, "Zeros added on each side of the input.", min=0, max=1024, arity=n),
    ]
    if transposed:
        params.append(Param("output_padding", "size", 0, "Extra size added to one side of the output.",
                            min=0, max=1024, arity=n))
    params += [
        Param("dilation", "size", 1, "Spacing between kernel elements.", min=1, max=1024, arity=n),
        Param("groups", "int", 1, "Blocked connections from input to output channels.", min=1, max=65536),
        Param("bias", "bool", True, "Learn an additive bias."),
    ]
    return tuple(params)


def _check_groups(p, in_ch: int) -> None:
    g = p["groups"]
    if in_ch % g or p["out_channels"] % g:
        raise ParamError(f"'groups' {g} must divide both the input channels ({in_ch}) and "
                         f"out_channels ({p['out_channels']})")


def _make_conv_infer(n: int, transposed: bool = False):
    def infer(p, inputs):
        (t,) = inputs
        need_float(t)
        if t.rank != n + 1:
            expected, fix = _RANK_HELP[n]
            raise ShapeError(f"needs {expected} per sample but gets {fmt_shape(t.shape)}; {fix}")
        _check_groups(p, t.shape[0])
        k, s, pad, d = (pair(p[x], n) for x in ("kernel_size", "stride", "padding", "dilation"))
        sizes = t.shape[1:]
        out = []
        for i in range(n):
            if transposed:
                op = pair(p["output_padding"], n)[i]
                if op >= max(s[i], d[i]):
                    raise ParamError(f"'output_padding' {op} must be smaller than stride or dilation")
                size = (sizes[i] - 1) * s[i] - 2 * pad[i] + d[i] * (k[i] - 1) + op + 1
            else:
                span = d[i] * (k[i] - 1) + 1
                if span > sizes[i] + 2 * pad[i]:
                    dims = "x".join(str(x) for x in sizes)
                    raise ShapeError(f"has a kernel ({'x'.join(str(x) for x in k)}) larger than its padded "
                                     f"input ({dims} with padding {pad[i]}); use a smaller kernel_size, "
                                     "more padding, or less pooling before it")
                size = (sizes[i] + 2 * pad[i] - span) // s[i] + 1
            if size < 1:
                raise ShapeError(f"would output an empty size {size} from {fmt_shape(t.shape)}; reduce "
                                 "padding or kernel_size")
            out.append(size)
        return [t.with_shape(p["out_channels"], *out)]

    return infer


def _build(cls):
    def build(p, inputs):
        kw = dict(kernel_size=p["kernel_size"], stride=p["stride"], padding=p["padding"],
                  dilation=p["dilation"], groups=p["groups"], bias=p["bias"])
        if "output_padding" in p:
            kw["output_padding"] = p["output_padding"]
        return cls(inputs[0].shape[0], p["out_channels"], **kw)

    return build


CONV1D = NodeSpec(
    type="Conv1d", category="conv", torch_name="torch.nn.Conv1d",
    doc="1-D convolution over [channels, length] (in_channels is inferred).",
    params=_conv_params(1), infer=_make_conv_infer(1), build=_build(nn.Conv1d),
    key_params=("out_channels", "kernel_size"),
)
CONV2D = NodeSpec(
    type="Conv2d", category="conv", torch_name="torch.nn.Conv2d",
    doc="2-D convolution over images [channels, height, width] (in_channels is inferred).",
    params=_conv_params(2), infer=_make_conv_infer(2), build=_build(nn.Conv2d),
    key_params=("out_channels", "kernel_size"),
)
CONV_TRANSPOSE2D = NodeSpec(
    type="ConvTranspose2d", category="conv", torch_name="torch.nn.ConvTranspose2d",
    doc="Transposed 2-D convolution: upsamples images, as in decoders and GANs.",
    params=_conv_params(2, transposed=True), infer=_make_conv_infer(2, transposed=True),
    build=_build(nn.ConvTranspose2d), key_params=("out_channels", "kernel_size", "stride"),
)

SPECS = [CONV1D, CONV2D, CONV_TRANSPOSE2D]
