"""Projects made of the built-in blocks (resources/blocks), for the block export tests."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT

BLOCKS = ROOT / "resources" / "blocks"
STEP = 230


def library(*stems: str) -> dict:
    """The definitions of the given block files, merged (a definition two files share appears once)."""
    out: dict = {}
    for stem in stems:
        out.update(json.loads((BLOCKS / f"{stem}.json").read_text(encoding="utf-8"))["blocks"])
    return out


def multiply_broadcasts() -> bool:
    """Whether Multiply takes [C, 1, 1] x [C, H, W] (the layers-ops branch's broadcasting merges),
    which the squeeze-and-excitation block needs."""
    from studio.core.registry import default_registry
    from studio.core.types import ShapeError, TensorType

    spec = default_registry().get("Multiply")
    try:
        spec.infer(spec.defaults(), [TensorType((4, 1, 1)), TensorType((4, 3, 3))])
    except ShapeError:
        return False
    return True


def _node(node_id: str, type_name: str, params: dict | None = None, k: int = 0, y: int = 0, **extra) -> dict:
    return {"id": node_id, "type": type_name, "params": params or {}, **extra, "pos": [k * STEP, y]}


def zoo_record(with_se: bool | None = None) -> dict:
    """An image classifier through every built-in image block: BasicBlocks repeated, a Bottleneck with a
    projection, squeeze-and-excitation, an Inception module (three levels of nesting), a U-Net down step
    and an up step that takes the Inception output as its skip connection."""
    with_se = multiply_broadcasts() if with_se is None else with_se
    nodes = [_node("input", "Input", {"shape": [3, 32, 32]}),
             _node("stem", "Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, 1),
             _node("res", "Block", {"planes": 16}, 2, block="BasicBlock", repeat=2),
             _node("bottle", "Block", {"planes": 8, "out_channels": 32, "stride": 2, "downsample": True}, 3,
                   block="Bottleneck")]
    if with_se:
        nodes.append(_node("se", "Block", {"channels": 32, "squeeze_channels": 8}, 4, block="SqueezeExcitation"))
    nodes += [_node("inception", "Block", {"ch1x1": 8, "ch3x3red": 8, "ch3x3": 16, "ch5x5red": 4, "ch5x5": 8,
                                           "pool_proj": 8}, 5, block="Inception"),
              _node("down", "Block", {"out_channels": 64}, 6, block="UNetDown"),
              _node("up", "Block", {"out_channels": 40}, 7, block="UNetUp"),
              _node("pool", "AdaptiveAvgPool2d", {"output_size": 1}, 8),
              _node("flatten", "Flatten", {}, 9),
              _node("fc", "Linear", {"out_features": 10}, 10),
              _node("output", "Output", {}, 11)]
    chain = [n["id"] for n in nodes if n["id"] != "up"]
    edges = [{"source": a, "target": b} for a, b in zip(chain, chain[1:]) if b != "pool"]
    edges += [{"source": "down", "target": "up", "target_port": "x"},
              {"source": "inception", "target": "up", "target_port": "skip"},
              {"source": "up", "target": "pool"}]
    stems = ["basic_block", "bottleneck", "inception", "unet_down", "unet_up"] + (["squeeze_excitation"] if with_se else [])
    return {"format": "netstudio", "version": 2, "name": "Block zoo", "nodes": nodes, "edges": edges,
            "blocks": library(*stems),
            "training": {"dataset": {"name": "cifar10"}, "loss": {"type": "CrossEntropyLoss"},
                         "optimizer": {"type": "Adam", "lr": 0.001}, "epochs": 1, "batch_size": 8}}


def write(record: dict, path: Path) -> Path:
    path.write_text(json.dumps(record), encoding="utf-8")
    return path
