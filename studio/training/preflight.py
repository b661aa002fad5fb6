"""Checks on a compiled model before training starts, for what torch would report only as an
internal error (`optimizer got an empty parameter list`)."""
from __future__ import annotations

from .errors import TrainingError


def check_trainable(model, graph) -> None:
    """Refuse a model with no trainable weights, naming what the graph holds and what to add."""
    if any(p.requires_grad for p in model.parameters()):
        return
    types = sorted({n.type for n in graph.nodes.values() if n.type not in ("Input", "Output")})
    holds = f" (its layers: {', '.join(types)})" if types else ""
    raise TrainingError(f"the graph has no layer with weights{holds}, so there is nothing to train; add a "
                        "Linear, Conv2d, LSTM or another layer with weights between the Input and the Output")
