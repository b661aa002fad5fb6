"""Checked before any export, with the checks and messages `train` uses: the graph, the project's
training section, its dataset's name and options, and (for the datasets that load in a moment) that
the dataset fits the model and the loss; then that the weights hold finite numbers only. A project
file is somebody else's until checked: the code exporter writes a script that trains, so what
`train` would refuse is refused here, one line per problem."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import ExportError

QUICK_GROUPS = ("embedded", "generated")  # loaded to check the fit; others download or read files


class ProjectInvalid(ExportError):
    """The project cannot be exported as it is; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class TrainingPlan:
    config: object  # studio.training.config.TrainingConfig: the trainer's own reading, defaults filled in
    loss_plan: object | None = None  # studio.training.losses.LossPlan, when the dataset was loaded
    dataset_options: dict | None = None  # the dataset's options with its defaults filled in


def default_config():
    """The trainer's defaults (loss, optimizer, epochs, ...) for a project whose training section
    is empty: TrainingConfig's own defaults, with no dataset."""
    from .training_rules import DatasetConfig, TrainingConfig

    return TrainingConfig(dataset=DatasetConfig(""))


def check_project(project, graph, analysis) -> TrainingPlan:
    """Raise ProjectInvalid listing every problem `train` would stop at; else the trainer's reading
    of the training section."""
    from .training_rules import TrainingError

    problems = [p.line() for p in analysis.errors]
    training = project.training if project is not None else None
    plan = TrainingPlan(default_config())
    if training or (project is not None and not isinstance(training, dict)):  # an empty section: model only
        try:
            plan = _training_plan(project, graph, analysis)
        except TrainingError as exc:
            problems.append(" ".join(str(exc).split()))  # one line, whatever the file's strings hold
    if problems:
        raise ProjectInvalid(problems)
    return plan


def _training_plan(project, graph, analysis) -> TrainingPlan:
    from studio.core.compiler import signature
    from .training_rules import check_fit, dataset_options, load_dataset, parse_config

    training = project.training
    if isinstance(training, dict) and "dataset" not in training:
        # no dataset picked yet: the model still exports (the script's load_data() says what to supply);
        # every other field is checked as train checks it
        config = parse_config({**training, "dataset": {"name": "(none)"}})
        return TrainingPlan(dataclasses.replace(config, dataset=default_config().dataset))
    config = parse_config(training)
    entry, options, _ = dataset_options(config.dataset)
    loss_plan = None
    if entry.group in QUICK_GROUPS and analysis.ok:
        base = project.path.parent if getattr(project, "path", None) is not None else None
        info = load_dataset(config.dataset, base).info
        loss_plan = check_fit(signature(analysis), info, config.loss, graph)
    return TrainingPlan(config, loss_plan, options)


def check_finite_weights(model, analysis) -> None:
    """NaN or infinite weights (a run that diverged) are named as such, by layer, before any
    exporter runs: every format would carry them, and the output check would blame the exporter."""
    import torch

    bad = []
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if not tensor.is_floating_point():
            continue
        finite = torch.isfinite(tensor)
        if bool(finite.all()):
            continue
        layer, info = _layer_of(name, analysis)
        nan = int(torch.isnan(tensor).sum())
        inf = int((~finite).sum()) - nan
        what = " and ".join(part for part in (f"{nan} NaN" if nan else "", f"{inf} infinite" if inf else "") if part)
        bad.append(f"{info.type if info is not None else 'layer'} '{layer}': {name} holds {what} of "
                   f"{tensor.numel()} values")
    if bad:
        raise ExportError("the weights are not finite numbers (NaN or inf), so no export would compute anything: "
                          + "; ".join(bad) + ". The training diverged: export an earlier checkpoint (best.pt), "
                          "or train again with a lower learning rate or gradient clipping (training.grad_clip)")


def _layer_of(name: str, analysis):
    """The node a parameter belongs to: the deepest one its path names (`layer1.0.conv1` inside a
    block, else the top-level layer), with its NodeInfo (None when the analysis knows no such node)."""
    parts = name.split(".")[:-1] or name.split(".")[:1]
    for end in range(len(parts), 1, -1):
        info = analysis.nodes.get(".".join(parts[:end]))
        if info is not None and getattr(info, "block", None) is None:
            return ".".join(parts[:end]), info
    return parts[0], analysis.nodes.get(parts[0])
