"""Colours, fonts and metrics of the canvas, for the dark and the light theme.

Everything that paints on the canvas reads its colours from the current `Theme` (one object per
theme, swapped by `set_theme`) so a theme change is one repaint, not a rebuild."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem

# ---- metrics (scene units; 1 unit = 1 px at 100% zoom) -------------------------------------------
NODE_WIDTH = 160.0
HEADER_H = 26.0
TYPE_ROW_H = 18.0
PARAM_ROW_H = 16.0
PORT_ROW_H = 20.0
FOOTER_H = 24.0
PAD_X = 10.0
CORNER = 7.0
PORT_Y = HEADER_H + TYPE_ROW_H / 2 + 1  # single ports sit level with the type row: chains stay straight
PORT_R = 5.0  # drawn radius
PORT_HIT_R = 11.0  # grab radius
SNAP_RADIUS_PX = 36.0  # in view pixels: a dragged wire snaps to a compatible port this close
GRID = 20.0
LOD_SIMPLE = 0.5  # below this zoom, cards show header and title only
LOD_MINIMAL = 0.18  # below this, plain blocks

CATEGORY_HUES = {  # HSV hue per category; io is neutral
    "io": None, "dense": 218, "conv": 158, "pooling": 95, "norm": 48, "activation": 22,
    "shape": 262, "sequence": 330, "attention": 292, "merge": 190, "block": 128,
    "unmapped": 40,  # a partial import's Unmapped node: amber, a warning to replace it
}

WIRE_KINDS = ("vector", "sequence", "image", "tokens", "tensor")

# Item settings every card and wire makes, and what their paint uses, looked up once: PySide
# resolves `QGraphicsItem.X` and `Qt.X` by name on each use (1-4 us each: `Qt.AlignLeft |
# Qt.AlignVCenter` costs more than drawing a wire), times tens of thousands of items.
DEVICE_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
SELECTABLE = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
NO_BUTTON = Qt.MouseButton.NoButton
NO_PEN = Qt.PenStyle.NoPen
NO_BRUSH = Qt.BrushStyle.NoBrush
DASH_LINE = Qt.PenStyle.DashLine
LEFT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
RIGHT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
CENTER = Qt.AlignmentFlag.AlignCenter


@dataclass
class Theme:
    name: str
    background: QColor
    grid_minor: QColor
    grid_major: QColor
    card: QColor
    card_border: QColor
    text: QColor
    text_muted: QColor
    header_text: QColor
    accent: QColor
    error: QColor
    warning: QColor
    pill_bg: QColor
    port_hollow: QColor
    header_sat: float
    header_val: float
    wire_colors: dict = field(default_factory=dict)
    rubber_band: QColor = field(default_factory=lambda: QColor(90, 150, 255, 40))
    _headers: dict = field(default_factory=dict, compare=False, repr=False)

    def category_color(self, category: str | None) -> QColor:
        """A card's header colour (one per category and theme: every card paint asks)."""
        color = self._headers.get(category)
        if color is None:
            hue = CATEGORY_HUES.get(category or "", None)
            if hue is None:
                color = QColor.fromHsvF(0.6, 0.10, self.header_val)
            else:
                color = QColor.fromHsvF(hue / 360.0, self.header_sat, self.header_val)
            self._headers[category] = color
        return QColor(color)

    def category_swatch(self, category: str | None) -> QColor:
        """A brighter tone of the category hue, for small marks (the quick-add list)."""
        hue = CATEGORY_HUES.get(category or "", None)
        if hue is None:
            return QColor(150, 158, 172)
        return QColor.fromHsvF(hue / 360.0, 0.55, 0.85)

    def wire_color(self, kind: str | None) -> QColor:
        return self.wire_colors.get(kind or "", self.wire_colors["tensor"])


DARK = Theme(
    name="dark",
    background=QColor("#1b1d22"),
    grid_minor=QColor("#2a2d34"),
    grid_major=QColor("#343843"),
    card=QColor("#272a31"),
    card_border=QColor("#3a3e48"),
    text=QColor("#e4e6eb"),
    text_muted=QColor("#9aa1ad"),
    header_text=QColor("#f4f5f7"),
    accent=QColor("#4f9dff"),
    error=QColor("#ff5d5d"),
    warning=QColor("#f0b54a"),
    pill_bg=QColor("#1b1d22"),
    port_hollow=QColor("#1b1d22"),
    header_sat=0.42,
    header_val=0.46,
    wire_colors={"vector": QColor("#6ea8fe"), "sequence": QColor("#e9b454"), "image": QColor("#5fd0a6"),
                 "tokens": QColor("#c49bff"), "tensor": QColor("#a3abb8")},
)

LIGHT = Theme(
    name="light",
    background=QColor("#f4f5f7"),
    grid_minor=QColor("#dfe2e7"),
    grid_major=QColor("#cdd2d9"),
    card=QColor("#ffffff"),
    card_border=QColor("#c9ced6"),
    text=QColor("#1f2329"),
    text_muted=QColor("#5f6773"),
    header_text=QColor("#ffffff"),
    accent=QColor("#1f6fe5"),
    error=QColor("#d93636"),
    warning=QColor("#b7791f"),
    pill_bg=QColor("#ffffff"),
    port_hollow=QColor("#ffffff"),
    header_sat=0.50,
    header_val=0.66,
    wire_colors={"vector": QColor("#2f6fd6"), "sequence": QColor("#c27c0e"), "image": QColor("#159a6e"),
                 "tokens": QColor("#8a4fe0"), "tensor": QColor("#6b7380")},
    rubber_band=QColor(31, 111, 229, 40),
)

THEMES = {"dark": DARK, "light": LIGHT}


def theme(name: str) -> Theme:
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"unknown theme {name!r}; use one of {', '.join(THEMES)}") from None


def _font(px: int, bold: bool = False, family: str | None = None) -> QFont:
    f = QFont(family) if family else QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    f.setHintingPreference(QFont.PreferNoHinting)  # text scales smoothly with the zoom
    return f


class Fonts:
    """Created lazily (QFont needs a QGuiApplication)."""

    _cache: dict = {}

    @classmethod
    def get(cls, name: str) -> QFont:
        f = cls._cache.get(name)
        if f is None:
            f = cls._cache[name] = {
                "title": lambda: _font(12, bold=True),
                "type": lambda: _font(11),
                "type_narrow": lambda: _font(11, family="DejaVu Sans Condensed"),
                "param": lambda: _font(10),
                "shape": lambda: _font(11, family="DejaVu Sans Mono"),
                "pill": lambda: _font(10, family="DejaVu Sans Condensed"),
                "port": lambda: _font(10),
                "port_narrow": lambda: _font(10, family="DejaVu Sans Condensed"),  # a long port name
            }[name]()
        return f


@lru_cache(maxsize=8192)
def metrics(font_key: str) -> QFontMetricsF:
    return QFontMetricsF(Fonts.get(font_key))


@lru_cache(maxsize=16384)
def elide(font_key: str, text: str, width: float, left: bool = False) -> str:
    """Text cut with an ellipsis to fit `width` (cached: a thousand cards share most strings)."""
    return metrics(font_key).elidedText(text, Qt.ElideLeft if left else Qt.ElideRight, width)


@lru_cache(maxsize=16384)
def text_width(font_key: str, text: str) -> float:
    return metrics(font_key).horizontalAdvance(text)


@lru_cache(maxsize=8192)
def pill_text(t) -> str:
    """A tensor type in a wire's pill: compact, '16×8×8' (and the dtype when it is not float32).
    (Cached: a thousand wires carry a few dozen distinct types.)"""
    text = "×".join(str(d) for d in t.shape) or "scalar"
    return text if t.is_float else f"{text} {t.dtype}"


@lru_cache(maxsize=8192)
def pill_width(label: str) -> float:
    """The width of a wire's pill showing `label`."""
    return metrics("pill").horizontalAdvance(label) + 12


def pill_height() -> float:
    return metrics("pill").height() + 4
