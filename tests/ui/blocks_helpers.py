"""Projects with blocks for the blocks UI tests: the CNN-on-digits template with its two conv
stages as two instances of one definition (`ConvStage`, exposing `channels`)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from studio.core.project import loads_project

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"

STAGE = {
    "doc": "Conv, ReLU and a 2x2 max pool",
    "params": [{"name": "channels", "kind": "int", "default": 16, "min": 1,
                "targets": [{"node": "conv", "param": "out_channels"}]}],
    "nodes": [
        {"id": "x", "type": "BlockInput", "pos": [0, 0]},
        {"id": "conv", "type": "Conv2d", "params": {"kernel_size": 3, "padding": 1}, "pos": [230, 0]},
        {"id": "relu", "type": "ReLU", "pos": [460, 0]},
        {"id": "pool", "type": "MaxPool2d", "params": {"kernel_size": 2}, "pos": [690, 0]},
        {"id": "out", "type": "BlockOutput", "pos": [920, 0]},
    ],
    "edges": [{"source": "x", "target": "conv"}, {"source": "conv", "target": "relu"},
              {"source": "relu", "target": "pool"}, {"source": "pool", "target": "out"}],
}


def staged_record() -> dict:
    """cnn_digits with conv1/relu1/pool1 and conv2/relu2/pool2 as blocks stage1 and stage2."""
    rec = json.loads((TEMPLATES / "cnn_digits.json").read_text())
    drop = {"conv1", "relu1", "pool1", "conv2", "relu2", "pool2"}
    rec["nodes"] = [n for n in rec["nodes"] if n["id"] not in drop]
    rec["nodes"] += [
        {"id": "stage1", "type": "Block", "block": "ConvStage", "params": {"channels": 16}, "pos": [230, 0]},
        {"id": "stage2", "type": "Block", "block": "ConvStage", "params": {"channels": 32}, "pos": [460, 0]},
    ]
    rec["edges"] = [e for e in rec["edges"] if e["source"] not in drop and e["target"] not in drop]
    rec["edges"] += [{"source": "input", "target": "stage1"}, {"source": "stage1", "target": "stage2"},
                     {"source": "stage2", "target": "flatten"}]
    rec["version"] = 2
    rec["blocks"] = {"ConvStage": copy.deepcopy(STAGE)}
    return rec


def staged_project():
    return loads_project(json.dumps(staged_record()), "staged")


MERGE = {
    "doc": "The sum of two inputs",
    "nodes": [
        {"id": "a", "type": "BlockInput", "pos": [0, 0]},
        {"id": "b", "type": "BlockInput", "pos": [0, 120]},
        {"id": "add", "type": "Add", "pos": [230, 60]},
        {"id": "out", "type": "BlockOutput", "pos": [460, 60]},
    ],
    "edges": [{"source": "a", "target": "add"}, {"source": "b", "target": "add"},
              {"source": "add", "target": "out"}],
}


def merge_project():
    """input -> fc_a / fc_b -> a two-input block `sum1` (ports a, b) -> output."""
    rec = {"format": "netstudio", "version": 2, "name": "two ports",
           "nodes": [{"id": "input", "type": "Input", "params": {"shape": [4]}, "pos": [0, 0]},
                     {"id": "fc_a", "type": "Linear", "params": {"out_features": 3}, "pos": [230, 0]},
                     {"id": "fc_b", "type": "Linear", "params": {"out_features": 3}, "pos": [230, 150]},
                     {"id": "sum1", "type": "Block", "block": "Merge", "pos": [460, 60]},
                     {"id": "output", "type": "Output", "pos": [690, 60]}],
           "edges": [{"source": "input", "target": "fc_a"}, {"source": "input", "target": "fc_b"},
                     {"source": "fc_a", "target": "sum1", "target_port": "a"},
                     {"source": "fc_b", "target": "sum1", "target_port": "b"},
                     {"source": "sum1", "target": "output"}],
           "blocks": {"Merge": copy.deepcopy(MERGE)}}
    return loads_project(json.dumps(rec), "two ports")


def settled_window(qtbot, project=None):
    """open_window, with the analyzer counts' warm-up done: a short test must not end while that
    thread is still to report to a window already gone."""
    from studio.ui import stats_service

    from .window_helpers import open_window

    w = open_window(qtbot, project)
    stats_service.service().warm_up(wait=True)
    return w
