"""The tensor operations (MatMul, Transpose, Squeeze / Unsqueeze, Select / Slice, Split, Mean / Sum /
Max, Scale, Softmax over a chosen dim) and Pad / CropToMatch, each built through studio.build_model
on a small graph and compared with the same computation written in torch by hand; every refusal
names what is wrong."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import studio
from studio.core import Graph, analyze



def graph_of(type_name, params, shapes, ports=None, outputs=None, dtype="float32"):
    """Input x0, x1, ... -> the node 'op' (each input on its port) -> an Output per output port."""
    g = Graph()
    g.add_node(type_name, params, node_id="op")
    for i, shape in enumerate(shapes):
        g.add_node("Input", {"shape": list(shape), "dtype": dtype}, node_id=f"x{i}")
        g.connect(f"x{i}", "op", None, ports[i] if ports else None)
    for port in outputs or []:
        g.add_node("Output", node_id=f"out_{port}")
        g.connect("op", f"out_{port}", port)
    return g


def run(g, *xs):
    model = studio.build_model(g).eval()
    with torch.no_grad():
        return model(*xs)


def error_of(g) -> str:
    analysis = analyze(g)
    assert not analysis.ok
    return " ".join(p.message for p in analysis.errors)


B = 3
CASES = [  # type, params, per-sample shapes, ports, hand-written torch on the batched inputs
    ("MatMul", {}, [(4, 5), (5, 6)], ("a", "b"), lambda a, b: torch.matmul(a, b)),
    ("MatMul", {}, [(2, 4, 5), (5, 6)], ("a", "b"), lambda a, b: torch.matmul(a, b.unsqueeze(1))),
    ("MatMul", {}, [(2, 1, 4, 5), (3, 5, 6)], ("a", "b"), lambda a, b: torch.matmul(a, b.unsqueeze(1))),
    ("Transpose", {"dim0": 1, "dim1": 2}, [(4, 5)], None, lambda x: x.transpose(1, 2)),
    ("Transpose", {}, [(2, 4, 5)], None, lambda x: torch.transpose(x, -2, -1)),
    ("Squeeze", {"dim": -1}, [(7, 1)], None, lambda x: x.squeeze(-1)),
    ("Squeeze", {"dim": 1}, [(1, 7)], None, lambda x: x.squeeze(1)),
    ("Unsqueeze", {"dim": -1}, [(7,)], None, lambda x: x.unsqueeze(-1)),
    ("Unsqueeze", {"dim": 1}, [(7, 2)], None, lambda x: x.unsqueeze(1)),
    ("Select", {"dim": 1, "index": -1}, [(6, 4)], None, lambda x: x[:, -1]),
    ("Select", {"dim": -1, "index": 2}, [(6, 4)], None, lambda x: x[..., 2]),
    ("Slice", {"dim": 1, "start": 1, "end": 5, "step": 2}, [(9, 4)], None, lambda x: x[:, 1:5:2]),
    ("Slice", {"dim": -1, "start": -3}, [(2, 9)], None, lambda x: x[..., -3:]),
    ("Slice", {"dim": 2, "start": 0, "end": 100}, [(2, 9)], None, lambda x: x[:, :, 0:100]),
    ("Mean", {"dim": 1}, [(6, 4)], None, lambda x: x.mean(1)),
    ("Mean", {"dim": -1, "keepdim": True}, [(6, 4)], None, lambda x: torch.mean(x, -1, keepdim=True)),
    ("Sum", {"dim": 2}, [(6, 4)], None, lambda x: x.sum(2)),
    ("Max", {"dim": 1, "keepdim": True}, [(6, 4)], None, lambda x: torch.max(x, 1, keepdim=True).values),
    ("Scale", {"scale": 0.125}, [(6, 4)], None, lambda x: x * 0.125),
    # Softmax / LogSoftmax already take a dim (activation.py): over time here, not the features
    ("Softmax", {"dim": 1}, [(6, 4)], None, lambda x: torch.softmax(x, 1)),
    ("LogSoftmax", {"dim": -2}, [(2, 6, 4)], None, lambda x: torch.log_softmax(x, -2)),
    ("Pad", {"padding": [1, 2]}, [(3, 8)], None, lambda x: F.pad(x, (1, 2))),
    ("Pad", {"padding": [1, 2, 0, 3], "value": -1.5}, [(3, 5, 6)], None,
     lambda x: F.pad(x, (1, 2, 0, 3), value=-1.5)),
    ("Pad", {"padding": [-1, 2, 1, -2]}, [(3, 5, 6)], None, lambda x: F.pad(x, (-1, 2, 1, -2))),
    ("Pad", {"padding": [2, 1], "mode": "reflect"}, [(3, 8)], None, lambda x: F.pad(x, (2, 1), mode="reflect")),
    ("Pad", {"padding": [2, 1, 1, 3], "mode": "reflect"}, [(3, 5, 6)], None,
     lambda x: F.pad(x, (2, 1, 1, 3), mode="reflect")),
    ("Pad", {"padding": [4, 0, 1, 1], "mode": "replicate"}, [(5, 6)], None,
     lambda x: F.pad(x, (4, 0, 1, 1), mode="replicate")),
    ("Pad", {"padding": [3, 3], "mode": "replicate"}, [(8,)], None, lambda x: F.pad(x, (3, 3), mode="replicate")),
    ("CropToMatch", {}, [(4, 9, 8), (2, 6, 5)], ("in", "like"), lambda a, b: a[:, :, 1:7, 1:6]),
    ("CropToMatch", {}, [(4, 10), (7, 10)], ("in", "like"), lambda a, b: a),
    ("CropToMatch", {}, [(4, 64, 64), (1, 56, 56)], ("in", "like"), lambda a, b: a[:, :, 4:60, 4:60]),
]


@pytest.mark.parametrize("type_name,params,shapes,ports,reference", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_op_matches_torch(type_name, params, shapes, ports, reference):
    g = graph_of(type_name, params, shapes, ports)
    analysis = analyze(g)
    assert analysis.ok, [p.message for p in analysis.problems]
    torch.manual_seed(0)
    xs = [torch.randn(B, *s) for s in shapes]
    got = run(g, *xs)
    expected = reference(*xs)
    assert tuple(got.shape) == (B, *analysis.nodes["op"].output.shape)
    torch.testing.assert_close(got, expected)
    assert sum(p.numel() for p in studio.build_model(g).parameters()) == 0  # none of them learns weights


@pytest.mark.parametrize("dim,size", [(-1, 32), (1, 2), (2, 5)])
def test_split_ports_are_the_two_pieces(dim, size):
    g = graph_of("Split", {"dim": dim, "split_size": size}, [(6, 96)], outputs=["first", "rest"])
    x = torch.randn(B, 6, 96)
    first, rest = run(g, x)
    n = x.shape[dim]
    ref_first, ref_rest = torch.split(x, [size, n - size], dim=dim)
    torch.testing.assert_close(first, ref_first)
    torch.testing.assert_close(rest, ref_rest)
    info = analyze(g).nodes["op"]
    assert [t.shape for t in info.outputs] == [tuple(ref_first.shape[1:]), tuple(ref_rest.shape[1:])]


def test_sum_and_max_of_token_ids_keep_integers_and_scale_makes_floats():
    for type_name, dtype in (("Sum", "int64"), ("Max", "int64"), ("Scale", "float32")):
        g = graph_of(type_name, {"scale": 0.5} if type_name == "Scale" else {"dim": -1}, [(5,)], dtype="int64")
        x = torch.randint(0, 9, (B, 5))
        got = run(g, x)
        assert analyze(g).nodes["op"].output.dtype == dtype == str(got.dtype).removeprefix("torch.")


def test_attention_drawn_by_hand_matches_torch():
    """q, k, v from one Linear by Split; softmax(q kᵀ / sqrt(d)) v, all from the new nodes."""
    d = 8
    g = Graph()
    g.add_node("Input", {"shape": [5, 12]}, node_id="x")
    g.add_node("Linear", {"out_features": 3 * d}, node_id="qkv")
    g.add_node("Split", {"dim": -1, "split_size": d}, node_id="q_rest")
    g.add_node("Split", {"dim": -1, "split_size": d}, node_id="k_v")
    g.add_node("Transpose", {}, node_id="kT")
    g.add_node("MatMul", node_id="scores")
    g.add_node("Scale", {"scale": d ** -0.5}, node_id="scaled")
    g.add_node("Softmax", {"dim": -1}, node_id="weights")
    g.add_node("MatMul", node_id="mix")
    g.add_node("Mean", {"dim": 1}, node_id="pool")
    g.connect("x", "qkv")
    g.connect("qkv", "q_rest")
    g.connect("q_rest", "k_v", "rest")
    g.connect("k_v", "kT", "first")
    g.connect("q_rest", "scores", "first", "a")
    g.connect("kT", "scores", None, "b")
    g.connect("scores", "scaled")
    g.connect("scaled", "weights")
    g.connect("weights", "mix", None, "a")
    g.connect("k_v", "mix", "rest", "b")
    g.connect("mix", "pool")
    model = studio.build_model(g).eval()
    x = torch.randn(B, 5, 12)
    q, k, v = model.qkv(x).split(d, dim=-1)
    expected = (torch.softmax(q @ k.transpose(-2, -1) / d ** 0.5, dim=-1) @ v).mean(1)
    torch.testing.assert_close(model(x), expected)
    assert sum(p.numel() for p in model.parameters()) == 12 * 3 * d + 3 * d


def test_unet_skip_joins_by_crop_and_by_pad():
    """A skip [8, 17, 17] and an upsampled map [8, 14, 14]: cropped to it, or the map padded to it."""
    g = Graph()
    g.add_node("Input", {"shape": [8, 17, 17]}, node_id="skip")
    g.add_node("Input", {"shape": [8, 7, 7]}, node_id="low")
    g.add_node("Upsample", {"scale_factor": 2.0}, node_id="up")
    g.add_node("CropToMatch", node_id="crop")
    g.add_node("Concat", {"dim": 1}, node_id="join")
    g.add_node("Pad", {"padding": [1, 2, 1, 2]}, node_id="pad")
    g.add_node("Add", node_id="join2")
    g.add_node("Output", node_id="cropped")
    g.add_node("Output", node_id="padded")
    g.connect("low", "up")
    g.connect("skip", "crop", None, "in")
    g.connect("up", "crop", None, "like")
    g.connect("crop", "join")
    g.connect("up", "join")
    g.connect("up", "pad")
    g.connect("pad", "join2")
    g.connect("skip", "join2")
    g.connect("join", "cropped")
    g.connect("join2", "padded")
    skip, low = torch.randn(B, 8, 17, 17), torch.randn(B, 8, 7, 7)
    cropped, padded = run(g, skip, low)
    up = F.interpolate(low, scale_factor=2.0)
    torch.testing.assert_close(cropped, torch.cat([skip[:, :, 1:15, 1:15], up], 1))
    torch.testing.assert_close(padded, F.pad(up, (1, 2, 1, 2)) + skip)


@pytest.mark.parametrize("rank", [1, 2, 3, 4])
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_pad_refuses_exactly_what_torch_refuses(rank, k, mode):
    """The limits come from torch: per-sample ranks and reflect sizes are tried on F.pad itself."""
    for size in (2, 3, 4):
        shape = (size,) * rank
        for amount in (size - 1, size):
            pad = [amount] * (2 * k)
            try:
                F.pad(torch.zeros(2, *shape), pad, mode=mode)
                torch_ok = True
            except (RuntimeError, NotImplementedError, ValueError):
                torch_ok = False
            ok = analyze(graph_of("Pad", {"padding": pad, "mode": mode}, [shape])).ok
            assert ok == torch_ok, (shape, pad, mode)


REFUSALS = [  # type, params, shapes, ports, what the message must say; the case it tries
    pytest.param("MatMul", {}, [(4, 5), (6, 7)], ("a", "b"), ["a's last dim (5)", "second-to-last (6)", "Transpose"],
                 marks=pytest.mark.fault("graph", "MatMul of [4, 5] by [6, 7]", "refused before building, naming the node, both inner sizes and "
                                         "Transpose as the fix")),
    pytest.param("MatMul", {}, [(5,), (5, 6)], ("a", "b"), ["port a", "[5]", "Unsqueeze", "[5, 1]"],
                 marks=pytest.mark.fault("graph", "MatMul with a vector per sample (it would multiply across "
                                         "the batch)", "refused before building, naming the node and the port; Unsqueeze to [5, 1] as the fix")),
    pytest.param("MatMul", {}, [(2, 4, 5), (3, 5, 6)], ("a", "b"), ["[2]", "[3]", "port a", "port b", "heads"],
                 marks=pytest.mark.fault("graph", "MatMul whose leading dims do not broadcast ([2] and [3] heads)",
                                         "refused before building, naming the node, both leading shapes aligned")),
    pytest.param("Transpose", {"dim0": 0, "dim1": 1}, [(4, 5)], None, ["'dim0' 0 is the batch"],
                 marks=pytest.mark.fault("graph", "Transpose of the batch dim (dim0 0)", "refused before building, naming the node and the param")),
    pytest.param("Transpose", {"dim0": 1, "dim1": 5}, [(4, 5)], None, ["'dim1' is 5", "outside"],
                 marks=pytest.mark.fault("graph", "Transpose of a dim past the tensor's rank", "refused before building, naming the node and the range")),
    pytest.param("Squeeze", {"dim": 1}, [(7, 1)], None, ["size 1", "has size 7", "size-1 dims are 2"],
                 marks=pytest.mark.fault("graph", "Squeeze of a dim whose size is not 1 (torch would do nothing)",
                                         "refused before building, naming the node, the size, and which dims have size 1")),
    pytest.param("Squeeze", {"dim": 0}, [(7, 1)], None, ["batch"],
                 marks=pytest.mark.fault("graph", "Squeeze of the batch dim", "refused before building, naming the node")),
    pytest.param("Unsqueeze", {"dim": 0}, [(7,)], None, ["batch"],
                 marks=pytest.mark.fault("graph", "Unsqueeze in front of the batch dim", "refused before building, naming the node")),
    pytest.param("Select", {"dim": 1, "index": 6}, [(6, 4)], None, ["'index' 6", "6 positions", "0..5"],
                 marks=pytest.mark.fault("graph", "Select of an index past the dim's size", "refused before building, naming the node and the valid "
                                         "indices")),
    pytest.param("Slice", {"dim": 1, "start": 5, "end": 2}, [(6, 4)], None, ["takes nothing", "start 5 to 2"],
                 marks=pytest.mark.fault("graph", "Slice whose range is empty (start after end)", "refused before building, naming the node")),
    pytest.param("Split", {"dim": -1, "split_size": 4}, [(6, 4)], None, ["'split_size' 4", "'rest'", "below 4"],
                 marks=pytest.mark.fault("graph", "Split whose first piece takes the whole dim", "refused before building, naming the node, port 'rest' "
                                         "empty, the largest size allowed")),
    pytest.param("Mean", {"dim": 1}, [(6,)], None, ["average floating-point", "int64", "Sum"],
                 marks=pytest.mark.fault("graph", "Mean of token ids (torch.mean refuses integers)", "refused before building, naming the node; Sum "
                                         "as the fix")),
    pytest.param("Max", {"dim": 0}, [(6, 4)], None, ["batch"],
                 marks=pytest.mark.fault("graph", "a reduction over the batch dim", "refused before building, naming the node")),
    pytest.param("Scale", {"scale": 0.0}, [(6,)], None, ["'scale' 0"],
                 marks=pytest.mark.fault("graph", "Scale by 0", "refused before building, naming the node and the param")),
    pytest.param("Softmax", {"dim": 0}, [(6, 4)], None, ["'dim' 0 is the batch"],
                 marks=pytest.mark.fault("graph", "Softmax over the batch dim", "refused before building, naming the node")),
    pytest.param("Pad", {"padding": [1, 1, 1]}, [(3, 8)], None, ["2 numbers", "or 4", "F.pad"],
                 marks=pytest.mark.fault("graph", "Pad with 3 numbers", "refused before building, naming the node: 2 or 4, in F.pad's order")),
    pytest.param("Pad", {"padding": [3, 1], "mode": "reflect"}, [(3, 3)], None,
                 ["reflect-pad 3", "size 3", "at most 2", "replicate"],
                 marks=pytest.mark.fault("graph", "reflect padding as large as the dim (torch refuses it)",
                                         "refused before building, naming the node, the most it may pad, replicate as another way")),
    pytest.param("Pad", {"padding": [1, -1], "mode": "replicate"}, [(3, 8)], None, ["negative", "constant mode"],
                 marks=pytest.mark.fault("graph", "negative padding in replicate mode", "refused before building, naming the node: only constant "
                                         "mode crops")),
    pytest.param("Pad", {"padding": [1, 1], "mode": "reflect", "value": 2.0}, [(3, 8)], None,
                 ["'value'", "constant"],
                 marks=pytest.mark.fault("graph", "a fill value with reflect mode (torch refuses it)", "refused before building, naming the node")),
    pytest.param("Pad", {"padding": [1, 1], "mode": "reflect"}, [(2, 3, 8)], None,
                 ["reflect mode", "[2, 3, 8]", "Reshape"],
                 marks=pytest.mark.fault("graph", "1-D reflect padding of a [2, 3, 8] sample (torch refuses "
                                         "the rank)", "refused before building, naming the node and the shapes it takes")),
    pytest.param("Pad", {"padding": [1, 1, 1, 1]}, [(8,)], None, ["last 2 dims", "[8]"],
                 marks=pytest.mark.fault("graph", "2-D padding of a vector", "refused before building, naming the node")),
    pytest.param("Pad", {"padding": [-4, -4]}, [(3, 8)], None, ["to nothing", "8 -4 -4 = 0"],
                 marks=pytest.mark.fault("graph", "negative constant padding that crops a dim to nothing",
                                         "refused before building, naming the node with the sum")),
    pytest.param("CropToMatch", {}, [(4, 6, 8), (4, 7, 7)], ("in", "like"),
                 ["dim 2 of the batched tensor it is smaller (6 < 7)", "'in'", "Pad"],
                 marks=pytest.mark.fault("graph", "CropToMatch with the smaller map on 'in' (wires swapped)",
                                         "refused before building, naming the node, the dim, and the fix")),
    pytest.param("CropToMatch", {}, [(4, 6, 8), (6, 8)], ("in", "like"), ["one rank", "[4, 6, 8]", "[6, 8]"],
                 marks=pytest.mark.fault("graph", "CropToMatch of maps of two ranks", "refused before building, naming the node and both shapes")),
]


@pytest.mark.parametrize("type_name,params,shapes,ports,expected", REFUSALS)
def test_refusal_says_what_and_how(type_name, params, shapes, ports, expected):
    dtype = "int64" if type_name == "Mean" else "float32"
    message = error_of(graph_of(type_name, params, shapes, ports, dtype=dtype))
    assert f"{type_name} 'op'" in message
    for text in expected:
        assert text in message, (text, message)
