"""Block definitions outside the project: the built-in ones (resources/blocks/*.json) and the
person's own library (one JSON file per definition in the user data folder, `blocks/`).

A library file holds one definition and the definitions it uses, so it stands alone:
    {"format": "netstudio-block", "version": 2, "name": "BasicBlock",
     "blocks": {"BasicBlock": {...definition, as in a project's "blocks" section...}, ...}}
Every file there is hostile until checked: a file that is too large, not UTF-8, not JSON, or not a
definition the core accepts is skipped, and the reason (naming the file) is kept in `problems`
for the problems list; nothing here raises for a bad file. Saving never overwrites a file without
the caller's say (`overwrite=True` after asking); writes are atomic."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from studio.core.atomic import atomic_write_text
from studio.core.limits import FileRefused, read_regular_file

from . import block_model

FORMAT = "netstudio-block"
VERSION = 2
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_FILES = 1000  # a folder with more is read up to here, and says so
BUILTIN_DIR = Path(__file__).resolve().parents[2] / "resources" / "blocks"


class LibraryError(ValueError):
    """A library file that cannot be used; the message names the file."""


@dataclass
class LibraryEntry:
    name: str
    doc: str
    path: Path
    builtin: bool
    record: dict = field(repr=False)  # the file's "blocks" section (the definition and what it uses)
    defs: object = field(default=None, repr=False)  # those definitions, checked and built (a scratch library)


def user_dir() -> Path:
    """The user's block library: NETSTUDIO_DATA_DIR/blocks (tests), else AppDataLocation/blocks."""
    folder = os.environ.get("NETSTUDIO_DATA_DIR")
    if not folder:
        from PySide6.QtCore import QStandardPaths

        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation) or str(
            Path.home() / ".netstudio")
    return Path(folder) / "blocks"


def _read(path: Path) -> dict:
    try:
        data = read_regular_file(path, MAX_FILE_BYTES, "block library file")
        text = data.decode("utf-8")
    except FileRefused as exc:
        raise LibraryError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise LibraryError(f"{path}: is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise LibraryError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        record = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise LibraryError(f"{path}: is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except (RecursionError, ValueError) as exc:
        raise LibraryError(f"{path}: {exc if isinstance(exc, ValueError) else 'is nested too deeply'}") from None
    return record


def _refuse_constant(name: str):
    raise ValueError(f"holds {name}, which is not a number JSON allows")


def parse(record, path: Path, builtin: bool = False) -> LibraryEntry:
    """Check a library file's record (and, through the core, its definitions)."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise LibraryError(f"{path}: is not a NetStudio block file (\"format\" should be \"{FORMAT}\")")
    version = record.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
        raise LibraryError(f"{path}: has version {version!r}; this NetStudio reads block files up to "
                           f"version {VERSION}")
    name, blocks = record.get("name"), record.get("blocks")
    if not isinstance(name, str) or not isinstance(blocks, dict) or name not in blocks:
        raise LibraryError(f"{path}: must name its definition (\"name\") and hold it in \"blocks\"")
    try:
        defs = block_model.check_definitions(blocks, str(path))
    except ValueError as exc:  # the core's ProjectError / GraphError name what is wrong
        raise LibraryError(str(exc)) from None
    return LibraryEntry(name, defs[name].doc or "", path, builtin, blocks, defs)


def read_entry(path: Path, builtin: bool = False) -> LibraryEntry:
    """Read and check one library file (again: it may have changed since the palette listed it)."""
    return parse(_read(path), path, builtin)


@dataclass
class Library:
    entries: list[LibraryEntry]
    problems: list[str]  # one sentence per file skipped


def _scan(folder: Path, builtin: bool, problems: list[str]) -> list[LibraryEntry]:
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix == ".json")
    except FileNotFoundError:
        return []
    except OSError as exc:
        problems.append(f"Block library {folder}: cannot be listed ({exc.strerror or exc})")
        return []
    if len(files) > MAX_FILES:
        problems.append(f"Block library {folder}: holds {len(files)} files; only the first {MAX_FILES} are read")
        files = files[:MAX_FILES]
    out, seen = [], set()
    for path in files:
        try:
            entry = read_entry(path, builtin)
        except LibraryError as exc:
            problems.append(f"Block library: skipped {exc}")
            continue
        if entry.name in seen:
            problems.append(f"Block library: skipped {path}: another file there already defines {entry.name!r}")
            continue
        seen.add(entry.name)
        out.append(entry)
    return out


def load(builtin_dir: Path | None = None, user: Path | None = None) -> Library:
    problems: list[str] = []
    builtin = _scan(builtin_dir or BUILTIN_DIR, True, problems)
    mine = _scan(user or user_dir(), False, problems)
    return Library(builtin + mine, problems)


def file_for(name: str, folder: Path | None = None) -> Path:
    """Where definition `name` is saved (its name is a node-id-like word, so a safe file name)."""
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in name) or "block"
    return (folder or user_dir()) / f"{safe}.json"


def save(root_graph, name: str, folder: Path | None = None, overwrite: bool = False) -> Path:
    """Write definition `name` (with the definitions it uses) to the user library. Raises
    FileExistsError when the file is there and `overwrite` is False (ask the person first)."""
    path = file_for(name, folder)
    if path.exists() and not overwrite:
        raise FileExistsError(str(path))
    record = {"format": FORMAT, "version": VERSION, "name": name,
              "blocks": block_model.definitions_record(root_graph, name)}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(record, indent=1) + "\n")
    return path


def definitions_to_add(root, ref: dict) -> tuple[str, dict]:
    """For a palette reference: the definition name to instantiate, and the records to copy into
    the project first (in order; {} for a project definition). A library definition equal to the
    project's of the same name is not copied again; one that differs is copied under a free name
    (and the definitions using it follow the new name)."""
    from studio.core.graph import suggest_id

    lib = block_model.library(root)
    name = ref.get("name", "")
    if ref.get("source") == "project":
        if name not in lib:
            raise LibraryError(f"The project has no block definition {name!r} any more")
        return name, {}
    entry = read_entry(Path(ref.get("path", "")))
    scratch = entry.defs
    renamed: dict[str, str] = {}
    records: dict[str, dict] = {}
    taken = set(lib)
    for n in block_model.uses_closure(scratch, entry.name):
        rec = _renamed_uses(block_model.to_record(scratch[n]), renamed)
        if n in lib and block_model.to_record(lib[n]) == rec:
            continue  # the same definition is there already
        new = n if n not in taken else suggest_id(f"{n}_1", taken)
        taken.add(new)
        if new != n:
            renamed[n] = new
        records[new] = rec
    return renamed.get(entry.name, entry.name), records


def _renamed_uses(record: dict, renamed: dict) -> dict:
    for node in record.get("nodes", []):
        if node.get("type") == block_model.BLOCK_TYPE and node.get("block") in renamed:
            node["block"] = renamed[node["block"]]
    return record
