"""The training UI (issue 6): click Train, watch the model learn (curves, weights and gradients,
feature maps, after-epoch reports), export from the window.

    install_training_ui(main_window, document, canvas)   # once, after the window's views exist

Modules, one job each: session (run lifecycle, drain timer), worker (the QThread), events_queue
(the coalescing hand-over), warmup (first-use costs moved off the run), preflight (what blocks
training), panel / settings_form (the Training dock), curves, norms_view, feature_maps,
report_view / confusion (the plots), export_dialog, runs (run folders), commands (SetTraining)."""
from __future__ import annotations


def install_training_ui(window, document, canvas):
    from .install import install_training_ui as install

    return install(window, document, canvas)


__all__ = ["install_training_ui"]
