"""io: where data enters the network and where results leave it."""
from __future__ import annotations

from ._common import INT, FLOAT, NodeSpec, Param, ParamError, Port, TensorType


def _input_type(params, inputs):
    if not params["std"] > 0:
        raise ParamError(f"'std' is {params['std']:g}; the input is divided by it, so it must be above 0")
    if params["dtype"] != FLOAT and (params["mean"], params["std"]) != (0.0, 1.0):
        raise ParamError("'mean' and 'std' normalise float32 inputs; token ids (int64) are not scaled: "
                         "set mean 0 and std 1")
    return [TensorType(tuple(params["shape"]), params["dtype"])]


def normalised(value, params):
    """What the model computes on its input: (x - mean) / std (nothing at mean 0, std 1, so a graph
    without normalisation compiles exactly as before)."""
    mean, std = float(params.get("mean", 0.0)), float(params.get("std", 1.0))
    if mean != 0.0:
        value = value - mean
    if std != 1.0:
        value = value / std
    return value


INPUT = NodeSpec(
    type="Input", category="io",
    doc="The model's input: the shape of one sample, without the batch dimension "
        "(e.g. [3, 32, 32] for a colour image, [64] int64 for 64 token ids).",
    params=(
        Param("shape", "shape", [1, 28, 28], "Shape of one sample, without the batch dimension."),
        Param("dtype", "choice", FLOAT, "float32 for measurements and images, int64 for token ids.",
              choices=(FLOAT, INT)),
        Param("mean", "float", 0.0, "Normalisation: the model computes (x - mean) / std on its input, as "
              "MATLAB's input layers do (0 and 1: the input as it comes)."),
        Param("std", "float", 1.0, "Normalisation: the input is divided by this after the mean is taken "
              "off (above 0)."),
    ),
    inputs=(), infer=_input_type, build=lambda params, inputs: None, key_params=("shape", "dtype"),
    wire=lambda call, inputs, params: [normalised(inputs[0], params)],  # the compiler passes the placeholder
)

OUTPUT = NodeSpec(
    type="Output", category="io",
    doc="Marks a model output. A graph may have several; without any, the loose ends are the outputs.",
    inputs=(Port("in"),), outputs=(),
    infer=lambda params, inputs: [inputs[0]], build=lambda params, inputs: None,
    wire=lambda call, inputs, params: [inputs[0]],
)

SPECS = [INPUT, OUTPUT]
