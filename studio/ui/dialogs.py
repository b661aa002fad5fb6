"""Every message box and file dialog goes through these functions, so tests can patch them
(`monkeypatch.setattr(studio.ui.dialogs, "ask_save_changes", lambda *a: "discard")`)."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

PROJECT_FILTER = "NetStudio projects (*.json);;All files (*)"


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.critical(parent, title, message)


def show_info(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.information(parent, title, message)


def ask_save_changes(parent: QWidget | None, name: str) -> str:
    """'save', 'discard' or 'cancel'."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to “{name}”?")
    box.setInformativeText("Your changes will be lost if you don't save them.")
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")


def ask_restore_autosave(parent: QWidget | None, name: str, when: str) -> bool:
    answer = QMessageBox.question(
        parent, "Recover unsaved work",
        f"NetStudio found unsaved changes to “{name}” from {when}, newer than the file itself "
        "(it may have closed unexpectedly).\n\nRestore them?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes


def ask_random_weights(parent: QWidget | None, why: str) -> bool:
    """The pretrained weights cannot be had (offline): import with random weights instead?"""
    answer = QMessageBox.question(
        parent, "Pretrained weights not available", f"{why}\n\nImport the model with RANDOM weights instead? "
        "(It will not have learnt anything yet.)", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def open_file_name(parent: QWidget | None, folder: str = "") -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Open project", folder, PROJECT_FILTER)
    return path


def save_file_name(parent: QWidget | None, suggested: str = "") -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Save project as", suggested, PROJECT_FILTER)
    if path and not path.lower().endswith(".json"):
        path += ".json"
    return path


def choose_template(parent: QWidget | None):
    """File > New: (accepted, template path or None for a blank project)."""
    from PySide6.QtWidgets import QDialog

    from .template_gallery import TemplateGallery

    dialog = TemplateGallery(parent)
    ok = dialog.exec() == QDialog.DialogCode.Accepted
    return ok, dialog.choice


def shortcuts_dialog(parent: QWidget | None, rows: list[tuple[str, str]]):
    """Help > Keyboard Shortcuts: a two-column table (what it does, the keys), opened without blocking."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QTableWidget,
                                   QTableWidgetItem, QVBoxLayout)

    dialog = QDialog(parent)
    dialog.setObjectName("shortcuts")
    dialog.setWindowTitle("Keyboard shortcuts")
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    table = QTableWidget(len(rows), 2, dialog)
    table.setHorizontalHeaderLabels(["Action", "Shortcut"])
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    for r, (name, keys) in enumerate(rows):
        table.setItem(r, 0, QTableWidgetItem(name))
        table.setItem(r, 1, QTableWidgetItem(keys or "—"))
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    table.resizeColumnsToContents()
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(table)
    layout.addWidget(buttons)
    width = table.horizontalHeader().length() + 80
    height = table.verticalHeader().length() + table.horizontalHeader().height() + 80
    dialog.resize(max(width, 420), min(height, 640))
    return dialog


def show_shortcuts(parent: QWidget | None, rows: list[tuple[str, str]]):
    dialog = shortcuts_dialog(parent, rows)
    dialog.open()  # modal to the window, without a nested event loop
    return dialog
