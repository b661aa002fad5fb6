"""Icons: the SVGs in resources/icons, drawn with `currentColor` and tinted here (by theme, or by a
node category's hue), rendered crisp at every size the widget asks for."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from .resources import ICONS

_cache: dict[tuple[str, str], QIcon] = {}
_svg_text: dict[str, str] = {}


class _SvgEngine(QIconEngine):
    """Renders the SVG at the exact requested size (no blurry scaling of a fixed bitmap)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = data
        self._renderer = QSvgRenderer(QByteArray(data))

    def paint(self, painter: QPainter, rect, mode, state) -> None:
        if mode == QIcon.Mode.Disabled:
            painter.setOpacity(0.4)
        self._renderer.render(painter, QRectF(rect))

    def pixmap(self, size: QSize, mode, state) -> QPixmap:
        pm = QPixmap(size)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.paint(p, pm.rect(), mode, state)
        p.end()
        return pm

    def clone(self) -> "QIconEngine":
        return _SvgEngine(self._data)


def svg_source(name: str) -> str:
    if name not in _svg_text:
        _svg_text[name] = (ICONS / f"{name}.svg").read_text(encoding="utf-8")
    return _svg_text[name]


def icon(name: str, color: str | None = None) -> QIcon:
    """The icon `name` (a file in resources/icons), tinted `color` (default: the theme's icon colour)."""
    if color is None:
        from .theme import color as theme_color

        color = theme_color("icon")
    key = (name, color)
    if key not in _cache:
        data = svg_source(name).replace("currentColor", color).encode("utf-8")
        _cache[key] = QIcon(_SvgEngine(data))
    return _cache[key]


def category_icon(category: str) -> QIcon:
    from .theme import CATEGORY_COLORS

    name = f"cat_{category}" if (ICONS / f"cat_{category}.svg").exists() else "cat_shape"
    return icon(name, CATEGORY_COLORS.get(category, "#8fa1b3"))


def app_icon() -> QIcon:
    return QIcon(_SvgEngine(svg_source("app").encode("utf-8")))


def clear_cache() -> None:
    """Free the drawn icons. Not needed on a theme switch: the cache is keyed by colour, so icons of
    the new theme's colours are drawn fresh (and the theme module never imports this one)."""
    _cache.clear()
