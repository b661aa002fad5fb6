"""Helpers for the canvas tests: views on documents, where ports and cards are on screen, and mouse
gestures sent as real events to the view's viewport (press, several moves, release)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.core.project import Project, load_project
from studio.ui.canvas import NODE_MIME, CanvasView
from studio.ui.document import Document

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"


def make_view(qtbot, project: Project | None = None, size=(1200, 800)) -> CanvasView:
    doc = Document(project or Project())
    view = CanvasView(doc)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.fit_all()
    view.reset_zoom()
    view.setFocus()
    return view


def template_view(qtbot, name: str, **kw) -> CanvasView:
    return make_view(qtbot, load_project(TEMPLATES / f"{name}.json"), **kw)


@pytest.fixture
def canvas(qtbot) -> CanvasView:
    """An empty document in a 1200x800 view at 100% zoom, centred on the scene origin."""
    view = make_view(qtbot)
    view.centerOn(400, 200)
    return view


def double_click(widget, pos: QPoint) -> None:
    """A real double click: press and release, then the double-click press and its release (Qt 6's
    QTest.mouseDClick leaves the button down, so later tests' mouse moves were drags, not hovers)."""
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    QTest.mouseDClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)


# ---- where things are (viewport coordinates) ----------------------------------------------------
def to_view(view: CanvasView, scene_point: QPointF) -> QPoint:
    return view.mapFromScene(scene_point)


def port_item(view: CanvasView, node_id: str, port: str | None = None, output: bool = True):
    node = view.canvas_scene.nodes[node_id]
    return node.output_port(port) if output else node.input_port(port)


def port_pos(view: CanvasView, node_id: str, port: str | None = None, output: bool = True) -> QPoint:
    return to_view(view, port_item(view, node_id, port, output).scenePos())


def card_pos(view: CanvasView, node_id: str) -> QPoint:
    """The middle of a card's header: a place to grab the card (not near a port)."""
    node = view.canvas_scene.nodes[node_id]
    rect = node.sceneBoundingRect()
    return to_view(view, QPointF(rect.center().x(), node.scenePos().y() + 12))


def empty_pos(view: CanvasView, near: QPoint, dx: int = 0, dy: int = 0) -> QPoint:
    """A viewport point offset from `near` with nothing under it (asserted)."""
    p = QPoint(near.x() + dx, near.y() + dy)
    assert view.item_at(QPointF(p)) is None, f"{p} is not empty canvas"
    return p


# ---- gestures ---------------------------------------------------------------------------------
def drag(view: CanvasView, start: QPoint, end: QPoint, steps: int = 8, button=Qt.LeftButton,
         modifiers=Qt.NoModifier) -> None:
    """Press at start, move in steps (offscreen platforms need the intermediate moves), release."""
    vp = view.viewport()
    QTest.mouseMove(vp, start)
    QTest.mousePress(vp, button, modifiers, start)
    for i in range(1, steps + 1):
        t = i / steps
        QTest.mouseMove(vp, QPoint(round(start.x() + (end.x() - start.x()) * t),
                                   round(start.y() + (end.y() - start.y()) * t)))
    QTest.mouseRelease(vp, button, modifiers, end)
    QApplication.processEvents()


def click(view: CanvasView, pos: QPoint, modifiers=Qt.NoModifier) -> None:
    QTest.mouseMove(view.viewport(), pos)
    QTest.mouseClick(view.viewport(), Qt.LeftButton, modifiers, pos)


def wire(view: CanvasView, src: str, dst: str, src_port: str | None = None, dst_port: str | None = None) -> None:
    """Drag from an output port to an input port."""
    drag(view, port_pos(view, src, src_port, True), port_pos(view, dst, dst_port, False))


def drop_node(view: CanvasView, type_name: str, pos: QPoint) -> bool:
    """A palette drag arriving on the canvas: drag-enter, then drop, with our MIME data."""
    mime = QMimeData()
    mime.setData(NODE_MIME, type_name.encode("utf-8"))
    return drop_mime(view, mime, pos)


def drop_mime(view: CanvasView, mime: QMimeData, pos: QPoint) -> bool:
    """A drag of `mime` arriving on the canvas at `pos`: drag-enter, then drop (False: refused)."""
    try:  # Qt 6.12 takes a QPointF (the QPoint form is deprecated there); earlier ones a QPoint
        enter = QDragEnterEvent(QPointF(pos), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    except TypeError:
        enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(pos), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), drop)
    return drop.isAccepted()


def key(view: CanvasView, k, modifiers=Qt.NoModifier, text: str = "") -> None:
    QTest.keyClick(view, k, modifiers)


def edges(view: CanvasView) -> set[tuple]:
    return {(e.source, e.target, e.source_port, e.target_port) for e in view.document.graph.edges}


def snapshot(view: CanvasView) -> tuple:
    """The graph as plain data (nodes with params and positions, wires in order)."""
    g = view.document.graph
    return (tuple((n.id, n.type, tuple(sorted(n.params.items(), key=str)), tuple(n.pos)) for n in g.nodes.values()),
            tuple(g.edges))
