"""`python -m studio bench {train,ui,editor,startup}`: benchmarks that print ratios measured in one
run (machines are shared and noisy, so only side-by-side figures mean anything). Each suite lives in
its own module with a `run(args) -> int` function."""
from __future__ import annotations

import importlib


def run_bench(args) -> int:
    module = importlib.import_module(f"{__name__}.{args.suite}")
    return module.run(args) or 0
