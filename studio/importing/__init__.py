"""Importing a PyTorch model as an editable project (issue 17): trace it with torch.fx, map each call
to a node type, group repeated module classes into blocks, lay the graph out, and carry the weights
in a safetensors file beside the project. The compiled project is checked against the source model
before anything is written; a call with no node type stops the import with its path and line.
Qt-free: the CLI and the window call `import_model`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .sources import ImportRefused

__all__ = ["ImportRefused", "ImportResult", "import_graph", "import_model", "import_module", "parse_shape"]

DEFAULT_IMAGE = [3, 224, 224]  # torchvision's classification models' training size
TOLERANCE = 1e-4  # the check before writing; the tests ask 1e-5 of the models they import


@dataclass
class ImportResult:
    project: Path
    weights: Path
    nodes: int
    blocks: list[str]
    largest_difference: float | None  # None for a partial import: the project does not compile yet
    unmapped: list[str] = field(default_factory=list)  # partial: "node id: the import's message" each
    tuning: str = ""  # what a NetStudio-generated file's fine-tuning marks set ("" when it has none)


def parse_shape(text: str) -> list[int]:
    try:
        shape = [int(s) for s in text.replace("x", ",").split(",") if s.strip()]
    except ValueError:
        shape = []
    if not shape or any(s < 1 for s in shape):
        raise ImportRefused(f"--input-shape {text!r} must be positive whole numbers per sample, e.g. 3,224,224 "
                            "(channels, height, width; no batch)")
    return shape


def import_model(source: str, output, input_shape: list[int] | None = None, weights: str | None = None,
                 args: dict | None = None, overwrite: bool = False, partial: bool = False) -> ImportResult:
    """Import SOURCE into the project file `output` and its weights beside it (`<stem>.safetensors`).
    The targets are checked before SOURCE's code runs. `partial`: a call with no node type becomes
    an Unmapped node instead of stopping the import."""
    from .sources import file_kind, load_source, split_source

    kind = file_kind(source)
    if kind is not None:  # a model file (.onnx, .pt2): its weights and graph are data, no code runs
        from .model_files import read_file

        if weights is not None or args:
            raise ImportRefused(f"{source}: a model file brings its own weights and sizes; --weights and --args "
                                "are for torchvision and class sources")
        _check_targets(Path(output), overwrite)
        loaded = read_file(kind, source, input_shape)
        return import_graph(loaded.root, loaded.root.graph, output, loaded.input_shape, loaded.name, overwrite,
                            reference=loaded.reference)
    split_source(source)
    _check_targets(Path(output), overwrite)
    if input_shape is None:
        if not source.startswith("torchvision:"):
            raise ImportRefused("give the size of one input sample with --input-shape, e.g. --input-shape 1,28,28")
        input_shape = DEFAULT_IMAGE
    model, name = load_source(source, args or {}, weights)
    return import_module(model, output, input_shape, name, overwrite, partial)


def _check_targets(out: Path, overwrite: bool) -> Path:
    if out.suffix.lower() != ".json":
        raise ImportRefused(f"{out}: a project file ends in .json")
    weights_file = out.with_suffix(".safetensors")
    for path in (out, weights_file):
        if path.exists() and not overwrite:
            raise ImportRefused(f"{path}: exists; pass --overwrite to replace it, or choose another -o")
    return weights_file


def import_module(model, output, input_shape: list[int], name: str = "imported",
                  overwrite: bool = False, partial: bool = False) -> ImportResult:
    """Import an nn.Module (its weights as they are) into the project file `output`. torch.fx traces
    it; where fx cannot, torch.export does (exported.py)."""
    from .exported import trace_or_export
    from .trace import as_traceable
    from .tuning_marks import generated_marks

    _check_targets(Path(output), overwrite)
    marks = generated_marks(model)  # export --format code's FROZEN / LR_MULT, read back
    model = as_traceable(model).eval()
    root, fx_graph = trace_or_export(model, list(input_shape))
    return import_graph(root, fx_graph, output, input_shape, name, overwrite, reference=model, partial=partial,
                        tuning=marks)


def import_graph(root, fx_graph, output, input_shape: list[int], name: str = "imported", overwrite: bool = False,
                 reference=None, partial: bool = False, tuning=None) -> ImportResult:
    """Import a torch-level fx graph whose call_module targets are `root`'s layers (holding the weights);
    the compiled project must compute what `reference` (default: `root`) does."""
    import torch

    from ..core.analysis import analyze
    from ..core.compiler import compile_graph
    from ..core.project import Project
    from .hierarchy import make_blocks
    from .layout import layout
    from .trace import flatten

    out = Path(output)
    weights_file = _check_targets(out, overwrite)
    model = root
    flat = flatten(model, fx_graph, list(input_shape), partial)
    paths = make_blocks(flat)
    graph = flat.graph
    layout(graph)
    tuned = ""
    if tuning:
        from .tuning_marks import apply_marks

        missed = apply_marks(graph, tuning)
        tuned = (f"fine-tuning read back: {len(tuning.frozen)} frozen, {len(tuning.lr_mult)} learning-rate "
                 "multiplier(s)" + (f"; not found as nodes (mark them on the canvas): {', '.join(missed)}"
                                    if missed else ""))
    if flat.unmapped:
        return _write_partial(model, flat, paths, out, weights_file, name)
    analysis = analyze(graph)
    if not analysis.ok:
        lines = "\n".join("  " + p.line() for p in analysis.errors[:20])
        raise ImportRefused(f"the imported graph does not compile at input {list(input_shape)}; is --input-shape "
                            f"right?\n{lines}")
    compiled = compile_graph(graph, analysis=analysis)
    with torch.no_grad():
        for node_id, module_path in flat.source_module.items():
            shares = graph_node_shares(graph, paths[node_id])
            try:
                target = compiled.get_submodule(".".join(paths[node_id]))
            except AttributeError:
                if shares:
                    continue  # the same module called again: it is the first call's layer
                raise
            # a layer tied to another's weight still has its own other params (a decoder's bias)
            target.load_state_dict(model.get_submodule(module_path).state_dict(), strict=not shares)
    compiled.eval()
    difference = _compare(model if reference is None else reference, compiled, input_shape)
    state = {k: v.detach().clone().contiguous() for k, v in compiled.state_dict().items()}
    project = Project(name=name, graph=graph, weights=weights_file.name)
    _write(project, out, weights_file, state)
    return ImportResult(out, weights_file, len(graph.nodes), graph.blocks.names(), difference, tuning=tuned)


def _write_partial(model, flat, paths, out: Path, weights_file: Path, name: str) -> ImportResult:
    """The project with its Unmapped nodes, and the weights of every mapped layer under the key the
    compiled project will give it once those nodes are replaced (it cannot be compiled before)."""
    from ..core.project import Project

    graph = flat.graph
    state = {}
    for node_id, module_path in flat.source_module.items():
        if graph_node_shares(graph, paths[node_id]):
            continue
        prefix = ".".join(paths[node_id])
        for key, value in model.get_submodule(module_path).state_dict().items():
            state[f"{prefix}.{key}"] = value.detach().clone().contiguous()
    project = Project(name=name, graph=graph, weights=weights_file.name)
    _write(project, out, weights_file, state)
    lines = [f"{_node_path(paths, node_id)}: {miss.text()}" for node_id, miss in flat.unmapped]
    return ImportResult(out, weights_file, len(graph.nodes), graph.blocks.names(), None, lines)


def _node_path(paths, node_id: str) -> str:
    return ".".join(paths.get(node_id, [node_id]))


def graph_node_shares(graph, parts: list[str]) -> bool:
    """Whether the node at compiled path `parts` uses another node's weights (it has none of its own)."""
    g = graph
    parts = [p for p in parts if not p.isdigit()]  # copy k of a repeated instance: same definition
    for i, part in enumerate(parts):
        node = g.node(part)
        if i == len(parts) - 1:
            return node.shares is not None
        g = g.blocks[node.block].graph
    return False


def _compare(model, compiled, input_shape) -> float:
    """Run both on the same random batch; refuse an import that computes something else."""
    import torch

    gen = torch.Generator().manual_seed(0)
    x = _example(compiled, input_shape, gen)
    with torch.no_grad():
        want, got = model(x), compiled(x)
    want = list(want) if isinstance(want, (list, tuple)) else [want]
    got = list(got) if isinstance(got, (list, tuple)) else [got]
    worst = 0.0
    for w, g in zip(want, got):
        if w.shape != g.shape:
            raise ImportRefused(f"the imported graph gives an output of shape {list(g.shape)} where the model gives "
                                f"{list(w.shape)}; this is a bug in the import, please report it")
        worst = max(worst, float((w - g).abs().max()) if w.numel() else 0.0)
        scale = float(w.abs().max()) if w.numel() else 0.0
        if worst > TOLERANCE * max(1.0, scale):
            raise ImportRefused(f"the imported graph computes other values than the model (largest difference "
                                f"{worst:.3g}); some layer's settings were not carried over; please report it")
    return worst


def _example(compiled, input_shape, gen):
    """A random batch of two: token ids below the first Embedding's size for an int64 input."""
    import torch

    embeddings = [m.num_embeddings for m in compiled.modules() if isinstance(m, torch.nn.Embedding)]
    if embeddings:
        return torch.randint(0, min(embeddings), (2, *input_shape), generator=gen)
    return torch.randn(2, *input_shape, generator=gen)


def _write(project, out: Path, weights_file: Path, state: dict) -> None:
    """Weights first, then the project that names them: a failure leaves no project without weights."""
    from ..core.weights import save_with_weights

    save_with_weights(project, out, weights_file, state, "NetStudio import")
