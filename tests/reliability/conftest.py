"""Fixtures for the reliability tests: the main-window helpers of tests/ui (isolated settings and
data folders, patched dialogs), small projects that train in a fraction of a second, and gates that
hold the training thread at a chosen moment (a step, a validation, a checkpoint write) so a fault or
a Stop lands exactly there."""
from __future__ import annotations


from tests.ui.window_helpers import dialog_log, gc_on_gui_thread, isolated  # noqa: F401  (fixtures; the gc one autouse)
