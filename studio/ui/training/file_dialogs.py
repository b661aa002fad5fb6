"""The file dialogs of the training UI, in one place so tests can patch them."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox


def save_path(parent, title: str, suggested: str, filters: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path


def open_path(parent, title: str, folder: str, filters: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, filters)
    return path


def ask_stop_run(parent, ended=None) -> bool:
    """Closing the window while a run trains: stop it and close? `ended`: a signal the run emits when
    it ends; if it ends while the question is open, the question is moot (nothing is left to stop, the
    run is saved) and the close goes on, as if asked a moment later."""
    yes, cancel = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Cancel
    box = QMessageBox(QMessageBox.Icon.Question, "Training in progress",
                      "A model is training. Stop the run and close?\n\nThe last complete epoch stays saved in "
                      "the run folder.", yes | cancel, parent)
    box.setDefaultButton(cancel)

    def moot(*_):
        box.done(yes)

    if ended is not None:
        ended.connect(moot)
    try:
        return box.exec() == yes
    finally:
        if ended is not None:
            ended.disconnect(moot)
        box.deleteLater()
