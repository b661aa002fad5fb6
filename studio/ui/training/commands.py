"""`SetTraining`: an undoable change of the project's `training` section (the settings the training
panel edits). It goes through `document.push`, so it is refused while a run holds the document and
marks the file modified like every other edit. It changes only the model (`Project.set_training`);
the views hear of it through `Document.training_changed`."""
from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

MERGE_ID = 0x7A11


class SetTraining(QUndoCommand):
    """Replace `project.training` with `new`. Successive edits of the same field (typing a learning
    rate digit by digit, spinning the epochs) merge into one undo step."""

    def __init__(self, project, new: dict, text: str = "Change training settings", field: str = "") -> None:
        super().__init__(text)
        self.project = project
        self.old = copy.deepcopy(project.training)
        self.new = copy.deepcopy(new)
        self.field = field

    def id(self) -> int:
        return MERGE_ID

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SetTraining) or other.project is not self.project:
            return False
        if not self.field or other.field != self.field:
            return False
        self.new = copy.deepcopy(other.new)
        return True

    def redo(self) -> None:
        self.project.set_training(self.new)

    def undo(self) -> None:
        self.project.set_training(self.old)


def with_value(training: dict, path: tuple[str, ...], value) -> dict:
    """A copy of `training` with `path` (e.g. ("optimizer", "lr")) set to `value`; None removes it."""
    out = copy.deepcopy(training)
    node = out
    for key in path[:-1]:
        child = node.get(key)
        if isinstance(child, str):  # "optimizer": "Adam" shorthand
            child = {"type": child}
        if not isinstance(child, dict):
            child = {}
        node[key] = child
        node = child
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out
