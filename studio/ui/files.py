"""Files: new (from a template), open, save, save as, recent files, autosave and crash recovery, and
the prompt before unsaved work is closed or replaced. Every dialog goes through studio.ui.dialogs.

Autosave: every `interval_ms` while the document has unsaved changes, the project is written
(atomically) to a side file: `.<name>.autosave.json` beside the project, or `untitled.autosave.json`
in the app data folder for a project that has no file yet. Saving, or closing without saving,
removes it; after a crash it remains, and opening the project offers to restore it."""
from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from studio.core.atomic import atomic_write_text
from studio.core.project import Project, ProjectError, load_project

from . import dialogs
from .settings import app_settings, data_dir

MAX_RECENT = 10
AUTOSAVE_MS = 30_000


def autosave_path(project_path: Path | None) -> Path:
    if project_path is None:
        return data_dir() / "untitled.autosave.json"
    project_path = Path(project_path)
    return project_path.with_name(f".{project_path.stem}.autosave.json")


class FileController(QObject):
    recent_changed = Signal()
    status_message = Signal(str)

    def __init__(self, window, document, use_settings: bool = True) -> None:
        super().__init__(window)
        self.window, self.document = window, document
        self.use_settings = use_settings
        self.timer = QTimer(self)
        self.timer.setInterval(AUTOSAVE_MS)
        self.timer.timeout.connect(self.autosave)
        self._changed_since_autosave = False
        self._autosaved: Path | None = None
        document.undo_stack.indexChanged.connect(self._on_edit)
        if use_settings:
            self.timer.start()

    # ---- names --------------------------------------------------------------------------------
    def display_name(self) -> str:
        path = self.document.path
        return path.name if path else "Untitled"

    # ---- open / new ---------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Before unsaved work is closed or replaced: Save / Discard / Cancel. True to go on."""
        if not self.document.modified:
            return True
        answer = dialogs.ask_save_changes(self.window, self.display_name())
        if answer == "save":
            return self.save()
        if answer == "discard":
            self.discard_autosave()
            return True
        return False

    def open_path(self, path, ask: bool = True, recover: bool = True) -> bool:
        """Open a project file; a file that cannot be read opens nothing, shows why and leaves the
        current document as it was."""
        path = Path(path)
        try:
            project = load_project(path)
        except ProjectError as exc:
            dialogs.show_error(self.window, "Cannot open project", str(exc))
            return False
        if ask and not self.maybe_save():
            return False
        self.discard_autosave()
        restored = recover and self._offer_recovery(project)
        self.document.set_project(restored or project)
        if restored:
            self.document.undo_stack.resetClean()  # the restored changes are not saved yet
        self.add_recent(path)
        self.status_message.emit(f"Opened {path.name}" + (" (restored unsaved changes)" if restored else ""))
        return True

    def open_template(self, path, ask: bool = True) -> bool:
        """A template opens as a new, untitled project (saving never overwrites the template)."""
        try:
            project = load_project(path)
        except ProjectError as exc:
            dialogs.show_error(self.window, "Cannot open template", str(exc))
            return False
        if ask and not self.maybe_save():
            return False
        self.discard_autosave()
        project.path = None
        project.extra.pop("description", None)
        self.document.set_project(project)
        return True

    def new_blank(self, ask: bool = True) -> bool:
        if ask and not self.maybe_save():
            return False
        self.discard_autosave()
        self.document.set_project(Project())
        return True

    def open_dialog(self) -> bool:
        folder = str(self.document.path.parent) if self.document.path else ""
        path = dialogs.open_file_name(self.window, folder)
        return bool(path) and self.open_path(path)

    # ---- save ---------------------------------------------------------------------------------
    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        suggested = str(self.document.path or Path.home() / f"{_slug(self.document.project.name)}.json")
        path = dialogs.save_file_name(self.window, suggested)
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        old_autosave = self._autosaved
        try:
            target = self.document.save(path)
        except (OSError, ProjectError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            dialogs.show_error(self.window, "Cannot save project", f"{path}: {reason}")
            return False
        if old_autosave is not None:
            _remove(old_autosave)
        self.discard_autosave()
        self.add_recent(target)
        self.status_message.emit(f"Saved {target.name}")
        return True

    # ---- autosave -----------------------------------------------------------------------------
    def _on_edit(self, _index: int) -> None:
        self._changed_since_autosave = True

    def autosave(self) -> Path | None:
        """Write the side file now, if there are unsaved changes not yet autosaved."""
        if not self.document.modified or not self._changed_since_autosave:
            return None
        target = autosave_path(self.document.path)
        try:
            atomic_write_text(target, self.document.project.dumps())
        except OSError as exc:
            self.status_message.emit(f"Autosave failed: {exc.strerror or exc}")
            return None
        self._autosaved = target
        self._changed_since_autosave = False
        return target

    def discard_autosave(self) -> None:
        _remove(autosave_path(self.document.path))
        if self._autosaved is not None:
            _remove(self._autosaved)
        self._autosaved = None
        self._changed_since_autosave = False

    def _offer_recovery(self, project: Project) -> Project | None:
        side = autosave_path(project.path)
        try:
            newer = side.stat().st_mtime > (project.path.stat().st_mtime if project.path else 0)
        except OSError:
            return None
        if not newer:
            return None
        return self._restore_from(side, project.name, project.path)

    def recover_untitled(self) -> bool:
        """At start-up: unsaved work on an untitled project, left by a crash."""
        side = autosave_path(None)
        if not side.exists():
            return False
        restored = self._restore_from(side, "Untitled", None)
        if restored is None:
            return False
        self.document.set_project(restored)
        self.document.undo_stack.resetClean()
        return True

    def _restore_from(self, side: Path, name: str, path: Path | None) -> Project | None:
        when = _dt.datetime.fromtimestamp(side.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        if not dialogs.ask_restore_autosave(self.window, name, when):
            _remove(side)
            return None
        try:
            restored = load_project(side)
        except ProjectError as exc:
            # keep it (a person may rescue something from it by hand) but never offer it again
            kept = side.with_name(side.name + ".unreadable")
            try:
                os.replace(side, kept)
                where = f"\n\nThe file was kept as {kept}."
            except OSError:
                where = ""
            dialogs.show_error(self.window, "Cannot restore unsaved work", f"{exc}{where}")
            return None
        restored.path = path
        _remove(side)
        return restored

    # ---- recent files -------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        if not self.use_settings:
            return []
        value = app_settings().value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [p for p in (value or []) if p]

    def add_recent(self, path: Path) -> None:
        if not self.use_settings:
            return
        p = str(Path(path).resolve())
        files = [p] + [f for f in self.recent_files() if f != p]
        app_settings().setValue("recent", files[:MAX_RECENT])
        self.recent_changed.emit()

    def clear_recent(self) -> None:
        if self.use_settings:
            app_settings().setValue("recent", [])
            self.recent_changed.emit()


def _remove(path: Path) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_") or "untitled"
