"""pooling: max, average and adaptive average pooling over sequences and images."""
from __future__ import annotations

from ._common import NodeSpec, Param, ParamError, ShapeError, fmt_shape, need_float, pair, nn

_SHAPES = {1: "a sequence [channels, length]", 2: "an image [channels, height, width]"}


def _pool_params(n: int) -> tuple[Param, ...]:
    return (
        Param("kernel_size", "size", 2, "Size of the pooling window.", min=1, max=1024, arity=n),
        Param("stride", "size", None, "Step between windows (empty: the kernel size).", min=1, max=1024,
              arity=n, optional=True),
        Param("padding", "size", 0, "Padding on each side (at most half the kernel).", min=0, max=512,
              arity=n),
        Param("ceil_mode", "bool", False, "Round the output size up instead of down."),
    )


def _need(t, n):
    need_float(t)
    if t.rank != n + 1:
        raise ShapeError(f"needs {_SHAPES[n]} per sample but gets {fmt_shape(t.shape)}; "
                         "use Unflatten or Reshape to add a channel dimension")


def _make_pool_infer(n: int):
    def infer(p, inputs):
        (t,) = inputs
        _need(t, n)
        k = pair(p["kernel_size"], n)
        s = pair(p["stride"] if p["stride"] is not None else p["kernel_size"], n)
        pad = pair(p["padding"], n)
        out = []
        for i, size in enumerate(t.shape[1:]):
            if pad[i] * 2 > k[i]:
                raise ParamError(f"'padding' {pad[i]} must be at most half of kernel_size {k[i]}")
            if k[i] > size + 2 * pad[i]:
                raise ShapeError(f"has a window ({'x'.join(map(str, k))}) larger than its input "
                                 f"{fmt_shape(t.shape)}; use a smaller kernel_size or remove a pooling layer")
            span = size + 2 * pad[i] - k[i]
            o = (-(-span // s[i]) if p["ceil_mode"] else span // s[i]) + 1
            if p["ceil_mode"] and (o - 1) * s[i] >= size + pad[i]:
                o -= 1
            out.append(o)
        return [t.with_shape(t.shape[0], *out)]

    return infer


def _pool_build(cls):
    return lambda p, i: cls(p["kernel_size"], stride=p["stride"], padding=p["padding"],
                            ceil_mode=p["ceil_mode"])


def _make_adaptive_infer(n: int):
    def infer(p, inputs):
        (t,) = inputs
        _need(t, n)
        return [t.with_shape(t.shape[0], *pair(p["output_size"], n))]

    return infer


def _spec(type_name, cls, n, doc):
    return NodeSpec(type=type_name, category="pooling", torch_name=f"torch.nn.{type_name}", doc=doc,
                    params=_pool_params(n), infer=_make_pool_infer(n), build=_pool_build(cls),
                    key_params=("kernel_size",))


def _adaptive(type_name, cls, n, doc):
    return NodeSpec(type=type_name, category="pooling", torch_name=f"torch.nn.{type_name}", doc=doc,
                    params=(Param("output_size", "size", 1, "Output size, whatever the input size.",
                                  min=1, max=4096, arity=n),),
                    infer=_make_adaptive_infer(n), build=lambda p, i: cls(p["output_size"]),
                    key_params=("output_size",))


SPECS = [
    _spec("MaxPool1d", nn.MaxPool1d, 1, "Max over windows along a sequence [channels, length]."),
    _spec("MaxPool2d", nn.MaxPool2d, 2, "Max over windows of an image: halves height and width with kernel 2."),
    _spec("AvgPool1d", nn.AvgPool1d, 1, "Average over windows along a sequence [channels, length]."),
    _spec("AvgPool2d", nn.AvgPool2d, 2, "Average over windows of an image."),
    _adaptive("AdaptiveAvgPool1d", nn.AdaptiveAvgPool1d, 1,
              "Averages a sequence down to a fixed length, whatever its input length."),
    _adaptive("AdaptiveAvgPool2d", nn.AdaptiveAvgPool2d, 2,
              "Averages an image down to a fixed size (1 = global average pooling)."),
]
