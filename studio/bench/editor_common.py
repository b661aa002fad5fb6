"""What `bench editor`'s cases share: the figures of a list of times, and the window opened and closed
as a person does."""
from __future__ import annotations

import statistics

from .stats import percentile


def figures(values) -> dict:
    return {"median": statistics.median(values), "p95": percentile(values, 0.95), "min": min(values),
            "max": max(values), "n": len(values)}


def open_window(document, app):
    """The main window on `document`, shown offscreen at 1600x1000 and fitted, as a person opens one."""
    from studio.ui.main_window import MainWindow

    window = MainWindow(use_settings=False)
    window.resize(1600, 1000)
    window.attach(document)
    window.show()
    window.fit_to_graph()
    app.processEvents()
    return window


def close_window(window, app) -> None:
    if window is not None:
        window.close()
        window.deleteLater()
        app.processEvents()
