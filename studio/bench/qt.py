"""The UI benches run offscreen, where Qt's platform plugin warns about what it cannot do (it has no
window manager to pass size hints to). Those warnings say nothing about the benchmark, so exactly
those messages are dropped; every other Qt message is printed as before."""
from __future__ import annotations

import sys

HARMLESS = ("This plugin does not support propagateSizeHints()",)
_installed: list = []  # the handler (kept alive: Qt holds only a C pointer to it)


def quiet_platform_warnings() -> None:
    from PySide6.QtCore import qFormatLogMessage, qInstallMessageHandler

    if _installed:
        return

    def handler(mode, context, message) -> None:
        if any(text in message for text in HARMLESS):
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            sys.stderr.write(qFormatLogMessage(mode, context, message) + "\n")

    previous = qInstallMessageHandler(handler)
    _installed.append(handler)
