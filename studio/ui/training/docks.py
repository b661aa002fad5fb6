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


def add_training_docks(window) -> dict:
    """The training docks of `window` by name (made now if they are not there yet)."""
    # the plots scroll rather than squeeze below their minimum on a short screen
    return {name: window.add_dock(name, title, place=place, scroll=place == "plots")
            for name, title, place in TRAINING_DOCKS}
