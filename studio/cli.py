"""`python -m studio <command>`: validate, summary, train, export, bench.

Errors a person can cause end in a clear message on stderr and exit code 2, never a traceback.
Each command's work lives in its own package; this module only parses arguments and reports.
"""
from __future__ import annotations

import argparse
import json
import sys

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Something the person can fix: printed as one message, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m studio", description="NetStudio command line")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="exit 0 if the graph compiles; else list each problem")
    v.add_argument("file")
    v.add_argument("--json", action="store_true", help="print the problems as JSON")

    s = sub.add_parser("summary", help="per node: output shape, parameters and FLOPs; totals")
    s.add_argument("file")
    s.add_argument("--json", action="store_true")

    t = sub.add_parser("train", help="train the project's model (DDP under torchrun)")
    t.add_argument("file")
    t.add_argument("--epochs", type=int)
    t.add_argument("--device")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--out", help="run folder for metrics.jsonl, checkpoint.pt and best.pt")
    t.add_argument("--resume", metavar="CKPT", help="continue from a training checkpoint")
    t.add_argument("--overwrite", action="store_true",
                   help="replace the earlier run in the --out folder (without it, such a folder is refused)")
    t.add_argument("--seed", type=int)
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("export", help="export the model to a deployable format")
    e.add_argument("file")
    e.add_argument("--format", required=True, choices=["torchscript", "onnx", "pt2", "code", "state_dict"])
    e.add_argument("-o", "--output", required=True)
    e.add_argument("--checkpoint", help="a training checkpoint or a state dict")
    e.add_argument("--opset", type=int, help="ONNX opset (default: the exporter's choice)")

    b = sub.add_parser("bench", help="benchmarks that print ratios measured in one run")
    b.add_argument("suite", choices=["train", "ui", "editor", "startup"])
    b.add_argument("--device", default="cpu")
    b.add_argument("--json", action="store_true")
    b.add_argument("--quick", action="store_true", help="fewer repeats (for tests)")
    return p


def _load(path: str):
    from .core.project import ProjectError, load_project

    try:
        return load_project(path)
    except ProjectError as exc:
        raise UserError(str(exc)) from None


def cmd_validate(args) -> int:
    from .core.analysis import analyze

    project = _load(args.file)
    analysis = analyze(project.graph)
    if args.json:
        print(json.dumps({"ok": analysis.ok, "problems": [p.to_json() for p in analysis.problems]}, indent=2))
    else:
        for p in analysis.problems:
            print(p.line(), file=sys.stdout if analysis.ok else sys.stderr)
        if analysis.ok:
            n = len(project.graph)
            print(f"{args.file}: OK ({n} nodes, {len(analysis.warnings)} warnings)")
    return 0 if analysis.ok else EXIT_USER_ERROR


def cmd_summary(args) -> int:
    from .core.summary import summarize

    project = _load(args.file)
    report = summarize(project.graph)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.table())
    if not report.ok:
        for p in report.errors:
            print(p.line(), file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


def cmd_train(args) -> int:
    from .training.cli import run_train

    return run_train(args)


def cmd_export(args) -> int:
    from .export.cli import run_export

    return run_export(args)


def cmd_bench(args) -> int:
    from .bench import run_bench

    return run_bench(args)


COMMANDS = {"validate": cmd_validate, "summary": cmd_summary, "train": cmd_train, "export": cmd_export,
            "bench": cmd_bench}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args) or 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # user-caused errors from the layers below carry a clear message
        from .errors import is_user_error

        if is_user_error(exc):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        raise
