"""The card of a block instance: its id, its definition and repeat count (the ×N badge), the exposed
params it sets, its output shape, and ports named after the definition's BlockInput / BlockOutput
nodes. Any other node gets the ordinary card (card.py)."""
from __future__ import annotations

from .. import block_model
from .card import CardData, card_data, format_value, tuning_fields

KEY_PARAMS = 3  # exposed params shown on the card (the inspector shows them all)
CATEGORY = "block"


def card_for(node, info, spec, warning, graph) -> CardData:
    if not block_model.is_block(node):
        return card_data(node, info, spec, warning)
    bdef = block_model.definition_of(graph, node)
    if bdef is None:
        base = card_data(node, info, None, warning)
        missing = f"Block '{node.id}' uses the definition {block_model.block_name(node)!r}, which the project lacks"
        return CardData(node.id, f"{block_model.block_name(node) or '?'} (missing)", CATEGORY, missing, (),
                        base.inputs, base.outputs, base.out_texts, base.out_kinds, base.footer,
                        (info.error if info is not None else None) or missing, warning)
    ins, outs_names = block_model.ports(bdef)
    values = block_model.param_values(node, bdef)
    if info is not None and info.params:  # inside a block, the outer block's params may set them
        values.update({k: v for k, v in info.params.items() if k in values})
    repeat = block_model.repeat_of(node)
    first = block_model.first_of(node) if repeat > 1 else {}
    params = tuple((name, _value_text(values[name], first, name)) for name in list(values)[:KEY_PARAMS])
    outs = list(info.outputs) if info is not None and info.outputs else []
    out_texts = tuple(str(outs[i]) if i < len(outs) else "" for i in range(len(outs_names)))
    out_kinds = tuple(outs[i].kind if i < len(outs) else None for i in range(len(outs_names)))
    footer = (out_texts[0] or "?") if out_texts else "← ?"
    doc = (getattr(bdef, "doc", "") or f"Block of {len(bdef.graph)} nodes")
    doc += "<br><i>Double-click to open it.</i>"
    return CardData(node.id, bdef.name, CATEGORY, doc, params, tuple((n, False) for n in ins), tuple(outs_names),
                    out_texts, out_kinds, footer, info.error if info is not None else None, warning,
                    badge=f"×{repeat}" if repeat > 1 else "", **tuning_fields(node))


def _value_text(value, first: dict, name: str) -> str:
    """A repeated block whose first copy sets its own value shows both: "2, then 1"."""
    if name in first and first[name] != value:
        return f"{format_value(first[name])}, then {format_value(value)}"
    return format_value(value)
