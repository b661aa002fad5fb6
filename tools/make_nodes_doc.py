"""Regenerate docs/nodes.md from the node specs: every type, its params and its ports.
Run: python tools/make_nodes_doc.py   (a test checks the file is current)"""
from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "docs" / "nodes.md"


def _port(p) -> str:
    return (f"`{p.name}`" + (" (several wires)" if p.multi else "") + (" (optional)" if p.optional else "")
            + (f": {p.doc}" if p.doc else ""))


def _ports(spec) -> list[str]:
    """One line for a node with one or two ports; a list per side for more (recurrent, attention)."""
    if len(spec.inputs) + len(spec.outputs) <= 2:
        ins = ", ".join(map(_port, spec.inputs)) or "none"
        outs = ", ".join(map(_port, spec.outputs)) or "none"
        return [f"Ports: in {ins}; out {outs}.", ""]
    lines = []
    for side, ports in (("Inputs", spec.inputs), ("Outputs", spec.outputs)):
        lines += [f"{side}:" if ports else f"{side}: none.", ""]
        lines += [f"- {_port(p)}" for p in ports] + ([""] if ports else [])
    return lines


def render() -> str:
    from studio.core.registry import default_registry

    lines = ["# Node types", "",
             "Generated from the node specs by `tools/make_nodes_doc.py`. Shapes are per sample (no batch",
             "dimension). Sizes that follow from the input (`in_features`, `in_channels`, `num_features`,",
             "`input_size`, `embed_dim`, `d_model`, ...) are inferred and never typed. A `dim` param counts",
             "dimensions of the batched tensor, as in PyTorch (0, the batch, is refused). An input marked",
             "(optional) may stay unwired; its line says what the node uses instead.", ""]
    for category, specs in default_registry().by_category().items():
        lines += [f"## {category}", ""]
        for spec in specs:
            lines.append(f"### {spec.type}" + (f" (`{spec.torch_name}`)" if spec.torch_name else ""))
            lines += ["", spec.doc, ""]
            lines += _ports(spec)
            if spec.params:
                lines += ["| param | kind | default | meaning |", "|---|---|---|---|"]
                for p in spec.params:
                    kind = p.kind + (f" ({', '.join(map(str, p.choices))})" if p.choices else "")
                    if p.describe_range():
                        kind += f", {p.describe_range()}"
                    lines.append(f"| `{p.name}` | {kind} | `{p.default}` | {p.doc} |")
                lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render())
    print(f"wrote {OUT}")
