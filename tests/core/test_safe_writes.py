"""Saving a project (and any atomic write) replaces only a regular file, and only with a whole one:
a FIFO, a device or a folder at the path is refused untouched; folders are created below an
existing folder but never through a file; a full disk (every write to /dev/full, or a real small
tmpfs) raises OSError naming the cause, with the previous file byte-identical and no temp file."""
from __future__ import annotations

import errno
import stat

import pytest

from studio.core.atomic import NotRegularFileError, atomic_write_text
from studio.core.project import load_project
from tests.conftest import TEMPLATES
from tests.disk_faults import fill, is_kind, make_fifo, make_null_device, small_tmpfs, writes_go_to_dev_full


def project():
    return load_project(TEMPLATES / "mlp_digits.json")


@pytest.mark.fault('saving', 'Save As onto a FIFO, a character device (made in the test folder) or a folder',
                   'refused (OSError naming what is there); the FIFO and the device node are left as they were')
def test_save_onto_what_is_not_a_file(tmp_path):
    fifo = make_fifo(tmp_path / "pipe.json")
    with pytest.raises(NotRegularFileError, match="named pipe"):
        project().save(fifo)
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(NotRegularFileError, match="is a folder") as info:
        project().save(tmp_path / "folder.json")
    assert info.value.errno == errno.EISDIR
    null = make_null_device(tmp_path / "null")
    with pytest.raises(NotRegularFileError, match="character device"):
        atomic_write_text(null, "x")
    assert is_kind(fifo, stat.S_ISFIFO) and is_kind(null, stat.S_ISCHR)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.json", "null", "pipe.json"]


@pytest.mark.fault('saving', 'Save As into folders that do not exist, and into a folder under a file',
                   'the missing folders are created; under a file it is refused naming the file, nothing created')
def test_missing_folders_are_made_but_never_through_a_file(tmp_path):
    saved = project().save(tmp_path / "a" / "b" / "p.json")
    assert load_project(saved).name == project().name
    (tmp_path / "afile").write_text("keep")
    with pytest.raises(NotRegularFileError, match="afile is a file, not a folder"):
        project().save(tmp_path / "afile" / "sub" / "p.json")
    assert (tmp_path / "afile").read_text() == "keep"


@pytest.mark.fault('saving', 'every write of a save fails with ENOSPC (the temp file is /dev/full)',
                   'OSError "No space left on device"; the previous project byte-identical; no temp file')
def test_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    target = project().save(tmp_path / "p.json")
    before = target.read_bytes()
    writes_go_to_dev_full(monkeypatch)
    p = project()
    p.name = "changed"
    with pytest.raises(OSError) as info:
        p.save(target)
    assert info.value.errno == errno.ENOSPC
    assert target.read_bytes() == before and sorted(x.name for x in tmp_path.iterdir()) == ["p.json"]


@pytest.mark.fault('saving', 'a real full disk (a 64 KB tmpfs filled to the last byte) while saving a project',
                   'OSError naming the cause; the previous project byte-identical; no temp file')
def test_a_real_full_disk(tmp_path):
    with small_tmpfs(tmp_path) as disk:
        (disk / "p.json").write_text("the previous save")
        fill(disk)
        with pytest.raises(OSError, match="No space left on device"):
            project().save(disk / "p.json")
        assert (disk / "p.json").read_text() == "the previous save"
        assert sorted(p.name for p in disk.iterdir()) == ["ballast", "p.json"]


@pytest.mark.fault('checkpoint', 'every write of a checkpoint fails with ENOSPC (the temp file is /dev/full)',
                   'OSError (torch.save raised RuntimeError, which the run writer missed); the old checkpoint loads')
def test_checkpoint_save_on_a_full_disk(tmp_path, monkeypatch):
    import torch

    from studio.training.checkpoint import FORMAT, VERSION, load_checkpoint, save_checkpoint

    state = {"format": FORMAT, "version": VERSION, "epoch": 1, "history": [], "model": {"w": torch.ones(3)}}
    save_checkpoint(tmp_path / "checkpoint.pt", state)
    writes_go_to_dev_full(monkeypatch)
    with pytest.raises(OSError) as info:
        save_checkpoint(tmp_path / "checkpoint.pt", {**state, "epoch": 2})
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "checkpoint.pt")["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


@pytest.mark.fault('saving', 'temp files left beside a project by a killed save, one of a dead process and '
                   'one of a process still running (another writer of the same file)',
                   "the next save removes the dead writer's at once and keeps the live one's")
def test_a_killed_writers_temp_file_goes_with_the_next_save(tmp_path):
    import subprocess
    import sys

    from studio.core import atomic

    target = tmp_path / "p.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # exited: its pid runs nothing now (or, rarely, something unrelated)
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        left_dead = tmp_path / f".p.json.{atomic._HOST}-{dead_pid}.abc123.tmp"
        left_live = tmp_path / f".p.json.{atomic._HOST}-{live.pid}.def456.tmp"
        for p in (left_dead, left_live):
            p.write_text("half a proj")
        atomic_write_text(target, "{}")
        assert target.read_text() == "{}"
        assert not left_dead.exists() or _pid_alive(dead_pid)
        assert left_live.exists()  # a writer that still runs may be filling it
    finally:
        live.stdin.close()
        live.wait(10)


def _pid_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
