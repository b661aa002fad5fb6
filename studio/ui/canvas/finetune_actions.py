"""The canvas menu's fine-tuning items (docs/finetune.md): freeze / unfreeze the selection (one undoable
command), and on the model's Linear head, "Replace head": without a weights file it is the ordinary,
undoable edit of its out_features to the dataset's class count; with pretrained weights it writes a new
fine-tuning project (the new head starts afresh, every other weight is kept) beside the file the person
picks and opens it, so the project and weights the person has stay as they are."""
from __future__ import annotations

from pathlib import Path

from .. import dialogs
from ..commands import SetParam
from ..inspector.tuning import SetTuning, tunable


def finetune_items(menu, add, view, node_id: str, ids: list[str], editable: bool) -> None:
    graph = view.graph
    ids = [n for n in ids if n in graph and tunable(view.document, graph.node(n))]  # a ReLU has nothing to freeze
    if not ids:
        return
    frozen = all(graph.node(n).frozen for n in ids)
    what = f"'{ids[0]}'" if len(ids) == 1 else f"{len(ids)} layers"
    add(f"{'Unfreeze' if frozen else 'Freeze'} {what}", lambda: set_frozen(view, ids, not frozen), None, editable)
    if ids == [node_id] and view.document.at_root and graph.node(node_id).type == "Linear" and is_head(view, node_id):
        add(f"Replace head '{node_id}' for the dataset…", lambda: replace_head(view, node_id), None, editable)


def set_frozen(view, ids: list[str], on: bool) -> None:
    graph = view.graph
    todo = [n for n in ids if n in graph and graph.node(n).frozen != on]
    if todo:
        view.document.push(SetTuning(graph, todo, frozen=on))


def is_head(view, node_id: str) -> bool:
    from studio.training.errors import TrainingError
    from studio.training.finetune_head import find_head

    try:
        return find_head(view.graph) == node_id
    except TrainingError:
        return False


def replace_head(view, node_id: str) -> None:
    from studio.training.errors import TrainingError
    from studio.training.finetune_head import dataset_classes, make_finetune

    window = view.window()
    project = view.document.root.project
    try:
        classes = dataset_classes(project)
    except TrainingError as exc:
        dialogs.show_error(window, "Cannot replace the head", f"{exc}. Choose a classification dataset in the "
                                                               "Training panel first.")
        return
    if project.weights is None:  # no pretrained weights to keep: the head's size is an ordinary edit
        view.document.push(SetParam(view.graph, node_id, "out_features", classes))
        return
    here = project.path
    suggested = str(here.with_name(here.stem + "-finetune.json")) if here is not None else "finetune.json"
    path = dialogs.save_file_name(window, suggested)
    if not path:
        return
    try:
        result = make_finetune(project, path, classes, overwrite=Path(path).exists())
    except (TrainingError, ValueError) as exc:
        dialogs.show_error(window, "Cannot replace the head", str(exc))
        return
    files = getattr(window, "files", None)
    if files is not None:
        files.open_path(result.project)
