"""The window's helper threads (studio/ui/background.py): the exit waits for them, so one still
inside a torch call when Python finalizes no longer aborts the process."""
from __future__ import annotations

import subprocess
import sys
import threading

from studio.ui import background

# a helper inside torch.conv2d when the interpreter exits: as a plain daemon thread this script
# ended with "terminate called without an active exception" (exit 134) three times in three
SCRIPT = """
import threading, time, torch
from studio.ui import background
inside = threading.Event()
def busy():
    x, w = torch.randn(64, 3, 64, 64), torch.randn(16, 3, 5, 5)
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        torch.conv2d(x, w)
        inside.set()
background.start(busy, "busy-helper")
inside.wait()
"""


def test_the_exit_waits_for_a_helper_inside_a_torch_call():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "terminate called" not in done.stderr and "Fatal Python error" not in done.stderr


def test_the_wait_is_bounded_and_names_what_still_runs():
    release = threading.Event()
    background.start(release.wait, "stuck-helper")
    assert "stuck-helper" in background.running()
    assert background.wait(timeout=0.05) == ["stuck-helper"]  # it does not wait longer than asked
    release.set()
    assert background.wait(timeout=10) == [] and "stuck-helper" not in background.running()
