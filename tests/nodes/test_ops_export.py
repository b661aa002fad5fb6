"""Every new node (the broadcasting merges, the tensor operations, Pad and CropToMatch) exports to
every format: each file is loaded with its format's own runtime (onnxruntime for ONNX) and gives the
outputs of the compiled model with the same weights; the generated source imports no NetStudio."""
from __future__ import annotations

import re

import pytest
import torch

import studio
from studio.cli import main
from studio.core import Graph, analyze
from studio.core.compiler import signature
from studio.core.project import Project
from studio.export import FORMATS, SUFFIXES
from tests.export.helpers import TOL, max_diff, run_exported

NEW_TYPES = {"Subtract", "Divide", "Maximum", "Minimum", "Add", "Multiply", "MatMul", "Transpose", "Squeeze",
             "Unsqueeze", "Select", "Slice", "Split", "Mean", "Sum", "Max", "Scale", "Pad", "CropToMatch"}


def every_new_node() -> Graph:
    """An image [4, 6, 6] and a sequence [5, 8] through each new node at least once, with mixed-rank
    merges (so the rank alignment exports too) and a Linear (so there are weights to carry)."""
    g = Graph()
    add = g.add_node

    def wire(a, b, src=None, dst=None):
        g.connect(a, b, src, dst)

    add("Input", {"shape": [4, 6, 6]}, node_id="img")
    add("Input", {"shape": [5, 8]}, node_id="seq")
    add("Pad", {"padding": [1, 1, 1, 1], "mode": "reflect"}, node_id="pad_reflect")
    add("Pad", {"padding": [2, 0, 0, 2], "mode": "replicate"}, node_id="pad_edge")
    add("Pad", {"padding": [1, 2], "value": 0.5}, node_id="pad_const")
    add("CropToMatch", node_id="crop")
    add("Mean", {"dim": -1, "keepdim": True}, node_id="mean_w")
    add("Mean", {"dim": -2, "keepdim": True}, node_id="mean_hw")  # [4, 1, 1]: an SE-style gate
    add("Sigmoid", node_id="gate")
    add("Multiply", node_id="gated")
    add("Subtract", node_id="centred")
    add("Divide", node_id="ratio")
    add("Sum", {"dim": 1}, node_id="sum_c")  # [6, 6]
    add("Maximum", node_id="biggest")  # [4, 6, 6] with [6, 6]: aligned ranks
    add("Minimum", node_id="smallest")
    add("Max", {"dim": 1}, node_id="max_c")
    for edge in [
        ("img", "pad_reflect"), ("pad_reflect", "pad_edge"), ("pad_edge", "crop", None, "in"),
        ("img", "crop", None, "like"), ("img", "mean_w"), ("mean_w", "mean_hw"), ("mean_hw", "gate"),
        ("crop", "gated"), ("gate", "gated"), ("gated", "centred", None, "a"),
        ("mean_hw", "centred", None, "b"), ("centred", "ratio", None, "a"), ("gate", "ratio", None, "b"),
        ("img", "sum_c"), ("ratio", "biggest"), ("sum_c", "biggest"), ("biggest", "smallest"),
        ("img", "smallest"), ("smallest", "max_c"), ("max_c", "pad_const"),
    ]:
        wire(*edge)
    add("Linear", {"out_features": 24}, node_id="qkv")
    add("Split", {"dim": -1, "split_size": 8}, node_id="q_kv")
    add("Split", {"dim": 2, "split_size": 8}, node_id="k_v")
    add("Transpose", {"dim0": 1, "dim1": 2}, node_id="kT")
    add("MatMul", node_id="scores")
    add("Scale", {"scale": 8 ** -0.5}, node_id="scaled")
    add("Softmax", {"dim": -1}, node_id="weights")
    add("MatMul", node_id="mixed")
    add("Unsqueeze", {"dim": 1}, node_id="heads")  # [1, 5, 8]
    add("MatMul", node_id="broadcast_mm")  # [1, 5, 8] @ [8, 5]: leading dims of two ranks
    add("Squeeze", {"dim": 1}, node_id="unheads")
    add("Slice", {"dim": 1, "start": 1, "end": 5, "step": 2}, node_id="every_other")
    add("Select", {"dim": -1, "index": -1}, node_id="last")
    add("Add", node_id="residual")
    for edge in [
        ("seq", "qkv"), ("qkv", "q_kv"), ("q_kv", "k_v", "rest"), ("k_v", "kT", "first"),
        ("q_kv", "scores", "first", "a"), ("kT", "scores", None, "b"), ("scores", "scaled"),
        ("scaled", "weights"), ("weights", "mixed", None, "a"), ("k_v", "mixed", "rest", "b"),
        ("mixed", "heads"), ("heads", "broadcast_mm", None, "a"), ("kT", "broadcast_mm", None, "b"),
        ("broadcast_mm", "unheads"), ("unheads", "every_other"), ("every_other", "last"), ("mixed", "residual"),
        ("seq", "residual"),
    ]:
        wire(*edge)
    for name, source in (("image_out", "pad_const"), ("seq_out", "last"), ("res_out", "residual")):
        add("Output", node_id=name)
        wire(source, name)
    return g


def test_the_graph_uses_every_new_node_and_compiles():
    g = every_new_node()
    assert NEW_TYPES <= {n.type for n in g.nodes.values()}
    analysis = analyze(g)
    assert analysis.ok, [p.message for p in analysis.problems]


@pytest.fixture(scope="module")
def model_and_weights(tmp_path_factory):
    g = every_new_node()
    torch.manual_seed(3)
    model = studio.build_model(g).eval()
    path = tmp_path_factory.mktemp("w") / "weights.pt"
    torch.save(model.state_dict(), path)
    model.graph_source = g
    return g, model, path


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_new_node_exports(fmt, tmp_path, capsys, model_and_weights):
    """Through the command line, `python -m studio export FILE --format F -o OUT --checkpoint W`."""
    g, model, weights = model_and_weights
    project = Project(name="ops", graph=g).save(tmp_path / "ops.json")
    sig = signature(analyze(g))
    out = tmp_path / f"ops{SUFFIXES[fmt]}"
    assert main(["export", str(project), "--format", fmt, "-o", str(out), "--checkpoint", str(weights)]) == 0
    printed = capsys.readouterr().out
    assert "check passed" in printed, printed
    if fmt == "torchscript":
        assert "torch.jit.script" in printed and "traced" not in printed  # scripted whole, not traced
    gen = torch.Generator().manual_seed(5)
    inputs = tuple(torch.randn(4, *t.shape, generator=gen) for _, t in sig.inputs)
    with torch.no_grad():
        expected = model(*inputs)
    class_name = None
    if fmt == "code":
        text = out.read_text()
        class_name = re.findall(r"^class (\w+)\(nn\.Module\):", text, re.M)[-1]  # the model, after its helpers
        assert "import studio" not in text and "from nodes" not in text and "import nodes" not in text
        assert "F.pad(" in text and " @ " in text and "class AlignRanks" in text and "class CenterCrop" in text
    got = run_exported(fmt, out, inputs, model, sig, class_name)
    assert max_diff(expected, got) <= TOL
