"""`bench editor --preview`: what the live preview costs (docs/preview.md, docs/performance.md).

- templates: the preview of each bundled template, computed by the Qt-free engine as the worker
  does, per edit: the Input's normalisation (every node runs again: the worst case) and the last
  layer before the output (the caches keep the rest). Median and p95 of the repeats, in ms.
- window: at 1,000 nodes, the bench's edit (the Input's image size, every downstream shape changes)
  with the window's views, measured side by side in the same window with the preview off and on
  (in four runs of edits: off, on, off, on, so both see the same machine). With the preview on, an edit must stay as quick (the
  preview runs on its thread, the GUI thread only starts a timer) and the last edit must still be
  previewed: after the edits the bench waits for the preview and checks that it shows the final
  graph (deferred, not dropped), and how many of the edits were skipped on the way.
"""
from __future__ import annotations

import time
from pathlib import Path

from .editor_common import figures, open_window

WAIT_S = 120.0


def measure_templates(repeats: int, progress) -> list[dict]:
    import studio
    from studio.training.preview import PreviewEngine, PreviewRequest

    from ..ui.resources import TEMPLATES

    rows = []
    for path in sorted(Path(TEMPLATES).glob("*.json")):
        progress(f"preview of template {path.stem}")
        project = studio.load_project(path)
        graph = project.graph
        engine = PreviewEngine()
        first = engine.run(PreviewRequest(graph.copy(), project.training, path.parent))  # loads the data
        inputs = [n for n, node in graph.nodes.items() if node.type == "Input"]
        floats = [n for n in inputs if graph.nodes[n].params.get("dtype", "float32") == "float32"]
        last = _last_layer(graph)
        input_ms, last_ms = [], []
        for i in range(repeats):
            if floats:
                graph.set_param(floats[0], "mean", 0.1 * ((i % 2) + 1))
                r = engine.run(PreviewRequest(graph.copy(), project.training, path.parent))
                input_ms.append(r.ms)
            if last is not None:
                node, name, values = last
                graph.set_param(node, name, values[i % 2])
                r = engine.run(PreviewRequest(graph.copy(), project.training, path.parent))
                last_ms.append(r.ms)
        rows.append({"template": path.stem, "nodes": len(graph), "first_ms": first.ms, "note": first.note,
                     "sample": first.sample_text, "thumbs": len(first.thumbs),
                     "input_edit_ms": figures(input_ms) if input_ms else None,
                     "last_layer_edit": last[:2] if last else None,
                     "last_layer_edit_ms": figures(last_ms) if last_ms else None})
    return rows


def _last_layer(graph):
    """(node, param, two values) of an edit near the output: a Dropout's p, else a Linear's bias, else
    nothing (the edit keeps every shape)."""
    for node_id in reversed(list(graph.nodes)):
        node = graph.nodes[node_id]
        if node.type == "Linear":
            return node_id, "bias", (False, True)
        if node.type == "Dropout":
            return node_id, "p", (0.25, 0.5)
    return None


def measure_window(n: int, folder: Path, edits: int, app, progress) -> dict:
    from studio.core.project import load_project

    from studio.ui.commands import SetParam
    from studio.ui.document import Document

    from .editor_graph import generate_graph, write_project

    path = write_project(generate_graph(n), folder, n)
    window = open_window(Document(load_project(path)), app)
    document, preview = window.document, window.preview
    document.set_selection(["stem_conv"])
    preview.set_enabled(True, remember=False)
    progress(f"{n} nodes: the first preview")
    _wait(app, lambda: not preview.pending and preview.last_result is not None)
    first = preview.last_result
    sizes = (40, 32)
    off_ms, on_ms = [], []
    sent_before = preview.requests
    progress(f"{n} nodes: {edits} edits, in four runs: preview off, on, off, on")
    per_run = max(1, edits // 4)
    for i in range(4 * per_run):
        on = (i // per_run) % 2 == 1
        if preview.enabled != on:
            preview.set_enabled(on, remember=False)  # (off: its thread ends with the run in flight)
        value = [3, sizes[i % 2], sizes[i % 2]]
        t0 = time.perf_counter()
        document.push(SetParam(document.graph, "input", "shape", value))
        (on_ms if on else off_ms).append((time.perf_counter() - t0) * 1e3)
        window.summary.model.finish()
        app.processEvents()
    if not preview.enabled:
        preview.set_enabled(True, remember=False)
    final = list(document.graph.nodes["input"].params["shape"])
    t0 = time.perf_counter()
    _wait(app, lambda: not preview.pending and preview.last_result is not None
          and preview.last_result.thumbs.get("input") is not None
          and list(preview.last_result.thumbs["input"].shape) == final)
    settle_s = time.perf_counter() - t0
    last = preview.last_result
    shown = window.canvas.canvas_scene.nodes["input"].preview
    ok = shown is not None and shown.thumb is last.thumbs["input"]
    computed = preview.requests - sent_before
    preview.shutdown()
    document.undo_stack.setClean()
    window.close()
    window.deleteLater()
    app.processEvents()
    return {"nodes": n, "edit_ms_preview_off": figures(off_ms), "edit_ms_preview_on": figures(on_ms),
            "first_preview_ms": first.ms, "preview_ms": last.ms, "previews_computed": computed,
            "edits_with_preview_on": len(on_ms), "last_edit_previewed": ok, "settle_after_last_edit_s": settle_s,
            "thumbs": len(last.thumbs), "note": last.note}


def _wait(app, condition, timeout: float = WAIT_S) -> None:
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise RuntimeError("the live preview did not finish in time")
        app.processEvents()
        time.sleep(0.002)
