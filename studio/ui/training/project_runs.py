"""Runs that follow their project. A project without a file of its own (new, or a template) trains
into the app's data folder; its first save moves the runs this window made there beside the file
(`<name>.runs/`, never overwriting one already there), and a run still training moves when it ends.
Opening a project shows its last run's curves and offers that run's weights as the current ones."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from . import runs


class ProjectRuns(QObject):
    def __init__(self, ui) -> None:
        super().__init__(ui)
        self.ui = ui
        self.made: list[Path] = []  # run folders made in the data folder for the project now open
        self._late: Path | None = None  # one that was training at the first save
        ui.document.saved.connect(self._on_saved)

    def note_run(self, run_dir: Path | None) -> None:
        if run_dir is not None and runs.is_in_data_dir(self.ui.document.path):
            self.made.append(run_dir)

    def forget(self) -> None:
        """Another project was opened: the runs made so far stay where they are."""
        self.made, self._late = [], None

    def _on_saved(self, before, after) -> None:
        if not runs.is_in_data_dir(before) or runs.is_in_data_dir(after) or not self.made:
            return
        session = self.ui.session
        busy = session.run_dir if session.running else None
        self._late = busy
        self._move([d for d in self.made if d != busy])
        self.made = []

    def on_ended(self) -> None:
        late, self._late = self._late, None
        if late is not None and not runs.is_in_data_dir(self.ui.document.path):
            self._move([late])

    def _move(self, dirs: list[Path]) -> None:
        if not dirs:
            return
        moved = runs.move_runs(dirs, self.ui.runs_root())
        weights, session = self.ui.weights, self.ui.session
        for src, dst in moved:
            if session.last_run_dir == src:
                session.last_run_dir = dst
            if weights and Path(weights).parent == src:  # the current weights moved with their run
                self.ui.set_weights(str(dst / Path(weights).name))
        if moved:
            self.ui.refresh_runs()
            n = len(moved)
            self.ui._status(f"Moved {n} run{'s' if n != 1 else ''} beside the project: {moved[0][1].parent}")

    def reopen(self) -> None:
        """After a project is opened: its last run on the curves, its weights as the current ones."""
        if runs.is_in_data_dir(self.ui.document.path):
            return  # untitled and templates share the data folder: their runs are not this project's
        records = runs.list_runs(self.ui.runs_root())
        newest = next((r for r in reversed(records) if r.steps or r.epochs), None)
        if newest is not None:
            self.ui.curves.show_run(newest)
        weights = runs.newest_weights(records)
        if weights is not None:
            self.ui.offer_weights(weights)
