"""Every node type, built from its spec at an inferred shape, matches the parameter count and
output shape of the torch.nn module built by hand."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nodes.modules import PositionalEncoding, SequencePool
from studio.core import Graph, analyze, default_registry
from studio.core.compiler import compile_graph

F = "float32"
# type, params, per-sample input shape(s) (dtype), hand-built module, how to call it -> main output
CASES = [
    ("Identity", {}, [(10,)], nn.Identity(), None),
    ("Linear", {"out_features": 7}, [(12,)], nn.Linear(12, 7), None),
    ("Linear", {"out_features": 5, "bias": False}, [(4, 9)], nn.Linear(9, 5, bias=False), None),
    ("Conv1d", {"out_channels": 8, "kernel_size": 3}, [(4, 20)], nn.Conv1d(4, 8, 3), None),
    ("Conv2d", {"out_channels": 6, "kernel_size": 5}, [(3, 32, 32)], nn.Conv2d(3, 6, 5), None),
    ("Conv2d", {"out_channels": 8, "kernel_size": [3, 5], "stride": 2, "padding": [1, 2], "groups": 2},
     [(4, 17, 19)], nn.Conv2d(4, 8, (3, 5), stride=2, padding=(1, 2), groups=2), None),
    ("ConvTranspose2d", {"out_channels": 4, "kernel_size": 4, "stride": 2, "padding": 1}, [(8, 7, 7)],
     nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1), None),
    ("MaxPool1d", {"kernel_size": 2}, [(3, 11)], nn.MaxPool1d(2), None),
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, [(3, 10, 9)],
     nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), None),
    ("AvgPool1d", {"kernel_size": 3, "stride": 2}, [(2, 10)], nn.AvgPool1d(3, stride=2), None),
    ("AvgPool2d", {"kernel_size": 2}, [(3, 9, 9)], nn.AvgPool2d(2), None),
    ("AdaptiveAvgPool1d", {"output_size": 4}, [(3, 17)], nn.AdaptiveAvgPool1d(4), None),
    ("AdaptiveAvgPool2d", {"output_size": [2, 3]}, [(5, 9, 7)], nn.AdaptiveAvgPool2d((2, 3)), None),
    ("BatchNorm1d", {}, [(12,)], nn.BatchNorm1d(12), None),
    ("BatchNorm1d", {}, [(6, 10)], nn.BatchNorm1d(6), None),
    ("BatchNorm2d", {"momentum": 0.2}, [(6, 5, 5)], nn.BatchNorm2d(6, momentum=0.2), None),
    ("LayerNorm", {}, [(7, 16)], nn.LayerNorm(16), None),
    ("LayerNorm", {"normalized_dims": 2}, [(7, 16)], nn.LayerNorm([7, 16]), None),
    ("GroupNorm", {"num_groups": 4}, [(8, 5, 5)], nn.GroupNorm(4, 8), None),
    ("Dropout", {"p": 0.3}, [(10,)], nn.Dropout(0.3), None),
    ("Dropout2d", {}, [(3, 4, 4)], nn.Dropout2d(), None),
    ("ReLU", {}, [(5,)], nn.ReLU(), None),
    ("ReLU6", {}, [(5,)], nn.ReLU6(), None),
    ("LeakyReLU", {"negative_slope": 0.2}, [(5,)], nn.LeakyReLU(0.2), None),
    ("PReLU", {"num_parameters": 3}, [(3, 4, 4)], nn.PReLU(3), None),
    ("ELU", {}, [(5,)], nn.ELU(), None),
    ("GELU", {"approximate": "tanh"}, [(5,)], nn.GELU("tanh"), None),
    ("SiLU", {}, [(5,)], nn.SiLU(), None),
    ("Mish", {}, [(5,)], nn.Mish(), None),
    ("Sigmoid", {}, [(5,)], nn.Sigmoid(), None),
    ("Tanh", {}, [(5,)], nn.Tanh(), None),
    ("Softmax", {"dim": 1}, [(5,)], nn.Softmax(dim=1), None),
    ("LogSoftmax", {}, [(5,)], nn.LogSoftmax(dim=-1), None),
    ("Softplus", {"beta": 2.0}, [(5,)], nn.Softplus(beta=2.0), None),
    ("Hardswish", {}, [(5,)], nn.Hardswish(), None),
    ("Flatten", {}, [(16, 5, 5)], nn.Flatten(), None),
    ("Flatten", {"start_dim": 2}, [(3, 4, 5)], nn.Flatten(2), None),
    ("Unflatten", {"dim": 1, "unflattened_size": [1, 28, 28]}, [(784,)], nn.Unflatten(1, (1, 28, 28)), None),
    ("Reshape", {"shape": [4, -1]}, [(2, 3, 4)], None, lambda x: x.reshape(x.shape[0], 4, -1)),
    ("Permute", {"dims": [0, 2, 1]}, [(3, 7)], None, lambda x: x.permute(0, 2, 1)),
    ("Upsample", {"scale_factor": 2.0}, [(3, 4, 5)], nn.Upsample(scale_factor=2.0), None),
    ("Upsample", {"scale_factor": None, "size": [9, 10], "mode": "bilinear"}, [(3, 4, 5)],
     nn.Upsample(size=(9, 10), mode="bilinear", align_corners=False), None),
    ("Embedding", {"num_embeddings": 50, "embedding_dim": 8}, [((12,), "int64")], nn.Embedding(50, 8), None),
    ("RNN", {"hidden_size": 6, "nonlinearity": "relu"}, [(9, 3)], nn.RNN(3, 6, nonlinearity="relu", batch_first=True),
     "seq"),
    ("LSTM", {"hidden_size": 10, "num_layers": 2}, [(9, 4)], nn.LSTM(4, 10, num_layers=2, batch_first=True), "seq"),
    ("GRU", {"hidden_size": 5, "bidirectional": True}, [(9, 4)], nn.GRU(4, 5, bidirectional=True, batch_first=True),
     "seq"),
    ("PositionalEncoding", {"max_len": 100}, [(20, 16)], PositionalEncoding(16, 100), None),
    ("SequencePool", {"mode": "max"}, [(20, 16)], SequencePool("max"), None),
    ("MultiheadAttention", {"num_heads": 4}, [(10, 16)], nn.MultiheadAttention(16, 4, batch_first=True), "mha"),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 32}, [(10, 16)],
     nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, batch_first=True), None),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 32}, [(10, 16), (7, 16)],
     nn.TransformerDecoderLayer(16, 2, dim_feedforward=32, batch_first=True), None),
    ("PaddingMask", {"padding_idx": 0}, [((12,), "int64")], None, lambda ids: ids == 0),
    ("Add", {}, [(3, 4), (3, 4)], None, lambda a, b: a + b),
    ("Multiply", {}, [(3, 4), (3, 4), (3, 4)], None, lambda a, b, c: a * b * c),
    ("Concat", {"dim": 1}, [(3, 4), (5, 4)], None, lambda a, b: torch.cat([a, b], dim=1)),
    # issue 16: broadcasting merges and tensor operations (tests/nodes/test_merge_broadcast.py and
    # test_tensor_ops.py try every option and refusal)
    ("Subtract", {}, [(3, 4), (3, 1)], None, lambda a, b: a - b),
    ("Divide", {}, [(3, 4), (1, 4)], None, lambda a, b: a / b),
    ("Maximum", {}, [(3, 4), (4,)], None, lambda a, b: torch.maximum(a, b.unsqueeze(1))),
    ("Minimum", {}, [(3, 4), (3, 1)], None, torch.minimum),
    ("MatMul", {}, [(3, 4), (4, 2)], None, torch.matmul),
    ("Transpose", {}, [(3, 4)], None, lambda x: x.transpose(1, 2)),
    ("Squeeze", {}, [(3, 1)], None, lambda x: x.squeeze(-1)),
    ("Unsqueeze", {}, [(3,)], None, lambda x: x.unsqueeze(-1)),
    ("Select", {"index": 1}, [(3, 4)], None, lambda x: x[:, 1]),
    ("Slice", {"start": 1}, [(3, 4)], None, lambda x: x[:, 1:]),
    ("Split", {"split_size": 2}, [(3, 4)], None, lambda x: x[..., :2]),
    ("Mean", {}, [(3, 4)], None, lambda x: x.mean(1)),
    ("Sum", {}, [(3, 4)], None, lambda x: x.sum(1)),
    ("Max", {}, [(3, 4)], None, lambda x: x.amax(1)),
    ("Scale", {"scale": 3.0}, [(3, 4)], None, lambda x: 3.0 * x),
    ("Pad", {"padding": [1, 2]}, [(3, 4)], None, lambda x: torch.nn.functional.pad(x, (1, 2))),
    ("CropToMatch", {}, [(3, 6), (1, 4)], None, lambda a, b: a[:, :, 1:5]),
]


def _types(inputs):
    out = []
    for item in inputs:
        is_typed = len(item) == 2 and isinstance(item[0], tuple) and isinstance(item[1], str)
        shape, dtype = item if is_typed else (item, F)
        out.append((tuple(shape), dtype))
    return out


def _graph(type_name, params, inputs):
    g = Graph()
    ports = default_registry()[type_name].inputs
    g.add_node(type_name, params, node_id="layer")
    for i, (shape, dtype) in enumerate(_types(inputs)):
        g.add_node("Input", {"shape": list(shape), "dtype": dtype}, node_id=f"x{i}")
        port = ports[min(i, len(ports) - 1)]
        g.connect(f"x{i}", "layer", None, port.name if len(ports) > 1 else None)
    return g


def test_every_registered_type_has_a_case():
    covered = {c[0] for c in CASES} | {"Input", "Output", "BlockInput", "BlockOutput",  # ports: tests/core/test_blocks*.py
                                       "Unmapped"}  # never compiles: tests/importing/test_import_partial.py
    assert covered == set(default_registry().types())


@pytest.mark.parametrize("type_name,params,inputs,reference,how", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_node_matches_hand_built_module(type_name, params, inputs, reference, how):
    g = _graph(type_name, params, inputs)
    analysis = analyze(g)
    assert analysis.ok, [p.message for p in analysis.problems]
    info = analysis.nodes["layer"]
    model = compile_graph(g).eval()
    torch.manual_seed(0)
    batch = 3
    xs = []
    for shape, dtype in _types(inputs):
        xs.append(torch.randint(0, 50, (batch, *shape)) if dtype == "int64" else torch.randn(batch, *shape))
    if reference is not None:
        built = model.layer
        assert sum(p.numel() for p in built.parameters()) == sum(p.numel() for p in reference.parameters())
        reference.load_state_dict(built.state_dict())
        reference.eval()
    with torch.no_grad():
        got = model(*xs)
        if how == "seq":
            expected = reference(xs[0])[0]
        elif how == "mha":
            expected = reference(xs[0], xs[0], xs[0], need_weights=False)[0]
        elif reference is not None:
            expected = reference(*xs)
        else:
            expected = how(*xs)
    main = got[0] if isinstance(got, tuple) else got
    assert tuple(main.shape) == (batch, *info.outputs[0].shape)
    assert tuple(expected.shape) == tuple(main.shape)
    torch.testing.assert_close(main, expected)


@pytest.mark.parametrize("type_name", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_hidden_port_is_the_last_hidden_state(type_name, bidirectional):
    g = Graph()
    g.add_node("Input", {"shape": [6, 3]}, node_id="x")
    g.add_node(type_name, {"hidden_size": 4, "num_layers": 2, "bidirectional": bidirectional}, node_id="rnn")
    g.add_node("Output", node_id="seq")
    g.add_node("Output", node_id="last")
    g.connect("x", "rnn")
    g.connect("rnn", "seq", "out")
    g.connect("rnn", "last", "hidden")
    model = compile_graph(g).eval()
    x = torch.randn(2, 6, 3)
    seq, last = model(x)
    ref = model.rnn
    out, h = ref(x)
    h = h[0] if type_name == "LSTM" else h
    expected = torch.cat([h[-2], h[-1]], 1) if bidirectional else h[-1]
    torch.testing.assert_close(last, expected)
    torch.testing.assert_close(seq, out)
    width = 8 if bidirectional else 4
    info = analyze(g).nodes["rnn"]
    assert [t.shape for t in info.outputs[:2]] == [(6, width), (width,)]  # out, hidden (then the states)


def test_docs_nodes_md_is_current():
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("make_nodes_doc", ROOT / "tools" / "make_nodes_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "nodes.md").read_text() == module.render(), "run python tools/make_nodes_doc.py"


def test_every_spec_is_documented_and_the_registry_refuses_duplicates():
    import pytest as _pytest

    from studio.core.registry import Registry, RegistryError

    for spec in default_registry():
        assert spec.doc and spec.category in {"io", "dense", "conv", "pooling", "norm", "activation", "shape",
                                              "sequence", "attention", "merge", "unmapped"}
        assert all(p.doc for p in spec.params), spec.type
    registry = Registry()
    registry.register(default_registry()["ReLU"])
    with _pytest.raises(RegistryError, match="registered twice"):
        registry.register(default_registry()["ReLU"])
