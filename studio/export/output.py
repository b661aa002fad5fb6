"""Where an export goes: the output-path check made before any work, and the one save-check-swap
that every binary exporter goes through. Exporters serialise to memory (torch.jit.save,
torch.save, torch.export.save and the ONNX proto all accept a buffer), write the bytes into a temp
file beside the output with Python's own file calls, load that temp file back with the format's
runtime, and only then swap it in. So torch never writes to the destination itself, a full disk is
an OSError (not torch's RuntimeError, nor the c10::Error that torch.jit.save aborts the process
with), and on any failure the previous file stays as it was with no temp file left behind."""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Callable

from studio.core.atomic import atomic_path, check_target, reason

from .errors import ExportError


def check_output_path(path) -> Path:
    """Refuse, before any work, an output that cannot be written: a folder, a FIFO or a device in
    the way, a file on the way, a folder without write permission. Missing folders are created
    when the export is written."""
    target = Path(path).expanduser()
    if not target.name:
        raise ExportError(f"{target}: give a file name for the export")
    try:
        target = check_target(target)
    except OSError as exc:
        hint = f", e.g. {target / 'model'}" if target.is_dir() else ""
        raise ExportError(f"{target}: {reason(exc)}{hint}") from None
    folder = _existing_folder(target)
    if not os.access(folder, os.W_OK | os.X_OK):
        why = "is on a read-only file system" if _read_only(folder) else "is not writable"
        raise ExportError(f"{target}: the folder {folder} {why}; pick another place")
    return target


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False


def _existing_folder(target: Path) -> Path:
    folder = target.parent if str(target.parent) else Path(".")
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def buffer_of(save: Callable[[io.BytesIO], None]) -> memoryview:
    """What `save(buffer)` writes into a BytesIO (torch.save, torch.jit.save, ...), as a view."""
    buffer = io.BytesIO()
    save(buffer)
    return buffer.getbuffer()


def write_checked(path: Path, writer: Callable[[Path], None]) -> None:
    """`writer(tmp)` fills a temp file beside `path` (with put()) and checks it; only when it
    returns does the temp file replace `path`. Any OSError (no space, read-only file system, no
    permission, a FIFO put in the way) becomes an ExportError naming the path and the cause."""
    try:
        with atomic_path(path) as tmp:
            writer(tmp)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write there ({reason(exc)}); nothing was written and the previous file, "
                          "if any, is unchanged") from None


def put(tmp: Path, data) -> None:
    """Write bytes (or a buffer) to the temp file with Python's file calls."""
    with open(tmp, "wb") as fh:
        fh.write(data)
