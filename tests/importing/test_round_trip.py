"""Issue 17 item 6: every bundled template, written out by `export --format code` and imported back
from that file, is the same graph (nodes with their types, params and ids, wires, blocks with their
definitions, exposed params, repeat, first-copy overrides and shares) and computes the same outputs
with the same weights."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import studio
from studio.cli import main
from studio.core.analysis import analyze
from studio.core.registry import default_registry
from studio.export.codegen.model import class_name

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"
SLOW = {"resnet18"}  # 224x224: the exported check and the import's own check take most of the time


def _params(spec, params: dict) -> dict:
    """Params with the defaults filled in: a value written out equal to its default is the same."""
    if spec is None:
        return dict(params)
    return {p.name: params.get(p.name, p.default) for p in spec.params} | {
        k: v for k, v in params.items() if spec.param(k) is None}


def _graph(graph, library) -> dict:
    registry = default_registry()
    nodes = {}
    for node in graph.nodes.values():
        spec = library[node.block].spec() if node.block else registry.get(node.type)
        nodes[node.id] = {"type": node.type, "block": node.block, "params": _params(spec, node.params),
                          "repeat": node.repeat, "first": node.first if node.repeat > 1 else None,
                          "shares": node.shares}
    edges = sorted((e.source, e.source_port or "", e.target, e.target_port or "") for e in graph.edges)
    return {"nodes": nodes, "edges": edges}


def _lone_ports(data: dict) -> dict:
    """A definition's only input and only output port, by their type: Python has no name for what a
    forward() returns (`return x`), and a lone port is never named on a wire."""
    for kind in ("BlockInput", "BlockOutput"):
        ports = [i for i, n in data["nodes"].items() if n["type"] == kind]
        if len(ports) == 1:
            data["nodes"][kind] = data["nodes"].pop(ports[0])
            data["edges"] = sorted(tuple(kind if x == ports[0] else x for x in e) for e in data["edges"])
    return data


def _unnamed(graph, analysis, prefix: str) -> set[str]:
    """The nodes that hold no layer (an Add, a Concat): code calls them (`x = out + x`) without a
    name, so an import names them after what they do; they are compared by their place."""
    out = set()
    for node_id, node in graph.nodes.items():
        info = analysis.nodes.get(f"{prefix}{node_id}")
        if info is not None and info.spec is not None and node.type != "Block" and \
                info.spec.build(info.params, info.inputs) is None and node.type not in ("Input", "Output"):
            out.add(node_id)
    return out


def _by_place(data: dict, unnamed: set[str]) -> dict:
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(data["nodes"])
    g.add_edges_from((e[0], e[2]) for e in data["edges"])
    order = list(nx.lexicographical_topological_sort(g, key=lambda n: (data["nodes"][n]["type"], n in unnamed)))
    names = {n: f"<{data['nodes'][n]['type']} {k}>" for k, n in enumerate(order) if n in unnamed}
    data["nodes"] = {names.get(n, n): v for n, v in data["nodes"].items()}
    data["edges"] = sorted((names.get(a, a), sp, names.get(b, b), tp) for a, sp, b, tp in data["edges"])
    return data


def _instance_prefix(graph, name: str) -> str | None:
    """The dotted path of a root instance of definition `name` (its first copy)."""
    for holder, node_id in graph.blocks.instances(name):
        if holder is None:
            return f"{node_id}.0." if graph.node(node_id).repeat > 1 else f"{node_id}."
    return None


def canonical(graph) -> dict:
    """Everything that makes the model, nothing of where the cards sit. An exposed param's bounds
    (min, max) are not compared: Python's signature has no place for them, and the import gives
    each the bounds of the layer param it drives."""
    analysis = analyze(graph)
    blocks = {}
    for d in graph.blocks.definitions():
        params = [{**{k: v for k, v in p.to_json().items() if k not in ("min", "max")},
                   "targets": sorted(json.dumps(t.to_json()) for t in p.targets)} for p in d.params]
        inner = _graph(d.graph, graph.blocks)
        prefix = _instance_prefix(graph, d.name)
        if prefix is not None:
            inner = _by_place(inner, _unnamed(d.graph, analysis, prefix))
        for p in d.params:  # what an exposed param sets inside is the instance's value, never this one
            for t in p.targets:
                inner["nodes"][t.node]["params"].pop(t.param, None)
        blocks[d.name] = {"graph": _lone_ports(inner), "params": params,
                          "sequential": d.sequential, "doc": d.doc}
    return {"root": _by_place(_graph(graph, graph.blocks), _unnamed(graph, analysis, "")), "blocks": blocks}


def _cases():
    for path in sorted(TEMPLATES.glob("*.json")):
        marks = [pytest.mark.slow] if path.stem in SLOW else []
        yield pytest.param(path.stem, marks=marks, id=path.stem)


@pytest.mark.parametrize("name", list(_cases()))
def test_export_code_then_import_gives_the_same_graph(name, tmp_path, capsys):
    template = studio.load_project(TEMPLATES / f"{name}.json")
    code = tmp_path / f"{name}_code.py"
    assert main(["export", str(TEMPLATES / f"{name}.json"), "--format", "code", "-o", str(code)]) == 0, \
        capsys.readouterr().err
    inputs = [n for n in template.graph.nodes.values() if n.type == "Input"]
    shape = ",".join(str(s) for s in inputs[0].params["shape"])
    back = tmp_path / "back.json"
    rc = main(["import", f"{code}:{class_name(template.name)}", "-o", str(back), "--input-shape", shape])
    assert rc == 0, capsys.readouterr().err
    again = studio.load_project(back)
    want, got = canonical(template.graph), canonical(again.graph)
    assert got["blocks"] == want["blocks"]
    assert got["root"] == want["root"]
    # the same weights give the same outputs: the state dict keys fit one to one
    torch.manual_seed(0)
    source = studio.build_model(template).eval()
    model = studio.build_model(again).eval()
    model.load_state_dict(source.state_dict())
    gen = torch.Generator().manual_seed(3)
    spec = inputs[0].params
    x = (torch.randint(0, 4, (2, *spec["shape"]), generator=gen) if spec.get("dtype") == "int64"
         else torch.randn(2, *spec["shape"], generator=gen))
    with torch.no_grad():
        assert torch.allclose(model(x), source(x), atol=1e-5, rtol=1e-5)
