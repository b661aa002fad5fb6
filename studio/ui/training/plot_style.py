"""pyqtgraph plots dressed in the app's theme (background, axes, grid, fonts) and a colour cycle.

Painting a plot in software is mostly its axes: tick labels and the grid, which pyqtgraph replays
from a QPicture on every repaint, i.e. each time a curve changes (about 4 ms per axis on a 2-core
machine). `style_plot` caches each axis and the title as a pixmap (QGraphicsItem's
DeviceCoordinateCache), redrawn only when its range or size changes, and turns off the automatic
SI prefix (which re-sets the axis label's HTML on every range change)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QTextOption
from PySide6.QtWidgets import QGraphicsItem

CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache

from ..theme import color

SERIES_COLORS = ("#4f8ff7", "#e5915a", "#98c379", "#e06c75", "#c678dd", "#56b6c2", "#e0b050", "#8fa1b3")
OVERLAY_COLORS = ("#b48ead", "#88c0d0", "#ebcb8b", "#a3be8c", "#d08770", "#81a1c1")


def series_color(i: int) -> str:
    return SERIES_COLORS[i % len(SERIES_COLORS)]


def style_plot(plot: pg.PlotItem, title: str = "", left: str = "", bottom: str = "") -> pg.PlotItem:
    text, dim = color("text"), color("dim")
    font = QFont()
    font.setPointSizeF(8.5)
    _keep_title_from_widening(plot.titleLabel)
    if title:
        plot.setTitle(title, color=text, size="9pt")
    for name, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(color("border")))
        axis.setTextPen(pg.mkPen(dim))
        axis.setTickFont(font)
        if label:
            axis.setLabel(label, color=dim, **{"font-size": "8.5pt"})
        axis.enableAutoSIPrefix(False)
        axis.setStyle(autoReduceTextSpace=False)  # tick labels may widen the axis, never narrow it (no jitter)
        axis.setCacheMode(CACHED)
        axis.label.setCacheMode(CACHED)
    plot.titleLabel.item.setCacheMode(CACHED)
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


def legend_title(title: str, entries: list) -> str:
    """A plot title with its legend on the same line: entries are (glyph, colour, name)."""
    dim = color("dim")
    parts = [f"<span style='color:{color('text')}'>{title}</span>"]
    for glyph, c, name in entries:
        parts.append(f"<span style='color:{c}'>{glyph}</span>&nbsp;<span style='color:{dim}'>{name}</span>")
    return "&nbsp;&nbsp; ".join(parts)  # breakable between entries: a narrow plot wraps its legend


def set_title(plot: pg.PlotItem, html: str) -> None:
    """The same title again does nothing: setTitle relays out the plot's rows and repaints it."""
    if plot.titleLabel.isVisible() and plot.titleLabel.text == html:
        return
    plot.setTitle(html, size="9pt")


def _keep_title_from_widening(label: pg.LabelItem) -> None:
    """A long legend line in a title wraps onto more lines instead of widening the plot's column (or
    being cut at both edges when centred: 'ain (smoothed)'). pyqtgraph's LabelItem resets its minimum
    width to its text's on every resize (updateMin), so the column split would flip back and forth
    between two layouts, redrawing every plot each time: here the text is laid out at the label's
    width, and only the height follows it."""
    option = label.item.document().defaultTextOption()
    option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    label.item.document().setDefaultTextOption(option)

    def update_min() -> None:
        width = label.rect().width()
        if width > 0:
            if label.item.textWidth() != width:
                label.item.setTextWidth(width)
            _wrap(label.item.document(), QTextOption.WrapMode.WordWrap)
            if label.item.document().idealWidth() > width:  # a word wider than the plot: break it, never cut it
                _wrap(label.item.document(), QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
            label.item.setPos(0, 0)  # resizeEvent centred it at its old width: the text is now as wide as the label
        label.item.update()  # its cached pixmap (DeviceCoordinateCache) is not redrawn for new text otherwise
        h = label.itemRect().height()
        plot = label.parentItem()
        if isinstance(plot, pg.PlotItem) and label.isVisible():  # PlotItem.setTitle fixes the row at 30 px
            label.setMaximumHeight(h)
            plot.layout.setRowFixedHeight(0, h)
        label.setMinimumWidth(0)
        label.setMinimumHeight(h)
        label._sizeHint = {Qt.SizeHint.MinimumSize: (0, h), Qt.SizeHint.PreferredSize: (0, h),
                           Qt.SizeHint.MaximumSize: (-1, -1), Qt.SizeHint.MinimumDescent: (0, 0)}
        label.updateGeometry()

    label.updateMin = update_min  # LabelItem.setText and resizeEvent call self.updateMin()
    label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, True)


def _wrap(document, mode) -> None:
    option = document.defaultTextOption()
    if option.wrapMode() != mode:
        option.setWrapMode(mode)  # between words where they fit ("Learni / ng rate" reads worse)
        document.setDefaultTextOption(option)


def restyle(root) -> None:
    """Every plot under `root` (a widget) in the current theme: background, axes, grid, titles' colour."""
    for w in [root] + root.findChildren(pg.GraphicsLayoutWidget):
        if not isinstance(w, pg.GraphicsLayoutWidget):
            continue
        w.setBackground(QColor(color("base")))
        for item in w.ci.items:
            if isinstance(item, pg.PlotItem):
                _restyle_plot(item)


def _restyle_plot(plot: pg.PlotItem) -> None:
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(color("border")))
        axis.setTextPen(pg.mkPen(color("dim")))
        if axis.labelText:
            axis.setLabel(axis.labelText, color=color("dim"), **{"font-size": "8.5pt"})
        axis.picture = None  # the cached tick drawing
        axis.update()
    title = plot.titleLabel
    if title.text and "color:" not in title.text:  # a plain title; legend titles carry their own colours
        title.setText(title.text, color=color("text"))
