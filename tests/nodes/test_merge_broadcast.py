"""Element-wise merges broadcast as PyTorch does, on the per-sample shapes with the batch dim shared:
each merge through studio.build_model against the same torch expression, the dtype promotion against
torch.promote_types, and every refusal in a person's words."""
from __future__ import annotations

import itertools

import pytest
import torch

import studio
from nodes._broadcast import aligned, promote
from studio.core import Graph, analyze, default_registry
from studio.core.types import DTYPES, TensorType

B = 3


def merge_graph(type_name, shapes, dtypes=None, ports=None):
    g = Graph()
    g.add_node(type_name, node_id="m")
    for i, shape in enumerate(shapes):
        g.add_node("Input", {"shape": list(shape), "dtype": (dtypes or ["float32"] * len(shapes))[i]},
                   node_id=f"x{i}")
        g.connect(f"x{i}", "m", None, ports[i] if ports else None)
    return g


def per_sample(x, rank):
    """The batched tensor with size-1 dims after the batch dim up to `rank` dims per sample."""
    while x.dim() - 1 < rank:
        x = x.unsqueeze(1)
    return x


CASES = [  # type, per-sample shapes, torch on the batched tensors (after per-sample alignment)
    ("Multiply", [(64, 32, 32), (64, 1, 1)], lambda a, b: a * b),  # a squeeze-and-excitation gate
    ("Multiply", [(16, 5, 5), (16, 1, 1), (1, 5, 5)], lambda a, b, c: a * b * c),
    ("Add", [(4, 3, 5), (5,)], lambda a, b: a + b),
    ("Add", [(4, 1, 5), (3, 1), (5,)], lambda a, b, c: a + b + c),
    ("Add", [(6, 4), (6, 4)], lambda a, b: a + b),  # a residual: no alignment, a plain +
    ("Subtract", [(1, 5), (4, 1)], lambda a, b: a - b),
    ("Divide", [(4, 5), (5,)], lambda a, b: a / b),
    ("Maximum", [(2, 3), (1, 3), (2, 1)], lambda a, b, c: torch.maximum(torch.maximum(a, b), c)),
    ("Minimum", [(7,), (3, 1)], lambda a, b: torch.minimum(a, b)),
]


@pytest.mark.parametrize("type_name,shapes,reference", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_merge_broadcasts_like_torch(type_name, shapes, reference):
    ports = ("a", "b") if type_name in ("Subtract", "Divide") else None
    g = merge_graph(type_name, shapes, ports=ports)
    analysis = analyze(g)
    assert analysis.ok, [p.message for p in analysis.problems]
    torch.manual_seed(1)
    xs = [torch.randn(B, *s) for s in shapes]
    if type_name == "Divide":
        xs[1] = xs[1].abs() + 0.5
    model = studio.build_model(g).eval()
    got = model(*xs)
    top = max(len(s) for s in shapes)
    expected = reference(*(per_sample(x, top) for x in xs))
    assert tuple(got.shape) == (B, *analysis.nodes["m"].output.shape)
    torch.testing.assert_close(got, expected)
    assert sum(p.numel() for p in model.parameters()) == 0
    if len({len(s) for s in shapes}) == 1:
        assert not list(model.named_children())  # same ranks: the op alone, nothing to align


def test_subtract_and_divide_follow_the_ports_not_the_wiring_order():
    g = Graph()
    g.add_node("Input", {"shape": [4]}, node_id="x")
    g.add_node("Input", {"shape": [4]}, node_id="y")
    for op in ("Subtract", "Divide"):
        g.add_node(op, node_id=op.lower())
        g.connect("y", op.lower(), None, "b")  # b is wired first
        g.connect("x", op.lower(), None, "a")
        g.add_node("Output", node_id=f"out_{op.lower()}")
        g.connect(op.lower(), f"out_{op.lower()}")
    x, y = torch.randn(B, 4), torch.rand(B, 4) + 0.5
    diff, ratio = studio.build_model(g)(x, y)
    torch.testing.assert_close(diff, x - y)
    torch.testing.assert_close(ratio, x / y)


def test_a_scalar_per_sample_scales_every_value():
    g = Graph()
    g.add_node("Input", {"shape": [3, 4, 4]}, node_id="x")
    g.add_node("Input", {"shape": [5]}, node_id="s")
    g.add_node("Sum", {"dim": -1}, node_id="total")  # [5] -> [] per sample
    g.add_node("Multiply", node_id="m")
    g.connect("s", "total")
    g.connect("x", "m")
    g.connect("total", "m")
    x, s = torch.randn(B, 3, 4, 4), torch.randn(B, 5)
    torch.testing.assert_close(studio.build_model(g)(x, s), x * s.sum(-1)[:, None, None, None])


@pytest.mark.parametrize("type_name,expected", [("Add", "float32"), ("Multiply", "float32"), ("Divide", "float32")])
def test_token_ids_with_floats_promote_as_torch(type_name, expected):
    ports = ("a", "b") if type_name == "Divide" else None
    g = merge_graph(type_name, [(4,), (4,)], ["int64", "float32"], ports)
    ids, x = torch.randint(1, 5, (B, 4)), torch.randn(B, 4)
    got = studio.build_model(g)(ids, x)
    assert analyze(g).nodes["m"].output.dtype == expected == str(got.dtype).removeprefix("torch.")


def test_integer_division_is_true_division_and_integers_stay_integers_elsewhere():
    for type_name, ports, dtype in (("Divide", ("a", "b"), "float32"), ("Add", None, "int64"),
                                    ("Maximum", None, "int64")):
        g = merge_graph(type_name, [(4,), (4,)], ["int64", "int64"], ports)
        a, b = torch.randint(1, 9, (B, 4)), torch.randint(1, 9, (B, 4))
        got = studio.build_model(g)(a, b)
        assert analyze(g).nodes["m"].output.dtype == dtype == str(got.dtype).removeprefix("torch.")


def test_promotion_is_torchs_for_every_dtype_pair():
    for a, b in itertools.product(DTYPES, repeat=2):
        expected = str(torch.promote_types(getattr(torch, a), getattr(torch, b))).removeprefix("torch.")
        assert promote(a, b) == expected, (a, b)


def test_aligned_shapes_line_up_from_the_right():
    assert aligned([(64, 32, 32), (48, 1)]) == ["[64, 32, 32]", "[ ·, 48,  1]"]


@pytest.mark.fault("graph", "a gate that cannot broadcast: Multiply [64, 32, 32] by [64] (issue 16)",
       "refused: both shapes aligned from the right, the dim at fault, and the [64, 1, 1] fix (no 1x1 Conv2d)")
def test_a_gate_that_does_not_broadcast_shows_both_shapes_and_the_gating_fix():
    message = analyze(merge_graph("Multiply", [(64, 32, 32), (64,)])).errors[0].message
    assert message.startswith("Multiply 'm' cannot multiply [64, 32, 32] and [64]")
    assert "[64, 32, 32] against [ ·,  ·, 64]" in message
    assert "dim 3 of the batched tensor is 32 in input 1 but 64 in input 2" in message
    assert "[64, 1, 1]" in message and "Reshape" in message and "Unsqueeze" in message
    assert "Conv2d" not in message and "Linear" not in message


@pytest.mark.fault("graph", "a residual Add whose branch changed the channels ([64, 8, 8] + [32, 8, 8])",
       "refused: both shapes aligned, and the shortcut projection (a 1x1 Conv2d) as the fix")
def test_a_residual_that_does_not_fit_suggests_projecting_the_shortcut():
    message = analyze(merge_graph("Add", [(64, 8, 8), (32, 8, 8)])).errors[0].message
    assert "[64, 8, 8] against [32, 8, 8]" in message and "1x1 Conv2d" in message
    gate = analyze(merge_graph("Multiply", [(64, 8, 8), (32, 8, 8)])).errors[0].message
    assert "Conv2d" not in gate and "[C, 1, 1]" in gate


@pytest.mark.fault("graph", "a third branch into Add that does not broadcast with the first two",
       "refused naming the inputs that clash, both shapes aligned")
def test_the_clashing_input_of_many_is_named():
    message = analyze(merge_graph("Add", [(4, 1), (4, 5), (3, 5)])).errors[0].message
    assert "cannot add [4, 5] and [3, 5]" in message and "in inputs 1..2 but 3 in input 3" in message


@pytest.mark.fault("graph", "Subtract / Divide with shapes that do not broadcast",
       "refused naming ports a and b with their shapes aligned")
def test_two_port_merges_name_their_ports():
    message = analyze(merge_graph("Divide", [(2, 6), (3, 1)], ports=("a", "b"))).errors[0].message
    assert "cannot divide [2, 6] and [3, 1]" in message and "2 in port a but 3 in port b" in message


@pytest.mark.fault("graph", "Subtract or Divide with a port left unwired, or two wires into port a",
       "refused naming the port; one message, nothing derived")
def test_two_port_merges_take_exactly_one_wire_per_port():
    g = merge_graph("Subtract", [(4,)], ports=("a",))
    assert [p.message for p in analyze(g).errors] == [
        "Subtract 'm' has nothing wired into its input 'b'; connect an upstream layer to it"]
    g = merge_graph("Divide", [(4,), (4,)], ports=("a", "a"))
    messages = [p.message for p in analyze(g).errors]
    assert any("gets 2 wires ('x0', 'x1') into its input 'a', which takes one" in m for m in messages)


@pytest.mark.fault("graph", "a merge with a single wire", "refused: it joins two or more inputs")
def test_a_merge_with_one_wire_is_refused():
    for type_name in ("Add", "Multiply", "Maximum", "Minimum"):
        message = analyze(merge_graph(type_name, [(4,)])).errors[0].message
        assert f"{type_name} 'm' joins two or more inputs but gets 1" in message


@pytest.mark.fault("graph", "Subtract on bool masks", "refused as torch refuses it, with a fix")
def test_subtracting_bool_masks_is_refused():
    spec = default_registry()["Subtract"]
    with pytest.raises(ValueError, match="cannot subtract bool tensors"):
        spec.infer({}, [TensorType((4,), "bool"), TensorType((4,), "bool")])
    with pytest.raises(RuntimeError):  # what torch says, for the record
        torch.ones(2, dtype=torch.bool) - torch.ones(2, dtype=torch.bool)


@pytest.mark.fault("project file", "a gate that cannot broadcast, checked with `python -m studio validate`",
       "exit 2, one line naming the node with both shapes aligned")
def test_validate_prints_the_broadcast_problem_on_one_line(tmp_path, capsys):
    from studio.cli import main
    from studio.core.project import Project

    path = Project(name="gate", graph=merge_graph("Multiply", [(64, 32, 32), (64,)])).save(tmp_path / "gate.json")
    assert main(["validate", str(path)]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "Multiply 'm'" in line]
    assert len(lines) == 1 and lines[0].startswith("m: error: Multiply 'm' cannot multiply [64, 32, 32] and [64]")
    assert "[64, 32, 32] against [ ·,  ·, 64]" in lines[0] and "Traceback" not in lines[0]
