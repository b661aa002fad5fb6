"""The generated CNN that `bench editor` and its preview case open: a stem, residual blocks of real
layers and a classifier head, of about N nodes."""
from __future__ import annotations

from pathlib import Path


def generate_graph(n_nodes: int, image: int = 32):
    """A plausible CNN of about `n_nodes` nodes: a stem, residual blocks (7 nodes each, with a
    MaxPool2d every few blocks while the image is larger than 4x4) and a classifier head."""
    from studio.core.graph import Graph

    g = Graph()
    x, y = 0.0, 0.0
    step = 230.0

    def add(type_name, params=None, src=None, node_id=None, dy=0.0):
        nonlocal x
        x += step
        node = g.add_node(type_name, params or {}, (x, y + dy), node_id=node_id)
        for s in ([src] if isinstance(src, str) else (src or [])):
            g.connect(s, node.id)
        return node.id

    with g.batch():
        g.add_node("Input", {"shape": [3, image, image]}, (0.0, 0.0), node_id="input")
        last = add("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, "input", "stem_conv")
        last = add("BatchNorm2d", None, last, "stem_bn")
        last = add("ReLU", None, last, "stem_relu")
        size, block = image, 0
        while len(g) + 7 + 5 <= n_nodes:
            block += 1
            if block % 4 == 0 and size > 4 and len(g) + 8 + 5 <= n_nodes:
                last = add("MaxPool2d", {"kernel_size": 2}, last, f"pool{block}")
                size //= 2
            shortcut = last
            a = add("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, last, f"b{block}_conv1", 90)
            a = add("BatchNorm2d", None, a, f"b{block}_bn1", 90)
            a = add("ReLU", None, a, f"b{block}_relu1", 90)
            a = add("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, a, f"b{block}_conv2", 90)
            a = add("BatchNorm2d", None, a, f"b{block}_bn2", 90)
            a = add("Add", None, [a, shortcut], f"b{block}_add")
            last = add("ReLU", None, a, f"b{block}_relu2")
            if x > 20 * step * 7:  # wrap into rows so the canvas stays roughly square
                x, y = 0.0, y + 400.0
        last = add("AdaptiveAvgPool2d", {"output_size": 1}, last, "gap")
        last = add("Flatten", None, last, "flatten")
        while len(g) < n_nodes - 2:  # pad the head to the exact size
            last = add("Linear", {"out_features": 64}, last)
            if len(g) < n_nodes - 2:
                last = add("ReLU", None, last)
        last = add("Linear", {"out_features": 10}, last, "classifier")
        add("Output", None, last, "output")
    return g


def write_project(graph, folder: Path, n: int) -> Path:
    from studio.core.project import Project

    path = folder / f"generated_{n}.json"
    Project(f"Generated {n}-node CNN", graph).save(path)
    return path
