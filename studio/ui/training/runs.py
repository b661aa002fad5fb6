"""Run folders of a project: `<project>.runs/<timestamp>/` beside the project file (in the app's
data folder, `<data>/runs/<name>.runs/`, for a project without a file or one of the bundled templates,
so training never writes into the install), each with `settings.json` (the training section and a
summary) and `metrics.jsonl` (one object per epoch and split, as `python -m studio train` writes)
plus `steps.jsonl` (the per-step loss curve) and the trainer's checkpoint.pt / best.pt. Qt-free."""
from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from studio.core.atomic import atomic_write_text


def runs_root(project_path: Path | None, name: str, data_dir: Path) -> Path:
    if project_path is not None and not _bundled(project_path):
        return project_path.parent / f"{project_path.stem}.runs"
    if project_path is not None:
        name = project_path.stem
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "untitled"
    return data_dir / "runs" / f"{slug}.runs"


def _bundled(path: Path) -> bool:
    """A template shipped with the app (resources/templates/): never write beside it."""
    from studio.ui.resources import TEMPLATES

    try:
        return Path(path).resolve().is_relative_to(TEMPLATES.resolve())
    except OSError:
        return False


def new_run_dir(root: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, i = root / stamp, 1
    while path.exists():
        i += 1
        path = root / f"{stamp}-{i}"
    path.mkdir(parents=True)
    return path


@dataclass
class RunRecord:
    path: Path
    settings: dict = field(default_factory=dict)
    epochs: list[dict] = field(default_factory=list)  # metrics.jsonl rows
    steps: list[tuple[int, float]] = field(default_factory=list)  # (global step, loss)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def status(self) -> str:
        return str(self.settings.get("status", "?"))

    def label(self) -> str:
        s = self.settings
        val = [r for r in self.epochs if r.get("split") == "val" and isinstance(r.get("loss"), (int, float))]
        best = f", best val loss {min(r['loss'] for r in val):.4f}" if val else ""
        opt = s.get("training", {}).get("optimizer", {})
        opt = opt.get("type", "") if isinstance(opt, dict) else str(opt)
        return f"{self.name}  ({len({r.get('epoch') for r in self.epochs})} ep, {opt}{best}, {self.status})"

    def series(self, split: str, key: str) -> tuple[list[float], list[float]]:
        rows = [r for r in self.epochs if r.get("split") == split and isinstance(r.get(key), (int, float))]
        return [float(r["epoch"]) for r in rows], [float(r[key]) for r in rows]


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return rows
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash: skip it
        if isinstance(row, dict):
            rows.append(row)
    return rows


def read_run(path: Path) -> RunRecord:
    try:
        settings = json.loads((path / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        settings = {}
    steps = [(int(r["step"]), float(r["loss"])) for r in _read_jsonl(path / "steps.jsonl")
             if isinstance(r.get("step"), int) and isinstance(r.get("loss"), (int, float))]
    return RunRecord(path, settings if isinstance(settings, dict) else {}, _read_jsonl(path / "metrics.jsonl"), steps)


def list_runs(root: Path) -> list[RunRecord]:
    """Runs in `root`, oldest first (the folder names are timestamps)."""
    if not root.is_dir():
        return []
    return [read_run(p) for p in sorted(root.iterdir()) if p.is_dir() and (p / "settings.json").is_file()]


def write_settings(run_dir: Path, settings: dict) -> None:
    atomic_write_text(run_dir / "settings.json", json.dumps(settings, indent=2, default=str) + "\n")


def append_steps(run_dir: Path, points) -> None:
    """Append (step, loss) points to steps.jsonl (called from the GUI's drain, a few times a second)."""
    if not points:
        return
    with open(run_dir / "steps.jsonl", "a", encoding="utf-8") as f:
        f.write("".join(json.dumps({"step": s, "loss": l}) + "\n" for s, l in points if l == l))


def move_runs(run_dirs, root: Path) -> list[tuple[Path, Path]]:
    """Move run folders into `root` (the project's first save: from the app's data folder to beside
    the file). A name already taken there gets a suffix: nothing is overwritten. Returns (from, to)
    for each moved; a folder that cannot be moved stays where it was (and is left out)."""
    moved = []
    for src in run_dirs:
        src = Path(src)
        if not src.is_dir() or src.parent == root:
            continue
        dst, i = root / src.name, 1
        while dst.exists():
            i += 1
            dst = root / f"{src.name}-{i}"
        try:
            root.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(dst))
        except OSError:
            continue
        moved.append((src, dst))
    return moved


def is_in_data_dir(project_path: Path | None) -> bool:
    """Runs of this project go to the app's data folder (no file yet, or a bundled template)."""
    return project_path is None or _bundled(project_path)


def newest_weights(records: list[RunRecord]) -> Path | None:
    """The newest run's best.pt (else its checkpoint.pt)."""
    for rec in reversed(records):
        for name in ("best.pt", "checkpoint.pt"):
            if (rec.path / name).is_file():
                return rec.path / name
    return None
