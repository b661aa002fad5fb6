"""The interface every mouse gesture implements."""
from __future__ import annotations


class Interaction:
    """A gesture in progress. `start` returns an instance when a press begins this gesture (else
    None); the view then forwards mouse moves, then the release, which ends it. The view calls
    `cancel` instead when the graph changes under the gesture (an undo, a file opened)."""

    auto_scroll = False  # whether the view scrolls while this gesture nears its edge (edge_scroll.py)

    def __init__(self, view) -> None:
        self.view = view

    @classmethod
    def start(cls, view, event):  # -> Interaction | None
        return None

    def move(self, event) -> None:
        pass

    def release(self, event) -> None:
        pass

    def cancel(self) -> None:
        """Abandon the gesture (Escape, focus lost): leave the document as it was."""

    @property
    def scene(self):
        return self.view.canvas_scene

    @property
    def document(self):
        return self.view.document
