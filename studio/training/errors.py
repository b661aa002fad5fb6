"""The error a person can cause while training (a bad config value, a dataset that does not fit the
graph, a missing download, a checkpoint from another graph). The CLI prints it as `error: ...` with
exit code 2; the GUI shows the message. Anything else escaping the trainer is a bug."""
from __future__ import annotations


class TrainingError(ValueError):
    """A mistake a person can fix; the message says what is wrong and how to fix it."""


class DataError(TrainingError):
    """The dataset holds a value the model cannot learn from (NaN or inf); the message names the split
    and the sample."""

    reason = "data"
