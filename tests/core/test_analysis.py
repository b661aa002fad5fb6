"""Shape inference and validation: each problem names its node and says how to fix it."""
from __future__ import annotations

from studio.core import Graph, analyze


def chain(*specs, input_shape=(1, 8, 8), dtype="float32"):
    g = Graph()
    g.add_node("Input", {"shape": list(input_shape), "dtype": dtype}, node_id="input")
    prev = "input"
    for node_id, type_name, params in specs:
        g.add_node(type_name, params, node_id=node_id)
        g.connect(prev, node_id)
        prev = node_id
    return g


def messages(g):
    return [p.message for p in analyze(g).problems]


def errors_for(g, node_id):
    return [p.message for p in analyze(g).problems_for(node_id) if p.is_error]


def test_shapes_flow_through_a_chain():
    g = chain(("conv", "Conv2d", {"out_channels": 4, "kernel_size": 3}), ("flat", "Flatten", {}),
              ("fc", "Linear", {"out_features": 10}))
    a = analyze(g)
    assert a.ok
    assert [str(a.nodes[n].output) for n in a.order] == ["[1, 8, 8]", "[4, 6, 6]", "[144]", "[10]"]
    assert a.outputs == [("fc", None)]


def test_linear_on_an_image_says_insert_a_flatten():
    g = chain(("fc1", "Linear", {"out_features": 10}), input_shape=(16, 5, 5))
    assert errors_for(g, "fc1") == ["Linear 'fc1' needs a flat feature vector per sample but gets [16, 5, 5]; "
                                    "insert a Flatten before it"]


def test_cycle_is_reported_on_every_node_of_it():
    g = chain(("a", "ReLU", {}), ("b", "ReLU", {}))
    g.connect("b", "a")
    a = analyze(g)
    assert not a.ok
    for n in ("a", "b"):
        (msg,) = [m for m in errors_for(g, n) if "cycle" in m]
        assert "remove one of these wires" in msg


def test_unconnected_input_and_two_wires_into_one_port():
    g = chain(("fc", "Linear", {"out_features": 3}), input_shape=(4,))
    g.add_node("ReLU", node_id="lonely")
    assert any("nothing wired into its input" in m for m in errors_for(g, "lonely"))
    g.add_node("Input", {"shape": [4]}, node_id="other")
    g.connect("other", "fc")
    (msg,) = errors_for(g, "fc")
    assert "gets 2 wires ('input', 'other')" in msg and "Add or Concat" in msg


def test_add_shape_mismatch_names_both_shapes():
    g = chain(("a", "Linear", {"out_features": 3}), input_shape=(4,))
    g.add_node("Add", node_id="sum")
    g.connect("a", "sum")
    g.connect("input", "sum")
    (msg,) = errors_for(g, "sum")
    assert msg.startswith("Add 'sum' cannot add [3] and [4]")  # issue 16: they broadcast, or say why not


def test_concat_checks_other_dims():
    g = chain(("a", "Conv2d", {"out_channels": 3, "kernel_size": 3}))
    g.add_node("Concat", {"dim": 1}, node_id="cat")
    g.connect("a", "cat")
    g.connect("input", "cat")
    assert "match outside dim 1" in errors_for(g, "cat")[0]
    g2 = chain(("a", "Conv2d", {"out_channels": 3, "kernel_size": 3, "padding": 1}))
    g2.add_node("Concat", {"dim": 1}, node_id="cat")
    g2.connect("a", "cat")
    g2.connect("input", "cat")
    assert analyze(g2).nodes["cat"].output.shape == (4, 8, 8)


def test_embedding_needs_int64():
    g = chain(("emb", "Embedding", {}), input_shape=(12,))
    assert "needs token ids (int64)" in errors_for(g, "emb")[0]
    g = chain(("emb", "Embedding", {"embedding_dim": 8}), input_shape=(12,), dtype="int64")
    assert analyze(g).nodes["emb"].output.shape == (12, 8)


def test_invalid_param_values_name_the_field():
    g = chain(("conv", "Conv2d", {"out_channels": -3, "kernel_size": 3}))
    p = [p for p in analyze(g).problems if p.node_id == "conv"][0]
    assert p.field == "out_channels" and "must be between 1 and 65536, got -3" in p.message
    g = chain(("conv", "Conv2d", {"out_channels": 4, "kernel_size": 9}))
    assert "larger than its padded input" in errors_for(g, "conv")[0]
    g = chain(("conv", "Conv2d", {"out_channels": 4, "kernel_size": "big"}))
    assert "whole number" in errors_for(g, "conv")[0]
    g = chain(("conv", "Conv2d", {"out_channel": 4}))
    assert "has no param 'out_channel'" in errors_for(g, "conv")[0]


def test_unknown_type_suggests_the_right_name():
    g = chain(("c", "conv2d", {}))
    assert errors_for(g, "c") == ["Node 'c' has an unknown type 'conv2d'; did you mean 'Conv2d'?"]


def test_no_input_and_empty_graph():
    assert messages(Graph()) == ["The graph is empty; add an Input node and some layers"]
    g = Graph()
    g.add_node("ReLU", node_id="r")
    assert any("no Input node" in m for m in messages(g))


def test_no_path_to_the_output_and_dead_branches():
    g = chain(("fc", "Linear", {"out_features": 2}), input_shape=(4,))
    g.add_node("Output", node_id="out")
    g.connect("fc", "out")
    g.add_node("ReLU", node_id="dead")
    g.connect("input", "dead")
    a = analyze(g)
    assert a.ok
    (w,) = a.warnings
    assert w.node_id == "dead" and "dead branch" in w.message
    g2 = Graph()
    g2.add_node("Input", {"shape": [3]}, node_id="input")
    g2.add_node("Input", {"shape": [3]}, node_id="other")
    g2.add_node("Output", node_id="out")
    g2.connect("other", "out")
    g2.node("other").type = "Identity"  # no longer an Input: out is reached from none
    g2.revision += 1
    assert any("not reached from any Input" in m for m in messages(g2))


def test_loose_ends_become_outputs_with_a_warning():
    g = chain(("a", "ReLU", {}), input_shape=(4,))
    g.add_node("Tanh", node_id="b")
    g.connect("input", "b")
    a = analyze(g)
    assert a.ok and [o[0] for o in a.outputs] == ["a", "b"]
    assert "no Output node" in a.warnings[0].message


def test_reanalysis_after_an_edit_updates_downstream_shapes():
    from studio.core import Analyzer

    g = chain(("conv", "Conv2d", {"out_channels": 4, "kernel_size": 3}), ("flat", "Flatten", {}))
    an = Analyzer(g)
    assert an.analysis().nodes["flat"].output.shape == (144,)
    g.set_param("conv", "out_channels", 2)
    assert an.analysis().nodes["flat"].output.shape == (72,)
    g.reset_param("conv", "out_channels")  # back to the default (16)
    assert an.analysis().nodes["flat"].output.shape == (16 * 36,)


def test_none_is_a_value_for_optional_params():
    g = chain(("up", "Upsample", {}))
    g.set_param("up", "scale_factor", None)  # unset the default 2.0, so that size is used
    assert "exactly one of 'size' and 'scale_factor'" in errors_for(g, "up")[0]
    g.set_param("up", "size", [16, 12])
    assert analyze(g).nodes["up"].output.shape == (1, 16, 12)
    g.set_param("up", "mode", None)
    assert "'mode' needs a value" in errors_for(g, "up")[0]
