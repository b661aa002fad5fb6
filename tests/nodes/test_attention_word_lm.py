"""pytorch/examples' word_language_model TransformerModel drawn as a project graph: the same
log-probabilities as the published structure with the same weights, and causal (a later token
never changes an earlier prediction)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from studio.core import default_registry
from tests.nodes.graph_builder import compiled, graph, through_a_project_file

NTOKEN, NINP, NHEAD, NHID, NLAYERS, TIME, B = 40, 16, 2, 32, 2, 10, 3
HAS_SCALE = "Scale" in default_registry().types()  # the constant-scale node (issue 16, item 6)


class PositionalEncoding(nn.Module):
    """Theirs: the sinusoidal table [max_len, 1, d_model] added to a sequence-first input, then dropout."""

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

    def forward(self, x):
        return self.dropout(x + self.pe[:x.size(0), :])


class TransformerModel(nn.Module):
    """Theirs: embedding scaled by sqrt(ninp), positional encoding, a stack of encoder layers under a
    square subsequent (causal) mask, a linear decoder and log-softmax; sequence-first [time, batch]."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super().__init__()
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        layer = nn.TransformerEncoderLayer(ninp, nhead, nhid, dropout)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.decoder = nn.Linear(ninp, ntoken)
        self.ninp = ninp

    def forward(self, src):
        n = len(src)
        mask = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)  # _generate_square_subsequent_mask
        x = self.pos_encoder(self.encoder(src) * math.sqrt(self.ninp))
        return F.log_softmax(self.decoder(self.transformer_encoder(x, mask)), dim=-1)


def _drawn(tmp_path):
    block = {"nhead": NHEAD, "dim_feedforward": NHID, "dropout": 0.5, "causal": True}
    layers = {"encoder": ("Embedding", {"num_embeddings": NTOKEN, "embedding_dim": NINP})}
    wires = ["tokens -> encoder"]
    first = "encoder"
    if HAS_SCALE:
        layers["scale"] = ("Scale", {"scale": math.sqrt(NINP)})
        wires.append("encoder -> scale")
        first = "scale"
    layers.update({"pos_encoder": ("PositionalEncoding", {"dropout": 0.5}),
                   **{f"layer{i}": ("TransformerEncoderLayer", block) for i in range(NLAYERS)},
                   "decoder": ("Linear", {"out_features": NTOKEN}), "logp": ("LogSoftmax", {})})
    wires += [f"{first} -> pos_encoder", "pos_encoder -> layer0", "layer0 -> layer1", "layer1 -> decoder",
              "decoder -> logp"]
    return compiled(through_a_project_file(graph({"tokens": ((TIME,), "int64")}, layers, wires), tmp_path))


def _same_weights(model, ref):
    state = {}
    for key, value in ref.state_dict().items():
        if key == "pos_encoder.pe":
            continue  # derived, not learned: compared below
        if key == "encoder.weight" and not HAS_SCALE:
            value = value * math.sqrt(NINP)  # without a Scale node the sqrt(ninp) is folded into the table
        state[key.replace("transformer_encoder.layers.", "layer")] = value
    model.load_state_dict(state)
    return model


def test_the_positional_encoding_is_theirs():
    from nodes.modules import PositionalEncoding as Ours

    torch.testing.assert_close(Ours(NINP, 5000, 0.5).pe, PositionalEncoding(NINP, 0.5).pe[:, 0])


def test_word_language_model_transformer_matches_the_published_model(tmp_path):
    torch.manual_seed(0)
    ref = TransformerModel(NTOKEN, NINP, NHEAD, NHID, NLAYERS).eval()
    model = _same_weights(_drawn(tmp_path), ref)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ref.parameters())
    ids = torch.randint(0, NTOKEN, (B, TIME))
    with torch.no_grad():
        torch.testing.assert_close(model(ids), ref(ids.t()).transpose(0, 1))


def test_the_drawn_language_model_is_causal(tmp_path):
    model = _drawn(tmp_path)
    torch.manual_seed(3)
    ids = torch.randint(0, NTOKEN, (B, TIME))
    with torch.no_grad():
        before = model(ids)
        for t in range(TIME - 1):
            changed = ids.clone()
            changed[:, t + 1:] = (ids[:, t + 1:] + 1 + torch.randint(0, NTOKEN - 1, ids[:, t + 1:].shape)) % NTOKEN
            after = model(changed)
            torch.testing.assert_close(after[:, :t + 1], before[:, :t + 1])
            assert not torch.allclose(after[:, t + 1:], before[:, t + 1:])
