"""What would stop a run, found before Train is pressed (Qt-free; runs on a background thread):
graph errors from the analysis, a training section that does not parse, a device this machine does
not have, a dataset that cannot be loaded or does not fit the model's Input, output and loss.

It asks the training package's own checks (`parse_config`, `load_dataset`, `check_fit`,
`resolve_device`), so what it says is what `Trainer.from_project` would refuse with. Datasets that
download are not downloaded here: when their files are missing, the note says the run will fetch
them and the fit is checked from the dataset's declared shapes when the run starts."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from dataclasses import dataclass, field
from types import SimpleNamespace

MAX_LISTED = 4
NO_DATASET = "No dataset chosen: pick one under Data in the Training panel."


@dataclass
class PreflightResult:
    problems: list[str] = field(default_factory=list)  # each blocks training
    notes: list[str] = field(default_factory=list)  # worth knowing, does not block
    info: object = None  # the dataset's DatasetInfo, when it loaded
    preview: list = field(default_factory=list)  # dataset.preview(n)
    from_graph: int = 0  # how many of the first `problems` repeat the graph's errors (the Problems list has them)
    # the person's own data is still to come (a template's folder that does not exist yet): Train waits
    # for it, and the panel says so as a note; nothing is wrong with the project, so no Problems row
    awaiting: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.awaiting

    def reason(self) -> str:
        return "\n".join(self.problems + ([self.awaiting] if self.awaiting else []))

    @property
    def setting_problems(self) -> list[str]:
        """What blocks training beyond the graph's own errors: the training settings, the data."""
        return self.problems[self.from_graph:]


_cache: dict[str, object] = {}
_cache_lock = threading.Lock()


def _dataset(cfg, base_dir):
    """load_dataset, remembered per (options, folder): the picker and every settings change ask again."""
    from studio.training.datasets import load_dataset

    key = json.dumps([cfg.name, cfg.options, str(base_dir), _stamp(cfg.options.get("path"), base_dir)],
                     sort_keys=True, default=str)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is None:
        hit = load_dataset(cfg, base_dir)
        with _cache_lock:
            if len(_cache) > 8:
                _cache.clear()
            _cache[key] = hit
    return hit


def _stamp(value, base_dir):
    """The data file's size and time, so a file changed or deleted since is read again."""
    if not isinstance(value, str) or not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return [st.st_size, st.st_mtime_ns]


def graph_problems(analysis) -> list[str]:
    """The analysis's errors as lines a person reads in a tooltip (the first few, then a count)."""
    errors = analysis.errors
    lines = [f"{p.node_id}: {p.message}" if p.node_id else p.message for p in errors[:MAX_LISTED]]
    if len(errors) > MAX_LISTED:
        lines.append(f"… and {len(errors) - MAX_LISTED} more (see Problems)")
    return lines


def data_path_note(value, base_dir) -> str | None:
    """'Data: <absolute path>' for a dataset read from the person's own file or folder (relative
    paths start at the project's folder), saying so when it lies outside that folder."""
    if not isinstance(value, str) or not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        if base_dir is None:
            return f"Data: {value} (relative to the current folder: save the project to anchor it)"
        path = Path(base_dir) / path
    path = path.resolve()
    note = f"Data: {path}"
    if base_dir is not None and not path.is_relative_to(Path(base_dir).resolve()):
        note += " (outside the project's folder)"
    return note


def _awaiting_data(entry, value, base_dir) -> str:
    """For a dataset read from the person's own file or folder that is not there at all (a template
    that trains on your images): what to put where. An existing but unreadable one is a problem."""
    if entry.group != "files" or not isinstance(value, str) or not value:
        return ""
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if path.exists() or path.is_symlink():
        return ""
    return (f"Train waits for your data. {entry.description} Put it at {path} (training.dataset.path), "
            "or choose another dataset under Data.")


def check(training: dict, analysis, edges, base_dir=None, preview: int = 8) -> PreflightResult:
    """`analysis` and a copy of the graph's `edges` are read only (taken on the GUI thread)."""
    from studio.core.compiler import signature
    from studio.training.config import parse_config
    from studio.training.datasets.registry import get_entry
    from studio.training.device import resolve_device
    from studio.training.errors import TrainingError
    from studio.training.losses import check_fit

    result = PreflightResult()
    if not analysis.ok:
        result.problems = ["The graph has errors:"] + graph_problems(analysis)
        result.from_graph = len(result.problems)
    if not training.get("dataset"):  # said in the panel's words, not the file's (parse_config's message)
        result.problems.append(NO_DATASET)
        return result
    try:
        config = parse_config(training)
    except TrainingError as exc:
        result.problems.append(str(exc))
        return result
    try:
        resolve_device(config.device)
    except TrainingError as exc:
        result.problems.append(str(exc))
    cfg = config.dataset
    where = data_path_note(cfg.options.get("path"), base_dir)
    if where:
        result.notes.append(where)  # shown before use: which file the run will read
    try:
        entry = get_entry(cfg.name)
        awaiting = _awaiting_data(entry, cfg.options.get("path"), base_dir)
        if awaiting:
            result.awaiting = awaiting
            result.notes = [n for n in result.notes if n != where] + [awaiting]  # (it names the path)
            return result
        if entry.group == "download" and cfg.options.get("download", True):
            from studio.training.config import DatasetConfig

            try:
                dataset = _dataset(DatasetConfig(cfg.name, {**cfg.options, "download": False}), base_dir)
            except TrainingError:
                result.notes.append(f"{cfg.name} is not on this machine yet: the run downloads it first")
                return result
        else:
            dataset = _dataset(cfg, base_dir)
    except TrainingError as exc:
        result.problems.append(str(exc))
        return result
    result.info = dataset.info
    try:
        result.preview = dataset.preview(preview)
    except Exception:  # noqa: BLE001 - a preview is a nicety; the run reports real failures
        result.preview = []
    if analysis.ok:
        try:
            check_fit(signature(analysis), dataset.info, config.loss,
                      SimpleNamespace(edges=list(edges), nodes=analysis.nodes))  # nodes: a Linear head's hint
        except TrainingError as exc:
            result.problems.append(str(exc))
    return result
