"""The training docks, declared to the main window through its `add_dock` before their contents exist:
the window lays every panel out at once (no dock appears or moves when the training UI, which imports
the plotting library, fills them after the first frame)."""
from __future__ import annotations

TRAINING_DOCKS = (("training", "Training", "properties"),  # a tab beside the Inspector
                  ("curves", "Curves", "plots"),
                  ("norms", "Gradients", "plots"),
                  ("features", "Feature maps", "plots"),
                  ("report", "Epoch report", "plots"),
                  ("samples", "Samples", "plots"),  # what a language model writes (text_samples.py)
                  ("tryit", "Try it", "plots"),  # the trained model on a drawn or typed input (tryit.py)
                  ("errors", "Where it errs", "plots"),  # errors_view.py
                  ("classes", "Classes", "plots"))  # projection_view.py: how the classes separate


LOADING = "Loading the training tools…"


def add_training_docks(window, placeholder: bool = False) -> dict:
    """The training docks of `window` by name (made now if they are not there yet); with
    `placeholder`, each says it is loading until the training UI fills it (torch loads first, a few
    seconds: an empty panel would look broken)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    docks = {}
    for name, title, place in TRAINING_DOCKS:
        label = None
        if placeholder:
            label = QLabel(LOADING)
            label.setObjectName("empty")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)  # say_not_loaded puts an error's words here
        # the plots scroll rather than squeeze below their minimum on a short screen
        docks[name] = window.add_dock(name, title, label, place=place, scroll=place == "plots")
    return docks


def say_not_loaded(window, error: Exception) -> None:
    """The training UI could not be built (a broken install): the docks say so instead of loading."""
    from PySide6.QtWidgets import QLabel

    text = f"The training tools could not be loaded: {type(error).__name__}: {error}"
    for dock in window.docks.values():
        for label in dock.findChildren(QLabel):
            if label.text() == LOADING:
                label.setText(text)
