"""The questions block edits ask (tests patch these functions, as they patch studio.ui.dialogs)."""
from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget


def ask_overwrite_block(parent: QWidget | None, name: str, path: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, "Replace the saved block?",
                      f"Your library already has a block file for {name}:\n{path}\n\nReplace it with this one?",
                      QMessageBox.StandardButton.Cancel, parent)
    replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is replace


def ask_block_name(parent: QWidget | None, title: str, label: str, current: str) -> str | None:
    text, ok = QInputDialog.getText(parent, title, label, text=current)
    return text.strip() if ok and text.strip() else None
