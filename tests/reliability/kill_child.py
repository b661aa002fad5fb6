"""The child of test_kill_during_save: a 'zygote' that imports torch and NetStudio once, writes the
first version of its file, then for every 'go' line on stdin forks a saver that rewrites the file in
a loop (version 1, 2, 3, ...) until the test kills it with SIGKILL. Forking keeps each round cheap.

    python kill_child.py {project,checkpoint,export} TARGET"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # no thread pool before fork()
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

torch.set_num_threads(1)

from studio.core.project import load_project  # noqa: E402

KIND, TARGET = sys.argv[1], Path(sys.argv[2])
TEMPLATE = ROOT / "resources" / "templates" / "mlp_digits.json"
WIDTH = 1024  # checkpoint tensors: a few MB per save, so a kill often lands mid-write


def save_project(version: int) -> None:
    project = load_project(TEMPLATE)
    project.name = f"version {version}"
    project.extra["notes"] = f"{version} " * 400_000  # ~3 MB of JSON
    project.save(TARGET)


def save_checkpoint(version: int) -> None:
    from studio.training.checkpoint import FORMAT, VERSION, save_checkpoint as save

    state = {"format": FORMAT, "version": VERSION, "epoch": version, "history": [],
             "model": {f"layer{i}.weight": torch.full((WIDTH, WIDTH), float(version)) for i in range(4)}}
    save(TARGET, state)


def save_export(version: int) -> None:
    from studio.export import export

    torch.manual_seed(version)
    export(load_project(TEMPLATE), "torchscript", TARGET)


SAVE = {"project": save_project, "checkpoint": save_checkpoint, "export": save_export}[KIND]

SAVE(0)
print("ready", flush=True)
for line in sys.stdin:
    if not line.startswith("go"):
        break
    pid = os.fork()
    if pid == 0:
        version = int(line.split()[1])
        try:
            while True:
                SAVE(version)
                version += 1
        finally:
            os._exit(1)
    print(pid, flush=True)
    os.waitpid(pid, 0)
    print("reaped", flush=True)
