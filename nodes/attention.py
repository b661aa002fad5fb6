"""attention: multi-head attention, Transformer blocks and padding masks (batch-first, [time, d_model]).

Masks follow PyTorch: a padding mask is bool [time] per sample, True where a step is padding and is
not attended to; the causal option masks every later step (a step sees itself and what came before),
built inside the layer from the sequence lengths."""
from __future__ import annotations

from ._common import INT, NodeSpec, Param, ParamError, Port, ShapeError, TensorType, fmt_shape, need_float, nn

BOOL = "bool"


def _need_seq(t, port: str = ""):
    at = f" at '{port}'" if port else ""
    need_float(t, at)
    if t.rank != 2:
        raise ShapeError(f"needs a sequence [time, d_model] per sample{at} but gets {fmt_shape(t.shape)}; "
                         "use an Embedding for token ids, or Reshape")


def _need_mask(mask, steps: int, port: str, of: str) -> None:
    """A padding mask: bool [steps] per sample, one flag per step of the sequence at `of`."""
    if mask is None:
        return
    if mask.dtype != BOOL or mask.shape != (steps,):
        raise ShapeError(f"needs a padding mask [{steps}] bool per sample at '{port}' (one flag per step of "
                         f"'{of}', True where it is padding) but gets {mask}; build it from the token ids "
                         "with a PaddingMask node")


def _heads_divide(d_model: int, heads: int, name: str) -> None:
    if d_model % heads:
        raise ParamError(f"'{name}' {heads} must divide the model width {d_model}; pick a divisor of {d_model}")


def causal_mask(query, key):
    """bool [query time, key time], True above the diagonal: step t attends to steps 0..t only."""
    import torch

    # new_ones (a method) rather than torch.ones: torch.fx traces it on proxies, and it follows the device
    steps = query.shape[1]
    return query.new_ones((steps, steps if key is query else key.shape[1]), dtype=torch.bool).triu(1)


_CAUSAL = Param("causal", "bool", False, "Causal (autoregressive) attention: each step attends only to itself "
                "and earlier steps, as in a language model; the mask is built inside.")


# ---- MultiheadAttention ------------------------------------------------------------------------
def _mha_sources(inputs):
    """(query, key, value, key_padding_mask); key defaults to the query, value to the key."""
    q, k, v, mask = inputs
    k = q if k is None else k
    return q, k, k if v is None else v, mask


def _mha_infer(p, inputs):
    q, k, v, mask = inputs
    _need_seq(q, "query")
    if k is not None:
        _need_seq(k, "key")
    if v is not None:
        _need_seq(v, "value")
    q, k, v, mask = _mha_sources(inputs)
    if k.shape[0] != v.shape[0]:
        raise ShapeError(f"needs key and value of the same length but gets key {fmt_shape(k.shape)} and value "
                         f"{fmt_shape(v.shape)}; wire the same sequence (or sequences of one length) into both")
    _heads_divide(q.shape[-1], p["num_heads"], "num_heads")
    _need_mask(mask, k.shape[0], "key_padding_mask", "key")
    tq, tk, heads = q.shape[0], k.shape[0], p["num_heads"]
    weights = None
    if p["need_weights"]:
        weights = TensorType((tq, tk) if p["average_attn_weights"] else (heads, tq, tk), q.dtype)
    return [q, weights]


def _mha_build(p, inputs):
    q, k, v, _ = _mha_sources(inputs)
    width = q.shape[-1]
    kdim = k.shape[-1] if k.shape[-1] != width else None  # None: PyTorch's packed in_proj_weight
    vdim = v.shape[-1] if v.shape[-1] != width else None
    return nn.MultiheadAttention(width, p["num_heads"], dropout=p["dropout"], bias=p["bias"],
                                 kdim=kdim, vdim=vdim, batch_first=True)


def _mha_wire(call, inputs, p):
    q, k, v, mask = _mha_sources(inputs)
    kw: dict = {"need_weights": p["need_weights"]}
    if mask is not None:
        kw["key_padding_mask"] = mask
    if p["causal"]:
        kw["attn_mask"] = causal_mask(q, k)
        kw["is_causal"] = True  # a hint that attn_mask is the causal mask: PyTorch may use a faster kernel
    if p["need_weights"]:
        kw["average_attn_weights"] = p["average_attn_weights"]
    result = call(q, k, v, **kw)
    return [result[0], result[1] if p["need_weights"] else None]


MHA = NodeSpec(
    type="MultiheadAttention", category="attention", torch_name="torch.nn.MultiheadAttention",
    doc="Multi-head attention of a query sequence [time, embed_dim] over a key/value sequence (embed_dim, "
        "kdim and vdim are inferred). Self-attention when only the query is wired; wire an encoder's output "
        "into key for cross-attention.",
    params=(Param("num_heads", "int", 4, "Attention heads; must divide embed_dim.", min=1, max=1024),
            Param("dropout", "float", 0.0, "Dropout on the attention weights.", min=0.0, max=1.0),
            Param("bias", "bool", True, "Learn biases in the projections."),
            _CAUSAL,
            Param("need_weights", "bool", False, "Also give the attention weights at the 'weights' output "
                  "(PyTorch then cannot use its fused attention kernel)."),
            Param("average_attn_weights", "bool", True, "Average the weights over the heads ([time, source "
                  "time]) instead of one map per head ([heads, time, source time]).")),
    inputs=(Port("query", "the sequence that attends [time, embed_dim]"),
            Port("key", "the sequence attended to [source time, kdim]; the query when unwired", optional=True),
            Port("value", "what is gathered [source time, vdim]; the key when unwired", optional=True),
            Port("key_padding_mask", "bool [source time], True at padding steps of the key, which are not "
                 "attended to (a PaddingMask node builds it)", optional=True)),
    outputs=(Port("out", "the attended sequence [time, embed_dim]"),
             Port("weights", "attention weights, only with need_weights on: [time, source time] averaged "
                  "over heads, else [heads, time, source time]")),
    infer=_mha_infer, build=_mha_build, wire=_mha_wire,
    key_params=("num_heads", "causal"),
)

# ---- Transformer blocks ------------------------------------------------------------------------
_BLOCK_PARAMS = (
    Param("nhead", "int", 4, "Attention heads; must divide d_model.", min=1, max=1024),
    Param("dim_feedforward", "int", 2048, "Width of the feed-forward sublayer.", min=1, max=1_000_000),
    Param("dropout", "float", 0.1, "Dropout inside the block.", min=0.0, max=1.0),
    Param("activation", "choice", "relu", "Feed-forward activation.", choices=("relu", "gelu")),
    Param("layer_norm_eps", "float", 1e-5, "LayerNorm epsilon.", min=0.0, max=1.0),
    Param("norm_first", "bool", False, "Pre-norm (LayerNorm before each sublayer) instead of post-norm."),
)


def _encoder_infer(p, inputs):
    src, mask = inputs
    _need_seq(src, "src")
    _heads_divide(src.shape[-1], p["nhead"], "nhead")
    _need_mask(mask, src.shape[0], "src_key_padding_mask", "src")
    return [src]


def _block_kwargs(p):
    return dict(nhead=p["nhead"], dim_feedforward=p["dim_feedforward"], dropout=p["dropout"],
                activation=p["activation"], layer_norm_eps=p["layer_norm_eps"], batch_first=True,
                norm_first=p["norm_first"])


def _encoder_wire(call, inputs, p):
    src, mask = inputs
    kw: dict = {}
    if p["causal"]:
        kw.update(src_mask=causal_mask(src, src), is_causal=True)
    if mask is not None:
        kw["src_key_padding_mask"] = mask
    return [call(src, **kw)]


ENCODER = NodeSpec(
    type="TransformerEncoderLayer", category="attention", torch_name="torch.nn.TransformerEncoderLayer",
    doc="Self-attention plus a feed-forward network, each with a residual and LayerNorm (d_model is inferred); "
        "causal for a language model, with an optional padding mask.",
    params=_BLOCK_PARAMS + (_CAUSAL,),
    inputs=(Port("src", "the sequence [time, d_model]"),
            Port("src_key_padding_mask", "bool [time], True at padding steps, which are not attended to",
                 optional=True)),
    infer=_encoder_infer, wire=_encoder_wire,
    build=lambda p, i: nn.TransformerEncoderLayer(i[0].shape[-1], **_block_kwargs(p)),
    key_params=("nhead", "dim_feedforward", "causal"),
)


def _decoder_infer(p, inputs):
    tgt, memory, tgt_mask, memory_mask = inputs
    _need_seq(tgt, "tgt")
    _need_seq(memory, "memory")
    if memory.shape[-1] != tgt.shape[-1]:
        raise ShapeError(f"needs memory with the same width as tgt but gets tgt {fmt_shape(tgt.shape)} and "
                         f"memory {fmt_shape(memory.shape)}; project one of them with a Linear")
    _heads_divide(tgt.shape[-1], p["nhead"], "nhead")
    _need_mask(tgt_mask, tgt.shape[0], "tgt_key_padding_mask", "tgt")
    _need_mask(memory_mask, memory.shape[0], "memory_key_padding_mask", "memory")
    return [tgt]


def _decoder_wire(call, inputs, p):
    tgt, memory, tgt_mask, memory_mask = inputs
    kw: dict = {}
    if p["causal"]:
        kw.update(tgt_mask=causal_mask(tgt, tgt), tgt_is_causal=True)
    if tgt_mask is not None:
        kw["tgt_key_padding_mask"] = tgt_mask
    if memory_mask is not None:
        kw["memory_key_padding_mask"] = memory_mask
    return [call(tgt, memory, **kw)]


DECODER = NodeSpec(
    type="TransformerDecoderLayer", category="attention", torch_name="torch.nn.TransformerDecoderLayer",
    doc="Self-attention over tgt (causal when set), cross-attention to memory (an encoder's output), and a "
        "feed-forward network, each with a residual and LayerNorm.",
    params=_BLOCK_PARAMS + (Param("causal", "bool", False, "Causal self-attention over tgt: each step sees "
                                  "only itself and earlier steps (the mask is built inside)."),),
    inputs=(Port("tgt", "the target sequence [time, d_model]"),
            Port("memory", "the encoder's output [source time, d_model]"),
            Port("tgt_key_padding_mask", "bool [time], True at padding steps of tgt", optional=True),
            Port("memory_key_padding_mask", "bool [source time], True at padding steps of memory",
                 optional=True)),
    infer=_decoder_infer, wire=_decoder_wire,
    build=lambda p, i: nn.TransformerDecoderLayer(i[0].shape[-1], **_block_kwargs(p)),
    key_params=("nhead", "dim_feedforward", "causal"),
)


# ---- PaddingMask -------------------------------------------------------------------------------
def _padding_infer(p, inputs):
    (t,) = inputs
    if t.is_float or t.dtype == BOOL:
        raise ShapeError(f"needs token ids ({INT}) but gets {t}; wire the Input of token ids into it")
    return [TensorType(t.shape, BOOL)]


def _padding_wire(call, inputs, p):
    import torch

    return [torch.eq(inputs[0], p["padding_idx"])]


PADDING_MASK = NodeSpec(
    type="PaddingMask", category="attention",
    doc="Marks the padding in token ids: [time] int64 -> [time] bool, True where the id is padding_idx; wire "
        "it into an attention layer's key padding mask.",
    params=(Param("padding_idx", "int", 0, "The id that pads sequences (the Embedding's padding_idx, counted "
                  "from 0).", min=0),),
    inputs=(Port("in", "token ids [time] int64"),), outputs=(Port("out", "bool [time], True at padding"),),
    infer=_padding_infer, build=lambda p, i: None, wire=_padding_wire, key_params=("padding_idx",),
)

SPECS = [MHA, ENCODER, DECODER, PADDING_MASK]
