"""Replace the head, freeze the backbone (docs/finetune.md): a fine-tuning project made from another
one. The last Linear (the layer whose output the model returns, through layers without weights) gets
the dataset's class count as `out_features`; its weights start afresh, every other tensor comes from
the source project's weights file. The result is a new project with its own weights file beside it:
the source's files are never rewritten (they are what a person made), and the new pair is written
weights first, atomically, so nothing half-written is left."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import TrainingError

HEAD_TYPE = "Linear"


class FinetuneError(TrainingError):
    """A fine-tuning edit cannot be made; the message says why and what to do."""


@dataclass
class FinetuneResult:
    project: Path
    weights: Path
    head: str
    old_classes: int
    classes: int
    frozen: list[str]
    kept: int  # tensors carried from the source's weights


def find_head(graph) -> str:
    """The id of the top-level Linear whose output reaches the model's Output through layers without
    weights (Dropout, Flatten, an activation), or FinetuneError naming what is there instead."""
    from ..core.analysis import analyze

    analysis = analyze(graph)
    if not analysis.ok:
        raise FinetuneError("the graph has errors; fix them first (python -m studio validate PROJECT)")
    outputs = [n for n, _ in analysis.outputs]
    if len(outputs) != 1:
        raise FinetuneError(f"the model has {len(outputs)} outputs; replacing the head needs exactly one")
    node_id = outputs[0]
    for _ in range(len(graph.nodes)):
        node, ins = graph.node(node_id), graph.in_edges(node_id)
        if node.type == HEAD_TYPE:
            return node_id
        if (node.type != "Output" and _has_weights(analysis.nodes[node_id])) or len(ins) != 1:
            break  # a layer with weights of its own, or a merge: what feeds the output is not one Linear
        node_id = ins[0].source
    raise FinetuneError(f"no Linear head found: the output comes from {graph.node(node_id).type} "
                        f"'{node_id}'; the head to replace is the Linear whose output the model returns")


def head_outputs(graph, head: str) -> int:
    """The head's out_features as the model has it (a default is left out of the file)."""
    from ..core.analysis import analyze

    return analyze(graph).nodes[head].params["out_features"]


def _has_weights(info) -> bool:
    from ..core.stats import node_stats

    stats = node_stats(info)  # BatchNorm without affine weights still has running statistics to keep
    return bool(stats and stats.params) or info.block is not None or info.type.startswith("BatchNorm")


def dataset_classes(project) -> int:
    """How many classes the project's dataset has (refused when it is not a classification dataset)."""
    from .config import parse_config
    from .datasets import load_dataset
    from .datasets.base import CLASSIFICATION

    config = parse_config(project.training)
    base = project.path.parent if getattr(project, "path", None) is not None else None
    info = load_dataset(config.dataset, base).info
    if info.task != CLASSIFICATION:
        raise FinetuneError(f"dataset {info.name!r} is a {info.task} task, not classification; give the "
                            "class count with --replace-head N")
    return info.num_classes


def make_finetune(source, output, classes: int | None = None, *, freeze_backbone: bool = False,
                  replace: bool = True, overwrite: bool = False, seed: int = 0) -> FinetuneResult:
    """Write the fine-tuning project `output` (and `<stem>.safetensors`) made from project `source`."""
    from ..core.compiler import compile_graph
    from ..core.project import Project, load_project
    from ..core.weights import WeightsError, read_state_dict, save_with_weights

    src = load_project(source) if not isinstance(source, Project) else source
    out = Path(output)
    weights_out = _check_targets(src, out, overwrite)
    graph = src.graph.copy()
    head = find_head(graph)
    old = head_outputs(graph, head)
    if replace:
        classes = dataset_classes(src) if classes is None else classes
        if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
            raise FinetuneError(f"--replace-head must be a class count of at least 1, got {classes!r}")
        graph.set_param(head, "out_features", classes)
    frozen = []
    if freeze_backbone:  # the layers with weights (a block: all inside); a ReLU has nothing to freeze
        from ..core.analysis import analyze

        infos = analyze(graph).nodes
        for node in list(graph.nodes.values()):
            if node.id != head and _has_weights(infos[node.id]):
                graph.set_tuning(node.id, frozen=True)
                frozen.append(node.id)
    import torch

    torch.manual_seed(seed)  # the new head's initialisation is the same each time
    model = compile_graph(graph)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    kept = 0
    weights_path = src.weights_path()
    if weights_path is not None:
        try:
            saved = read_state_dict(weights_path)
        except WeightsError as exc:
            raise FinetuneError(str(exc)) from None
        fresh = {k for k in state if k.split(".")[0] == head} if replace else set()
        for key, value in state.items():
            if key in fresh:
                continue
            if key not in saved or tuple(saved[key].shape) != tuple(value.shape):
                raise FinetuneError(f"{weights_path.name} does not fit the project's graph at {key} (the weights "
                                    "are of another graph); import the model again")
            state[key] = saved[key].to(value.dtype).contiguous()
            kept += 1
    project = Project(name=f"{src.name} (fine-tune)", graph=graph, training=src.training,
                      extra=dict(src.extra), weights=weights_out.name)
    save_with_weights(project, out, weights_out, state, "NetStudio finetune")
    return FinetuneResult(out, weights_out, head, old, classes if replace else old, frozen, kept)


def _check_targets(src, out: Path, overwrite: bool) -> Path:
    if out.suffix.lower() != ".json":
        raise FinetuneError(f"{out}: a project file ends in .json")
    weights = out.with_suffix(".safetensors")
    mine = {p.resolve() for p in (src.path, src.weights_path()) if p is not None}
    for path in (out, weights):
        if path.resolve() in mine:
            raise FinetuneError(f"{path}: is the source project's own file; write the fine-tuning project to "
                                "another -o (the source stays as it is)")
        if path.exists() and not overwrite:
            raise FinetuneError(f"{path}: exists; pass --overwrite to replace it, or choose another -o")
    return weights
