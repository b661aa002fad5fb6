"""Attention with masks, the causal option and weights, Transformer layers and PaddingMask export
to every format, checked with each format's runtime (onnxruntime for ONNX)."""
from __future__ import annotations

import pytest

from studio.export import FORMATS
from tests.nodes.graph_builder import export_matches, graph

pytestmark = pytest.mark.slow  # ~5 s a case: each format's exporter and runtime

_EMB = ("Embedding", {"num_embeddings": 20, "embedding_dim": 16})
_BLOCK = {"nhead": 2, "dim_feedforward": 32}

# Padding and the causal mask are kept to separate sequences here: the export checks draw random
# ids, and a causal query whose only visible step is padding attends to nothing (NaN in PyTorch too).
GRAPHS = {
    "cross_attention": lambda: graph(
        {"q": (5, 16), "ids": ((9,), "int64")},
        {"emb": _EMB, "pad": ("PaddingMask", {}),
         "att": ("MultiheadAttention", {"num_heads": 4, "need_weights": True, "average_attn_weights": False})},
        ["ids -> emb", "ids -> pad", "q -> att.query", "emb -> att.key", "pad -> att.key_padding_mask",
         "att.out -> out", "att.weights -> weights"], outputs=["out", "weights"]),
    "causal_attention": lambda: graph(
        {"x": (7, 16), "v": (7, 8)},
        {"att": ("MultiheadAttention", {"num_heads": 2, "causal": True, "need_weights": True})},
        ["x -> att.query", "v -> att.value", "att.out -> out", "att.weights -> weights"],
        outputs=["out", "weights"]),
    "encoder_layers": lambda: graph(
        {"ids": ((8,), "int64")},
        {"emb": _EMB, "pad": ("PaddingMask", {}), "enc": ("TransformerEncoderLayer", _BLOCK),
         "causal": ("TransformerEncoderLayer", {**_BLOCK, "causal": True, "norm_first": True})},
        ["ids -> emb", "ids -> pad", "emb -> enc.src", "pad -> enc.src_key_padding_mask", "enc -> causal.src",
         "causal -> out", "pad -> mask"], outputs=["out", "mask"]),
    "decoder_layer": lambda: graph(
        {"tgt": (6, 16), "ids": ((9,), "int64")},
        {"emb": _EMB, "pad": ("PaddingMask", {}), "dec": ("TransformerDecoderLayer", {**_BLOCK, "causal": True})},
        ["ids -> emb", "ids -> pad", "tgt -> dec.tgt", "emb -> dec.memory", "pad -> dec.memory_key_padding_mask"]),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_attention_exports(name, fmt, tmp_path):
    export_matches(GRAPHS[name](), fmt, tmp_path)


@pytest.mark.fault("export", "ONNX at an opset too old for attention (its masks, its packed projection)",
                   "refused naming the attention node and the opset the operation needs; no file written")
@pytest.mark.parametrize("name,opset,node,needs", [("causal_attention", 13, "MultiheadAttention 'att'", "aten::triu"),
                                                   ("cross_attention", 11, "MultiheadAttention 'att'", "unflatten"),
                                                   ("decoder_layer", 12, "TransformerDecoderLayer 'dec'", "unflatten")])
def test_onnx_at_an_old_opset_names_the_attention_node(name, opset, node, needs, tmp_path):
    from studio.export import ExportError, export

    with pytest.raises(ExportError) as info:
        export(GRAPHS[name](), "onnx", tmp_path / "m.onnx", opset=opset)
    message = str(info.value)
    assert message.startswith(f"onnx: {node} cannot be expressed in ONNX (opset {opset})")
    assert needs in message and "newer --opset" in message
    assert list(tmp_path.iterdir()) == []
