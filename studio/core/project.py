"""Project files (`*.json`, format "netstudio"): two-step loading, versioning, atomic saves.

Step 1 parses the JSON and checks the plain records, with messages that name the node or field at
fault; step 2 builds the Graph. What a file says is kept even when it is wrong for the model (an
unknown layer type, a param out of range): the analyzer reports those, so a person can open the
file and fix them. Only a file that cannot be read as a project at all is refused.
"""
from __future__ import annotations

import copy
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .atomic import atomic_write_text, atomic_write_with
from .graph import Graph, GraphError, check_lr_mult, check_node_id, edge_to_json, node_to_json
from .limits import FileRefused, read_regular_file
from .plain import Duplicates, Numbers, check_duplicates, check_numbers
from .blocks_io import BlocksRefused, build_blocks, check_blocks, check_instance, definition_to_json

FORMAT = "netstudio"
VERSION = 2  # 2: block definitions (the "blocks" section, Block nodes); see docs/blocks.md
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_NODES = 100_000  # in the whole file: the top-level graph and every block definition


def _v1_to_v2(record: dict) -> dict:
    """Version 1 had no blocks: its records read unchanged as version 2."""
    return record


# version -> function upgrading a version-N record to version N+1
MIGRATIONS: dict[int, Any] = {1: _v1_to_v2}


class ProjectError(ValueError):
    """The file cannot be opened as a project; the message says where and why."""


@dataclass
class Project:
    name: str = "Untitled"
    graph: Graph = field(default_factory=Graph)
    training: dict = field(default_factory=dict)
    path: Path | None = None
    extra: dict = field(default_factory=dict)  # unknown top-level keys, kept on save
    weights: str | None = None  # the model's weights, a file beside the project (safetensors); see weights.py
    _training_listeners: list = field(default_factory=list, init=False, repr=False, compare=False)

    # ---- the training section: changed through here, so whoever reads it hears of a change ----
    def set_training(self, section: dict) -> None:
        """Replace the `training` section (a copy of `section`) and tell the listeners."""
        self.training = copy.deepcopy(section)
        for listener in list(self._training_listeners):
            listener(self.training)

    def subscribe_training(self, listener: Callable[[dict], None]) -> Callable[[], None]:
        """Call `listener(section)` after every `set_training`; returns the unsubscribe."""
        self._training_listeners.append(listener)
        return lambda: self._training_listeners.remove(listener) if listener in self._training_listeners else None

    def to_json(self) -> dict:
        rec: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": self.name}
        rec["nodes"] = [node_to_json(n) for n in self.graph.nodes.values()]
        rec["edges"] = [edge_to_json(e) for e in self.graph.edges]
        if len(self.graph.blocks):
            rec["blocks"] = {d.name: definition_to_json(d) for d in self.graph.blocks.definitions()}
        rec["training"] = self.training
        if self.weights is not None:
            rec["weights"] = self.weights
        rec.update({k: v for k, v in self.extra.items() if k not in rec})
        return rec

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | os.PathLike | None = None) -> Path:
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ProjectError("this project has no file yet; choose where to save it")
        self._carry_weights(target)
        atomic_write_text(target, self.dumps())
        self.path = target
        return target

    def _carry_weights(self, target: Path) -> None:
        """Saved into another folder, the project takes its weights file along (the field is relative)."""
        src = self.weights_path()
        if src is None or self.path is None or not src.is_file():
            return
        dst = (target.parent / self.weights).resolve() if self.weights else None
        if dst is None or dst == src.resolve():
            return
        if dst.exists():
            if dst.read_bytes() == src.read_bytes():
                return
            raise ProjectError(f"{dst}: a different weights file is already there; the project's weights "
                               f"({src.name}) would replace it. Save into another folder, or move that file away")
        def copy_to(tmp: Path) -> None:
            shutil.copyfile(src, tmp)

        atomic_write_with(dst, copy_to)

    def resolve_path(self, relative: str) -> Path:
        """A path named in the project (a dataset file), relative to the project's folder."""
        p = Path(relative).expanduser()
        if p.is_absolute() or self.path is None:
            return p
        return (self.path.parent / p).resolve()

    def weights_path(self) -> Path | None:
        """The project's weights file, if it names one (relative to the project's folder)."""
        return None if self.weights is None else self.resolve_path(self.weights)


# ---- loading ------------------------------------------------------------------------------------
def load_project(path: str | os.PathLike) -> Project:
    path = Path(path)
    try:  # a FIFO, a device or a folder is refused at once, never read (it could block or never end)
        data = read_regular_file(path, MAX_FILE_BYTES, "project file")
    except FileRefused as exc:
        raise ProjectError(str(exc)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{path}: is not UTF-8 text (byte {exc.start}); is it a project file?") from None
    project = loads_project(text, source=str(path))
    project.path = path
    return project


def loads_project(text: str, source: str = "project") -> Project:
    record = _parse(text, source)
    record = _migrate(record, source)
    try:
        return _build(_check(record, source), source)
    except BlocksRefused as exc:
        raise ProjectError(str(exc)) from None


def _parse(text: str, source: str) -> dict:
    dups, numbers = Duplicates(), Numbers()
    try:
        record = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=dups,
                            parse_int=numbers.int, parse_float=numbers.float)
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{source}: is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                           f"{exc.msg})") from None
    except RecursionError:
        raise ProjectError(f"{source}: is nested too deeply to be a project file") from None
    except ValueError as exc:
        raise ProjectError(f"{source}: {exc}") from None
    if not isinstance(record, dict):
        raise ProjectError(f"{source}: must hold a JSON object with \"format\": \"{FORMAT}\", "
                           f"not a {type(record).__name__}")
    if record.get("format") != FORMAT:
        raise ProjectError(f"{source}: is not a NetStudio project (\"format\" should be \"{FORMAT}\", "
                           f"got {_short(record.get('format'))})")
    problem = check_duplicates(record, dups) or (check_numbers(record) if numbers.bad else None)
    if problem:
        raise ProjectError(f"{source}: {problem}")
    return record


def _short(value: Any, limit: int = 60) -> str:
    """repr() cut to fit in a one-line message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _refuse_constant(name: str):
    raise ValueError(f"holds {name}, which is not valid JSON; write a number instead")


def _migrate(record: dict, source: str) -> dict:
    version = record.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectError(f"{source}: \"version\" must be a whole number (this NetStudio writes "
                           f"{VERSION}), got {_short(version)}")
    if version > VERSION:
        raise ProjectError(f"{source}: was written by a newer NetStudio (file version {version}; this "
                           f"one reads up to {VERSION}); update NetStudio to open it")
    if version < 1:
        raise ProjectError(f"{source}: has an invalid version {version}; the first version is 1")
    while version < VERSION:
        record = MIGRATIONS[version](record)
        version += 1
        record["version"] = version
    return record


def _check(record: dict, source: str) -> dict:
    """Check the plain records; return them normalised (ports default to None)."""
    name = record.get("name", "Untitled")
    if not isinstance(name, str):
        raise ProjectError(f"{source}: \"name\" must be text, got {_short(name)}")
    nodes = record.get("nodes", [])
    edges = record.get("edges", [])
    training = record.get("training", {})
    if not isinstance(nodes, list):
        raise ProjectError(f"{source}: \"nodes\" must be a list, got {type(nodes).__name__}")
    if not isinstance(edges, list):
        raise ProjectError(f"{source}: \"edges\" must be a list, got {type(edges).__name__}")
    if not isinstance(training, dict):
        raise ProjectError(f"{source}: \"training\" must be an object, got {type(training).__name__}")
    if len(nodes) > MAX_NODES:
        raise ProjectError(f"{source}: has {len(nodes)} nodes, more than the {MAX_NODES} allowed")
    out_nodes, out_edges = check_graph(nodes, edges, source, "")
    blocks = check_blocks(record.get("blocks", {}), source, check_graph, MAX_NODES - len(nodes), MAX_NODES)
    weights = _check_weights(record.get("weights"), source)
    known = {"format", "version", "name", "nodes", "edges", "training", "blocks", "weights"}
    extra = {k: v for k, v in record.items() if k not in known}
    return {"name": name, "nodes": out_nodes, "edges": out_edges, "training": training, "extra": extra,
            "blocks": blocks, "weights": weights}


def _check_weights(value: Any, source: str) -> str | None:
    """`"weights"`: a file in the project's folder (or below it) holding the model's weights, read
    without pickle (safetensors, or a state dict torch.load(weights_only=True) accepts)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise ProjectError(f"{source}: \"weights\" must name a weights file beside the project, e.g. "
                           f"\"model.safetensors\", got {_short(value)}")
    p = Path(value)
    if p.is_absolute() or ".." in p.parts:
        raise ProjectError(f"{source}: \"weights\" {value!r} must be a path inside the project's folder (the "
                           "two travel together); move the file beside the project and name it alone")
    if p.suffix.lower() not in (".safetensors", ".pt", ".pth"):
        raise ProjectError(f"{source}: \"weights\" {value!r} must be a .safetensors file (or a .pt state dict)")
    return value


def check_graph(nodes: list, edges: list, source: str, inside: str) -> tuple[list, list]:
    """Check the node and edge records of one graph (the top level, or a block definition: then
    `inside` is "block 'Name': ", which every message names)."""
    source = f"{source}: {inside}".rstrip(": ") if inside else source
    seen: set[str] = set()
    all_ids = {n.get("id") for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)}
    out_nodes = []
    for i, n in enumerate(nodes):
        where = f"{source}: node {i + 1}"
        if not isinstance(n, dict):
            raise ProjectError(f"{where} must be an object with \"id\" and \"type\", got {_short(n)}")
        node_id = n.get("id")
        if not isinstance(node_id, str):
            raise ProjectError(f"{where} needs an \"id\" (text), got {_short(node_id)}")
        where = f"{source}: node '{node_id:.60}'"
        try:
            check_node_id(node_id, all_ids)
        except GraphError as exc:
            raise ProjectError(f"{source}: {exc}") from None
        if node_id in seen:
            raise ProjectError(f"{where} appears twice; node ids must be unique")
        seen.add(node_id)
        type_name = n.get("type")
        if not isinstance(type_name, str) or not type_name:
            raise ProjectError(f"{where} needs a \"type\" (a layer name such as \"Linear\"), "
                               f"got {_short(type_name)}")
        params = n.get("params", {})
        if not isinstance(params, dict):
            raise ProjectError(f"{where}: \"params\" must be an object, got {type(params).__name__}")
        pos = n.get("pos", [0, 0])
        if (not isinstance(pos, (list, tuple)) or len(pos) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in pos)):
            raise ProjectError(f"{where}: \"pos\" must be two numbers [x, y], got {_short(pos)}")
        shares = n.get("shares")
        if shares is not None and (not isinstance(shares, str) or shares not in all_ids or shares == node_id):
            why = ("cannot share its own weights" if shares == node_id else
                   f"names {_short(shares)}, which is not a node id in this file" if isinstance(shares, str) else
                   f"must be the id of another node, got {_short(shares)}")
            raise ProjectError(f"{where}: \"shares\" {why}; name the node whose weights it uses, or remove "
                               "\"shares\"")
        out_nodes.append({"id": node_id, "type": type_name, "params": params,
                          "pos": (float(pos[0]), float(pos[1])), "shares": shares, **_check_tuning(n, where),
                          **check_instance(n, where)})
    out_edges = []
    for i, e in enumerate(edges):
        where = f"{source}: edge {i + 1}"
        if not isinstance(e, dict):
            raise ProjectError(f"{where} must be an object with \"source\" and \"target\", got {_short(e)}")
        rec: dict[str, str | None] = {}
        for key in ("source", "target"):
            value = e.get(key)
            if not isinstance(value, str):
                raise ProjectError(f"{where} needs a \"{key}\" node id, got {_short(value)}")
            if value not in seen:
                raise ProjectError(f"{where}: its {key} '{value:.60}' is not a node in this file")
            rec[key] = value
        for key in ("source_port", "target_port"):
            value = e.get(key)
            if value is not None and not isinstance(value, str):
                raise ProjectError(f"{where}: \"{key}\" must be a port name, got {_short(value)}")
            rec[key] = value
        out_edges.append(rec)
    return out_nodes, out_edges


def _check_tuning(n: dict, where: str) -> dict:
    """The optional fine-tuning fields of a node record (docs/finetune.md): `frozen` (true/false) and
    `lr_mult` (a positive number)."""
    frozen = n.get("frozen", False)
    if not isinstance(frozen, bool):
        raise ProjectError(f"{where}: \"frozen\" must be true or false (whether its weights are kept as they "
                           f"are while training), got {_short(frozen)}")
    try:
        lr_mult = check_lr_mult(n.get("lr_mult", 1.0), "")
    except GraphError:
        raise ProjectError(f"{where}: \"lr_mult\" (the learning-rate multiplier) must be a positive number such "
                           f"as 0.1 or 1, got {_short(n.get('lr_mult'))}; remove it for 1") from None
    return {"frozen": frozen, "lr_mult": lr_mult}


def _build(rec: dict, source: str) -> Project:
    graph = Graph()
    with graph.batch():
        fill_graph(graph, rec["nodes"], rec["edges"], source)
        build_blocks(graph, rec["blocks"], source, fill_graph)
    return Project(rec["name"], graph, rec["training"], None, rec["extra"], rec["weights"])


def fill_graph(graph: Graph, nodes: list, edges: list, source: str) -> None:
    for n in nodes:
        graph.add_node(n["type"], n["params"], n["pos"], node_id=n["id"],
                       **{k: n[k] for k in ("block", "repeat", "first", "shares", "frozen", "lr_mult")
                          if n.get(k) is not None})
    for i, e in enumerate(edges):
        try:
            graph.connect(e["source"], e["target"], e["source_port"], e["target_port"])
        except GraphError as exc:
            raise ProjectError(f"{source}: edge {i + 1}: {exc}") from None
