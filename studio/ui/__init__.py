"""Everything Qt: the main window, the canvas, docks, inspector, plots and the training worker."""
