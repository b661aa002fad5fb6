"""`python -m studio`: the GUI, or a command-line tool when the first argument names a command."""
from __future__ import annotations

import sys

COMMANDS = {"validate", "summary", "train", "export", "bench"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        from .cli import main as cli_main

        return cli_main(argv)
    from .ui.app import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
