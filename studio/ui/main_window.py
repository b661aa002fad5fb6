"""The main window: the canvas in the middle; the layer palette (left), inspector (right), problems
and analyzer summary (bottom, tabbed) in dockable panels whose layout is remembered; menus, toolbar,
status bar; window title "name — file.json*".

Construction is in two steps so the window can appear before the layer library (and with it torch)
is loaded: `MainWindow()` builds the frame, `attach(document)` builds the views."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QDockWidget, QLabel, QMainWindow, QMessageBox, QScrollArea, QStackedWidget,
                               QTabWidget)

from studio.core.graph import GraphEventKind

from . import actions as _actions
from . import icons, layout, stats_service
from .dock_scroll import DockScroll
from .settings import app_settings
from .theme import apply_theme, current_theme

STATE_VERSION = 2  # 2: the layout that gives the canvas the room (saved layouts of 1 are dropped)
DOCKS = (("palette", "Layers", "library"),
         ("inspector", "Inspector", "properties"),
         ("problems", "Problems", "diagnostics"),
         ("summary", "Analyzer", "diagnostics"))
_PLACE_AREAS = {"library": Qt.DockWidgetArea.LeftDockWidgetArea, "properties": Qt.DockWidgetArea.RightDockWidgetArea,
                "diagnostics": Qt.DockWidgetArea.BottomDockWidgetArea, "plots": Qt.DockWidgetArea.BottomDockWidgetArea}


class MainWindow(QMainWindow):
    def __init__(self, document=None, *, use_settings: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.use_settings = use_settings
        self.document = None
        self.canvas = None
        self.preview = None  # the live preview (studio.ui.preview), once attached
        self.toolbar = None
        self.panels_menu = None
        self.training = None  # the training UI, set by install_training_ui
        self.setWindowTitle("NetStudio")
        self.setWindowIcon(icons.app_icon())
        self.setGeometry(layout.first_geometry(self.screen().availableGeometry()))
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        self.docks: dict[str, QDockWidget] = {}
        self.dock_places: dict[str, str] = {}
        self._layout_settled = False  # docks added later are placed by restoreDockWidget or their group
        # the first-run layout follows the window's size until the app starts for good (the window
        # manager may resize a new window, maximize it) or a saved layout is restored
        self.auto_layout = True
        self._auto_layout_ends = False
        for name, title, place in DOCKS:
            self.add_dock(name, title, QLabel(""), place)
        from .training.docks import add_training_docks

        add_training_docks(self, placeholder=True)  # "loading" until the training UI fills them: the whole layout at once
        from .dock_titles import hide_titles_when_tabbed

        self._titles = hide_titles_when_tabbed(self)  # tabbed docks: the tab names them, no title bar under it
        loading = QLabel("Loading the layer library…")
        loading.setObjectName("empty")
        loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # the canvas joins this stack later: replacing a shown window's central widget would make
        # Qt refit the docks to their size hints and squeeze the canvas to a sliver
        self.center = QStackedWidget(self)
        self.center.addWidget(loading)
        self.setCentralWidget(self.center)
        self.status_problems = QLabel("")
        self.status_size = QLabel("")
        self.statusBar().addPermanentWidget(self.status_size)
        self.statusBar().addPermanentWidget(self.status_problems)
        self.statusBar().showMessage("Starting…")
        self.apply_default_layout()
        if document is not None:
            self.attach(document)

    # ---- docks --------------------------------------------------------------------------------
    def add_dock(self, name: str, title: str, widget=None, place: str = "properties", *,
                 scroll: bool = False) -> QDockWidget:
        """The window's one way to get a dock: made once per `name` (later calls return it and, given
        a `widget`, put that in it), listed in View > Panels, placed by the default layout by its
        `place` (see studio.ui.layout.PLACES) and kept in the saved layout (object name dock_NAME).
        A `scroll` dock holds its widget in a scroll area: it may be made smaller than the widget's
        minimum (a short screen) and scrolls instead of squeezing or clipping it."""
        if place not in layout.PLACES:
            raise ValueError(f"dock place {place!r} is not one of {', '.join(layout.PLACES)}")
        dock = self.docks.get(name)
        if dock is None:
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{name}")
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.docks[name], self.dock_places[name] = dock, place
            if scroll:
                area = DockScroll(dock)
                area.setObjectName(f"scroll_{name}")
                dock.setWidget(area)
            if self._layout_settled:
                self._place_late(dock, place)
            else:
                self.addDockWidget(_PLACE_AREAS[place], dock)  # until the layout puts it in its group
            if self.panels_menu is not None:
                self.panels_menu.addAction(dock.toggleViewAction())
        holder = dock.widget() if isinstance(dock.widget(), QScrollArea) else None
        if widget is not None and widget is not (holder.widget() if holder is not None else dock.widget()):
            old = holder.takeWidget() if holder is not None else dock.widget()
            if holder is not None:
                holder.setWidget(widget)
            else:
                dock.setWidget(widget)
            if old is not None:
                old.hide()  # at once: deleted on a later turn, it would show under the new one till then
                old.deleteLater()
        return dock

    def _place_late(self, dock: QDockWidget, place: str) -> None:
        """A dock added after the layout was set: where the restored layout had it, else in its group."""
        self.addDockWidget(_PLACE_AREAS[place], dock)
        if self.restoreDockWidget(dock):
            return
        group = [d for n, d in self.docks.items() if self.dock_places[n] == place and d is not dock
                 and not d.isFloating()]
        if group:
            self.tabifyDockWidget(group[0], dock)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.auto_layout and self.isVisible():
            self.apply_default_layout()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.auto_layout:
            self.apply_default_layout()  # now at the window's real size
            self.auto_layout = not self._auto_layout_ends

    def apply_default_layout(self) -> None:
        """The first-run layout for the window's current size (also View > Reset Panel Layout)."""
        toolbars = [self.toolbar] if self.toolbar is not None else []
        layout.apply_default_layout(self, self.docks, self.dock_places, toolbars)
        self._titles.refresh()

    # ---- building the views -------------------------------------------------------------------
    def attach(self, document, canvas=None, *, later: bool = False) -> None:
        """Build the canvas (or use `canvas`), panels, actions and menus for `document` (once). With
        `later`, the costly rest (the training UI) waits for `attach_rest()`: the app calls it once the
        canvas has painted the graph."""
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
        self.center.addWidget(self.canvas)
        self.center.setCurrentWidget(self.canvas)
        loading = self.center.widget(0)
        self.center.removeWidget(loading)
        loading.deleteLater()
        self.palette = PaletteWidget(default_registry(), self)
        self.inspector = InspectorPanel(document, self)
        self.problems = ProblemsPanel(document, self)
        self.summary = SummaryPanel(document, self)
        for (name, title, place), widget in zip(DOCKS, (self.palette, self.inspector, self.problems, self.summary)):
            self.add_dock(name, title, widget, place)

        self.actions_ = a = _actions.build_actions(self)
        _actions.build_menus(self, a)
        self.toolbar = _actions.build_toolbar(self, a)
        if hasattr(self.canvas, "canvas_scene"):  # (bench editor's bare canvas has no cards)
            from .preview import install_live_preview

            self.preview = install_live_preview(self)
        # shown now, not on the layout's next pass: on X11 the first frame with the graph was painted
        # without them, and the canvas jumped down by their height seconds later, once the training
        # UI was built (seen on a real screen; the offscreen platform orders its paints otherwise)
        self.menuBar().show()
        self.toolbar.show()
        self.canvas.addAction(a.fit)
        for dock in self.docks.values():
            self.panels_menu.addAction(dock.toggleViewAction())
        (a.theme_dark if current_theme() == "dark" else a.theme_light).setChecked(True)
        self._layout_settled = True  # (laid out in __init__; the toolbar is where reset puts it too)

        self.palette.add_requested.connect(self.add_node_at_center)
        if hasattr(self.canvas, "add_block_at_center"):  # (bench editor's bare canvas has no blocks)
            self.palette.block_requested.connect(self.canvas.add_block_at_center)
            self.palette.follow_level(self.canvas.document)  # block ports only inside a block
            self.canvas.library_changed.connect(lambda: self.refresh_blocks(reload_library=True))
        self.refresh_blocks(reload_library=True)
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
        self.statusBar().showMessage("Ready", 3000)
        self.canvas.setFocus()
        if not later:
            self.attach_rest()

    def attach_rest(self) -> None:
        """What `attach(..., later=True)` leaves for after the first frame: the training UI (its plots
        import pyqtgraph, its pre-flight check imports torch and the dataset) and the warm-up of the
        analyzer's counts (torch again, on a thread that would compete with the first paint)."""
        if self.training is not None:
            return
        from .training import install_training_ui  # fills the training docks (issue 6)

        install_training_ui(self, self.document, self.canvas)
        stats_service.service().warm_up()  # off the GUI thread
        self._auto_layout_ends = True  # once shown: from then on the person's (a resize keeps their sizes)
        if self.isVisible():
            self.auto_layout = False

    def fit_to_graph(self, max_zoom: float = 1.0) -> None:
        """Fit the whole graph in the view, but never zoom in beyond `max_zoom` (100%)."""
        self.canvas.fit_all()
        canvas = self.canvas
        scale = canvas.transform().m11()
        if scale > max_zoom:
            canvas.scale(max_zoom / scale, max_zoom / scale)
            scene = canvas.scene()
            if scene is not None:
                canvas.centerOn(scene.itemsBoundingRect().center())

    # ---- helpers used by actions --------------------------------------------------------------
    def add_node_at_center(self, type_name: str) -> None:
        self.canvas.add_node_at_center(type_name)
        self.canvas.setFocus()

    def center_on_node(self, node_id: str) -> None:
        if hasattr(self.canvas.document, "show_path"):  # the level it is at (a dotted path: inside a block)
            node_id = self.canvas.document.show_path(node_id) or node_id
        else:
            self.document.set_selection([node_id])
        self.canvas.center_on_node(node_id)

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
        counted = not model.counting and len(model.infos) == n  # (not the previous graph's total)
        params = f" · {model.total_params:,} parameters" if counted else ""
        self.status_size.setText(f"{n} node{'s' if n != 1 else ''}{params}")

    def _on_graph_event(self, event) -> None:
        if event.kind in (GraphEventKind.NODE_ADDED, GraphEventKind.NODE_REMOVED, GraphEventKind.RESET):
            self._show_size()
        if event.kind in (GraphEventKind.RESET, GraphEventKind.BLOCKS_CHANGED) and (
                event.kind is GraphEventKind.RESET or event.value is None):  # a definition came, went, was renamed
            self.refresh_blocks()

    def refresh_blocks(self, reload_library: bool = False) -> None:
        """The palette's Blocks category (the project's definitions; the library re-read when asked),
        and the library files it skipped in the problems list."""
        self.problems.set_library_problems(self.palette.refresh_blocks(self.document.graph, reload_library))

    def _on_locked(self, locked: bool) -> None:
        for name in ("cut", "paste", "duplicate", "delete", "quick_add", "auto_layout", "group", "ungroup"):
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

    def import_model(self) -> bool:
        from .import_dialog import import_model_dialog

        return import_model_dialog(self)

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
        self.canvas.set_theme(name)
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
        self.apply_default_layout()

    def restore_geometry(self) -> bool:
        """The remembered window geometry (Qt keeps it on a screen); False when there is none."""
        if self.use_settings:
            geometry = app_settings().value("window/geometry")
            if isinstance(geometry, QByteArray):
                return self.restoreGeometry(geometry)
        return False

    def restore_state(self) -> None:
        """The remembered dock layout (after `attach`, which sets the default sizes)."""
        if not self.use_settings:
            return
        state = app_settings().value("window/state")
        if isinstance(state, QByteArray) and self.restoreState(state, STATE_VERSION):
            self.auto_layout = False

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
        if getattr(self, "preview", None) is not None:
            self.preview.shutdown()  # its thread ends with the run in flight
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
                            a.duplicate, a.delete, a.select_all, a.auto_layout, a.group, a.ungroup, a.fit, a.zoom_in,
                            a.zoom_out)]
        rows.insert(0, ("Quick add a layer (on the canvas)", "Tab"))
        return dialogs.show_shortcuts(self, rows)

    def show_about(self) -> None:
        from studio import __version__

        QMessageBox.about(self, "About NetStudio",
                          f"<b>NetStudio {__version__}</b><p>Build PyTorch networks visually: drag layers, "
                          "wire them, see every shape, train and export.</p>")

