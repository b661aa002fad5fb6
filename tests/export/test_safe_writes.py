"""An export writes only a regular file, and only whole: a FIFO, a device or a folder at -o is
refused untouched; a full disk (a real small tmpfs, and /dev/full for every write) or a read-only
file system ends in a message naming the path and the cause, the previous file byte-identical and
no temp file beside it. torch serialises to memory, so its C++ writer never meets the disk."""
from __future__ import annotations

import stat
import subprocess
import sys

import pytest

from studio.export import ExportError, export
from tests.conftest import ROOT
from tests.disk_faults import (fill, is_kind, make_fifo, make_null_device, readonly_tmpfs, small_tmpfs,
                               writes_go_to_dev_full)

from .helpers import FORMATS, template

IN_PROCESS = ("onnx", "pt2", "state_dict")  # TorchScript gets its own process below: before, it aborted the process


@pytest.mark.fault('export', '-o names a FIFO (named pipe)',
                   'refused before any work, naming the path; the FIFO is still a FIFO')
def test_output_onto_a_fifo_is_refused(tmp_path):
    fifo = make_fifo(tmp_path / "model.pt")
    with pytest.raises(ExportError, match="named pipe") as info:
        export(template("mlp_digits"), "state_dict", fifo)
    assert str(fifo) in str(info.value)
    assert is_kind(fifo, stat.S_ISFIFO) and sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


@pytest.mark.fault('export', '-o names a character device (a /dev/null made in the test folder), as root',
                   'refused naming it; the device node is left as it was')
def test_output_onto_a_device_is_refused(tmp_path):
    null = make_null_device(tmp_path / "null")
    with pytest.raises(ExportError, match="character device"):
        export(template("mlp_digits"), "torchscript", null)
    assert is_kind(null, stat.S_ISCHR) and sorted(p.name for p in tmp_path.iterdir()) == ["null"]


@pytest.mark.fault('export', '-o through a symlink to a FIFO, or into a missing folder under a file',
                   'refused naming what is in the way; nothing created')
def test_output_through_a_link_or_under_a_file_is_refused(tmp_path):
    fifo = make_fifo(tmp_path / "pipe")
    (tmp_path / "link.pt").symlink_to(fifo)
    with pytest.raises(ExportError, match="named pipe"):
        export(template("mlp_digits"), "state_dict", tmp_path / "link.pt")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError, match="afile is a file, not a folder"):
        export(template("mlp_digits"), "state_dict", tmp_path / "afile" / "sub" / "m.pt")
    assert (tmp_path / "afile").read_text() == "x" and is_kind(fifo, stat.S_ISFIFO)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "link.pt", "pipe"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.fault('export', 'every write of the export fails with ENOSPC (the temp file is /dev/full), all 5 formats',
                   'error names the path and "No space left on device"; previous file byte-identical; no temp file')
def test_enospc_from_the_write_keeps_the_old_file(fmt, tmp_path, monkeypatch):
    out = tmp_path / "model.out"
    out.write_bytes(b"the previous export")
    writes_go_to_dev_full(monkeypatch)
    with pytest.raises(ExportError, match="No space left on device") as info:
        export(template("cnn_digits"), fmt, out)
    assert str(out) in str(info.value)
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.out"]


@pytest.mark.parametrize("fmt", IN_PROCESS)
@pytest.mark.fault('export', 'a real full disk (a 64 KB tmpfs filled to the last byte): onnx, pt2, state_dict',
                   'error names the path and the cause; previous file byte-identical; no temp file')
def test_a_real_full_disk(fmt, tmp_path):
    with small_tmpfs(tmp_path) as disk:
        out = disk / "model.out"
        out.write_bytes(b"the previous export")
        fill(disk)
        with pytest.raises(ExportError, match="No space left on device"):
            export(template("mlp_digits"), fmt, out)
        assert out.read_bytes() == b"the previous export"
        assert sorted(p.name for p in disk.iterdir()) == ["ballast", "model.out"]


@pytest.mark.fault('export', 'TorchScript export onto a full disk (the CLI, in its own process)',
                   'exit 2 with "No space left on device" (it aborted with c10::Error); no temp file')
def test_torchscript_onto_a_full_disk_does_not_abort(tmp_path):
    with small_tmpfs(tmp_path) as disk:
        fill(disk)
        done = subprocess.run([sys.executable, "-m", "studio", "export", str(template("mlp_digits")), "--format",
                               "torchscript", "-o", str(disk / "m.pt")], capture_output=True, text=True, cwd=ROOT,
                              timeout=600)
        assert done.returncode == 2, done.stderr[-2000:]
        assert done.stderr.startswith("error: ") and "No space left on device" in done.stderr
        assert "Traceback" not in done.stderr and "c10::Error" not in done.stderr
        assert sorted(p.name for p in disk.iterdir()) == ["ballast"]


@pytest.mark.fault('export', 'the output folder is on a read-only file system (as root, where chmod does not stop)',
                   'refused before any work: the folder is on a read-only file system; the old file unchanged')
def test_a_read_only_file_system(tmp_path):
    with readonly_tmpfs(tmp_path, {"model.pt": b"old"}) as disk:
        with pytest.raises(ExportError, match="read-only file system"):
            export(template("mlp_digits"), "state_dict", disk / "model.pt")
        assert (disk / "model.pt").read_bytes() == b"old"
