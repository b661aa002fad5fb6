"""attention: multi-head self-attention and Transformer blocks (batch-first, [time, d_model])."""
from __future__ import annotations

from ._common import NodeSpec, Param, ParamError, Port, ShapeError, fmt_shape, need_float, nn


def _need_seq(t):
    need_float(t)
    if t.rank != 2:
        raise ShapeError(f"needs a sequence [time, d_model] per sample but gets {fmt_shape(t.shape)}; "
                         "use an Embedding for token ids, or Reshape")


def _heads_divide(d_model: int, heads: int, name: str) -> None:
    if d_model % heads:
        raise ParamError(f"'{name}' {heads} must divide the model width {d_model}; pick a divisor of {d_model}")


def _mha_infer(p, inputs):
    (t,) = inputs
    _need_seq(t)
    _heads_divide(t.shape[-1], p["num_heads"], "num_heads")
    return [t]


MHA = NodeSpec(
    type="MultiheadAttention", category="attention", torch_name="torch.nn.MultiheadAttention",
    doc="Multi-head self-attention over a sequence [time, embed_dim] (embed_dim is inferred).",
    params=(Param("num_heads", "int", 4, "Attention heads; must divide embed_dim.", min=1, max=1024),
            Param("dropout", "float", 0.0, "Dropout on the attention weights.", min=0.0, max=1.0),
            Param("bias", "bool", True, "Learn biases in the projections.")),
    infer=_mha_infer,
    build=lambda p, i: nn.MultiheadAttention(i[0].shape[-1], p["num_heads"], dropout=p["dropout"],
                                             bias=p["bias"], batch_first=True),
    wire=lambda call, inputs, p: [call(inputs[0], inputs[0], inputs[0], need_weights=False)[0]],
    key_params=("num_heads",),
)

_BLOCK_PARAMS = (
    Param("nhead", "int", 4, "Attention heads; must divide d_model.", min=1, max=1024),
    Param("dim_feedforward", "int", 2048, "Width of the feed-forward sublayer.", min=1, max=1_000_000),
    Param("dropout", "float", 0.1, "Dropout inside the block.", min=0.0, max=1.0),
    Param("activation", "choice", "relu", "Feed-forward activation.", choices=("relu", "gelu")),
    Param("layer_norm_eps", "float", 1e-5, "LayerNorm epsilon.", min=0.0, max=1.0),
    Param("norm_first", "bool", False, "Pre-norm (LayerNorm before each sublayer) instead of post-norm."),
)


def _encoder_infer(p, inputs):
    (t,) = inputs
    _need_seq(t)
    _heads_divide(t.shape[-1], p["nhead"], "nhead")
    return [t]


def _block_kwargs(p):
    return dict(nhead=p["nhead"], dim_feedforward=p["dim_feedforward"], dropout=p["dropout"],
                activation=p["activation"], layer_norm_eps=p["layer_norm_eps"], batch_first=True,
                norm_first=p["norm_first"])


ENCODER = NodeSpec(
    type="TransformerEncoderLayer", category="attention", torch_name="torch.nn.TransformerEncoderLayer",
    doc="Self-attention plus a feed-forward network, each with a residual and LayerNorm (d_model is inferred).",
    params=_BLOCK_PARAMS, infer=_encoder_infer,
    build=lambda p, i: nn.TransformerEncoderLayer(i[0].shape[-1], **_block_kwargs(p)),
    key_params=("nhead", "dim_feedforward"),
)


def _decoder_infer(p, inputs):
    tgt, memory = inputs
    _need_seq(tgt)
    _need_seq(memory)
    if memory.shape[-1] != tgt.shape[-1]:
        raise ShapeError(f"needs memory with the same width as tgt but gets tgt {fmt_shape(tgt.shape)} and "
                         f"memory {fmt_shape(memory.shape)}; project one of them with a Linear")
    _heads_divide(tgt.shape[-1], p["nhead"], "nhead")
    return [tgt]


DECODER = NodeSpec(
    type="TransformerDecoderLayer", category="attention", torch_name="torch.nn.TransformerDecoderLayer",
    doc="Self-attention over tgt, cross-attention to memory (an encoder's output), and a feed-forward network.",
    params=_BLOCK_PARAMS, inputs=(Port("tgt", "the target sequence"), Port("memory", "the encoder's output")),
    infer=_decoder_infer,
    build=lambda p, i: nn.TransformerDecoderLayer(i[0].shape[-1], **_block_kwargs(p)),
    key_params=("nhead", "dim_feedforward"),
)

SPECS = [MHA, ENCODER, DECODER]
