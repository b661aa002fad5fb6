"""Copy and paste through the system clipboard: the nodes and the wires between them as JSON
(`graph.subgraph_data`), under our own MIME type and as plain text."""
from __future__ import annotations

import atexit
import json

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

from studio.core.graph import GraphError, check_node_id

GRAPH_MIME = "application/x-netstudio-graph"


def put(data: dict) -> None:
    text = json.dumps({"format": "netstudio-clip", **data}, indent=1)
    mime = QMimeData()
    mime.setData(GRAPH_MIME, text.encode("utf-8"))
    mime.setText(text)
    QApplication.clipboard().setMimeData(mime)
    _release_at_exit()


_registered = False


def _release_at_exit() -> None:
    """PySide6 crashes at interpreter exit (SIGSEGV) when the clipboard still owns a QMimeData made
    in Python: both sides free it. Hand it back before Python finalises."""
    global _registered
    if not _registered:
        atexit.register(_clear_clipboard)
        _registered = True


def _clear_clipboard() -> None:
    app = QApplication.instance()
    if app is not None and app.clipboard().mimeData() is not None \
            and app.clipboard().mimeData().hasFormat(GRAPH_MIME):
        app.clipboard().clear()


def get() -> dict | None:
    """The copied nodes and wires, or None when the clipboard holds nothing we can paste."""
    mime = QApplication.clipboard().mimeData()
    if mime is None:
        return None
    if mime.hasFormat(GRAPH_MIME):
        text = bytes(mime.data(GRAPH_MIME)).decode("utf-8", "replace")
    elif mime.hasText():
        text = mime.text()
    else:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if valid(data) else None


def valid(data) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not data["nodes"]:
        return False
    for rec in data["nodes"]:
        if not (isinstance(rec, dict) and isinstance(rec.get("id"), str) and isinstance(rec.get("type"), str)
                and isinstance(rec.get("params", {}), dict)):
            return False
        try:
            check_node_id(rec["id"])
        except GraphError:
            return False
        pos = rec.get("pos")
        if not (isinstance(pos, (list, tuple)) and len(pos) == 2 and all(isinstance(v, (int, float)) for v in pos)):
            return False
    edges = data.get("edges", [])
    return isinstance(edges, list) and all(isinstance(e, dict) and isinstance(e.get("source"), str)
                                           and isinstance(e.get("target"), str) for e in edges)


def bounds_origin(data: dict) -> tuple[float, float]:
    xs = [rec["pos"][0] for rec in data["nodes"]]
    ys = [rec["pos"][1] for rec in data["nodes"]]
    return min(xs), min(ys)
