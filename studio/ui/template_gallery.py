"""File > New: a gallery of the example projects and a blank project. Each example shows a
thumbnail of its graph, drawn by the real canvas (an offscreen scene rendered into a pixmap, kept
per file and theme), beside its name and description."""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem,
                               QVBoxLayout)

from . import icons
from .resources import TEMPLATES

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
THUMB_SIZE = QSize(192, 112)
_thumbnails: dict[tuple, QPixmap] = {}  # (path, mtime, size, theme) -> pixmap


def list_templates(folder: Path = TEMPLATES) -> list[tuple[Path, str, str]]:
    """(path, name, description) of every template, by name; unreadable files are skipped."""
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict):
            out.append((path, str(rec.get("name", path.stem)), str(rec.get("description", ""))))
    return sorted(out, key=lambda t: t[1].lower())


def thumbnail(path: Path, size: QSize = THUMB_SIZE, theme_name: str | None = None,
              dpr: float = 1.0) -> QPixmap | None:
    """The template's graph drawn by the canvas into a `size` pixmap (cached per file version and
    theme); None when the file cannot be opened."""
    from .canvas import style
    from .theme import current_theme

    theme_name = theme_name or current_theme()
    try:
        key = (str(path), path.stat().st_mtime_ns, size.width(), size.height(), theme_name, dpr)
    except OSError:
        return None
    cached = _thumbnails.get(key)
    if cached is not None:
        return cached
    from studio.core.project import ProjectError, load_project

    from .canvas.scene import CanvasScene
    from .document import Document

    try:
        document = Document(load_project(path))
    except (ProjectError, OSError, ValueError):
        return None
    scene = CanvasScene(document)
    theme = style.theme(theme_name)
    scene.set_theme(theme)
    scene.set_show_ports(False)  # ports and shape pills are too small to read in a thumbnail
    scene.bring_up_to_date()
    source = QRectF()
    for item in list(scene.nodes.values()) + list(scene.wires.values()):
        source = source.united(item.sceneBoundingRect())
    pixmap = QPixmap(size * dpr)
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(theme.background)
    if not source.isEmpty():
        source = source.adjusted(-24, -24, 24, 24)
        painter = QPainter(pixmap)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        scene.render(painter, QRectF(0, 0, size.width(), size.height()), source, Qt.AspectRatioMode.KeepAspectRatio)
        painter.end()
    scene.clear()
    scene.deleteLater()
    document.deleteLater()
    _thumbnails[key] = pixmap
    return pixmap


class TemplateGallery(QDialog):
    """`exec()`; then `choice` is None for a blank project or the template's path."""

    def __init__(self, parent=None, folder: Path = TEMPLATES) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.resize(640, 620)
        self.choice: Path | None = None
        title = QLabel("Start from an example, or from a blank canvas")
        title.setObjectName("heading")
        self.list = QListWidget(self)
        self.list.setObjectName("gallery")
        self.list.setIconSize(THUMB_SIZE)
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the text wraps
        dpr = self.devicePixelRatioF()
        blank = QListWidgetItem(self._blank_icon(dpr), "Blank project\nAn empty canvas: drag an Input from the palette.")
        blank.setData(PATH_ROLE, None)
        self.list.addItem(blank)
        for path, name, description in list_templates(folder):
            pixmap = thumbnail(path, dpr=dpr)
            icon = QIcon(pixmap) if pixmap is not None else icons.icon("cat_dense", "#61afef")
            item = QListWidgetItem(icon, f"{name}\n{description}")
            item.setData(PATH_ROLE, str(path))
            item.setToolTip(str(path.name))
            self.list.addItem(item)
        self.list.setCurrentRow(1 if self.list.count() > 1 else 0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    @staticmethod
    def _blank_icon(dpr: float) -> QIcon:
        """The blank project: an empty canvas with the add icon in the middle, as big as a thumbnail."""
        from .canvas import style
        from .theme import current_theme

        theme = style.theme(current_theme())
        pixmap = QPixmap(THUMB_SIZE * dpr)
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(theme.background)
        painter = QPainter(pixmap)
        side = 32
        icons.icon("add").paint(painter, (THUMB_SIZE.width() - side) // 2, (THUMB_SIZE.height() - side) // 2,
                                side, side)
        painter.end()
        return QIcon(pixmap)

    def accept(self) -> None:
        item = self.list.currentItem()
        path = item.data(PATH_ROLE) if item else None
        self.choice = Path(path) if path else None
        super().accept()
