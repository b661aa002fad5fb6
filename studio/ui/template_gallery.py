"""File > New: a gallery of the example projects (name and description) and a blank project."""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem,
                               QVBoxLayout)

from . import icons
from .resources import TEMPLATES

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


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


class TemplateGallery(QDialog):
    """`exec()`; then `choice` is None for a blank project or the template's path."""

    def __init__(self, parent=None, folder: Path = TEMPLATES) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.resize(560, 520)
        self.choice: Path | None = None
        title = QLabel("Start from an example, or from a blank canvas")
        title.setObjectName("heading")
        self.list = QListWidget(self)
        self.list.setObjectName("gallery")
        self.list.setIconSize(QSize(22, 22))
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        blank = QListWidgetItem(icons.icon("add"), "Blank project\nAn empty canvas: drag an Input from the palette.")
        blank.setData(PATH_ROLE, None)
        self.list.addItem(blank)
        for path, name, description in list_templates(folder):
            item = QListWidgetItem(icons.icon("cat_dense", "#61afef"), f"{name}\n{description}")
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

    def accept(self) -> None:
        item = self.list.currentItem()
        path = item.data(PATH_ROLE) if item else None
        self.choice = Path(path) if path else None
        super().accept()

