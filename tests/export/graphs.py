"""Small graphs beyond the templates: several inputs and outputs, recurrent, attention, merge and
shape nodes. Each builder returns a studio.core Graph."""
from __future__ import annotations

from studio.core.graph import Graph


def _chain(g: Graph, *ids: str) -> None:
    for a, b in zip(ids, ids[1:]):
        g.connect(a, b)


def two_inputs_two_outputs() -> Graph:
    """image + metadata -> concat -> two heads (class scores and a regression value)."""
    g = Graph()
    g.add_node("Input", {"shape": [1, 8, 8]}, node_id="image")
    g.add_node("Input", {"shape": [5]}, node_id="extra")
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}, node_id="conv")
    g.add_node("ReLU", node_id="relu")
    g.add_node("Flatten", node_id="flat")
    g.add_node("Linear", {"out_features": 8}, node_id="extra_fc")
    g.add_node("Concat", {"dim": 1}, node_id="join")
    g.add_node("Linear", {"out_features": 3}, node_id="cls")
    g.add_node("Linear", {"out_features": 1}, node_id="reg")
    g.add_node("Output", node_id="scores")
    g.add_node("Output", node_id="value")
    _chain(g, "image", "conv", "relu", "flat", "join")
    _chain(g, "extra", "extra_fc", "join")
    _chain(g, "join", "cls", "scores")
    _chain(g, "join", "reg", "value")
    return g


def recurrent_attention() -> Graph:
    """A bidirectional GRU, self-attention, a gated (Multiply) merge, Permute/Reshape and pooling."""
    g = Graph()
    g.add_node("Input", {"shape": [12, 6]}, node_id="seq")
    g.add_node("GRU", {"hidden_size": 8, "num_layers": 2, "bidirectional": True}, node_id="gru")
    g.add_node("MultiheadAttention", {"num_heads": 2}, node_id="attn")
    g.add_node("Sigmoid", node_id="gate")
    g.add_node("Multiply", node_id="gated")
    g.add_node("LayerNorm", node_id="norm")
    g.add_node("Permute", {"dims": [0, 2, 1]}, node_id="to_channels")
    g.add_node("Conv1d", {"out_channels": 4, "kernel_size": 3}, node_id="conv")
    g.add_node("Reshape", {"shape": [-1]}, node_id="flat")
    g.add_node("Linear", {"out_features": 2}, node_id="head")
    g.add_node("Linear", {"out_features": 3}, node_id="hidden_head")
    g.add_node("Output", node_id="out")
    g.add_node("Output", node_id="from_hidden")
    g.connect("seq", "gru")
    g.connect("gru", "attn", source_port="out")
    g.connect("attn", "gate")
    g.connect("gate", "gated")
    g.connect("gru", "gated", source_port="out")
    _chain(g, "gated", "norm", "to_channels", "conv", "flat", "head", "out")
    g.connect("gru", "hidden_head", source_port="hidden")
    g.connect("hidden_head", "from_hidden")
    return g


def lstm_stack() -> Graph:
    """Two stacked LSTM nodes, the second reading the first's whole output, then its hidden state."""
    g = Graph()
    g.add_node("Input", {"shape": [10, 3]}, node_id="x")
    g.add_node("LSTM", {"hidden_size": 6}, node_id="lstm1")
    g.add_node("LSTM", {"hidden_size": 5, "num_layers": 2}, node_id="lstm2")
    g.add_node("Linear", {"out_features": 1}, node_id="head")
    g.connect("x", "lstm1")
    g.connect("lstm1", "lstm2", source_port="out")
    g.connect("lstm2", "head", source_port="hidden")
    return g


def decoder() -> Graph:
    """A Transformer decoder layer with two inputs (tgt, memory)."""
    g = Graph()
    g.add_node("Input", {"shape": [7, 16]}, node_id="tgt")
    g.add_node("Input", {"shape": [9, 16]}, node_id="memory")
    g.add_node("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 32}, node_id="dec")
    g.add_node("Output", node_id="out")
    g.connect("tgt", "dec", target_port="tgt")
    g.connect("memory", "dec", target_port="memory")
    g.connect("dec", "out")
    return g


GRAPHS = {
    "two_inputs_two_outputs": two_inputs_two_outputs,
    "recurrent_attention": recurrent_attention,
    "lstm_stack": lstm_stack,
    "decoder": decoder,
}
