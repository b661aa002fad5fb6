"""activation: element-wise non-linearities, and softmax over a chosen dimension."""
from __future__ import annotations

from ._common import NodeSpec, Param, ParamError, batched_dim, fmt_shape, need_float, nn


def _same(p, inputs):
    need_float(inputs[0])
    return [inputs[0]]


def _act(name, doc, params=(), build=None, infer=_same, key=()):
    cls = getattr(nn, name)
    return NodeSpec(type=name, category="activation", torch_name=f"torch.nn.{name}", doc=doc,
                    params=tuple(params), infer=infer,
                    build=build or (lambda p, i: cls(**p)), key_params=key)


def _dim_infer(p, inputs):
    (t,) = inputs
    need_float(t)
    batched_dim(p["dim"], t.rank)
    return [t]


def _prelu_infer(p, inputs):
    (t,) = inputs
    need_float(t)
    n = p["num_parameters"]
    if n != 1 and (t.rank == 0 or t.shape[0] != n):
        raise ParamError(f"'num_parameters' must be 1 or the number of channels "
                         f"({t.shape[0] if t.rank else 1} for input {fmt_shape(t.shape)}), got {n}")
    return [t]


_DIM = Param("dim", "int", -1, "Dimension of the batched tensor to normalize over (1 or -1: the "
             "features; 0, the batch, is refused).", min=-8, max=8)

SPECS = [
    _act("ReLU", "max(0, x): the default activation."),
    _act("ReLU6", "min(max(0, x), 6): ReLU capped at 6, as in MobileNetV2."),
    _act("LeakyReLU", "Like ReLU, with a small slope for negative inputs.",
         [Param("negative_slope", "float", 0.01, "Slope for x < 0.", min=0.0, max=1.0)], key=("negative_slope",)),
    _act("PReLU", "Leaky ReLU whose negative slope is learned.",
         [Param("num_parameters", "int", 1, "1, or one slope per channel.", min=1, max=65536),
          Param("init", "float", 0.25, "Initial slope.", min=0.0, max=1.0)], infer=_prelu_infer),
    _act("ELU", "Exponential linear unit: smooth for negative inputs.",
         [Param("alpha", "float", 1.0, "Value approached for large negative inputs.", min=0.0, max=100.0)]),
    _act("GELU", "Gaussian error linear unit, as in Transformers.",
         [Param("approximate", "choice", "none", "'tanh' uses the faster approximation.",
                choices=("none", "tanh"))]),
    _act("SiLU", "x * sigmoid(x) (Swish)."),
    _act("Mish", "x * tanh(softplus(x))."),
    _act("Sigmoid", "1 / (1 + exp(-x)): squashes to (0, 1)."),
    _act("Tanh", "Hyperbolic tangent: squashes to (-1, 1)."),
    _act("Softmax", "Turns scores into probabilities that sum to 1 along dim. (Leave it out before "
         "CrossEntropyLoss, which applies it itself.)", [_DIM], infer=_dim_infer, key=("dim",)),
    _act("LogSoftmax", "log(softmax(x)) along dim; pair it with NLLLoss.", [_DIM], infer=_dim_infer, key=("dim",)),
    _act("Softplus", "log(1 + exp(beta x)) / beta: a smooth ReLU.",
         [Param("beta", "float", 1.0, "Sharpness.", min=1e-6, max=1000.0),
          Param("threshold", "float", 20.0, "Above beta x > threshold the layer is linear.", min=0.0, max=1000.0)]),
    _act("Hardswish", "A cheap approximation of SiLU, as in MobileNetV3."),
]
