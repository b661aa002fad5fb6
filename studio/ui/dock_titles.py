"""Docks that share a tab bar need no title bar of their own: the tab already names them, and a
title bar under the tabs repeats it. A dock shows its title bar again when it is floating or stands
alone in its area (where it is the only handle to drag it by). The tab bars the window makes for
docks keep every name whole and scroll when they run out of room (a 1024 px window's bottom row holds
ten tabs: elided, they read "Cu…", "T…")."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar, QWidget


class _NoTitle(QWidget):
    """An empty title bar (a dock's title bar cannot simply be hidden)."""


class _DockTitles(QObject):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._hooked: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # after the main window has laid the docks out
        self._timer.timeout.connect(self.refresh)
        window.tabifiedDockWidgetActivated.connect(self._later)
        window.installEventFilter(self)  # docks added later (another panel) are hooked too

    def _later(self) -> None:  # (signals with arguments connect to it too: Qt drops the extra ones)
        self._timer.start()

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.ChildAdded and isinstance(event.child(), QDockWidget):
            self._later()
        return False

    def refresh(self) -> None:
        window = self.window
        for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if bar.elideMode() != Qt.TextElideMode.ElideNone:  # the window's own dock tab bars
                bar.setElideMode(Qt.TextElideMode.ElideNone)
                bar.setUsesScrollButtons(True)
        for dock in window.findChildren(QDockWidget):
            if id(dock) not in self._hooked:
                self._hooked.add(id(dock))
                dock.dockLocationChanged.connect(self._later)
                dock.topLevelChanged.connect(self._later)
                dock.visibilityChanged.connect(self._later)
            tabbed = not dock.isFloating() and bool(window.tabifiedDockWidgets(dock))
            blank = isinstance(dock.titleBarWidget(), _NoTitle)
            if tabbed and not blank:
                dock.setTitleBarWidget(_NoTitle(dock))
            elif not tabbed and blank:
                old = dock.titleBarWidget()
                dock.setTitleBarWidget(None)  # back to the standard title bar
                old.deleteLater()


def hide_titles_when_tabbed(window: QMainWindow) -> _DockTitles:
    """Keep every dock of `window` titled only where it needs to be, now and after the person
    moves docks around (tabs them together, floats one, drags one to another side). The returned
    object's refresh() does it at once (after the window rearranged its docks itself)."""
    titles = _DockTitles(window)
    titles.refresh()
    return titles
