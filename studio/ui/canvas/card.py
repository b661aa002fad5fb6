"""What a node card shows, computed from the graph node and its analysis (no Qt painting here).

`CardData` is a frozen value: the scene compares it with what a card already shows and repaints
only the cards whose data changed, which keeps an edit in a 1,000-node graph cheap."""
from __future__ import annotations

from dataclasses import dataclass

from studio.core.spec import NodeSpec


@dataclass(frozen=True)
class CardData:
    title: str
    type: str
    category: str | None
    doc: str
    params: tuple  # ((name, value text), ...) one or two key params
    inputs: tuple  # ((port name, multi), ...)
    outputs: tuple  # (port name, ...)
    out_texts: tuple  # shape text per output port ("" when unknown)
    out_kinds: tuple  # TensorType.kind per output port (None when unknown)
    footer: str  # the output shape ("[16, 8, 8]"), or what an Output node receives
    error: str | None = None
    warning: str | None = None
    badge: str = ""  # a block's repeat count ("×4"), drawn in the header
    frozen: bool = False  # fine-tuning (docs/finetune.md): a "frozen" pill and a dimmed header
    lr_mult: float = 1.0  # not 1: an "lr×0.1" pill

    @property
    def tuning(self) -> str:
        """The fine-tuning pill's text ("" for a node trained as usual)."""
        return "frozen" if self.frozen else f"lr×{self.lr_mult:g}" if self.lr_mult != 1.0 else ""

    @property
    def port_rows(self) -> int:
        """Rows of labelled ports: a side with more than one port gets one row per port."""
        n_in = len(self.inputs) if len(self.inputs) > 1 else 0
        n_out = len(self.outputs) if len(self.outputs) > 1 else 0
        return max(n_in, n_out)

    @property
    def multi_output(self) -> bool:
        return len(self.outputs) > 1


GENERIC_INPUTS = (("in", False),)
GENERIC_OUTPUTS = ("out",)


def format_value(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if value is None:
        return "—"
    return str(value)


def card_data(node, info, spec: NodeSpec | None, warning: str | None = None) -> CardData:
    """node: the graph's Node; info: its NodeInfo (or None before the first analysis)."""
    if spec is not None:
        inputs = tuple((p.name, p.multi) for p in spec.inputs)
        outputs = tuple(p.name for p in spec.outputs)
        category, doc = spec.category, spec.doc
        values = dict(spec.defaults())
        values.update(node.params)
        if info is not None and info.params is not None:
            values = info.params
        params = tuple((k, format_value(values.get(k))) for k in spec.key_params[:2])
        if getattr(node, "shares", None):  # whose weights it uses, in place of its second key param
            params = (*params[:1], ("shares", node.shares))
    else:
        inputs, outputs, category, doc, params = GENERIC_INPUTS, GENERIC_OUTPUTS, None, "Unknown layer type", ()
    outs = list(info.outputs) if info is not None and info.outputs else []
    outs += [None] * (len(outputs) - len(outs))  # None: unknown, or not produced with these params
    out_texts = tuple("" if t is None else str(t) for t in outs[:len(outputs)])
    out_kinds = tuple(None if t is None else t.kind for t in outs[:len(outputs)])
    if outputs:
        footer = out_texts[0] if out_texts and out_texts[0] else "?"
    elif info is not None and info.inputs:
        footer = "← " + ", ".join(str(t) for t in info.inputs if t is not None)  # None: unwired optional
    else:
        footer = "← ?"
    error = info.error if info is not None else None
    return CardData(node.id, node.type, category, doc, params, inputs, outputs, out_texts, out_kinds,
                    footer, error, warning, **tuning_fields(node))


def tuning_fields(node) -> dict:
    """CardData's fine-tuning fields of a graph node."""
    return {"frozen": bool(getattr(node, "frozen", False)), "lr_mult": float(getattr(node, "lr_mult", 1.0))}
