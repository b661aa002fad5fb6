"""Persistent settings (window layout, theme, recent files) and the app data folder.

Everything goes through these two functions so tests can point them at a temporary folder:
set NETSTUDIO_CONFIG_DIR / NETSTUDIO_DATA_DIR (or patch the functions)."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

ORG = "NetStudio"
APP = "NetStudio"


def app_settings() -> QSettings:
    folder = os.environ.get("NETSTUDIO_CONFIG_DIR")
    if folder:
        return QSettings(str(Path(folder) / "netstudio.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)


def data_dir() -> Path:
    """The folder for autosaves of projects that have no file yet."""
    folder = os.environ.get("NETSTUDIO_DATA_DIR")
    if not folder:
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
        folder = str(Path(base or Path.home()) / ORG)
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path
