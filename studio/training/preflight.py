"""Checks on a compiled model before training starts, for what torch would report only as an
internal error (`optimizer got an empty parameter list`)."""
from __future__ import annotations

from .errors import TrainingError


def check_trainable(model, graph=None) -> None:
    """Refuse a model with no trainable weights, naming what the graph (else the model) holds and
    what to add."""
    if any(p.requires_grad for p in model.parameters()):
        return
    if graph is not None:
        types = sorted({n.type for n in graph.nodes.values() if n.type not in ("Input", "Output")})
    else:
        types = sorted({type(m).__name__ for m in model.children()})
    holds = f" (its layers: {', '.join(types)})" if types else ""
    what = "no layer with weights" if not any(True for _ in model.parameters()) else "only frozen weights"
    raise TrainingError(f"the graph has {what}{holds}, so there is nothing to train; add a "
                        "Linear, Conv2d, LSTM or another layer with weights between the Input and the Output")
