"""Everything an exporter starts from: the compiled model (in eval mode, with the checkpoint's
weights), its signature, and check batches. The output-path check and the save-check-swap that
every exporter shares live in output.py (re-exported here for the code exporter)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .validate import check_finite_weights, check_project

EXAMPLE_BATCH = 2  # the batch the exporters trace with
CHECK_BATCH = 3  # the check batch differs, to prove the batch dimension is dynamic


@dataclass
class Prepared:
    model: object  # torch.fx.GraphModule, in eval mode
    graph: object
    analysis: object
    signature: object  # studio.core.compiler.Signature
    name: str = "Model"
    training: dict = field(default_factory=dict)
    source: Path | None = None  # the project file, when there is one
    weights: str = "initial (untrained) weights"
    plan: object = None  # validate.TrainingPlan: the trainer's reading of the training section

    @property
    def mode_dependent(self) -> list[str]:
        """Layers that compute differently while training (dropout, batch norm), by node id."""
        from torch import nn

        def differs(m) -> bool:
            return (isinstance(m, nn.modules.batchnorm._BatchNorm)
                    or (isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0)
                    or (isinstance(m, nn.MultiheadAttention) and m.dropout > 0))

        return [name for name, module in self.model.named_children() if any(map(differs, module.modules()))]

    @property
    def input_names(self) -> list[str]:
        return [n for n, _ in self.signature.inputs]

    @property
    def output_names(self) -> list[str]:
        return [n for n, _ in self.signature.outputs]

    def describe(self, which: str) -> list[str]:
        items = self.signature.inputs if which == "inputs" else self.signature.outputs
        out = []
        for n, t in items:
            dims = ", ".join(["batch", *(str(d) for d in t.shape)]) if t is not None else "batch, ..."
            out.append(f"{n} [{dims}] {t.dtype if t is not None else ''}".rstrip())
        return out

    def token_range(self, input_name: str) -> int:
        """Ids drawn for an integer input: below the smallest vocabulary of the Embeddings it feeds."""
        import torch

        highs = []
        for node in self.model.graph.nodes:
            if node.op == "placeholder" and node.target == input_name:
                for user in node.users:
                    if user.op == "call_module":
                        mod = self.model.get_submodule(user.target)
                        if isinstance(mod, torch.nn.Embedding):
                            highs.append(mod.num_embeddings)
        return min(highs) if highs else 2

    def inputs(self, batch: int, seed: int = 0) -> tuple:
        """A random batch for every input: normal floats, or token ids within the vocabulary."""
        import torch

        gen = torch.Generator().manual_seed(seed)
        out = []
        for name, t in self.signature.inputs:
            dtype = getattr(torch, t.dtype)
            if t.is_float:
                out.append(torch.randn(batch, *t.shape, generator=gen).to(dtype))
            else:
                out.append(torch.randint(0, self.token_range(name), (batch, *t.shape), generator=gen, dtype=dtype))
        return tuple(out)

    def reference(self, inputs: tuple) -> tuple:
        """The model's outputs as a tuple of tensors (one per output)."""
        import torch

        with torch.no_grad():
            out = self.model(*inputs)
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def prepare(source, checkpoint=None) -> Prepared:
    """source: a project file path, a Project, or a Graph. checkpoint: a training checkpoint or a
    state dict file (read with weights_only=True), or None for the initial weights."""
    from studio.core.analysis import analyze
    from studio.core.compiler import compile_graph, signature
    from studio.core.project import Project, load_project
    from studio.core.weights import load_weights

    project = None
    if isinstance(source, (str, os.PathLike)):
        project = load_project(source)
    elif isinstance(source, Project):
        project = source
    graph = project.graph if project is not None else source
    analysis = analyze(graph)
    plan = check_project(project, graph, analysis)  # what `train` refuses is refused here, every format
    model = compile_graph(graph, analysis=analysis)
    weights = "initial (untrained) weights"
    if checkpoint is not None:
        load_weights(model, checkpoint)
        weights = f"from {checkpoint}"
    check_finite_weights(model, analysis)
    model.eval()
    return Prepared(model=model, graph=graph, analysis=analysis, signature=signature(analysis),
                    name=(project.name if project is not None else "Model") or "Model",
                    training=dict(project.training) if project is not None else {},
                    source=project.path if project is not None else None, weights=weights, plan=plan)
