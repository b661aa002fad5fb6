"""unmapped: a part of an imported model that has no node type (a partial import, issue 17). It
keeps what the import learned of the call (the op, the module path it was called in, the person's
source line, its input and output shapes) so the card and the Problems panel can name it, and it
refuses to compile with the same message the import would have stopped with. Replace it with nodes
that compute the same (or remove it) to make the project compile."""
from __future__ import annotations

from ._common import NodeSpec, Param, ParamError, Port, ShapeError

MAX_INPUTS = 4  # tensors a call takes on its ports; an import with more names the call and stops


def refusal(params) -> str:
    """The import's message for this call: `spectrum: torch.fft.rfft: has no node type (at f.py:7)`."""
    where = f"{params['module'] or '(the model itself)'}: {params['op']}"
    return f"{where}: {params['reason']}" + (f" (at {params['line']})" if params["line"] else "")


def _refuse(params) -> None:
    """Checked with the params, before any shape: every Unmapped node is named, not only the first
    (shape inference stops at the first and skips what lies downstream)."""
    shapes = f"; it took {params['input_shapes']} and gave {params['output_shapes']}" if params["output_shapes"] else ""
    raise ParamError(f"{refusal(params)}{shapes}. Replace this node with layers that compute the same, "
                     "then delete it")


def _infer(params, inputs):
    raise ShapeError(refusal(params))


def _build(params, inputs):
    raise ShapeError(refusal(params))


UNMAPPED = NodeSpec(
    type="Unmapped", category="unmapped",
    doc="A part of an imported model with no node type; it does not compile until it is replaced.",
    params=(Param("op", "str", "", "What the call does (torch.fft.rfft, Tensor.real, a module's class)."),
            Param("module", "str", "", "The module path it was called in."),
            Param("line", "str", "", "The source line of the call (file.py:12)."),
            Param("reason", "str", "has no node type", "Why it has no node."),
            Param("input_shapes", "str", "", "The shapes it took in the traced run (one sample, no batch)."),
            Param("output_shapes", "str", "", "The shape it gave in the traced run.")),
    inputs=tuple(Port("in" if i == 0 else f"in{i + 1}", "a tensor the call took", optional=True)
                 for i in range(MAX_INPUTS)),
    infer=_infer, build=_build, validate=_refuse, key_params=("op", "line"),
)

SPECS = [UNMAPPED]
