"""Keep exporters' chatter (progress lines, deprecation warnings, C++ logs printed straight to the
file descriptors) out of the CLI's output; failures are reported through exceptions instead."""
from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import warnings


@contextlib.contextmanager
def quiet(descriptors: bool = False):
    """Silence Python warnings and sys.stdout/sys.stderr; with descriptors=True also file
    descriptors 1 and 2 (for C++ code that prints directly)."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        if descriptors:
            stack.enter_context(_silenced_fds())
        yield


@contextlib.contextmanager
def _silenced_fds():
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    saved = []
    with tempfile.TemporaryFile() as sink:
        try:
            for fd in (1, 2):
                try:
                    saved.append((fd, os.dup(fd)))
                    os.dup2(sink.fileno(), fd)
                except OSError:
                    pass
            yield
        finally:
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)
