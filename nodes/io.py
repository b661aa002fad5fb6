"""io: where data enters the network and where results leave it."""
from __future__ import annotations

from ._common import INT, FLOAT, NodeSpec, Param, Port, TensorType


def _input_type(params, inputs):
    return [TensorType(tuple(params["shape"]), params["dtype"])]


INPUT = NodeSpec(
    type="Input", category="io",
    doc="The model's input: the shape of one sample, without the batch dimension "
        "(e.g. [3, 32, 32] for a colour image, [64] int64 for 64 token ids).",
    params=(
        Param("shape", "shape", [1, 28, 28], "Shape of one sample, without the batch dimension."),
        Param("dtype", "choice", FLOAT, "float32 for measurements and images, int64 for token ids.",
              choices=(FLOAT, INT)),
    ),
    inputs=(), infer=_input_type, build=lambda params, inputs: None, key_params=("shape", "dtype"),
)

OUTPUT = NodeSpec(
    type="Output", category="io",
    doc="Marks a model output. A graph may have several; without any, the loose ends are the outputs.",
    inputs=(Port("in"),), outputs=(),
    infer=lambda params, inputs: [inputs[0]], build=lambda params, inputs: None,
    wire=lambda call, inputs, params: [inputs[0]],
)

SPECS = [INPUT, OUTPUT]
