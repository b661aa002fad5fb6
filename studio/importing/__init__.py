"""Importing a PyTorch model as an editable project (issue 17): trace it with torch.fx, map each call
to a node type, group repeated module classes into blocks, lay the graph out, and carry the weights
in a safetensors file beside the project. The compiled project is checked against the source model
before anything is written; a call with no node type stops the import with its path and line.
Qt-free: the CLI and the window call `import_model`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .sources import ImportRefused

__all__ = ["ImportRefused", "ImportResult", "import_model", "import_module", "parse_shape"]

DEFAULT_IMAGE = [3, 224, 224]  # torchvision's classification models' training size
TOLERANCE = 1e-4  # the check before writing; the tests ask 1e-5 of the models they import


@dataclass
class ImportResult:
    project: Path
    weights: Path
    nodes: int
    blocks: list[str]
    largest_difference: float


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
                 args: dict | None = None, overwrite: bool = False) -> ImportResult:
    """Import SOURCE into the project file `output` and its weights beside it (`<stem>.safetensors`).
    The targets are checked before SOURCE's code runs."""
    from .sources import load_source, split_source

    split_source(source)
    _check_targets(Path(output), overwrite)
    if input_shape is None:
        if not source.startswith("torchvision:"):
            raise ImportRefused("give the size of one input sample with --input-shape, e.g. --input-shape 1,28,28")
        input_shape = DEFAULT_IMAGE
    model, name = load_source(source, args or {}, weights)
    return import_module(model, output, input_shape, name, overwrite)


def _check_targets(out: Path, overwrite: bool) -> Path:
    if out.suffix.lower() != ".json":
        raise ImportRefused(f"{out}: a project file ends in .json")
    weights_file = out.with_suffix(".safetensors")
    for path in (out, weights_file):
        if path.exists() and not overwrite:
            raise ImportRefused(f"{path}: exists; pass --overwrite to replace it, or choose another -o")
    return weights_file


def import_module(model, output, input_shape: list[int], name: str = "imported",
                  overwrite: bool = False) -> ImportResult:
    """Import an nn.Module (its weights as they are) into the project file `output`."""
    import torch

    from ..core.analysis import analyze
    from ..core.compiler import compile_graph
    from ..core.project import Project
    from .hierarchy import make_blocks
    from .layout import layout
    from .trace import as_traceable, flatten, trace

    out = Path(output)
    weights_file = _check_targets(out, overwrite)
    model = as_traceable(model).eval()
    flat = flatten(model, trace(model), list(input_shape))
    paths = make_blocks(flat)
    graph = flat.graph
    layout(graph)
    analysis = analyze(graph)
    if not analysis.ok:
        lines = "\n".join("  " + p.line() for p in analysis.errors[:20])
        raise ImportRefused(f"the imported graph does not compile at input {list(input_shape)}; is --input-shape "
                            f"right?\n{lines}")
    compiled = compile_graph(graph, analysis=analysis)
    with torch.no_grad():
        for node_id, module_path in flat.source_module.items():
            if graph_node_shares(graph, paths[node_id]):
                continue
            target = compiled.get_submodule(".".join(paths[node_id]))
            target.load_state_dict(model.get_submodule(module_path).state_dict())
    compiled.eval()
    difference = _compare(model, compiled, input_shape)
    state = {k: v.detach().clone().contiguous() for k, v in compiled.state_dict().items()}
    project = Project(name=name, graph=graph, weights=weights_file.name)
    _write(project, out, weights_file, state)
    return ImportResult(out, weights_file, len(graph.nodes), graph.blocks.names(), difference)


def graph_node_shares(graph, parts: list[str]) -> bool:
    """Whether the node at compiled path `parts` uses another node's weights (it has none of its own)."""
    g = graph
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
    x = torch.randn(2, *input_shape, generator=gen)
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


def _write(project, out: Path, weights_file: Path, state: dict) -> None:
    """Weights first, then the project that names them: a failure leaves no project without weights."""
    from ..core.weights import save_with_weights

    save_with_weights(project, out, weights_file, state, "NetStudio import")
