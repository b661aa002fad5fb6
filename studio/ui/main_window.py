"""The main window: the canvas in the middle; the layer palette (left), inspector (right), problems
and analyzer summary (bottom, tabbed) in dockable panels whose layout is remembered; menus, toolbar,
status bar; window title "name — file.json*".

Construction is in two steps so the window can appear before the layer library (and with it torch)
is loaded: `MainWindow()` builds the frame, `attach(document)` builds the views."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QTabWidget

from . import actions as _actions
from . import icons, stats_service
from .settings import app_settings
from .theme import apply_theme, current_theme

STATE_VERSION = 1
DOCKS = (("palette", "Layers", Qt.DockWidgetArea.LeftDockWidgetArea),
         ("inspector", "Inspector", Qt.DockWidgetArea.RightDockWidgetArea),
         ("problems", "Problems", Qt.DockWidgetArea.BottomDockWidgetArea),
         ("summary", "Analyzer", Qt.DockWidgetArea.BottomDockWidgetArea))


class MainWindow(QMainWindow):
    def __init__(self, document=None, *, use_settings: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.use_settings = use_settings
        self.document = None
        self.canvas = None
        self.setWindowTitle("NetStudio")
        self.setWindowIcon(icons.app_icon())
        self.resize(1440, 900)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.setTabPosition(Qt.DockWidgetArea.BottomDockWidgetArea, QTabWidget.TabPosition.North)
        self.docks: dict[str, QDockWidget] = {}
        for name, title, area in DOCKS:
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{name}")
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            dock.setWidget(QLabel(""))
            self.addDockWidget(area, dock)
            self.docks[name] = dock
        self.tabifyDockWidget(self.docks["problems"], self.docks["summary"])
        self.docks["problems"].raise_()
        from .dock_titles import hide_titles_when_tabbed

        hide_titles_when_tabbed(self)  # tabbed docks: the tab names them, no title bar under it
        loading = QLabel("Loading the layer library…")
        loading.setObjectName("empty")
        loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(loading)
        self.status_problems = QLabel("")
        self.status_size = QLabel("")
        self.statusBar().addPermanentWidget(self.status_size)
        self.statusBar().addPermanentWidget(self.status_problems)
        self.statusBar().showMessage("Starting…")
        self._default_state = self.saveState(STATE_VERSION)
        if document is not None:
            self.attach(document)

    # ---- building the views -------------------------------------------------------------------
    def attach(self, document, canvas=None) -> None:
        """Build the canvas (or use `canvas`), panels, actions and menus for `document` (once)."""
        from studio.core.registry import default_registry

        from .canvas_host import create_canvas
        from .files import FileController
        from .inspector import InspectorPanel
        from .palette import PaletteWidget
        from .problems import ProblemsPanel
        from .summary_panel import SummaryPanel

        self.document = document
        self.files = FileController(self, document, use_settings=self.use_settings)
        self.canvas = canvas if canvas is not None else create_canvas(document, self)
        self.setCentralWidget(self.canvas)
        self.palette = PaletteWidget(default_registry(), self)
        self.inspector = InspectorPanel(document, self)
        self.problems = ProblemsPanel(document, self)
        self.summary = SummaryPanel(document, self)
        for name, widget in (("palette", self.palette), ("inspector", self.inspector),
                             ("problems", self.problems), ("summary", self.summary)):
            old = self.docks[name].widget()
            self.docks[name].setWidget(widget)
            if old is not None:
                old.deleteLater()
        self.resizeDocks([self.docks["palette"], self.docks["inspector"]], [290, 320], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["problems"]], [230], Qt.Orientation.Vertical)
        self._default_state = self.saveState(STATE_VERSION)

        self.actions_ = a = _actions.build_actions(self)
        _actions.build_menus(self, a)
        self.toolbar = _actions.build_toolbar(self, a)
        self.canvas.addAction(a.fit)
        for name in ("palette", "inspector", "problems", "summary"):
            self.panels_menu.addAction(self.docks[name].toggleViewAction())
        (a.theme_dark if current_theme() == "dark" else a.theme_light).setChecked(True)

        self.palette.add_requested.connect(self.add_node_at_center)
        self.palette.status_message.connect(self.show_status)
        self.problems.node_activated.connect(self.center_on_node)
        self.summary.node_activated.connect(self.center_on_node)
        self.problems.counts_changed.connect(self._show_counts)
        self.summary.model.stats_done.connect(self._show_size)
        self.files.status_message.connect(self.show_status)
        if hasattr(self.canvas, "status_message"):
            self.canvas.status_message.connect(self.show_status)
        document.path_changed.connect(lambda _p: self.update_title())
        document.modified_changed.connect(lambda _m: self.update_title())
        document.graph_changed.connect(self._on_graph_event)
        document.locked_changed.connect(self._on_locked)
        self.problems.set_analysis(document.analysis)
        self.update_title()
        QTimer.singleShot(0, stats_service.service().warm_up)  # after the first paint, off the GUI thread
        from .training import install_training_ui  # the training docks (issue 6)

        install_training_ui(self, document, self.canvas)
        self.statusBar().showMessage("Ready", 3000)
        self.canvas.setFocus()

    def fit_to_graph(self, max_zoom: float = 1.0) -> None:
        """Fit the whole graph in the view, but never zoom in beyond `max_zoom` (100%)."""
        self.canvas_call("fit_all")
        canvas = self.canvas
        scale = canvas.transform().m11()
        if scale > max_zoom:
            canvas.scale(max_zoom / scale, max_zoom / scale)
            scene = canvas.scene()
            if scene is not None:
                canvas.centerOn(scene.itemsBoundingRect().center())

    # ---- helpers used by actions --------------------------------------------------------------
    def canvas_call(self, name: str, *args):
        method = getattr(self.canvas, name, None)
        if callable(method):
            return method(*args)
        return None

    def add_node_at_center(self, type_name: str) -> None:
        self.canvas_call("add_node_at_center", type_name)
        self.canvas.setFocus()

    def center_on_node(self, node_id: str) -> None:
        self.document.set_selection([node_id])
        self.canvas_call("center_on_node", node_id)

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 5000)

    def show_problems(self) -> None:
        self.docks["problems"].show()
        self.docks["problems"].raise_()

    # ---- title and status ---------------------------------------------------------------------
    def update_title(self) -> None:
        if self.document is None:
            return
        project = self.document.project
        file = project.path.name if project.path else "Untitled"
        self.setWindowTitle(f"{project.name} — {file}[*]")
        self.setWindowModified(self.document.modified)

    def _show_counts(self, errors: int, warnings: int) -> None:
        parts = []
        if errors:
            parts.append(f"{errors} error{'s' if errors != 1 else ''}")
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        self.status_problems.setText(" · ".join(parts) if parts else "No problems")
        self.docks["problems"].setWindowTitle(f"Problems ({errors + warnings})" if parts else "Problems")
        self._show_size()

    def _show_size(self) -> None:
        n = len(self.document.graph)
        model = self.summary.model
        params = "" if model.counting else f" · {model.total_params:,} parameters"
        self.status_size.setText(f"{n} node{'s' if n != 1 else ''}{params}")

    def _on_graph_event(self, event) -> None:
        if event.kind in ("node_added", "node_removed", "reset"):
            self._show_size()

    def _on_locked(self, locked: bool) -> None:
        for name in ("cut", "paste", "duplicate", "delete", "quick_add", "auto_layout"):
            getattr(self.actions_, name).setEnabled(not locked)
        self.palette.setEnabled(not locked)

    # ---- files --------------------------------------------------------------------------------
    def new_project(self) -> bool:
        from . import dialogs

        if not self.files.maybe_save():
            return False
        ok, template = dialogs.choose_template(self)
        if not ok:
            return False
        return self.files.open_template(template, ask=False) if template else self.files.new_blank(ask=False)

    def open_project(self) -> bool:
        return self.files.open_dialog()

    def save_project(self) -> bool:
        return self.files.save()

    def save_project_as(self) -> bool:
        return self.files.save_as()

    def fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.files.recent_files()
        for path in recent:
            act = menu.addAction(path)
            act.triggered.connect(lambda _c=False, p=path: self.files.open_path(p))
        if not recent:
            menu.addAction("No recent files").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Clear Recent Files", self.files.clear_recent).setEnabled(bool(recent))

    # ---- theme and layout ---------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        name = apply_theme(name)
        _actions.retint(self)
        self.canvas_call("set_theme", name)
        if self.document is not None:
            (self.actions_.theme_dark if name == "dark" else self.actions_.theme_light).setChecked(True)
            self.inspector.refresh()
            self.problems.set_analysis(self.document.analysis)
        training = getattr(self, "training", None)
        if training is not None:  # the plots follow at once, not at the next restart
            training.set_theme()
        if self.use_settings:
            app_settings().setValue("theme", name)

    def toggle_theme(self) -> None:
        self.set_theme("light" if current_theme() == "dark" else "dark")

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, STATE_VERSION)
        for dock in self.docks.values():
            dock.show()

    def restore_geometry(self) -> None:
        if self.use_settings:
            geometry = app_settings().value("window/geometry")
            if isinstance(geometry, QByteArray):
                self.restoreGeometry(geometry)

    def restore_state(self) -> None:
        """The remembered dock layout (after `attach`, which sets the default sizes)."""
        if not self.use_settings:
            return
        state = app_settings().value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state, STATE_VERSION)

    def save_settings(self) -> None:
        if not self.use_settings:
            return
        s = app_settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(STATE_VERSION))
        s.setValue("theme", current_theme())
        s.sync()

    def closeEvent(self, event) -> None:
        if self.document is not None and not self.files.maybe_save():
            event.ignore()
            return
        if self.document is not None:
            self.files.discard_autosave()
            self.files.timer.stop()
        self.save_settings()
        if self.document is not None:
            # free the commands now, while their Python side is whole: left to the garbage collector,
            # QUndoStack::clear() could run in the middle of collecting the cycle that holds them
            self.document.undo_stack.clear()
        event.accept()

    # ---- help ---------------------------------------------------------------------------------
    def show_shortcuts(self):
        from . import dialogs

        a = self.actions_
        # Undo and Redo by their names: their text is the current undo step ("Undo Set epochs")
        names = {id(a.undo): "Undo", id(a.redo): "Redo"}
        rows = [(names.get(id(act)) or act.text().replace("&", "").rstrip("…"),
                 act.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
                for act in (a.new, a.open, a.save, a.save_as, a.undo, a.redo, a.cut, a.copy, a.paste,
                            a.duplicate, a.delete, a.select_all, a.auto_layout, a.fit, a.zoom_in, a.zoom_out)]
        rows.insert(0, ("Quick add a layer (on the canvas)", "Tab"))
        return dialogs.show_shortcuts(self, rows)

    def show_about(self) -> None:
        from studio import __version__

        QMessageBox.about(self, "About NetStudio",
                          f"<b>NetStudio {__version__}</b><p>Build PyTorch networks visually: drag layers, "
                          "wire them, see every shape, train and export.</p>")

