"""Hostile and broken block files and edits: every check of a project file applies inside the
`blocks` section, with messages that name the definition and node; what only the analysis can judge
(an unknown definition, a repeat that cannot chain, a block that expands past the limit) is reported
with the instance's path and how to fix it, on the command line too (exit 2, no traceback)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import studio
from studio.core.analysis import analyze
from studio.core.graph import GraphError
from studio.core.project import ProjectError, loads_project
from tests.conftest import ROOT
from tests.core.test_blocks import mini_record


def _basic(rec):
    return rec["blocks"]["Basic"]


def _edit(fn):
    rec = mini_record()
    fn(rec)
    return rec


def _set(path_fn, value):
    def fn(rec):
        holder, key = path_fn(rec)
        holder[key] = value
    return fn


REFUSED = [
    pytest.param(_set(lambda r: (r, "blocks"), []), '"blocks" must be an object',
                 marks=pytest.mark.fault("project file", '"blocks" that is not an object', 'refused, naming "blocks"')),
    pytest.param(lambda r: r["blocks"].update({"not a name": {}}), "block name 'not a name' must start",
                 marks=pytest.mark.fault("project file", "a block definition named with spaces, a keyword or a module "
                                         "attribute", "refused, naming the definition and what a name may hold")),
    pytest.param(lambda r: r["blocks"].update({"forward": {}}), "block name 'forward' is the name of an attribute",
                 marks=pytest.mark.fault("project file", "a block definition named after a module attribute",
                                         "refused with a free name suggested")),
    pytest.param(_set(lambda r: (r["blocks"], "Basic"), [1]), "block 'Basic' must be an object",
                 marks=pytest.mark.fault("project file", "a block definition that is not an object",
                                         "refused, naming the definition")),
    pytest.param(_set(lambda r: (_basic(r), "nodes"), {}), "block 'Basic': \"nodes\" must be a list",
                 marks=pytest.mark.fault("project file", "a block definition whose nodes or params are not a list",
                                         "refused, naming the definition and field")),
    pytest.param(lambda r: _basic(r)["nodes"].append({"id": "conv1", "type": "ReLU"}),
                 "block 'Basic': node 'conv1' appears twice",
                 marks=pytest.mark.fault("project file", "two inner nodes of a definition with one id",
                                         "refused, naming the definition and the id")),
    pytest.param(lambda r: _basic(r)["nodes"].append({"id": "_modules", "type": "ReLU"}),
                 "block 'Basic': node id '_modules' is the name of an attribute",
                 marks=pytest.mark.fault("project file", "an inner node id that is a module attribute",
                                         "refused, naming the definition and the id, suggesting a free one")),
    pytest.param(lambda r: _basic(r)["edges"].append({"source": "x", "target": "nope"}),
                 "block 'Basic': edge 11: its target 'nope' is not a node",
                 marks=pytest.mark.fault("project file", "an inner wire to a node the definition lacks",
                                         "refused, naming the definition and the edge")),
    pytest.param(_set(lambda r: (_basic(r)["params"][0], "kind"), "matrix"),
                 "block 'Basic': param 'planes': \"kind\" must be one of int, float",
                 marks=pytest.mark.fault("project file", "an exposed param of an unknown kind",
                                         "refused, naming the definition, the param and the kinds")),
    pytest.param(_set(lambda r: (_basic(r)["params"][0], "default"), 0),
                 "block 'Basic': param 'planes': its \"default\" is refused: 'planes' must be at least 1",
                 marks=pytest.mark.fault("project file", "an exposed param whose default is out of its own range",
                                         "refused, naming the definition and the param")),
    pytest.param(_set(lambda r: (_basic(r)["params"][0], "name"), "repeat"),
                 "block 'Basic': param 'repeat': the name is taken",
                 marks=pytest.mark.fault("project file", "an exposed param named repeat, first, block or enabled",
                                         "refused: those are an instance's own fields")),
    pytest.param(lambda r: _basic(r)["params"][0]["targets"].append({"node": "ghost", "param": "x"}),
                 "block 'Basic': param 'planes': its target node 'ghost' is not a node of this block",
                 marks=pytest.mark.fault("project file", "an exposed param that drives a node the definition lacks",
                                         "refused, naming the definition, param and node")),
    pytest.param(lambda r: _basic(r)["params"][1]["targets"].append({"node": "conv1", "param": "out_channels"}),
                 "param 'stride' and param 'planes' both drive conv1.out_channels",
                 marks=pytest.mark.fault("project file", "two exposed params driving one inner param",
                                         "refused, naming both params and the target")),
    pytest.param(lambda r: r["nodes"][2].pop("block"), "node 'layer1' is a Block and needs \"block\"",
                 marks=pytest.mark.fault("project file", "a Block node without the name of its definition",
                                         "refused, naming the node")),
    pytest.param(_set(lambda r: (r["nodes"][2], "repeat"), 0), "node 'layer1': \"repeat\" must be a whole number",
                 marks=pytest.mark.fault("project file", "repeat 0, true, \"2\" or 2.5",
                                         "refused, naming the node and field")),
    pytest.param(_set(lambda r: (r["nodes"][2], "repeat"), True), "node 'layer1': \"repeat\" must be a whole number"),
    pytest.param(_set(lambda r: (r["nodes"][2], "repeat"), "2"), "node 'layer1': \"repeat\" must be a whole number"),
    pytest.param(_set(lambda r: (r["nodes"][2], "first"), [1]), "node 'layer1': \"first\" must be an object",
                 marks=pytest.mark.fault("project file", "\"first\" that is not an object", "refused, naming the node")),
    pytest.param(_set(lambda r: (_basic(r)["nodes"][1]["params"], "out_channels"), 10 ** 30),
                 "block 'Basic': node 'conv1': params.out_channels is 100000... (a 31-digit number), beyond",
                 marks=pytest.mark.fault("project file", "a number past int64 inside a block definition",
                                         "refused, naming the definition, node and field")),
]


@pytest.mark.parametrize("change,fragment", REFUSED)
def test_a_broken_blocks_section_is_refused_with_where(change, fragment):
    rec = _edit(change)
    with pytest.raises(ProjectError) as info:
        loads_project(json.dumps(rec), source="mini.json")
    assert fragment in str(info.value)
    assert str(info.value).startswith("mini.json: ")


@pytest.mark.fault("project file", "a key twice inside a block definition", "refused, naming the definition and node")
def test_a_duplicate_key_inside_a_block_names_where():
    text = json.dumps(mini_record()).replace('"kernel_size": 1,', '"kernel_size": 1, "kernel_size": 2,', 1)
    with pytest.raises(ProjectError, match=r"block 'Down': node 'conv': params: the key \"kernel_size\" appears twice"):
        loads_project(text, source="mini.json")


def _problems(rec):
    analysis = analyze(loads_project(json.dumps(rec)).graph)
    return [(p.node_id, p.message) for p in analysis.errors]


REPORTED = [
    pytest.param(_set(lambda r: (r["nodes"][2], "block"), "Basik"), "layer1",
                 "uses the definition 'Basik', which this project does not have (its blocks: Down, Basic)",
                 marks=pytest.mark.fault("analysis", "an instance of a definition the project lacks",
                                         "reported on the instance, listing the definitions")),
    pytest.param(lambda r: _basic(r)["nodes"].insert(1, {"id": "inp", "type": "Input"}), "layer1.0.inp",
                 "is inside block definition 'Basic', where data enters and leaves through the block's ports; "
                 "replace it with a BlockInput",
                 marks=pytest.mark.fault("analysis", "an Input node inside a definition, a BlockInput at the top",
                                         "reported with the path, saying which node to use")),
    pytest.param(lambda r: r["nodes"].append({"id": "port", "type": "BlockInput"}), "port",
                 "belongs inside a block definition"),
    pytest.param(lambda r: _basic(r)["nodes"].append({"id": "x2", "type": "BlockInput", "pos": [0, 300]}), "layer1",
                 "repeats block 'Basic' 2 times, but it has 2 inputs and 1 outputs",
                 marks=pytest.mark.fault("analysis", "a repeated block with two inputs",
                                         "reported on the instance: repeat chains one input to one output")),
    pytest.param(_set(lambda r: (r["nodes"][3], "first"), {"strid": 2}), "layer2",
                 "in 'first' (the values of copy 0): has no param 'strid'",
                 marks=pytest.mark.fault("analysis", "'first' naming a param the block does not expose",
                                         "reported on the instance, listing the params")),
    pytest.param(lambda r: r["blocks"]["Down"]["edges"].append({"source": "x", "target": "bn"}), "layer2.0.downsample",
                 "is marked sequential, but 'x' feeds 2 nodes",
                 marks=pytest.mark.fault("analysis", "a sequential definition that is not a chain",
                                         "reported with the path: make it a chain or turn sequential off")),
    pytest.param(_set(lambda r: (r["nodes"][2]["params"], "downsample"), 1), "layer1",
                 "'downsample' must be true or false",
                 marks=pytest.mark.fault("analysis", "an exposed bool given a number",
                                         "reported on the instance, naming the param")),
]


@pytest.mark.parametrize("change,path,fragment", REPORTED)
def test_what_only_the_analysis_can_judge_is_reported_with_the_path(change, path, fragment):
    problems = _problems(_edit(change))
    assert any(node == path and fragment in message for node, message in problems), problems


@pytest.mark.fault("project file", "nested blocks that multiply out to a billion layers (a tiny file)",
                   "reported on the instance before anything is built; validate exits 2")
def test_a_block_that_expands_past_the_limit_is_refused_before_building(tmp_path):
    rec = {"format": "netstudio", "version": 2, "name": "laughs",
           "nodes": [{"id": "input", "type": "Input", "params": {"shape": [4]}},
                     {"id": "big", "type": "Block", "block": "L0", "repeat": 1000}],
           "edges": [{"source": "input", "target": "big"}], "blocks": {}}
    rec["blocks"]["L2"] = {"nodes": [{"id": "x", "type": "BlockInput"}, {"id": "r", "type": "ReLU"},
                                     {"id": "y", "type": "BlockOutput"}],
                           "edges": [{"source": "x", "target": "r"}, {"source": "r", "target": "y"}]}
    for inner, outer in (("L2", "L1"), ("L1", "L0")):
        rec["blocks"][outer] = {"nodes": [{"id": "x", "type": "BlockInput"},
                                          {"id": "b", "type": "Block", "block": inner, "repeat": 1000},
                                          {"id": "y", "type": "BlockOutput"}],
                                "edges": [{"source": "x", "target": "b"}, {"source": "b", "target": "y"}]}
    problems = _problems(rec)
    assert problems[0][0] == "big" and "more than the 100,000 a project may hold" in problems[0][1]
    path = tmp_path / "laughs.json"
    path.write_text(json.dumps(rec))
    done = subprocess.run([sys.executable, "-m", "studio", "validate", str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "big" in done.stderr


@pytest.mark.fault("editing", "adding a definition that would contain itself, or a broken definition record",
                   "refused with a GraphError naming the cycle or the field; the library is unchanged")
def test_edits_that_would_break_the_library_are_refused():
    from studio.core import blocks_edit as be

    project = studio.load_project(tests_mini())
    g = project.graph
    before = project.to_json()
    loop = {"nodes": [{"id": "x", "type": "BlockInput"}, {"id": "me", "type": "Block", "block": "Loop"},
                      {"id": "y", "type": "BlockOutput"}],
            "edges": [{"source": "x", "target": "me"}, {"source": "me", "target": "y"}]}
    with pytest.raises(GraphError, match=r"would contain itself \(Loop -> Loop\)"):
        be.add_definition(g, "Loop", loop)
    with pytest.raises(GraphError, match="param 'p': \"kind\" must be one of"):
        be.add_definition(g, "Bad", {"nodes": [], "params": [{"name": "p", "kind": "matrix", "default": 1}]})
    with pytest.raises(GraphError, match="its target node 'ghost' is not a node of this block"):
        be.set_exposed_params(g, "Basic", [{"name": "p", "kind": "int", "default": 1,
                                            "targets": [{"node": "ghost", "param": "x"}]}])
    assert project.to_json() == before


def tests_mini():
    from tests.core.test_blocks import MINI

    return MINI


def test_renaming_an_inner_node_keeps_the_exposed_params_on_it():
    project = studio.load_project(tests_mini())
    inner = project.graph.blocks["Basic"].graph
    inner.rename_node("conv1", "first_conv")
    targets = [(t.node, t.param) for p in project.graph.blocks["Basic"].params for t in p.targets]
    assert ("first_conv", "out_channels") in targets and ("first_conv", "stride") in targets
    analysis = analyze(project.graph)
    assert analysis.ok and analysis.nodes["layer2.0.first_conv"].params["stride"] == 2
