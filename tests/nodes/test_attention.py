"""Attention nodes against the torch modules built by hand with the same weights: query/key/value,
padding masks, the causal option, attention weights, encoder and decoder layers, PaddingMask."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.nodes.graph_builder import compiled, errors, graph

B = 3


def tokens(time: int, lengths, vocab: int = 20, seed: int = 0) -> torch.Tensor:
    """Token ids 1..vocab-1, padded with 0 after each sample's length (no sample is all padding)."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (len(lengths), time), generator=gen)
    for i, n in enumerate(lengths):
        ids[i, n:] = 0
    return ids


def causal(tq: int, tk: int | None = None) -> torch.Tensor:
    return torch.ones(tq, tk or tq, dtype=torch.bool).triu(1)


def same_weights(built: nn.Module, reference: nn.Module) -> nn.Module:
    assert [(k, v.shape) for k, v in built.state_dict().items()] == \
        [(k, v.shape) for k, v in reference.state_dict().items()]
    reference.load_state_dict(built.state_dict())
    return reference.eval()


@pytest.mark.parametrize("causal_on", [False, True])
@pytest.mark.parametrize("weights", ["off", "averaged", "per_head"])
def test_cross_attention_with_a_padding_mask_matches_the_module(causal_on, weights):
    params = {"num_heads": 4, "causal": causal_on, "need_weights": weights != "off",
              "average_attn_weights": weights != "per_head"}
    g = graph({"q": (6, 16), "mem": (9, 12), "ids": ((9,), "int64")},
              {"mask": ("PaddingMask", {"padding_idx": 0}), "att": ("MultiheadAttention", params)},
              ["q -> att.query", "mem -> att.key", "ids -> mask", "mask -> att.key_padding_mask", "att.out -> out"]
              + (["att.weights -> w"] if weights != "off" else []), outputs=["out"] + (["w"] if weights != "off" else []))
    model = compiled(g)
    ref = same_weights(model.att, nn.MultiheadAttention(16, 4, kdim=12, vdim=12, batch_first=True))
    q, mem, ids = torch.randn(B, 6, 16), torch.randn(B, 9, 12), tokens(9, [9, 5, 7])
    with torch.no_grad():
        got = model(q, mem, ids)
        want = ref(q, mem, mem, key_padding_mask=ids == 0, need_weights=weights != "off",
                   attn_mask=causal(6, 9) if causal_on else None, average_attn_weights=weights != "per_head")
    if weights == "off":
        torch.testing.assert_close(got, want[0])
    else:
        torch.testing.assert_close(got[0], want[0])
        torch.testing.assert_close(got[1], want[1])
        assert got[1].shape == ((B, 6, 9) if weights == "averaged" else (B, 4, 6, 9))
        assert (got[1][1, :, 5:] == 0).all() if weights == "averaged" else (got[1][1, :, :, 5:] == 0).all()


def test_key_and_value_of_their_own_widths():
    g = graph({"q": (5, 8), "k": (7, 6), "v": (7, 10)}, {"att": ("MultiheadAttention", {"num_heads": 2})},
              ["q -> att.query", "k -> att.key", "v -> att.value"])
    model = compiled(g)
    ref = same_weights(model.att, nn.MultiheadAttention(8, 2, kdim=6, vdim=10, batch_first=True))
    q, k, v = torch.randn(B, 5, 8), torch.randn(B, 7, 6), torch.randn(B, 7, 10)
    with torch.no_grad():
        torch.testing.assert_close(model(q, k, v), ref(q, k, v)[0])


def test_self_attention_when_only_the_query_is_wired_keeps_the_packed_projection():
    g = graph({"x": (6, 16)}, {"att": ("MultiheadAttention", {"num_heads": 4})}, ["x -> att"])
    model = compiled(g)
    assert "in_proj_weight" in model.att.state_dict()  # the same keys as a checkpoint of nn.MultiheadAttention
    ref = same_weights(model.att, nn.MultiheadAttention(16, 4, batch_first=True))
    x = torch.randn(B, 6, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x, x, x)[0])


def _later_steps_never_change_earlier_outputs(model, make_inputs, time: int, perturbed: int = 0):
    """Perturb steps t+1.. of input `perturbed`: outputs 0..t stay, and some later output moves."""
    torch.manual_seed(1)
    base = make_inputs()
    with torch.no_grad():
        before = model(*base)
        for t in range(time - 1):
            changed = list(base)
            changed[perturbed] = base[perturbed].clone()
            changed[perturbed][:, t + 1:] = torch.randn_like(changed[perturbed][:, t + 1:]) * 3
            after = model(*changed)
            torch.testing.assert_close(after[:, :t + 1], before[:, :t + 1], rtol=1e-5, atol=1e-5)
            assert not torch.allclose(after[:, t + 1:], before[:, t + 1:])


def test_causal_attention_never_sees_later_steps():
    g = graph({"x": (7, 16)}, {"att": ("MultiheadAttention", {"num_heads": 2, "causal": True})}, ["x -> att"])
    model = compiled(g)
    _later_steps_never_change_earlier_outputs(model, lambda: (torch.randn(B, 7, 16),), 7)
    ref = same_weights(model.att, nn.MultiheadAttention(16, 2, batch_first=True))
    x = torch.randn(B, 7, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x, x, x, attn_mask=causal(7))[0])


@pytest.mark.parametrize("norm_first", [False, True])
def test_causal_encoder_layer_with_a_padding_mask_matches_the_module(norm_first):
    params = {"nhead": 2, "dim_feedforward": 32, "dropout": 0.0, "causal": True, "norm_first": norm_first,
              "activation": "gelu"}
    g = graph({"ids": ((8,), "int64")},
              {"emb": ("Embedding", {"num_embeddings": 20, "embedding_dim": 16}),
               "mask": ("PaddingMask", {}), "enc": ("TransformerEncoderLayer", params)},
              ["ids -> emb", "ids -> mask", "emb -> enc.src", "mask -> enc.src_key_padding_mask"])
    model = compiled(g)
    ref = same_weights(model.enc, nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, activation="gelu",
                                                             batch_first=True, norm_first=norm_first))
    ids = tokens(8, [8, 3, 6])
    with torch.no_grad():
        want = ref(model.emb(ids), src_mask=causal(8), src_key_padding_mask=ids == 0)
        torch.testing.assert_close(model(ids), want)
    model.train()  # the training path (no fused kernel) gives the same with dropout 0
    torch.testing.assert_close(model(ids), want)


def test_causal_encoder_layer_never_sees_later_steps():
    g = graph({"x": (6, 8)}, {"enc": ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16,
                                                                  "causal": True})}, ["x -> enc"])
    _later_steps_never_change_earlier_outputs(compiled(g), lambda: (torch.randn(B, 6, 8),), 6)


def test_an_encoder_without_the_causal_option_sees_every_step():
    g = graph({"x": (6, 8)}, {"enc": ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16})},
              ["x -> enc"])
    model = compiled(g)
    x = torch.randn(B, 6, 8)
    changed = x.clone()
    changed[:, -1] += 1.0
    with torch.no_grad():
        assert not torch.allclose(model(x)[:, 0], model(changed)[:, 0])


def test_decoder_layer_with_memory_masks_and_causal_self_attention_matches_the_module():
    params = {"nhead": 4, "dim_feedforward": 24, "dropout": 0.0, "causal": True}
    g = graph({"tgt_ids": ((7,), "int64"), "src_ids": ((9,), "int64")},
              {"temb": ("Embedding", {"num_embeddings": 20, "embedding_dim": 16}),
               "semb": ("Embedding", {"num_embeddings": 20, "embedding_dim": 16}),
               "enc": ("TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 24, "dropout": 0.0}),
               "tmask": ("PaddingMask", {}), "smask": ("PaddingMask", {}),
               "dec": ("TransformerDecoderLayer", params)},
              ["tgt_ids -> temb", "src_ids -> semb", "tgt_ids -> tmask", "src_ids -> smask",
               "semb -> enc.src", "smask -> enc.src_key_padding_mask",
               "temb -> dec.tgt", "enc -> dec.memory", "tmask -> dec.tgt_key_padding_mask",
               "smask -> dec.memory_key_padding_mask"])
    model = compiled(g)
    enc = same_weights(model.enc, nn.TransformerEncoderLayer(16, 4, 24, dropout=0.0, batch_first=True))
    dec = same_weights(model.dec, nn.TransformerDecoderLayer(16, 4, 24, dropout=0.0, batch_first=True))
    tgt, src = tokens(7, [7, 4, 6], seed=1), tokens(9, [9, 2, 5], seed=2)
    with torch.no_grad():
        memory = enc(model.semb(src), src_key_padding_mask=src == 0)
        want = dec(model.temb(tgt), memory, tgt_mask=causal(7), tgt_key_padding_mask=tgt == 0,
                   memory_key_padding_mask=src == 0)
        torch.testing.assert_close(model(tgt, src), want)


def test_causal_decoder_layer_never_sees_later_target_steps():
    g = graph({"tgt": (6, 8), "mem": (4, 8)},
              {"dec": ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 16, "causal": True})},
              ["tgt -> dec.tgt", "mem -> dec.memory"])
    _later_steps_never_change_earlier_outputs(compiled(g), lambda: (torch.randn(B, 6, 8), torch.randn(B, 4, 8)), 6)


def test_padding_mask_marks_the_padding_id():
    g = graph({"ids": ((5,), "int64")}, {"mask": ("PaddingMask", {"padding_idx": 3})}, ["ids -> mask"])
    ids = torch.tensor([[3, 1, 3, 0, 4]])
    got = compiled(g)(ids)
    assert got.dtype == torch.bool and got.tolist() == [[True, False, True, False, False]]


# ---- what a person can get wrong --------------------------------------------------------------
@pytest.mark.fault("graph", "a float tensor or a mask of the wrong length wired into a padding-mask port",
                   "refused on the node: the port, the mask it needs ([time] bool) and the PaddingMask node")
def test_a_padding_mask_of_the_wrong_kind_is_refused():
    g = graph({"x": (6, 8), "m": (6,), "ids": ((5,), "int64")},
              {"enc": ("TransformerEncoderLayer", {"nhead": 2}), "pad": ("PaddingMask", {}),
               "att": ("MultiheadAttention", {"num_heads": 2})},
              ["x -> enc.src", "m -> enc.src_key_padding_mask", "ids -> pad", "x -> att.query",
               "pad -> att.key_padding_mask"])
    (enc, att) = errors(g)
    assert enc.startswith("TransformerEncoderLayer 'enc' needs a padding mask [6] bool per sample at "
                          "'src_key_padding_mask'") and "gets [6]" in enc and "PaddingMask" in enc
    assert att.startswith("MultiheadAttention 'att' needs a padding mask [6] bool") and "gets [5] bool" in att


@pytest.mark.fault("graph", "the attention weights wired out while need_weights is off",
                   "refused on the node: it does not produce 'weights' with its params; turn need_weights on")
def test_weights_wired_without_need_weights_is_refused_once():
    g = graph({"x": (6, 8)}, {"att": ("MultiheadAttention", {"num_heads": 2})},
              ["x -> att", "att.out -> y", "att.weights -> w"], outputs=["y", "w"])
    (msg,) = errors(g)
    assert msg.startswith("MultiheadAttention 'att' does not produce its output 'weights' with its current params")
    assert "need_weights" in msg and "'w'" in msg


@pytest.mark.fault("graph", "key and value of different lengths", "refused on the node with both shapes")
def test_key_and_value_of_different_lengths_are_refused():
    g = graph({"q": (6, 8), "k": (5, 8), "v": (4, 8)}, {"att": ("MultiheadAttention", {"num_heads": 2})},
              ["q -> att.query", "k -> att.key", "v -> att.value"])
    (msg,) = errors(g)
    assert "key [5, 8] and value [4, 8]" in msg


@pytest.mark.fault("graph", "a wire into an attention port that does not exist",
                   "one message naming the node, the port and the ports it has; nothing derived after it")
def test_an_unknown_attention_port_is_named_once():
    g = graph({"x": (6, 8)}, {"att": ("MultiheadAttention", {"num_heads": 2}), "relu": ("ReLU", {})},
              ["x -> att.mask", "att -> relu"])
    assert errors(g) == ["MultiheadAttention 'att' has no input port 'mask' (its inputs: query, key, value, "
                         "key_padding_mask)"]


@pytest.mark.fault("graph", "token ids expected, floats given (PaddingMask)", "refused: it needs int64 token ids")
def test_padding_mask_needs_token_ids():
    g = graph({"x": (6,)}, {"pad": ("PaddingMask", {})}, ["x -> pad"])
    (msg,) = errors(g)
    assert msg.startswith("PaddingMask 'pad' needs token ids (int64) but gets [6]")
