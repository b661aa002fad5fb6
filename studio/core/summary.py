"""The analyzer table (as MATLAB's Deep Network Designer shows it): per node its type, output shape,
parameters and FLOPs, with totals. A block instance's row holds its totals and is followed by its
children (its copies when it repeats, then their layers), each with `depth` and `parent`, so a view can
fold them; the totals count only the top-level rows."""
from __future__ import annotations

from dataclasses import dataclass

from .analysis import Analysis, analyze
from .graph import Graph
from .problems import Problem
from .blocks import BLOCK_INPUT, BLOCK_OUTPUT
from .stats import node_stats, result_stats


@dataclass
class SummaryRow:
    id: str
    type: str
    output: str
    params: int
    flops: int
    error: str | None
    depth: int = 0  # 0: a node of the graph; 1, 2, ...: inside a block instance
    parent: str | None = None  # the row this one folds into (a dotted path)


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
    def top(self) -> list[SummaryRow]:
        """The rows of the graph's own nodes (what the totals add up)."""
        return [r for r in self.rows if not r.depth]

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.top)

    @property
    def total_flops(self) -> int:
        return sum(r.flops for r in self.top)

    def to_json(self) -> dict:
        return {
            "nodes": [{"id": r.id, "type": r.type, "output_shape": r.output, "params": r.params,
                       "flops": r.flops, **({"error": r.error} if r.error else {}),
                       **({"depth": r.depth, "parent": r.parent} if r.depth else {})} for r in self.rows],
            "total_params": self.total_params,
            "flops": self.total_flops,
            "ok": self.ok,
            "problems": [p.to_json() for p in self.problems],
        }

    def table(self) -> str:
        head = ("node", "type", "output", "params", "FLOPs")
        body = [("  " * r.depth + (r.id.rsplit(".", 1)[-1] if r.depth else r.id), r.type,
                 r.output if not r.error else "error", f"{r.params:,}", human(r.flops)) for r in self.rows]
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
    rows: list[SummaryRow] = []
    for node_id in order:
        _rows(rows, analysis.nodes[node_id], node_id, 0, None)
    return Summary(rows, analysis.problems)


def _shapes(types) -> str:
    return " ".join(str(t) for t in types) if types else "?"


def _rows(rows: list[SummaryRow], info, path: str, depth: int, parent: str | None) -> None:
    stats = node_stats(info)
    kind = info.block.definition if info.block is not None else info.type
    rows.append(SummaryRow(path, kind, _shapes(info.outputs), stats.params if stats else 0,
                           stats.flops if stats else 0, info.error, depth, parent))
    inst = info.block
    if inst is None:
        return
    for index, result in enumerate(inst.copies):
        at, level = path, depth + 1
        if inst.repeat > 1:
            at = f"{path}.{index}"
            totals = result_stats(result)
            rows.append(SummaryRow(at, result.definition, _shapes(result.outputs), totals.params, totals.flops,
                                   None, level, path))
            level += 1
        for inner_id in result.analysis.order or list(result.analysis.nodes):
            inner = result.analysis.nodes[inner_id]
            if inner.type in (BLOCK_INPUT, BLOCK_OUTPUT) or inner.passthrough:
                continue  # ports and switched-off layers are not modules
            _rows(rows, inner, f"{at}.{result.module_names.get(inner_id, inner_id)}", level, at)
