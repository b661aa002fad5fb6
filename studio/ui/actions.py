"""The window's actions, menus and toolbar. Actions call the canvas (window.canvas, a CanvasView) directly,
so they work with any canvas offering the CanvasView methods."""
from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QSizePolicy, QToolBar, QWidget

from . import icons

SK = QKeySequence.StandardKey


def _action(window, text, slot=None, shortcut=None, icon=None, tip=None, checkable=False) -> QAction:
    a = QAction(text, window)
    if icon:
        a.setIcon(icons.icon(icon))
        a.setData(icon)  # to re-tint on theme change
    if shortcut is not None:
        if isinstance(shortcut, (list, tuple)):
            a.setShortcuts([QKeySequence(s) for s in shortcut])
        else:
            a.setShortcut(QKeySequence(shortcut))
    if tip:
        a.setStatusTip(tip)
        a.setToolTip(f"{text.replace('&', '').rstrip('…')}"
                     + (f" ({a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                        if not a.shortcut().isEmpty() else ""))
    a.setCheckable(checkable)
    if slot is not None:
        a.triggered.connect(slot)
    return a


def build_actions(w) -> SimpleNamespace:
    a = SimpleNamespace()
    a.new = _action(w, "&New…", w.new_project, SK.New, "new", "Start a new project from a template")
    a.open = _action(w, "&Open…", w.open_project, SK.Open, "open", "Open a project file")
    a.import_model = _action(w, "&Import Model…", w.import_model, None, None,
                             "Import a PyTorch model (torchvision or your own class) as a project")
    a.save = _action(w, "&Save", w.save_project, SK.Save, "save", "Save the project")
    a.save_as = _action(w, "Save &As…", w.save_project_as, SK.SaveAs, None, "Save the project to a new file")
    a.quit = _action(w, "&Quit", w.close, SK.Quit, None, "Close NetStudio")
    a.undo = w.document.undo_stack.createUndoAction(w, "&Undo")
    a.undo.setShortcut(QKeySequence(SK.Undo))
    a.undo.setIcon(icons.icon("undo"))
    a.undo.setData("undo")
    a.redo = w.document.undo_stack.createRedoAction(w, "&Redo")
    a.redo.setShortcuts(QKeySequence.keyBindings(SK.Redo) or [QKeySequence("Ctrl+Shift+Z")])
    a.redo.setIcon(icons.icon("redo"))
    a.redo.setData("redo")
    a.cut = _action(w, "Cu&t", lambda: w.canvas.cut(), SK.Cut, None, "Cut the selected nodes")
    a.copy = _action(w, "&Copy", lambda: w.canvas.copy(), SK.Copy, None, "Copy the selected nodes and their wires")
    a.paste = _action(w, "&Paste", lambda: w.canvas.paste(), SK.Paste, None, "Paste nodes")
    a.duplicate = _action(w, "D&uplicate", lambda: w.canvas.duplicate(), "Ctrl+D", None, "Duplicate the selected nodes")
    a.delete = _action(w, "&Delete", lambda: w.canvas.delete_selected(), SK.Delete, None, "Delete the selected nodes")
    a.select_all = _action(w, "Select &All", lambda: w.canvas.select_all(), SK.SelectAll, None, "Select every node")
    a.quick_add = _action(w, "&Add Layer…", lambda: w.canvas.open_quick_add(), None, "add",
                          "Search for a layer and add it (Tab on the canvas)")
    a.auto_layout = _action(w, "Auto-&layout", lambda: w.canvas.auto_layout(), "Ctrl+L", "layout",
                            "Arrange the graph in layers, left to right")
    a.group = _action(w, "&Group into Block", lambda: w.canvas.group_selected(), "Ctrl+G", None,
                      "Make the selected nodes one block")
    a.ungroup = _action(w, "U&ngroup Block", lambda: w.canvas.ungroup_selected(), "Ctrl+Shift+G", None,
                        "Put the selected block's nodes back in its place")
    a.fit = _action(w, "&Fit to View", lambda: w.canvas.fit_all(), "F", "fit", "Show the whole graph")
    a.zoom_in = _action(w, "Zoom &In", lambda: w.canvas.zoom_in(), SK.ZoomIn, "zoom_in", "Zoom in")
    a.zoom_out = _action(w, "Zoom &Out", lambda: w.canvas.zoom_out(), SK.ZoomOut, "zoom_out", "Zoom out")
    a.reset_zoom = _action(w, "&Actual Size", lambda: w.canvas.reset_zoom(), "Ctrl+0", None, "Zoom to 100%")
    for act in (a.fit,):  # a bare letter must not fire while typing in a field
        act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    a.show_problems = _action(w, "Show &Problems", w.show_problems, "Ctrl+Shift+M", None,
                              "Open the list of errors and warnings")
    a.theme_group = QActionGroup(w)
    a.theme_dark = _action(w, "&Dark Theme", lambda: w.set_theme("dark"), None, None, "Use the dark theme",
                           checkable=True)
    a.theme_light = _action(w, "&Light Theme", lambda: w.set_theme("light"), None, None, "Use the light theme",
                            checkable=True)
    a.theme_group.addAction(a.theme_dark)
    a.theme_group.addAction(a.theme_light)
    a.reset_layout = _action(w, "&Reset Panel Layout", w.reset_layout, None, None, "Put every panel back")
    a.shortcuts = _action(w, "&Keyboard Shortcuts", w.show_shortcuts, None, None, "List the shortcuts")
    a.about = _action(w, "&About NetStudio", w.show_about, None, None, "About NetStudio")
    return a


def build_menus(w, a) -> None:
    mb = w.menuBar()
    f = mb.addMenu("&File")
    f.addActions([a.new, a.open])
    w.recent_menu = f.addMenu("Open &Recent")
    w.recent_menu.aboutToShow.connect(w.fill_recent_menu)
    f.addAction(a.import_model)
    f.addSeparator()
    f.addActions([a.save, a.save_as])
    f.addSeparator()
    f.addAction(a.quit)
    e = mb.addMenu("&Edit")
    e.addActions([a.undo, a.redo])
    e.addSeparator()
    e.addActions([a.cut, a.copy, a.paste, a.duplicate, a.delete])
    e.addSeparator()
    e.addAction(a.select_all)
    v = mb.addMenu("&View")
    v.addActions([a.fit, a.zoom_in, a.zoom_out, a.reset_zoom])
    v.addSeparator()
    w.panels_menu = v.addMenu("&Panels")
    v.addAction(a.reset_layout)
    v.addSeparator()
    v.addActions([a.theme_dark, a.theme_light])
    g = mb.addMenu("&Graph")
    g.addActions([a.quick_add, a.auto_layout])
    g.addSeparator()
    g.addActions([a.group, a.ungroup])
    g.addSeparator()
    g.addAction(a.show_problems)
    h = mb.addMenu("&Help")
    h.addActions([a.shortcuts, a.about])


def build_toolbar(w, a) -> QToolBar:
    tb = QToolBar("Main toolbar", w)
    tb.setObjectName("toolbar")
    tb.setMovable(False)
    tb.setFloatable(False)
    tb.setIconSize(tb.iconSize().scaled(18, 18, Qt.AspectRatioMode.IgnoreAspectRatio))
    tb.addActions([a.new, a.open, a.save])
    tb.addSeparator()
    tb.addActions([a.undo, a.redo])
    tb.addSeparator()
    tb.addActions([a.quick_add, a.auto_layout, a.fit, a.zoom_out, a.zoom_in])
    spacer = QWidget(tb)
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    tb.addWidget(spacer)
    a.toggle_theme = _action(w, "Toggle Theme", w.toggle_theme, None, "theme", "Switch between dark and light")
    tb.addAction(a.toggle_theme)
    w.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    return tb


def retint(w) -> None:
    """Re-render the action icons in the current theme's icon colour."""
    for act in w.findChildren(QAction):
        name = act.data()
        if isinstance(name, str) and name:
            act.setIcon(icons.icon(name))
