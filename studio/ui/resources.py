"""Where the app's resources live (icons, styles, templates), next to the `studio` package."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "resources"
ICONS = ROOT / "icons"
STYLES = ROOT / "styles"
TEMPLATES = ROOT / "templates"
DEFAULT_TEMPLATE = TEMPLATES / "cnn_digits.json"
