"""The open document: a project, its undo stack and its live analysis, as Qt signals.

Views (canvas, inspector, problems, summary) read the graph and the analysis from here and edit only
by pushing commands (studio.ui.commands) onto `undo_stack`."""
from __future__ import annotations

import gc
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.analysis import Analysis, Analyzer
from studio.core.graph import GraphEvent, GraphEventKind
from studio.core.project import Project


class Document(QObject):
    graph_changed = Signal(object)  # a GraphEvent, as the core graph emitted it
    analysis_changed = Signal(object)  # the new Analysis, after every structural change
    path_changed = Signal(object)  # Path | None
    saved = Signal(object, object)  # the path before (None: untitled) and the file written
    modified_changed = Signal(bool)
    selection_changed = Signal(list)  # selected node ids (set by the canvas)
    locked_changed = Signal(bool)  # editing blocked while a run trains
    training_changed = Signal(object)  # the project's new training section (Project.set_training)

    def __init__(self, project: Project | None = None, parent=None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._unsubscribe = None
        self._unsubscribe_training = None
        self._analysis_due = False  # a held edit changed the structure; analyse at its end
        self._selection: list[str] = []
        self._locked = False
        self.set_project(project or Project())

    # ---- project ------------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._project

    @property
    def graph(self):
        return self._project.graph

    @property
    def path(self) -> Path | None:
        return self._project.path

    def set_project(self, project: Project) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        if self._unsubscribe_training:
            self._unsubscribe_training()
        self._project = project
        self._unsubscribe_training = project.subscribe_training(self.training_changed.emit)
        self.analyzer = Analyzer(project.graph)  # loads the layer library (and torch) the first time
        _freeze_startup_heap()
        self._unsubscribe = project.graph.subscribe(self._on_graph_event)
        self.undo_stack.clear()
        self._selection = []
        self.graph_changed.emit(GraphEvent(GraphEventKind.RESET))
        self.analysis_changed.emit(self.analysis)
        self.path_changed.emit(project.path)
        self.modified_changed.emit(False)

    @property
    def analysis(self) -> Analysis:
        return self.analyzer.analysis()

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def save(self, path: Path | None = None) -> Path:
        before = self._project.path
        target = self._project.save(path)
        self.undo_stack.setClean()
        self.path_changed.emit(target)
        self.saved.emit(before, target)
        return target

    # ---- editing ------------------------------------------------------------------------------
    def push(self, command: QUndoCommand) -> bool:
        """Apply an edit (undoably); refused while a run holds the graph."""
        if self._locked:
            return False
        self.undo_stack.push(command)
        return True

    @property
    def locked(self) -> bool:
        return self._locked

    def set_locked(self, locked: bool) -> None:
        if locked != self._locked:
            self._locked = locked
            self.locked_changed.emit(locked)

    # ---- selection ----------------------------------------------------------------------------
    @property
    def selection(self) -> list[str]:
        return list(self._selection)

    def set_selection(self, node_ids) -> None:
        ids = [n for n in node_ids if n in self.graph]
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit(ids)

    # A declared slot: it is in the class's meta-object. A plain method connected to a signal is
    # registered in a meta-object of this instance that PySide keeps in its __dict__; the garbage
    # collector clears that dict first when a Document is caught in a cycle, while the C++ object
    # and the stack's connection live on, and a clean-state change in that collection then found
    # no slot ("Slot 'Document::' not found"; tests/ui/test_document_collected.py). A method, not
    # a lambda, so Qt disconnects it when the Document is deleted.
    @Slot(bool)
    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    # ---- events -------------------------------------------------------------------------------
    def _on_graph_event(self, event: GraphEvent) -> None:
        """Relay the event; re-analyse after a structural change, or, inside one edit made of many
        changes (a paste, a splice: `Graph.edit`), once at its end."""
        self.graph_changed.emit(event)
        if event.kind == GraphEventKind.EDIT_DONE:
            if self._analysis_due:
                self._analysis_due = False
                self.analysis_changed.emit(self.analysis)
        elif event.structural:
            if self.graph.holding:
                self._analysis_due = True
            else:
                self.analysis_changed.emit(self.analysis)


_heap_frozen = False


def _freeze_startup_heap() -> None:
    """Once the layer library is loaded, move everything allocated so far (torch, Qt, the layer
    specs: a quarter of a million objects that live as long as the process) out of the cyclic
    garbage collector's reach. A full collection then scans the graph and its analysis instead
    of the whole heap: at 5,000 nodes that turned 130-230 ms pauses in the middle of an edit into
    a few milliseconds (gc.callbacks, docs/performance.md)."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.freeze()
