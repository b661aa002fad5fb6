"""NetStudio: build PyTorch networks visually.

The Python API for scripts and tests:
    studio.load_project(path) -> Project (with .graph and .training)
    studio.build_model(project_or_graph, checkpoint=None) -> torch.nn.Module
Heavy modules (torch, Qt) are imported on first use, so `import studio` stays fast.
"""
from __future__ import annotations

__version__ = "0.1.0"


def load_project(path):
    from .core.project import load_project as _load

    return _load(path)


def build_model(project_or_graph, checkpoint=None):
    """Compile a project's (or a graph's) network into a torch.nn.Module (a torch.fx.GraphModule
    whose submodules are named after the node ids). `checkpoint`: a training checkpoint or a plain
    state dict file, loaded with weights_only=True; without it, a project's own "weights" file
    (an imported model's) is loaded."""
    from .core.compiler import compile_graph
    from .core.weights import load_project_weights, load_weights

    graph = getattr(project_or_graph, "graph", project_or_graph)
    model = compile_graph(graph)
    if checkpoint is not None:
        load_weights(model, checkpoint)
    else:
        load_project_weights(model, project_or_graph)
    return model


__all__ = ["load_project", "build_model", "__version__"]
