"""pyqtgraph plots dressed in the app's theme (background, axes, grid, fonts) and a colour cycle."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

from ..theme import color

SERIES_COLORS = ("#4f8ff7", "#e5915a", "#98c379", "#e06c75", "#c678dd", "#56b6c2", "#e0b050", "#8fa1b3")
OVERLAY_COLORS = ("#b48ead", "#88c0d0", "#ebcb8b", "#a3be8c", "#d08770", "#81a1c1")


def series_color(i: int) -> str:
    return SERIES_COLORS[i % len(SERIES_COLORS)]


def style_plot(plot: pg.PlotItem, title: str = "", left: str = "", bottom: str = "") -> pg.PlotItem:
    text, dim = color("text"), color("dim")
    font = QFont()
    font.setPointSizeF(8.5)
    if title:
        plot.setTitle(title, color=text, size="9pt")
    for name, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(color("border")))
        axis.setTextPen(pg.mkPen(dim))
        axis.setTickFont(font)
        if label:
            axis.setLabel(label, color=dim, **{"font-size": "8.5pt"})
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    return plot


def new_plot_widget(parent=None) -> pg.GraphicsLayoutWidget:
    w = pg.GraphicsLayoutWidget(parent)
    w.setBackground(QColor(color("base")))
    w.ci.setContentsMargins(2, 2, 2, 2)
    w.ci.setSpacing(4)
    return w


def add_legend(plot: pg.PlotItem, offset=(-6, 6)) -> pg.LegendItem:
    legend = plot.addLegend(offset=offset, labelTextColor=color("text"), labelTextSize="8pt",
                            brush=pg.mkBrush(QColor(color("panel")).lighter(105)), pen=pg.mkPen(color("border")))
    legend.setColumnCount(1)
    return legend
