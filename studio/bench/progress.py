"""Where a long benchmark is, on stderr (stdout keeps the figures, or one JSON object): on a
terminal one line rewritten in place, elsewhere (a log, a pipe) one line per report."""
from __future__ import annotations

import sys


class Progress:
    def __init__(self, suite: str, stream=None, quiet: bool = False) -> None:
        self.suite = suite
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.quiet = quiet
        self._dirty = False

    def __call__(self, text: str) -> None:
        """Where the run is now (replaced by the next report on a terminal)."""
        if self.quiet:
            return
        line = f"bench {self.suite}: {text}"
        if self.live:
            self.stream.write(f"\r\033[K{line}")
            self._dirty = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def result(self, text: str) -> None:
        """A line that stays (a case's outcome)."""
        if self._dirty:
            self.stream.write("\r\033[K")
            self._dirty = False
        self.stream.write(text + "\n")
        self.stream.flush()
