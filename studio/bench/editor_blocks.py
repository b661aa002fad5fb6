"""`bench editor`'s block case: a ResNet-50 built from the built-in Bottleneck block (torchvision's
layout: a 7x7 stem, four stages of 3, 4, 6 and 3 Bottlenecks, the first of each with a projection
shortcut), 16 block copies where the flat graph has about 170 nodes.

- open: load the file + first analysis + the main window's views, shown offscreen (as for the
  generated graphs);
- edit: one exposed-param edit (the width `planes` of stage 3, six copies; a new value each time),
  pushed as an undoable SetParam through the document until every synchronous view has updated, with
  the block selected (as when a person edits it in the inspector), then with the classifier selected;
  the analysis reuses a definition's result for equal values and input shapes, so the edit re-analyses
  one stage (its first copy and the five equal ones once);
- revalidate: the core analysis alone after the same edit.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

BLOCKS = Path(__file__).resolve().parents[2] / "resources" / "blocks"
STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))  # planes, blocks, stride (torchvision's)
EDITED = "layer3"


def width(i: int) -> int:
    """Stage 3's planes at edit i: a new value each time, so no edit finds its stage's result cached."""
    return 192 + 8 * i


def resnet50_record(image: int = 224, classes: int = 1000) -> dict:
    """The project record of a ResNet-50 of Bottleneck blocks (torchvision.models.resnet50's layers,
    names and parameter count)."""
    library = json.loads((BLOCKS / "bottleneck.json").read_text(encoding="utf-8"))["blocks"]
    step = 230
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [3, image, image]}, "pos": [0, 0]},
             {"id": "conv1", "type": "Conv2d", "params": {"out_channels": 64, "kernel_size": 7, "stride": 2,
                                                          "padding": 3, "bias": False}, "pos": [step, 0]},
             {"id": "bn1", "type": "BatchNorm2d", "params": {}, "pos": [2 * step, 0]},
             {"id": "relu", "type": "ReLU", "params": {}, "pos": [3 * step, 0]},
             {"id": "maxpool", "type": "MaxPool2d", "params": {"kernel_size": 3, "stride": 2, "padding": 1},
              "pos": [4 * step, 0]}]
    for i, (planes, count, stride) in enumerate(STAGES, 1):
        nodes.append({"id": f"layer{i}", "type": "Block", "block": "Bottleneck", "repeat": count,
                      "first": {"stride": stride, "downsample": True},
                      "params": {"planes": planes, "out_channels": planes * 4}, "pos": [(4 + i) * step, 0]})
    nodes += [{"id": "avgpool", "type": "AdaptiveAvgPool2d", "params": {"output_size": 1}, "pos": [9 * step, 0]},
              {"id": "flatten", "type": "Flatten", "params": {}, "pos": [10 * step, 0]},
              {"id": "fc", "type": "Linear", "params": {"out_features": classes}, "pos": [11 * step, 0]},
              {"id": "output", "type": "Output", "params": {}, "pos": [12 * step, 0]}]
    edges = [{"source": a["id"], "target": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"format": "netstudio", "version": 2, "name": "ResNet-50 of Bottleneck blocks", "nodes": nodes,
            "edges": edges, "blocks": library}


def measure_resnet50(folder: Path, opens: int, edits: int, app, progress=None) -> dict:
    from studio.core.analysis import Analyzer
    from studio.core.project import load_project
    from studio.ui.commands import SetParam
    from studio.ui.document import Document

    from .editor_common import close_window, figures, open_window

    progress = progress or (lambda text: None)
    path = folder / "resnet50_blocks.json"
    path.write_text(json.dumps(resnet50_record()), encoding="utf-8")
    open_s, model_s = [], []
    window = None
    for k in range(opens):
        progress(f"ResNet-50 of blocks: open {k + 1}/{opens}")
        close_window(window, app)
        t0 = time.perf_counter()
        document = Document(load_project(path))
        model_s.append(time.perf_counter() - t0)
        window = open_window(document, app)
        open_s.append(time.perf_counter() - t0)
    document = window.document
    ok = document.analysis.ok
    window.summary.model.finish()
    by_case = {}
    # as a person edits it: the block selected, its params in the inspector (which recounts its stats);
    # then with a layer the edit leaves alone selected, to tell the inspector's share from the rest
    for key, selected, offset in (("edit_ms", EDITED, 0), ("edit_ms_other_selected", "fc", edits)):
        document.set_selection([selected])
        app.processEvents()
        progress(f"ResNet-50 of blocks: {edits} edits of {EDITED}.planes, {selected} selected")
        times = []
        for i in range(offset, offset + edits):
            t0 = time.perf_counter()
            document.push(SetParam(document.graph, EDITED, "planes", width(i)))
            times.append((time.perf_counter() - t0) * 1e3)
            window.summary.model.finish()
            app.processEvents()
        by_case[key] = figures(times)
    ok = ok and document.analysis.ok
    document.undo_stack.setClean()  # closing must not stop at the unsaved-changes prompt
    close_window(window, app)
    graph = load_project(path).graph
    analyzer = Analyzer(graph)
    analyzer.analysis()
    core_ms = []
    for i in range(edits):
        graph.set_param(EDITED, "planes", width(i))
        t0 = time.perf_counter()
        analyzer.analysis()
        core_ms.append((time.perf_counter() - t0) * 1e3)
    return {"case": "resnet50_blocks", "nodes": len(graph), "blocks": len(graph.blocks), "valid": ok,
            "open_s": figures(open_s), "load_and_analysis_s": figures(model_s), **by_case,
            "revalidate_ms": figures(core_ms)}
