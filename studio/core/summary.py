"""The analyzer table (as MATLAB's Deep Network Designer shows it): per node its type, output shape,
parameters and FLOPs, with totals."""
from __future__ import annotations

from dataclasses import dataclass

from .analysis import Analysis, analyze
from .graph import Graph
from .problems import Problem
from .stats import node_stats


@dataclass
class SummaryRow:
    id: str
    type: str
    output: str
    params: int
    flops: int
    error: str | None
    shares: str | None = None  # the node whose weights this one uses (its params are counted there)


@dataclass
class Summary:
    rows: list[SummaryRow]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def total_flops(self) -> int:
        return sum(r.flops for r in self.rows)

    def to_json(self) -> dict:
        return {
            "nodes": [{"id": r.id, "type": r.type, "output_shape": r.output, "params": r.params,
                       "flops": r.flops, **({"error": r.error} if r.error else {}),
                       **({"shares": r.shares} if r.shares else {})} for r in self.rows],
            "total_params": self.total_params,
            "flops": self.total_flops,
            "ok": self.ok,
            "problems": [p.to_json() for p in self.problems],
        }

    def table(self) -> str:
        head = ("node", "type", "output", "params", "FLOPs")
        body = [(r.id, r.type + (f", shares {r.shares}" if r.shares else ""), r.output if not r.error else "error",
                 f"{r.params:,}", human(r.flops)) for r in self.rows]
        body.append(("total", "", "", f"{self.total_params:,}", human(self.total_flops)))
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(5)]
        lines = []
        for j, row in enumerate([head, *body]):
            if j == len(body):
                lines.append("-" * (sum(widths) + 8))
            lines.append("  ".join(c.rjust(w) if i >= 3 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
        return "\n".join(lines)


def human(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def summarize(graph: Graph, analysis: Analysis | None = None) -> Summary:
    analysis = analysis or analyze(graph)
    order = analysis.order or list(graph.nodes)
    rows = []
    for node_id in order:
        info = analysis.nodes[node_id]
        stats = node_stats(info)
        out = " ".join(str(t) for t in info.outputs if t is not None) if info.outputs else "?"
        rows.append(SummaryRow(node_id, info.type, out, stats.params if stats else 0,
                               stats.flops if stats else 0, info.error, info.shares))
    return Summary(rows, analysis.problems)
