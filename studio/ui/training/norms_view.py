"""Per-layer weight and gradient L2 norms over the run (log scale), so vanishing or exploding
gradients show as lines falling to the floor or shooting up.

The layer colours are named in a line of text under the plots (a legend inside a plot covers the
curves as layers are added); ranges are kept steady (`SteadyRange`) and nothing is drawn while the
panel is hidden (it shares a tab with Curves): the samples are kept and drawn when it shows."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..theme import color
from .plot_style import new_plot_widget, series_color, style_plot
from .ranges import SteadyRange
from .series import Series

NEW_ITEMS_PER_FRAME = 2
FLOOR = 1e-12  # a norm of exactly 0 (a layer with no gradient yet) is drawn at this floor on the log axis


class NormsView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plots = new_plot_widget(self)
        self.plots.setToolTip("Drag to pan, wheel to zoom; double-click a plot to follow the run again")
        self.grad_plot = style_plot(self.plots.addPlot(row=0, col=0), "Gradient norm per layer", bottom="step")
        self.weight_plot = style_plot(self.plots.addPlot(row=0, col=1), "Weight norm per layer", bottom="step")
        self.ranges = {}
        for kind, p in (("grad", self.grad_plot), ("weight", self.weight_plot)):
            p.setLogMode(y=True)
            self.ranges[kind] = SteadyRange(p)
        self.plots.scene().sigMouseClicked.connect(self._on_click)
        self.series: dict[tuple[str, str], Series] = {}
        self.items: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.layers: list[str] = []
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.hint = QLabel("Gradient norms near zero in early layers mean they barely learn (vanishing "
                           "gradients); sudden spikes mean exploding gradients: try a lower learning rate "
                           "or gradient clipping.")
        self.hint.setObjectName("dim")
        self.hint.setWordWrap(True)
        self._stale = False
        self._more = QTimer(self)
        self._more.setSingleShot(True)
        self._more.setInterval(40)
        self._more.timeout.connect(lambda: self._stale and self._redraw())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.hint)

    def clear(self) -> None:
        for (kind, _layer), item in self.items.items():
            (self.grad_plot if kind == "grad" else self.weight_plot).removeItem(item)
        self.items.clear()
        self.series.clear()
        self.layers = []
        self.legend.setText("")
        for r in self.ranges.values():
            r.reset()

    def set_run_length(self, steps: int) -> None:
        for r in self.ranges.values():
            r.x_cap = float(steps) if steps else None

    def add_norms(self, events: list) -> None:
        for e in events:
            for layer, values in e.layers.items():
                if layer not in self.layers:
                    self.layers.append(layer)
                for kind in ("grad", "weight"):
                    v = values.get(kind)
                    if v is not None and v == v:
                        self.series.setdefault((kind, layer), Series(256)).append(e.global_step, max(v, FLOOR))
        self._redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._redraw()

    def _redraw(self) -> None:
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        budget = NEW_ITEMS_PER_FRAME  # creating a pyqtgraph curve costs a few ms: spread them over frames
        added = False
        for (kind, layer), s in self.series.items():
            item = self.items.get((kind, layer))
            if item is None:
                if budget == 0:
                    self._stale = True  # the rest from the next frame on (its points are kept)
                    continue
                budget -= 1
                c = QColor(series_color(self.layers.index(layer)))
                plot = self.grad_plot if kind == "grad" else self.weight_plot
                item = plot.plot(pen=pg.mkPen(c, width=1.6, style=Qt.PenStyle.SolidLine))
                self.items[(kind, layer)] = item
                added = True
            item.setData(s.x, s.y)
        for kind, r in self.ranges.items():
            shown = [s for (k, _), s in self.series.items() if k == kind and (k, _) in self.items]
            if shown:
                r.update([s.x for s in shown], *[s.y for s in shown], log_y=True)
        if added:
            self._set_legend()
        if self._stale:
            self._more.start()  # the curves still to create, on the next turns of the event loop

    def _set_legend(self) -> None:
        drawn = {layer for _k, layer in self.items}
        parts = [f"<span style='color:{series_color(i)}'>━</span>&nbsp;{layer}"
                 for i, layer in enumerate(self.layers) if layer in drawn]
        self.legend.setText(f"<span style='color:{color('dim')}'>Layers:</span>&nbsp;&nbsp;"
                            + "&nbsp;&nbsp;&nbsp; ".join(parts))

    def _on_click(self, event) -> None:
        if not event.double():
            return
        for kind, plot in (("grad", self.grad_plot), ("weight", self.weight_plot)):
            if plot.sceneBoundingRect().contains(event.scenePos()):
                self.ranges[kind].hand_back()
                self._redraw()
                event.accept()
                return

    def has_points(self) -> bool:
        return any(len(s) for s in self.series.values())
