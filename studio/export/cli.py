"""`python -m studio export FILE --format F -o OUT [--checkpoint CKPT] [--opset N]`."""
from __future__ import annotations

import sys


def run_export(args) -> int:
    """Export and print what was done. A project that `train` would refuse is refused here with one
    `error:` line per problem and exit code 2; other errors a person causes (ExportError, a bad
    checkpoint) propagate to studio.cli, which prints `error: ...` and exits with code 2."""
    from . import export
    from .validate import ProjectInvalid

    try:
        report = export(args.file, args.format, args.output, checkpoint=args.checkpoint,
                        opset=getattr(args, "opset", None))
    except ProjectInvalid as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    print(report.text(), file=sys.stdout)
    return 0
