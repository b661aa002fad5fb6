"""The file dialogs of the training UI, in one place so tests can patch them."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox


def save_path(parent, title: str, suggested: str, filters: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path


def open_path(parent, title: str, folder: str, filters: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, filters)
    return path


def ask_stop_run(parent) -> bool:
    """Closing the window while a run trains: stop it and close?"""
    answer = QMessageBox.question(
        parent, "Training in progress",
        "A model is training. Stop the run and close?\n\nThe last complete epoch stays saved in the run folder.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes
