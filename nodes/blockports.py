"""blockports: the ports of a block definition. Inside a definition's graph, a BlockInput is where
a wire into the block instance arrives and a BlockOutput where a result leaves it; the instance's
ports are named after these nodes' ids, top first. What flows through them is what the instance's
wire carries, so they have no params and change nothing."""
from __future__ import annotations

from ._common import NodeSpec, Port

BLOCK_INPUT = NodeSpec(
    type="BlockInput", category="io",
    doc="An input of the block being defined: the tensor wired into the block instance's port of "
        "this node's id. Only inside a block definition.",
    inputs=(), outputs=(Port("out"),),
    # the analysis passes the instance's input type in as this node's one input
    infer=lambda params, inputs: [inputs[0]], build=lambda params, inputs: None,
    wire=lambda call, inputs, params: [inputs[0]],
)

BLOCK_OUTPUT = NodeSpec(
    type="BlockOutput", category="io",
    doc="An output of the block being defined: what the block instance's port of this node's id "
        "gives. Only inside a block definition.",
    inputs=(Port("in"),), outputs=(),
    infer=lambda params, inputs: [inputs[0]], build=lambda params, inputs: None,
    wire=lambda call, inputs, params: [inputs[0]],
)

SPECS = [BLOCK_INPUT, BLOCK_OUTPUT]
