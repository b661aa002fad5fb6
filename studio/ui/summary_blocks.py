"""The analyzer table's block rows: a block instance is one row with its totals (its copies' and
inner layers' parameters and FLOPs added up by studio.core.stats), collapsed by default; opened, it
shows a row per copy when repeated and a row per inner node, by dotted path (`layer2.0.conv1`).

The rows are those of studio.core.summary.summarize, but made only for the blocks shown open and
counted later, a slice at a time (summary_panel): summarize counts every layer inside every block
before it returns, which a window cannot wait for on a ResNet-50."""
from __future__ import annotations

from dataclasses import dataclass

from . import stats_service


@dataclass(frozen=True)
class Row:
    path: str  # the node id, or the dotted path inside a block
    label: str  # what the first column shows (indented, with the open/closed mark of a block)
    type: str
    output: str
    error: str | None
    depth: int
    expandable: bool
    counted: object  # a NodeInfo, or a BlockResult (one copy of a repeated block)


OPEN, CLOSED = "▾", "▸"


def _output(outs) -> str:
    return " ".join(str(t) for t in outs if t is not None) if outs else "?"  # None: not produced


def rows_for(analysis, expanded: set[str]) -> list[Row]:
    rows: list[Row] = []
    nodes = analysis.nodes
    for node_id in analysis.order or list(nodes):
        _add(rows, nodes[node_id], node_id, 0, expanded)
    return rows


def _add(rows: list[Row], info, path: str, depth: int, expanded: set[str]) -> None:
    inst = info.block
    indent = "    " * depth
    if inst is None:
        label = info.id if depth == 0 else f"{indent}{info.id}"
        type_name = info.type + (f", shares {info.shares}" if getattr(info, "shares", None) else "")
        rows.append(Row(path, label, type_name, _output(info.outputs), info.error, depth, False, info))
        return
    is_open = path in expanded
    type_name = f"{inst.definition} ×{inst.repeat}" if inst.repeat > 1 else inst.definition
    rows.append(Row(path, f"{indent}{OPEN if is_open else CLOSED} {info.id}", type_name, _output(info.outputs),
                    info.error, depth, bool(inst.copies), info))
    if not is_open:
        return
    for index, result in enumerate(inst.copies):
        if inst.repeat > 1:
            copy_path = f"{path}.{index}"
            copy_open = copy_path in expanded
            rows.append(Row(copy_path, f"{indent}    {OPEN if copy_open else CLOSED} {index}",
                            f"{inst.definition} (copy {index})", _output(result.outputs), None, depth + 1, True,
                            result))
            if not copy_open:
                continue
            _inner(rows, result, copy_path, depth + 2, expanded)
        else:
            _inner(rows, result, path, depth + 1, expanded)


def _inner(rows: list[Row], result, prefix: str, depth: int, expanded: set[str]) -> None:
    analysis = result.analysis
    for node_id in analysis.order or list(analysis.nodes):
        info = analysis.nodes[node_id]
        if info.type in ("BlockInput", "BlockOutput") or info.passthrough:
            continue  # the block's ports and layers switched off: no modules (as studio.core.summary)
        _add(rows, info, f"{prefix}.{result.module_names.get(node_id, node_id)}", depth, expanded)


def count(row: Row):
    """NodeStats of a row (a copy: its definition's totals), None, or stats_service.PENDING."""
    if hasattr(row.counted, "analysis"):
        if not stats_service.service().is_ready:
            stats_service.service().warm_up()
            return stats_service.PENDING
        from studio.core.stats import result_stats

        return result_stats(row.counted)
    return stats_service.stats_for(row.counted)
