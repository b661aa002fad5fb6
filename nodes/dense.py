"""dense: fully connected layers."""
from __future__ import annotations

from ._common import NodeSpec, Param, ShapeError, fmt_shape, need_float, nn


def _linear_infer(params, inputs):
    (t,) = inputs
    need_float(t)
    if t.rank == 0 or t.rank > 2:
        raise ShapeError(f"needs a flat feature vector per sample but gets {fmt_shape(t.shape)}; "
                         "insert a Flatten before it")
    return [t.with_shape(*t.shape[:-1], params["out_features"])]


LINEAR = NodeSpec(
    type="Linear", category="dense", torch_name="torch.nn.Linear",
    doc="Fully connected layer y = xWᵀ + b over the last dimension (in_features is inferred).",
    params=(
        Param("out_features", "int", 10, "Number of output features.", min=1, max=1_000_000),
        Param("bias", "bool", True, "Learn an additive bias."),
    ),
    infer=_linear_infer,
    build=lambda p, i: nn.Linear(i[0].shape[-1], p["out_features"], bias=p["bias"]),
    key_params=("out_features",),
)

IDENTITY = NodeSpec(
    type="Identity", category="dense", torch_name="torch.nn.Identity",
    doc="Passes its input through unchanged (a placeholder or a named tap point).",
    infer=lambda p, i: [i[0]], build=lambda p, i: nn.Identity(),
)

SPECS = [LINEAR, IDENTITY]
