"""Errors a person can cause while exporting: shown as one message (CLI: `error: ...`, exit 2)."""
from __future__ import annotations


class ExportError(ValueError):
    """The export cannot be done as asked. The message names the node (when one is at fault) and the
    format's limit, and says what to do instead."""


class CheckFailed(ExportError):
    """The exported file loaded but its outputs differ from the PyTorch model's by more than the
    tolerance. Nothing was written; `report` holds the measured differences."""

    def __init__(self, message: str, report=None) -> None:
        super().__init__(message)
        self.report = report
