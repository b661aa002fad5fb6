"""Recurrent nodes with state in and out against the torch modules built by hand with the same
weights: h0/c0 in, h_n/c_n (every layer and direction) and the last layer's hidden/cell out, state
carried from one layer into the next, and pytorch/examples' word_language_model RNNModel drawn."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.nodes.graph_builder import compiled, errors, graph, through_a_project_file
from tests.word_language_model import RNNModel

B, T, FEAT, H, LAYERS = 3, 7, 5, 6, 2


def _last(state, bidirectional):
    return torch.cat([state[-2], state[-1]], 1) if bidirectional else state[-1]


def _state_graph(kind, bidirectional, wire_h0=True, wire_c0=True):
    dirs = 2 if bidirectional else 1
    lstm = kind == "LSTM"
    inputs = {"x": (T, FEAT)}
    wires = ["x -> rnn.in", "rnn.out -> out", "rnn.hidden -> hidden", "rnn.h_n -> h_n"]
    if wire_h0:
        inputs["h0"] = (LAYERS * dirs, H)
        wires.append("h0 -> rnn.h0")
    if lstm:
        wires += ["rnn.cell -> cell", "rnn.c_n -> c_n"]
        if wire_c0:
            inputs["c0"] = (LAYERS * dirs, H)
            wires.append("c0 -> rnn.c0")
    outputs = ["out", "hidden"] + (["cell"] if lstm else []) + ["h_n"] + (["c_n"] if lstm else [])
    params = {"hidden_size": H, "num_layers": LAYERS, "bidirectional": bidirectional}
    return graph(inputs, {"rnn": (kind, params)}, wires, outputs), dirs


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_state_in_and_out_matches_the_module(kind, bidirectional):
    g, dirs = _state_graph(kind, bidirectional)
    model = compiled(g)
    ref = getattr(nn, kind)(FEAT, H, num_layers=LAYERS, bidirectional=bidirectional, batch_first=True)
    ref.load_state_dict(model.rnn.state_dict())
    torch.manual_seed(0)
    x, h0, c0 = torch.randn(B, T, FEAT), torch.randn(B, LAYERS * dirs, H), torch.randn(B, LAYERS * dirs, H)
    with torch.no_grad():
        if kind == "LSTM":
            got = model(x, h0, c0)
            out, (h, c) = ref(x, (h0.transpose(0, 1).contiguous(), c0.transpose(0, 1).contiguous()))
            want = (out, _last(h, bidirectional), _last(c, bidirectional), h.transpose(0, 1), c.transpose(0, 1))
        else:
            got = model(x, h0)
            out, h = ref(x, h0.transpose(0, 1).contiguous())
            want = (out, _last(h, bidirectional), h.transpose(0, 1))
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)
    assert got[-1].shape == (B, LAYERS * dirs, H)


@pytest.mark.parametrize("wired", ["none", "h0", "c0"])
def test_an_unwired_state_starts_from_zeros(wired):
    g, dirs = _state_graph("LSTM", True, wire_h0=wired == "h0", wire_c0=wired == "c0")
    model = compiled(g)
    torch.manual_seed(1)
    x, given = torch.randn(B, T, FEAT), torch.randn(B, LAYERS * dirs, H)
    zeros = torch.zeros_like(given)
    h0, c0 = (given if wired == "h0" else zeros), (given if wired == "c0" else zeros)
    with torch.no_grad():
        got = model(x) if wired == "none" else model(x, given)
        out, (h, c) = model.rnn(x, (h0.transpose(0, 1).contiguous(), c0.transpose(0, 1).contiguous()))
    torch.testing.assert_close(got[0], out)
    torch.testing.assert_close(got[-1], c.transpose(0, 1))


def test_state_carries_from_an_encoder_lstm_into_a_decoder_lstm():
    """seq2seq: the decoder starts from the encoder's final (h_n, c_n)."""
    g = graph({"src": (T, FEAT), "tgt": (4, 3)},
              {"enc": ("LSTM", {"hidden_size": H, "num_layers": LAYERS}),
               "dec": ("LSTM", {"hidden_size": H, "num_layers": LAYERS}), "head": ("Linear", {"out_features": 2})},
              ["src -> enc", "tgt -> dec.in", "enc.h_n -> dec.h0", "enc.c_n -> dec.c0", "dec.out -> head"])
    model = compiled(g)
    src, tgt = torch.randn(B, T, FEAT), torch.randn(B, 4, 3)
    with torch.no_grad():
        _, state = model.enc(src)
        out, _ = model.dec(tgt, state)
        torch.testing.assert_close(model(src, tgt), model.head(out))


def test_a_gru_state_feeds_a_gru_of_the_same_sizes():
    g = graph({"a": (T, FEAT), "b": (4, FEAT)},
              {"g1": ("GRU", {"hidden_size": H, "bidirectional": True}),
               "g2": ("GRU", {"hidden_size": H, "bidirectional": True})},
              ["a -> g1", "b -> g2.in", "g1.h_n -> g2.h0", "g2.hidden -> last"], outputs=["last"])
    model = compiled(g)
    a, b = torch.randn(B, T, FEAT), torch.randn(B, 4, FEAT)
    with torch.no_grad():
        _, h = model.g1(a)
        _, h2 = model.g2(b, h)
        torch.testing.assert_close(model(a, b), torch.cat([h2[-2], h2[-1]], 1))


# ---- pytorch/examples word_language_model: RNNModel (LSTM, untied) ------------------------------
def _word_lm_graph(ntoken, ninp, nhid, nlayers, dropout, time):
    return graph({"tokens": ((time,), "int64"), "h0": (nlayers, nhid), "c0": (nlayers, nhid)},
                 {"encoder": ("Embedding", {"num_embeddings": ntoken, "embedding_dim": ninp}),
                  "drop_in": ("Dropout", {"p": dropout}),
                  "rnn": ("LSTM", {"hidden_size": nhid, "num_layers": nlayers, "dropout": dropout}),
                  "drop_out": ("Dropout", {"p": dropout}),
                  "decoder": ("Linear", {"out_features": ntoken}), "logp": ("LogSoftmax", {})},
                 ["tokens -> encoder", "encoder -> drop_in", "drop_in -> rnn.in", "h0 -> rnn.h0", "c0 -> rnn.c0",
                  "rnn.out -> drop_out", "drop_out -> decoder", "decoder -> logp", "logp -> log_probs",
                  "rnn.h_n -> h_n", "rnn.c_n -> c_n"], outputs=["log_probs", "h_n", "c_n"])


def test_word_language_model_rnn_matches_the_published_model(tmp_path):
    ntoken, ninp, nhid, nlayers, time = 50, 16, 24, 2, 9
    model = compiled(through_a_project_file(_word_lm_graph(ntoken, ninp, nhid, nlayers, 0.5, time), tmp_path))
    ref = RNNModel(ntoken, ninp, nhid, nlayers).eval()
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ref.parameters())
    ref.load_state_dict(model.state_dict())  # the node ids are the published attribute names
    torch.manual_seed(2)
    ids = torch.randint(0, ntoken, (B, time))
    hidden = ref.init_hidden(B)
    with torch.no_grad():
        for _ in range(2):  # carry the state over two chunks, as the training loop does
            want, hidden_next = ref(ids.t(), hidden)  # theirs is sequence-first: [time, batch]
            logp, h_n, c_n = model(ids, hidden[0].transpose(0, 1), hidden[1].transpose(0, 1))
            torch.testing.assert_close(logp.transpose(0, 1).reshape(-1, ntoken), want)
            torch.testing.assert_close(h_n.transpose(0, 1), hidden_next[0])
            torch.testing.assert_close(c_n.transpose(0, 1), hidden_next[1])
            hidden = hidden_next
            ids = torch.randint(0, ntoken, (B, time))


# ---- what a person can get wrong --------------------------------------------------------------
@pytest.mark.fault("graph", "a recurrent state of the wrong size wired into h0",
                   "refused on the node: the shape it needs ([num_layers * directions, hidden_size])")
def test_a_state_of_the_wrong_size_is_refused():
    g = graph({"x": (T, FEAT), "h": (1, H)}, {"rnn": ("GRU", {"hidden_size": H, "num_layers": 2})},
              ["x -> rnn.in", "h -> rnn.h0"])
    assert errors(g) == [f"GRU 'rnn' needs its initial state at 'h0' as [num_layers * directions, hidden_size] "
                         f"= [2, {H}] per sample but gets [1, {H}]; wire the 'h_n' of a recurrent layer of the "
                         "same sizes, or leave 'h0' unwired to start from zeros"]


@pytest.mark.fault("graph", "a wire from an output port the node does not have (GRU 'cell')",
                   "one message naming the node, the port and its outputs; the Output it leads into gets no "
                   "second, derived error")
def test_an_unknown_output_port_is_named_once():
    g = graph({"x": (T, FEAT)}, {"rnn": ("GRU", {"hidden_size": H})}, ["x -> rnn", "rnn.cell -> cell"],
              outputs=["cell"])
    assert errors(g) == ["GRU 'rnn' has no output port 'cell' (its outputs: out, hidden, h_n); plug the wire "
                         "to 'cell' into one of those"]


@pytest.mark.fault("graph", "a wire into an input port the node does not have (LSTM 'state')",
                   "one message naming the node, the port and its inputs; nothing derived after it")
def test_an_unknown_input_port_is_named_once():
    g = graph({"x": (T, FEAT), "s": (1, H)}, {"rnn": ("LSTM", {"hidden_size": H})},
              ["x -> rnn.in", "s -> rnn.state", "rnn.h_n -> h"], outputs=["h"])
    assert errors(g) == ["LSTM 'rnn' has no input port 'state' (its inputs: in, h0, c0)"]


@pytest.mark.fault("graph", "a wire from a node of an unknown type into a recurrent layer",
                   "one message, on the unknown node; the layer it feeds gets no derived 'nothing wired' error")
def test_a_wire_from_an_unknown_type_is_not_followed_by_a_derived_error():
    g = graph({"x": (T, FEAT)}, {"mystery": ("Conv9d", {}), "rnn": ("LSTM", {"hidden_size": H})},
              ["x -> mystery", "mystery -> rnn.in"])
    (msg,) = errors(g)
    assert msg.startswith("Node 'mystery' has an unknown type 'Conv9d'")


def test_summary_counts_layers_with_unwired_state_and_weights_off():
    """Stats run each node on meta tensors: an unwired optional port arrives as None there too."""
    from studio.core.summary import summarize

    g = graph({"x": (T, FEAT)}, {"rnn": ("LSTM", {"hidden_size": H, "num_layers": LAYERS}),
                                 "att": ("MultiheadAttention", {"num_heads": 2})},
              ["x -> rnn.in", "rnn.out -> att.query"])
    rows = {r.id: r for r in summarize(g).rows}
    assert rows["rnn"].params == sum(p.numel() for p in nn.LSTM(FEAT, H, LAYERS).parameters())
    assert rows["att"].params == sum(p.numel() for p in nn.MultiheadAttention(H, 2).parameters())
    assert rows["att"].flops > 0 and rows["att"].output == f"[{T}, {H}]"  # 'weights' is not produced
