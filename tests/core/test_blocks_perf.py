"""A ResNet-50 built from a Bottleneck block: it matches torchvision's parameter count, and the
analysis keeps one result per (definition, param values, input types), so an edit of an exposed
param re-analyses only the copies whose key changed. Measured: opening (load + analysis + summary)
under 1 s and an exposed-param edit (re-analysis: shapes and problems) under 50 ms, the targets of
issue 15; the summary after the edit is printed beside it."""
from __future__ import annotations

import json
import time

import studio
from studio.core.analysis import Analyzer
from studio.core.project import loads_project
from studio.core.stats import _cached
from studio.core.summary import summarize


def _exposed(name, default, targets, **kw):
    return {"name": name, "kind": kw.pop("kind", "int"), "default": default, **kw,
            "targets": [{"node": n, "param": p} for n, p in targets]}


def resnet50_record() -> dict:
    def conv(k, **p):
        return {"kernel_size": k, "bias": False, **p}

    inner = [("x", "BlockInput", {}), ("conv1", "Conv2d", conv(1)), ("bn1", "BatchNorm2d", {}), ("relu1", "ReLU", {}),
             ("conv2", "Conv2d", conv(3, padding=1)), ("bn2", "BatchNorm2d", {}), ("relu2", "ReLU", {}),
             ("conv3", "Conv2d", conv(1)), ("bn3", "BatchNorm2d", {}), ("add", "Add", {}), ("relu3", "ReLU", {}),
             ("out", "BlockOutput", {})]
    chain = [a for a, _, _ in inner]
    bottleneck = {
        "params": [_exposed("planes", 64, [("conv1", "out_channels"), ("conv2", "out_channels")], min=1),
                   _exposed("out_planes", 256, [("conv3", "out_channels"), ("downsample", "planes")], min=1),
                   _exposed("stride", 1, [("conv2", "stride"), ("downsample", "stride")], min=1),
                   _exposed("downsample", False, [("downsample", "enabled")], kind="bool")],
        "nodes": [{"id": i, "type": t, "params": p, "pos": [k * 230, 0]} for k, (i, t, p) in enumerate(inner)]
        + [{"id": "downsample", "type": "Block", "block": "Down", "pos": [500, 200]}],
        "edges": [{"source": a, "target": b} for a, b in zip(chain[:9], chain[1:10])]
        + [{"source": "x", "target": "downsample"}, {"source": "downsample", "target": "add"},
           {"source": "add", "target": "relu3"}, {"source": "relu3", "target": "out"}],
    }
    down = {"sequential": True,
            "params": [_exposed("planes", 256, [("conv", "out_channels")], min=1),
                       _exposed("stride", 1, [("conv", "stride")], min=1)],
            "nodes": [{"id": "x", "type": "BlockInput"}, {"id": "conv", "type": "Conv2d", "params": conv(1)},
                      {"id": "bn", "type": "BatchNorm2d"}, {"id": "y", "type": "BlockOutput"}],
            "edges": [{"source": "x", "target": "conv"}, {"source": "conv", "target": "bn"},
                      {"source": "bn", "target": "y"}]}
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [3, 224, 224]}},
             {"id": "conv1", "type": "Conv2d", "params": conv(7, out_channels=64, stride=2, padding=3)},
             {"id": "bn1", "type": "BatchNorm2d"}, {"id": "relu", "type": "ReLU"},
             {"id": "maxpool", "type": "MaxPool2d", "params": {"kernel_size": 3, "stride": 2, "padding": 1}}]
    for i, (planes, repeat) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3))):
        first = {"downsample": True} if i == 0 else {"downsample": True, "stride": 2}
        nodes.append({"id": f"layer{i + 1}", "type": "Block", "block": "Bottleneck", "repeat": repeat,
                      "params": {"planes": planes, "out_planes": planes * 4}, "first": first})
    nodes += [{"id": "avgpool", "type": "AdaptiveAvgPool2d", "params": {"output_size": 1}},
              {"id": "flatten", "type": "Flatten"}, {"id": "fc", "type": "Linear", "params": {"out_features": 1000}}]
    for k, n in enumerate(nodes):
        n["pos"] = [k * 230, 0]
    ids = [n["id"] for n in nodes]
    return {"format": "netstudio", "version": 2, "name": "ResNet-50 from blocks", "nodes": nodes,
            "edges": [{"source": a, "target": b} for a, b in zip(ids, ids[1:])],
            "blocks": {"Down": down, "Bottleneck": bottleneck}}


def test_a_block_built_resnet50_is_torchvisions():
    import torchvision

    model = studio.build_model(loads_project(json.dumps(resnet50_record())))
    theirs = torchvision.models.resnet50()
    assert sum(p.numel() for p in model.parameters()) == 25_557_032
    assert {k: v.shape for k, v in model.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}


def _best(fn, n=3) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def test_an_exposed_param_edit_re_analyses_only_what_changed():
    text = json.dumps(resnet50_record())
    summarize(loads_project(text).graph)  # the layer library and torch are loaded once per process

    def open_it():
        _cached.cache_clear()  # every layer's parameter and FLOP count computed afresh, as on a first open
        project = loads_project(text)
        analyzer = Analyzer(project.graph)
        summarize(project.graph, analyzer.analysis())
        return project, analyzer

    opening = _best(open_it)
    project, analyzer = open_it()
    blocks = analyzer.blocks
    graph = project.graph
    values = iter(range(200, 400, 8))

    def edit(with_summary=False):
        graph.set_param("layer3", "planes", next(values))
        analysis = analyzer.analysis()
        assert analysis.ok
        if with_summary:
            summarize(graph, analysis)

    runs = blocks.runs
    edit()
    # layer3's copy 0 and its copies 1-5 (one key between them); their output keeps its size, so
    # layer4 and the nested shortcut are served from the cache
    assert blocks.runs - runs == 2
    runs = blocks.runs
    graph.set_param("layer3", "out_planes", 2048)
    assert analyzer.analysis().ok
    # now the output changes: layer3.0 (and its shortcut), layer3.1-5, layer4.0 (and its shortcut);
    # layer4.1-2 get what they got before
    assert blocks.runs - runs == 5
    editing = _best(edit, 5)
    # the analyzer table too: its parameter and FLOP counts for the layers of new sizes (a meta-device
    # forward each, ~5 ms; then cached) dominate, so it is reported, not held to the analysis's target
    tabled = _best(lambda: edit(with_summary=True), 5)
    print(f"\nblock-built ResNet-50: open {opening * 1000:.0f} ms, exposed-param edit: analysis "
          f"{editing * 1000:.1f} ms, with the summary of the new sizes {tabled * 1000:.1f} ms")
    assert opening < 1.0
    assert editing < 0.050
