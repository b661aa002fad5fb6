"""`python -m studio bench editor`: how the editor keeps up with large graphs.

For generated graphs of about 100, 1,000 and 5,000 nodes (a stem, then residual blocks of real layers:
Conv2d -> BatchNorm2d -> ReLU -> Conv2d -> BatchNorm2d -> Add(shortcut) -> ReLU, with pooling, and a
classifier head) it measures:

- open: load the file + first analysis + building the main window's views (canvas, palette,
  inspector, problems, analyzer table) and showing it, offscreen;
- edit: one param change near the input (the Input's image size, which changes every downstream
  shape), pushed as an undoable SetParam through the document, until every synchronous view
  (analysis, problems, analyzer table shapes, canvas, inspector) has updated;
- revalidate: the core analysis alone after the same edit (no Qt);
- stats: the analyzer table's parameter and FLOP counts after the edit (filled in idle time slices,
  so they never block the window; reported separately).

Then a ResNet-50 built from Bottleneck blocks (editor_blocks.py): open, and an edit of an exposed param.

Median and p95 of the repeats. Targets (DESIGN.md): edit < 50 ms and open < 1 s at 1,000 nodes, and
for the ResNet-50 of blocks (issue 15).
The layer library (torch) is loaded once before any timing; opening a file never imports it again.
"""
from __future__ import annotations

from .editor_common import close_window, figures, open_window
from .editor_graph import generate_graph, write_project

import json
import os
import tempfile
import time
from pathlib import Path

SIZES = (100, 1000, 5000)
EDIT_TARGET_MS = 50.0
OPEN_TARGET_S = 1.0


def measure_size(n: int, folder: Path, opens: int, edits: int, app, progress=None) -> dict:
    from studio.core.analysis import Analyzer
    from studio.core.project import load_project

    from studio.ui.commands import SetParam
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    progress = progress or (lambda text: None)
    graph = generate_graph(n)
    path = write_project(graph, folder, n)
    open_s, load_s, analyse_s = [], [], []
    window = None
    for k in range(opens):
        progress(f"{n} nodes: open {k + 1}/{opens}")
        close_window(window, app)
        t0 = time.perf_counter()
        project = load_project(path)
        t1 = time.perf_counter()
        document = Document(project)
        t2 = time.perf_counter()
        window = open_window(document, app)
        t3 = time.perf_counter()
        open_s.append(t3 - t0)
        load_s.append(t1 - t0)
        analyse_s.append(t2 - t1)
    document = window.document
    ok = document.analysis.ok
    model = window.summary.model
    t = time.perf_counter()
    model.finish()
    first_stats_s = time.perf_counter() - t
    document.set_selection(["stem_conv"])  # the inspector shows a node downstream of the edit
    app.processEvents()

    edit_ms, stats_ms = [], []
    sizes = (40, 32)  # 32 -> 4x4 after the pools, 40 -> 5x5: every downstream shape changes
    progress(f"{n} nodes: {edits} edits with every view, then without the canvas, then the core alone")
    for i in range(edits):
        value = [3, sizes[i % 2], sizes[i % 2]]
        t0 = time.perf_counter()
        document.push(SetParam(document.graph, "input", "shape", value))
        t1 = time.perf_counter()
        edit_ms.append((t1 - t0) * 1e3)
        assert window.inspector.shape_text().get("Output", "").endswith(f"{sizes[i % 2]}]"), "stale shapes"
        model.finish()
        stats_ms.append((time.perf_counter() - t1) * 1e3)
        app.processEvents()
    document.undo_stack.setClean()
    window.close()
    window.deleteLater()
    app.processEvents()
    # the same edits with the window's own views but a bare canvas: what the canvas costs
    from .bare_canvas import BareCanvas

    document = Document(load_project(path))
    window = MainWindow(use_settings=False)
    window.resize(1600, 1000)
    window.attach(document, canvas=BareCanvas(document))
    window.show()
    document.set_selection(["stem_conv"])
    app.processEvents()
    bare_ms = []
    for i in range(edits):
        t0 = time.perf_counter()
        document.push(SetParam(document.graph, "input", "shape", [3, sizes[i % 2], sizes[i % 2]]))
        bare_ms.append((time.perf_counter() - t0) * 1e3)
        window.summary.model.finish()
        app.processEvents()
    # the core alone, on a fresh graph (no Qt, no views)
    core_graph = load_project(path).graph
    analyzer = Analyzer(core_graph)
    analyzer.analysis()
    core_ms = []
    for i in range(edits):
        core_graph.set_param("input", "shape", [3, sizes[i % 2], sizes[i % 2]])
        t0 = time.perf_counter()
        analyzer.analysis()
        core_ms.append((time.perf_counter() - t0) * 1e3)
    document.undo_stack.setClean()  # closing must not stop at the unsaved-changes prompt
    window.close()
    window.deleteLater()
    app.processEvents()
    return {"nodes": len(graph), "edges": len(graph.edges), "valid": ok,
            "open_s": figures(open_s), "load_s": figures(load_s), "first_analysis_s": figures(analyse_s),
            "first_stats_s": first_stats_s,
            "edit_ms": figures(edit_ms), "edit_ms_without_canvas": figures(bare_ms), "revalidate_ms": figures(core_ms), "stats_ms": figures(stats_ms)}


def run(args) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from studio.core.registry import default_registry
    from studio.ui.theme import apply_theme

    from .progress import Progress
    from .qt import quiet_platform_warnings

    quiet_platform_warnings()
    app = QApplication.instance() or QApplication(["netstudio-bench"])
    from studio.ui.gc_thread import collect_on_gui_thread

    collect_on_gui_thread()  # as the app does
    apply_theme("dark")
    from studio.ui import stats_service

    progress = Progress("editor")
    progress("loading the layer library and warming up the FLOP counter")
    t = time.perf_counter()
    default_registry()
    registry_s = time.perf_counter() - t
    t = time.perf_counter()
    stats_service.service().warm_up(wait=True)  # the one-time torch._dynamo import of the FLOP counter
    warmup_s = time.perf_counter() - t
    quick = getattr(args, "quick", False)
    sizes = (100, 1000) if quick else SIZES
    opens, edits = (2, 5) if quick else (5, 30)

    canvas_kind = "CanvasView"  # the window's own canvas (the bare one is measured beside it)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, n in enumerate(sizes, 1):
            results.append(measure_size(n, Path(tmp), opens if n < 5000 else max(2, opens // 2), edits, app,
                                        lambda text, i=i: progress(f"size {i}/{len(sizes)}, {text}")))
            r = results[-1]
            progress.result(f"{n:>6} nodes: open {r['open_s']['median']:.3f} s, edit {r['edit_ms']['median']:.1f} ms")
        from .editor_blocks import measure_resnet50

        blocks = measure_resnet50(Path(tmp), opens, edits, app, lambda text: progress(f"blocks, {text}"))
        progress.result(f"ResNet-50 of blocks: open {blocks['open_s']['median']:.3f} s, exposed-param edit "
                        f"{blocks['edit_ms']['median']:.1f} ms")
    if getattr(args, "preview", False):
        from . import editor_preview

        with tempfile.TemporaryDirectory() as tmp:
            preview = {"templates": editor_preview.measure_templates(4 if quick else 10,
                                                                     lambda text: progress(text)),
                       "window": editor_preview.measure_window(1000, Path(tmp), 8 if quick else 40, app,
                                                               lambda text: progress(f"preview, {text}"))}
    else:
        preview = None
    at_1000 = next((r for r in results if r["nodes"] == 1000), None)
    out = {"suite": "editor", "canvas": canvas_kind, "registry_load_s": registry_s, "stats_warmup_s": warmup_s, "sizes": results,
           "targets": {"edit_ms": EDIT_TARGET_MS, "open_s": OPEN_TARGET_S}}
    if at_1000:
        out["edit_ms_1000_median"] = at_1000["edit_ms"]["median"]
        out["open_s_1000_median"] = at_1000["open_s"]["median"]
        out["meets_targets"] = (at_1000["edit_ms"]["median"] < EDIT_TARGET_MS
                                and at_1000["open_s"]["median"] < OPEN_TARGET_S)
    out["resnet50_blocks"] = blocks
    if preview is not None:
        out["preview"] = preview
        w = preview["window"]
        out["preview_meets_targets"] = (w["edit_ms_preview_on"]["median"] < EDIT_TARGET_MS
                                        and w["last_edit_previewed"]
                                        and all(r["input_edit_ms"] is None
                                                or r["input_edit_ms"]["median"] < EDIT_TARGET_MS
                                                for r in preview["templates"]))
    out["resnet50_meets_targets"] = (blocks["valid"] and blocks["edit_ms"]["median"] < EDIT_TARGET_MS
                                     and blocks["open_s"]["median"] < OPEN_TARGET_S)
    if getattr(args, "json", False):
        print(json.dumps(out, indent=2))
        return 0
    print(f"editor benchmark (canvas: {canvas_kind}); once per process, not timed below: layer library "
          f"{registry_s:.2f} s, FLOP-counter warm-up {warmup_s:.2f} s")
    print("  open: load + analysis + window views; edit: Input size change -> every view updated;")
    print("  bare: the same edit without the canvas; core: analysis alone; stats: params/FLOPs recount")
    cols = ("open s", "edit ms", "bare ms", "core ms", "stats ms")
    print(f"{'nodes':>6} " + " ".join(f"{c:>15}" for c in cols))
    print(f"{'':>6} " + " ".join(f"{'median / p95':>15}" for _ in cols))
    for r in results:
        cells = []
        for key, fmt in (("open_s", "{:.3f}"), ("edit_ms", "{:.1f}"), ("edit_ms_without_canvas", "{:.1f}"),
                         ("revalidate_ms", "{:.1f}"), ("stats_ms", "{:.1f}")):
            f = r[key]
            cells.append(f"{fmt.format(f['median'])} / {fmt.format(f['p95'])}".rjust(15))
        print(f"{r['nodes']:>6} " + " ".join(cells))
    b = blocks
    verdict = "meets" if out["resnet50_meets_targets"] else "MISSES"
    print(f"ResNet-50 of Bottleneck blocks ({b['nodes']} nodes, {b['blocks']} definitions): open "
          f"{b['open_s']['median']:.3f} / {b['open_s']['p95']:.3f} s (load + analysis "
          f"{b['load_and_analysis_s']['median']:.3f} s), exposed-param edit {b['edit_ms']['median']:.1f} / "
          f"{b['edit_ms']['p95']:.1f} ms (fc selected: {b['edit_ms_other_selected']['median']:.1f} ms), core {b['revalidate_ms']['median']:.1f} ms (targets < {OPEN_TARGET_S:.0f} s, "
          f"< {EDIT_TARGET_MS:.0f} ms): {verdict} the targets")
    if preview is not None:
        _print_preview(preview, out["preview_meets_targets"])
    if at_1000:
        verdict = "meets" if out["meets_targets"] else "MISSES"
        print(f"1,000 nodes: edit {out['edit_ms_1000_median']:.1f} ms (target < {EDIT_TARGET_MS:.0f}), "
              f"open {out['open_s_1000_median']:.3f} s (target < {OPEN_TARGET_S:.0f}): {verdict} the targets")
    return 0


def _print_preview(preview: dict, meets: bool) -> None:
    print("live preview (--preview): compute per edit, ms median / p95 (Input normalisation: every node "
          "runs; last layer: the caches keep the rest)")
    for r in preview["templates"]:
        cells = []
        for key in ("input_edit_ms", "last_layer_edit_ms"):
            f = r[key]
            cells.append("—".rjust(15) if f is None else f"{f['median']:.1f} / {f['p95']:.1f}".rjust(15))
        print(f"  {r['template']:<24} {r['nodes']:>4} nodes " + " ".join(cells)
              + (f"  ({r['note']})" if r["note"] else ""))
    w = preview["window"]
    off, on = w["edit_ms_preview_off"], w["edit_ms_preview_on"]
    print(f"  {w['nodes']:,} nodes, the bench's edit in the window: preview off {off['median']:.1f} / "
          f"{off['p95']:.1f} ms, on {on['median']:.1f} / {on['p95']:.1f} ms; one preview "
          f"{w['preview_ms']:.0f} ms; {w['previews_computed']} previews for {w['edits_with_preview_on']} edits, "
          f"last edit previewed: {w['last_edit_previewed']} ({w['settle_after_last_edit_s']:.2f} s after it)")
    print(f"  preview: {'meets' if meets else 'MISSES'} the targets (< {EDIT_TARGET_MS:.0f} ms)")
