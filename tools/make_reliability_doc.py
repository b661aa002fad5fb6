"""Regenerate docs/reliability.md: the table of every bad input and fault the tests try.

Each case is a `@pytest.mark.fault(area, case, outcome)` mark on the test that tries it; this script
reads the marks from the test sources (statically, so it is fast), and a test checks the file is current.
Run: python tools/make_reliability_doc.py"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "reliability.md"


def _is_fault_mark(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fault"
            and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark")


def _fields(call: ast.Call, where: str) -> tuple[str, str, str]:
    names = ("area", "case", "outcome")
    try:
        args = [ast.literal_eval(a) for a in call.args]
        kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        fields = tuple(args[i] if i < len(args) else kw[name] for i, name in enumerate(names))
    except (ValueError, KeyError, IndexError):
        raise SystemExit(f"{where}:{call.lineno}: a fault mark takes three plain strings (area, case, outcome); "
                         "no f-strings or names") from None
    if len(args) + len(kw) != 3 or not all(isinstance(f, str) and f.strip() for f in fields):
        raise SystemExit(f"{where}:{call.lineno}: a fault mark takes three non-empty strings (area, case, outcome)")
    return fields


def collect() -> list[tuple[str, str, str, str]]:
    """(area, case, outcome, test) for every fault mark: on a test's decorators, or inside them
    (pytest.param(..., marks=pytest.mark.fault(...)) in a parametrize list)."""
    rows = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(), str(path))
        owner: dict[int, str] = {}
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for deco in fn.decorator_list:
                    for node in ast.walk(deco):
                        owner[id(node)] = fn.name
        for node in ast.walk(tree):
            if _is_fault_mark(node):
                where = str(path.relative_to(ROOT))
                if id(node) in owner:
                    where += f"::{owner[id(node)]}"
                rows.append((*_fields(node, str(path.relative_to(ROOT))), where))
    return rows


def render() -> str:
    rows = collect()
    lines = ["# Reliability: bad input and faults, and what happens", "",
             "Every row is a case a test in `make test` tries (a `@pytest.mark.fault` mark on that test), so",
             "this table is only as long as what is proven. Regenerate with `python tools/make_reliability_doc.py`;",
             "a test fails when it is out of date. No case loses data or shows a traceback.", "",
             f"{len(rows)} cases.", "",
             "| # | area | bad input or fault | outcome | test |", "|---|---|---|---|---|"]
    for i, (area, case, outcome, test) in enumerate(sorted(rows), 1):
        lines.append(f"| {i} | {area} | {case} | {outcome} | `{test}` |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render())
    print(f"wrote {OUT} ({len(collect())} cases)")
