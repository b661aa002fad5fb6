"""`python -m studio export FILE --format F -o OUT [--checkpoint CKPT] [--opset N] [--overwrite]`."""
from __future__ import annotations

import os
import sys


def _refuse_existing(out) -> str | None:
    """An earlier export (or any file a person made) at OUT is kept unless --overwrite asks to
    replace it; the refusal says how to go on."""
    if out is None or not os.path.isfile(out):
        return None  # a folder, a FIFO or a device at OUT gets the export's own message
    return (f"{out} already exists; pass --overwrite to replace it, or choose another -o "
            "(nothing was written)")


def run_export(args) -> int:
    """Export and print what was done. A project that `train` would refuse is refused here with one
    `error:` line per problem and exit code 2; other errors a person causes (ExportError, a bad
    checkpoint) propagate to studio.cli, which prints `error: ...` and exits with code 2."""
    from . import export
    from .validate import ProjectInvalid

    refusal = None if getattr(args, "overwrite", False) else _refuse_existing(args.output)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    try:
        report = export(args.file, args.format, args.output, checkpoint=args.checkpoint,
                        opset=getattr(args, "opset", None))
    except ProjectInvalid as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    print(report.text(), file=sys.stdout)
    return 0
