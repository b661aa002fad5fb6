"""Per-layer weight and gradient L2 norms over the run (log scale), so vanishing or exploding
gradients show as lines falling to the floor or shooting up."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .plot_style import add_legend, new_plot_widget, series_color, style_plot
from .series import Series

NEW_ITEMS_PER_FRAME = 2


class NormsView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plots = new_plot_widget(self)
        self.grad_plot = style_plot(self.plots.addPlot(row=0, col=0), "Gradient norm per layer", bottom="step")
        self.weight_plot = style_plot(self.plots.addPlot(row=0, col=1), "Weight norm per layer", bottom="step")
        for p in (self.grad_plot, self.weight_plot):
            p.setLogMode(y=True)
        add_legend(self.grad_plot)
        self.series: dict[tuple[str, str], Series] = {}
        self.items: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.layers: list[str] = []
        self.hint = QLabel("Gradient norms near zero in early layers mean they barely learn (vanishing "
                           "gradients); sudden spikes mean exploding gradients: try a lower learning rate "
                           "or gradient clipping.")
        self.hint.setObjectName("dim")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.hint)

    def clear(self) -> None:
        for (kind, _layer), item in self.items.items():
            (self.grad_plot if kind == "grad" else self.weight_plot).removeItem(item)
        self.items.clear()
        self.series.clear()
        self.layers = []

    def add_norms(self, events: list) -> None:
        for e in events:
            for layer, values in e.layers.items():
                if layer not in self.layers:
                    self.layers.append(layer)
                for kind in ("grad", "weight"):
                    v = values.get(kind)
                    if v is not None and v == v:
                        self.series.setdefault((kind, layer), Series(256)).append(e.global_step, max(v, 1e-12))
        budget = NEW_ITEMS_PER_FRAME  # creating a pyqtgraph curve and legend row costs ~5-10 ms: spread them
        for (kind, layer), s in self.series.items():
            item = self.items.get((kind, layer))
            if item is None:
                if budget == 0:
                    continue  # drawn from the next frame on (its points are kept)
                budget -= 1
                c = QColor(series_color(self.layers.index(layer)))
                plot = self.grad_plot if kind == "grad" else self.weight_plot
                item = plot.plot(pen=pg.mkPen(c, width=1.6, style=Qt.PenStyle.SolidLine),
                                 name=layer if kind == "grad" else None)
                self.items[(kind, layer)] = item
            item.setData(s.x, s.y)

    def has_points(self) -> bool:
        return any(len(s) for s in self.series.values())
