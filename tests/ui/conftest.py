"""The Qt suites collect garbage on the GUI thread only, as the app does (studio.ui.gc_thread)."""
from .window_helpers import gc_on_gui_thread  # noqa: F401  (an autouse fixture)
