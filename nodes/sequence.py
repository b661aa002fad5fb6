"""sequence: token embeddings, recurrent layers, positional encoding and pooling over time.
Sequences are batch-first: one sample is [time, features]."""
from __future__ import annotations

from ._common import FLOAT, NodeSpec, Param, ParamError, Port, ShapeError, TensorType, fmt_shape, need_float, nn


def _modules():
    from . import modules  # torch modules: imported when such a layer is built, not with the specs

    return modules


_SEQ_FIX = "sequences are [time, features] per sample; use Reshape or Permute, or an Embedding for token ids"


def _need_seq(t):
    need_float(t)
    if t.rank != 2:
        raise ShapeError(f"needs a sequence [time, features] per sample but gets {fmt_shape(t.shape)}; {_SEQ_FIX}")


def _embedding_infer(p, inputs):
    (t,) = inputs
    if t.is_float:
        raise ShapeError(f"needs token ids (int64) but gets {t}; set the Input's dtype to int64")
    return [TensorType(t.shape + (p["embedding_dim"],), FLOAT)]


def _embedding_validate(p):
    n, pad = p["num_embeddings"], p["padding_idx"]
    if pad is not None and not -n <= pad < n:  # nn.Embedding asserts this when it is built
        raise ParamError(f"'padding_idx' {pad} is not a token id of the vocabulary of {n} (ids 0..{n - 1}, "
                         f"or -{n}..-1 from the end); pick an id in that range or clear it")


EMBEDDING = NodeSpec(
    type="Embedding", category="sequence", torch_name="torch.nn.Embedding",
    doc="Looks up a learned vector for each token id: [time] int64 -> [time, embedding_dim].",
    params=(Param("num_embeddings", "int", 1000, "Vocabulary size (ids run from 0 to this minus 1).",
                  min=1, max=10_000_000),
            Param("embedding_dim", "int", 64, "Size of each vector.", min=1, max=65536),
            Param("padding_idx", "int", None, "An id whose vector stays zero (padding); negative ids "
                  "count from the end of the vocabulary, as in PyTorch.", optional=True)),
    infer=_embedding_infer,
    validate=_embedding_validate,
    build=lambda p, i: nn.Embedding(p["num_embeddings"], p["embedding_dim"], padding_idx=p["padding_idx"]),
    key_params=("num_embeddings", "embedding_dim"),
)


def _rnn_params(with_nonlinearity: bool) -> tuple[Param, ...]:
    params = [
        Param("hidden_size", "int", 64, "Features in the hidden state.", min=1, max=65536),
        Param("num_layers", "int", 1, "Stacked recurrent layers.", min=1, max=64),
        Param("bidirectional", "bool", False, "Also run backwards; doubles the output features."),
        Param("dropout", "float", 0.0, "Dropout between stacked layers.", min=0.0, max=1.0),
        Param("bias", "bool", True, "Learn additive biases."),
    ]
    if with_nonlinearity:
        params.insert(1, Param("nonlinearity", "choice", "tanh", "Activation.", choices=("tanh", "relu")))
    return tuple(params)


def _state_shape(p) -> tuple[int, int]:
    """One sample's recurrent state: [num_layers * directions, hidden_size], layer by layer (each
    layer's forward direction first), PyTorch's h_n order with the batch moved to the front."""
    return p["num_layers"] * (2 if p["bidirectional"] else 1), p["hidden_size"]


def _need_state(t, p, port: str, dtype: str) -> None:
    """An initial state: the sequence's dtype, [num_layers * directions, hidden_size] per sample."""
    if t is None:
        return
    shape = _state_shape(p)
    if t.dtype != dtype or t.shape != shape:
        raise ShapeError(f"needs its initial state at '{port}' as [num_layers * directions, hidden_size] = "
                         f"{fmt_shape(shape)} per sample{'' if dtype == FLOAT else ' ' + dtype} but gets {t}; wire the '{port[0]}_n' of a recurrent layer "
                         f"of the same sizes, or leave '{port}' unwired to start from zeros")


def _rnn_infer(p, inputs):
    t, *state = inputs
    _need_seq(t)
    for port, s in zip(("h0", "c0"), state):
        _need_state(s, p, port, t.dtype)
    h = p["hidden_size"] * (2 if p["bidirectional"] else 1)
    full = TensorType(_state_shape(p), t.dtype)
    last = t.with_shape(h)
    return [t.with_shape(t.shape[0], h), last] + ([last, full, full] if len(state) == 2 else [full])


def _rnn_build(cls):
    def build(p, inputs):
        kw = dict(num_layers=p["num_layers"], bidirectional=p["bidirectional"], batch_first=True,
                  dropout=p["dropout"] if p["num_layers"] > 1 else 0.0, bias=p["bias"])
        if "nonlinearity" in p:
            kw["nonlinearity"] = p["nonlinearity"]
        return cls(inputs[0].shape[-1], p["hidden_size"], **kw)

    return build


def _last_layer(state, bidirectional: bool):
    """The last layer's state [batch, hidden] (both directions joined) from PyTorch's layout."""
    if bidirectional:
        import torch

        return torch.cat([state[-2], state[-1]], dim=1)
    return state[-1]


def _rnn_wire(lstm: bool):
    """batch_first applies to the sequences only: PyTorch keeps the batch second in the state
    ([layers * directions, batch, hidden]), so the state is transposed in and out."""

    def wire(call, inputs, p):
        import torch

        x, h0, *rest = inputs
        c0 = rest[0] if lstm else None
        if lstm and (h0 is not None or c0 is not None):  # PyTorch takes both or neither: zeros for the other
            h0 = torch.zeros_like(c0) if h0 is None else h0
            c0 = torch.zeros_like(h0) if c0 is None else c0
            result = call(x, (h0.transpose(0, 1).contiguous(), c0.transpose(0, 1).contiguous()))
        elif h0 is not None:
            result = call(x, h0.transpose(0, 1).contiguous())
        else:
            result = call(x)  # no state wired: zeros, as in PyTorch
        out, two = result[0], p["bidirectional"]
        if not lstm:
            h_n = result[1]
            return [out, _last_layer(h_n, two), h_n.transpose(0, 1)]
        h_n, c_n = result[1][0], result[1][1]
        return [out, _last_layer(h_n, two), _last_layer(c_n, two), h_n.transpose(0, 1), c_n.transpose(0, 1)]

    return wire


def _rnn_ports(lstm: bool):
    state = "[num_layers * directions, hidden]: every layer's, forward direction first"
    ins = (Port("in", "the sequence [time, features]"),
           Port("h0", f"initial hidden state {state}; zeros when unwired", optional=True))
    outs = (Port("out", "the whole output sequence [time, hidden] (both directions joined)"),
            Port("hidden", "the last layer's final hidden state [hidden] (both directions joined)"))
    if lstm:
        ins += (Port("c0", f"initial cell state {state}; zeros when unwired", optional=True),)
        outs += (Port("cell", "the last layer's final cell state [hidden] (both directions joined)"),)
    outs += (Port("h_n", f"final hidden state {state}; wire it into another layer's h0"),)
    if lstm:
        outs += (Port("c_n", f"final cell state {state}; wire it into another layer's c0"),)
    return ins, outs


def _rnn_flops(gates: int):
    """Matmul FLOPs for one sample (a multiply-add counts 2). Counted by formula: running a
    recurrent layer on meta tensors would unroll every time step in Python."""

    def flops(p, inputs, outputs):
        time, features = inputs[0].shape
        h, dirs = p["hidden_size"], 2 if p["bidirectional"] else 1
        total = 0
        for layer in range(p["num_layers"]):
            width = features if layer == 0 else h * dirs
            total += dirs * time * gates * 2 * h * (width + h)
        return total

    return flops


def _rnn(type_name, cls, doc, gates, lstm=False, nonlin=False):
    ins, outs = _rnn_ports(lstm)
    return NodeSpec(type=type_name, category="sequence", torch_name=f"torch.nn.{type_name}", doc=doc,
                    params=_rnn_params(nonlin), infer=_rnn_infer, build=_rnn_build(cls),
                    inputs=ins, outputs=outs, wire=_rnn_wire(lstm), key_params=("hidden_size", "num_layers"),
                    flops=_rnn_flops(gates))


def _pe_infer(p, inputs):
    (t,) = inputs
    _need_seq(t)
    if t.shape[0] > p["max_len"]:
        raise ShapeError(f"gets sequences of length {t.shape[0]}, longer than max_len {p['max_len']}; "
                         "raise max_len")
    return [t]


POSITIONAL = NodeSpec(
    type="PositionalEncoding", category="sequence",
    doc="Adds sinusoidal position information to a sequence [time, d_model] (d_model is inferred).",
    params=(Param("max_len", "int", 5000, "Longest sequence supported.", min=1, max=1_000_000),
            Param("dropout", "float", 0.0, "Dropout after adding the encoding.", min=0.0, max=1.0)),
    infer=_pe_infer,
    build=lambda p, i: _modules().PositionalEncoding(i[0].shape[-1], p["max_len"], p["dropout"]),
)


def _pool_infer(p, inputs):
    (t,) = inputs
    _need_seq(t)
    return [t.with_shape(t.shape[1])]


SEQ_POOL = NodeSpec(
    type="SequencePool", category="sequence",
    doc="Reduces a sequence [time, features] to [features]: the mean, the max, or the last step.",
    params=(Param("mode", "choice", "mean", "How to pool over time.", choices=("mean", "max", "last")),),
    infer=_pool_infer, build=lambda p, i: _modules().SequencePool(p["mode"]), key_params=("mode",),
)

SPECS = [
    EMBEDDING,
    _rnn("RNN", nn.RNN, "Elman recurrent layer over [time, features] (batch-first), with the same state "
         "ports as GRU (h0 in; hidden, h_n out).", 1, nonlin=True),
    _rnn("LSTM", nn.LSTM, "Long short-term memory over [time, features] (batch-first): optional initial "
         "state in (h0, c0), the whole output, the last layer's final state (hidden, cell) and every "
         "layer's (h_n, c_n) out.", 4, lstm=True),
    _rnn("GRU", nn.GRU, "Gated recurrent unit over [time, features] (batch-first): an optional initial "
         "state in (h0), the whole output, the last layer's final state (hidden) and every layer's (h_n) "
         "out.", 3),
    POSITIONAL,
    SEQ_POOL,
]
