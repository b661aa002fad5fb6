"""Dark (default) and light themes: one QSS template (resources/styles/theme.qss) whose @tokens are
filled from dark.json / light.json, plus a matching QPalette for what QSS does not reach."""
from __future__ import annotations

import json
import re
from functools import lru_cache

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from .resources import ICONS, STYLES

THEMES = ("dark", "light")
DEFAULT_THEME = "dark"

# One hue per node category (palette icons; the canvas tints node headers with its own, similar set).
CATEGORY_COLORS = {
    "io": "#56b6c2", "dense": "#61afef", "conv": "#a68cf0", "pooling": "#d67ad2", "norm": "#e0b050",
    "activation": "#98c379", "shape": "#8fa1b3", "sequence": "#e5915a", "attention": "#e06c75",
    "merge": "#5fc4a0", "block": "#6fcf7f", "unmapped": "#e5a84b",
}
CATEGORY_LABELS = {
    "io": "Input / Output", "dense": "Dense", "conv": "Convolution", "pooling": "Pooling",
    "norm": "Normalization & Dropout", "activation": "Activation", "shape": "Shape",
    "sequence": "Sequence", "attention": "Attention", "merge": "Merge", "block": "Blocks",
    "unmapped": "Unmapped (from an import)",
}

_current = DEFAULT_THEME


@lru_cache(maxsize=None)
def colors(name: str) -> dict[str, str]:
    return json.loads((STYLES / f"{name}.json").read_text(encoding="utf-8"))


def stylesheet(name: str) -> str:
    tokens = dict(colors(name), icons=ICONS.as_posix())
    text = (STYLES / "theme.qss").read_text(encoding="utf-8")
    # longest names first so @accent_text is not read as @accent + "_text"
    pattern = re.compile("@(" + "|".join(sorted(map(re.escape, tokens), key=len, reverse=True)) + ")")
    return pattern.sub(lambda m: tokens[m.group(1)], text)


def palette(name: str) -> QPalette:
    c = {k: QColor(v) for k, v in colors(name).items()}
    pal = QPalette()
    roles = QPalette.ColorRole
    pal.setColor(roles.Window, c["window"])
    pal.setColor(roles.WindowText, c["text"])
    pal.setColor(roles.Base, c["base"])
    pal.setColor(roles.AlternateBase, c["alt"])
    pal.setColor(roles.Text, c["text"])
    pal.setColor(roles.Button, c["raised"])
    pal.setColor(roles.ButtonText, c["text"])
    pal.setColor(roles.ToolTipBase, c["raised"])
    pal.setColor(roles.ToolTipText, c["text"])
    pal.setColor(roles.PlaceholderText, c["dim"])
    pal.setColor(roles.Highlight, c["accent"])
    pal.setColor(roles.HighlightedText, c["accent_text"])
    pal.setColor(roles.Link, c["accent"])
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, c["dim"])
    return pal


def apply_theme(name: str, app: QApplication | None = None) -> str:
    """Style the whole application; returns the theme actually applied."""
    global _current
    name = name if name in THEMES else DEFAULT_THEME
    app = app or QApplication.instance()
    if app is not None:
        sheet, pal = stylesheet(name), palette(name)
        # re-styling the application re-polishes every live widget (setStyleSheet 0.44 s, setStyle 0.19 s a
        # call in a window test's profile): only what changes
        # (under a style sheet app.style() is Qt's sheet proxy, nameless: the app remembers its base)
        if app.property("netstudio_style") != "Fusion":
            app.setStyle("Fusion")
            app.setProperty("netstudio_style", "Fusion")
        if app.palette() != pal:
            app.setPalette(pal)
        if app.styleSheet() != sheet:
            app.setStyleSheet(sheet)
    _current = name
    return name


def current_theme() -> str:
    return _current


def color(token: str) -> str:
    return colors(_current)[token]
