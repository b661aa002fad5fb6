"""Recurrent layers with state in and out export to every format, checked with each format's runtime."""
from __future__ import annotations

import pytest

from studio.export import FORMATS
from tests.nodes.graph_builder import export_matches, graph

pytestmark = pytest.mark.slow  # ~5 s a case: each format's exporter and runtime

GRAPHS = {
    "lstm_state": lambda: graph(
        {"x": (6, 4), "h0": (4, 5), "c0": (4, 5)},
        {"rnn": ("LSTM", {"hidden_size": 5, "num_layers": 2, "bidirectional": True})},
        ["x -> rnn.in", "h0 -> rnn.h0", "c0 -> rnn.c0", "rnn.out -> out", "rnn.hidden -> hidden",
         "rnn.cell -> cell", "rnn.h_n -> h_n", "rnn.c_n -> c_n"], outputs=["out", "hidden", "cell", "h_n", "c_n"]),
    "gru_chain": lambda: graph(
        {"a": (6, 4), "b": (3, 4)},
        {"g1": ("GRU", {"hidden_size": 5, "num_layers": 2}), "g2": ("GRU", {"hidden_size": 5, "num_layers": 2}),
         "r": ("RNN", {"hidden_size": 5, "num_layers": 2, "nonlinearity": "relu"})},
        ["a -> g1", "b -> g2.in", "g1.h_n -> g2.h0", "g2.h_n -> r.h0", "b -> r.in", "r.hidden -> last"],
        outputs=["last"]),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_recurrent_state_exports(name, fmt, tmp_path):
    export_matches(GRAPHS[name](), fmt, tmp_path)
