"""`python -m studio export FILE --format F -o OUT [--checkpoint CKPT] [--opset N]`."""
from __future__ import annotations

import sys


def run_export(args) -> int:
    """Export and print what was done. Errors a person causes (ExportError, a bad project or
    checkpoint) propagate to studio.cli, which prints `error: ...` and exits with code 2."""
    from . import export

    report = export(args.file, args.format, args.output, checkpoint=args.checkpoint,
                    opset=getattr(args, "opset", None))
    print(report.text(), file=sys.stdout)
    return 0
