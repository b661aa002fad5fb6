"""norm / regularization: batch, layer and group normalization; dropout."""
from __future__ import annotations

from ._common import NodeSpec, Param, ParamError, ShapeError, fmt_shape, need_float, nn

_EPS = Param("eps", "float", 1e-5, "Added to the variance for numerical stability.", min=0.0, max=1.0)
_MOMENTUM = Param("momentum", "float", 0.1, "Weight of the newest batch in the running statistics.",
                  min=0.0, max=1.0)
_AFFINE = Param("affine", "bool", True, "Learn a per-channel scale and shift.")


def _bn_infer(ranks, expected, fix):
    def infer(p, inputs):
        (t,) = inputs
        need_float(t)
        if t.rank not in ranks:
            raise ShapeError(f"needs {expected} per sample but gets {fmt_shape(t.shape)}; {fix}")
        return [t]

    return infer


BATCHNORM1D = NodeSpec(
    type="BatchNorm1d", category="norm", torch_name="torch.nn.BatchNorm1d",
    doc="Normalizes each feature over the batch: input [features] or [channels, length].",
    params=(_EPS, _MOMENTUM, _AFFINE),
    infer=_bn_infer((1, 2), "[features] or [channels, length]", "use BatchNorm2d for images"),
    build=lambda p, i: nn.BatchNorm1d(i[0].shape[0], eps=p["eps"], momentum=p["momentum"], affine=p["affine"]),
)
BATCHNORM2D = NodeSpec(
    type="BatchNorm2d", category="norm", torch_name="torch.nn.BatchNorm2d",
    doc="Normalizes each channel of an image over the batch (num_features is inferred).",
    params=(_EPS, _MOMENTUM, _AFFINE),
    infer=_bn_infer((3,), "an image [channels, height, width]", "use BatchNorm1d for vectors"),
    build=lambda p, i: nn.BatchNorm2d(i[0].shape[0], eps=p["eps"], momentum=p["momentum"], affine=p["affine"]),
)


def _ln_infer(p, inputs):
    (t,) = inputs
    need_float(t)
    if p["normalized_dims"] > t.rank:
        raise ParamError(f"'normalized_dims' {p['normalized_dims']} is more than the {t.rank} dimensions "
                         f"of its input {fmt_shape(t.shape)}")
    return [t]


LAYERNORM = NodeSpec(
    type="LayerNorm", category="norm", torch_name="torch.nn.LayerNorm",
    doc="Normalizes over the last dimensions of each sample (normalized_shape is inferred).",
    params=(
        Param("normalized_dims", "int", 1, "How many trailing dimensions to normalize over "
              "(1: the features of each position).", min=1, max=8),
        _EPS,
        Param("elementwise_affine", "bool", True, "Learn a per-element scale and shift."),
    ),
    infer=_ln_infer,
    build=lambda p, i: nn.LayerNorm(list(i[0].shape[-p["normalized_dims"]:]), eps=p["eps"],
                                    elementwise_affine=p["elementwise_affine"]),
)


def _gn_infer(p, inputs):
    (t,) = inputs
    need_float(t)
    if t.rank < 1:
        raise ShapeError("needs [channels, ...] per sample but gets a scalar")
    if t.shape[0] % p["num_groups"]:
        raise ParamError(f"'num_groups' {p['num_groups']} must divide the {t.shape[0]} input channels")
    return [t]


GROUPNORM = NodeSpec(
    type="GroupNorm", category="norm", torch_name="torch.nn.GroupNorm",
    doc="Normalizes groups of channels within each sample (num_channels is inferred).",
    params=(Param("num_groups", "int", 2, "Number of channel groups; must divide the channels.", min=1, max=65536),
            _EPS, _AFFINE),
    infer=_gn_infer,
    build=lambda p, i: nn.GroupNorm(p["num_groups"], i[0].shape[0], eps=p["eps"], affine=p["affine"]),
    key_params=("num_groups",),
)

_P = Param("p", "float", 0.5, "Probability of zeroing an element during training.", min=0.0, max=1.0)


def _dropout2d_infer(p, inputs):
    (t,) = inputs
    need_float(t)
    if t.rank != 3:
        raise ShapeError(f"needs an image [channels, height, width] per sample but gets {fmt_shape(t.shape)}; "
                         "use Dropout for vectors and sequences")
    return [t]


def _dropout_infer(p, inputs):
    need_float(inputs[0])
    return [inputs[0]]


DROPOUT = NodeSpec(
    type="Dropout", category="norm", torch_name="torch.nn.Dropout",
    doc="Zeroes random elements while training (regularization); does nothing at evaluation.",
    params=(_P,), infer=_dropout_infer, build=lambda p, i: nn.Dropout(p["p"]), key_params=("p",),
)
DROPOUT2D = NodeSpec(
    type="Dropout2d", category="norm", torch_name="torch.nn.Dropout2d",
    doc="Zeroes whole random channels of an image while training.",
    params=(_P,), infer=_dropout2d_infer, build=lambda p, i: nn.Dropout2d(p["p"]), key_params=("p",),
)

SPECS = [BATCHNORM1D, BATCHNORM2D, LAYERNORM, GROUPNORM, DROPOUT, DROPOUT2D]
