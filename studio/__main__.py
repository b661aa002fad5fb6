"""`python -m studio`: the GUI, or a command-line tool when the first argument names a command."""
from __future__ import annotations

import sys

from .cli import COMMANDS  # argparse, json and sys only: the GUI's start stays quick


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        from .cli import main as cli_main

        return cli_main(argv)
    if "-h" in argv or "--help" in argv:
        from .cli import overview

        print(overview())
        return 0
    from .ui.app import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
