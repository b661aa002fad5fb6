"""`python -m studio <command>`: validate, summary, train, export, bench, explain.

Errors a person can cause end in a clear message on stderr and exit code 2, never a traceback.
Each command's work lives in its own package; this module only parses arguments and reports.
"""
from __future__ import annotations

import argparse
import json
import sys

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Something the person can fix: printed as one message, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m studio", description="NetStudio command line")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    project = "the project file (*.json)"

    v = sub.add_parser("validate", help="exit 0 if the graph compiles; else list each problem (exit 2)",
                       description="Check the graph: exit 0 if it compiles; else exit 2 and one line per "
                                   "problem (node id, what is wrong, how to fix it).")
    v.add_argument("file", metavar="FILE", help=project)
    v.add_argument("--json", action="store_true", help="print the problems as JSON")

    s = sub.add_parser("summary", help="per node: output shape, parameters and FLOPs; totals",
                       description="A table of every node: its type, output shape, parameters and FLOPs, "
                                   "with the totals.")
    s.add_argument("file", metavar="FILE", help=project)
    s.add_argument("--json", action="store_true",
                   help='print {"nodes": [...], "total_params": N, "flops": F} as JSON')

    t = sub.add_parser("train", help="train the project's model (DistributedDataParallel under torchrun)",
                       description="Train the project's model with its training settings; the flags "
                                   "override them. Writes metrics.jsonl, checkpoint.pt and best.pt into "
                                   "the run folder. Ctrl-C stops after the current step.")
    t.add_argument("file", metavar="FILE", help=project)
    t.add_argument("--epochs", type=int, metavar="N", help="how many epochs (default: the project's)")
    t.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps (default: the project's)")
    t.add_argument("--batch-size", type=int, metavar="B", help="samples per step (default: the project's)")
    t.add_argument("--out", metavar="RUNDIR", help="run folder for metrics.jsonl, checkpoint.pt and best.pt "
                                                   "(default: runs/<name>-<time> beside the project)")
    t.add_argument("--resume", metavar="CKPT", help="continue from a training checkpoint")
    t.add_argument("--overwrite", action="store_true",
                   help="replace the earlier run in the --out folder (without it, such a folder is refused)")
    t.add_argument("--seed", type=int, metavar="S", help="random seed (default: the project's)")
    t.add_argument("--quiet", action="store_true", help="no progress on stderr, only the result")
    t.add_argument("--verbose", action="store_true",
                   help="also say which training step paths were timed or not used, and why")

    e = sub.add_parser("export", help="export the model to TorchScript, ONNX, torch.export, code or a state dict",
                       description="Export the project's model (with trained weights from --checkpoint) and "
                                   "check that the exported file computes what the model does.")
    e.add_argument("file", metavar="FILE", help=project)
    e.add_argument("--format", required=True, choices=["torchscript", "onnx", "pt2", "code", "state_dict"],
                   help="torchscript (.pt), onnx (.onnx), pt2 (torch.export), code (PyTorch source) "
                        "or state_dict (weights)")
    e.add_argument("-o", "--output", required=True, metavar="OUT", help="the file to write")
    e.add_argument("--checkpoint", metavar="CKPT", help="a training checkpoint or a state dict to take the weights from")
    e.add_argument("--opset", type=int, metavar="N", help="ONNX opset (default: the exporter's choice)")
    e.add_argument("--overwrite", action="store_true",
                   help="replace OUT if it exists (without it, an existing OUT is refused)")

    i = sub.add_parser("import", help="import a model (torchvision, your own class, .onnx, .pt2) as a project",
                       description="Import a model as an editable project: torch.fx traces it (torch.export "
                                   "where fx cannot), each layer and operation becomes a node, repeated module "
                                   "classes become blocks, and the weights go into PROJECT.safetensors beside "
                                   "the project. A part with no node type stops the import (exit 2) with its "
                                   "module path and source line (an ONNX node's name and op type). WARNING: "
                                   "importing a .py file or a module RUNS ITS CODE, as `python file.py` would; "
                                   "import only code you trust. An .onnx or .pt2 file is read as data.")
    i.add_argument("source", metavar="SOURCE",
                   help="torchvision:NAME (any builder in torchvision.models), path/to/file.py:ClassName or "
                        "package.module:ClassName (runs that code), model.onnx, or model.pt2 "
                        "(torch.export.save)")
    i.add_argument("-o", "--output", required=True, metavar="PROJECT.json", help="the project file to write")
    i.add_argument("--input-shape", metavar="C,H,W",
                   help="the size of one input sample (default for torchvision: 3,224,224; for .onnx and .pt2: "
                        "the file's own, when it fixes one)")
    i.add_argument("--weights", metavar="W",
                   help="torchvision only: DEFAULT or a weights enum name (e.g. IMAGENET1K_V1), from torch's "
                        "cache or downloaded; without it, random weights")
    i.add_argument("--random-if-offline", action="store_true",
                   help="with --weights: when they are neither in torch's cache nor downloadable, import with "
                        "random weights (and say so) instead of stopping")
    i.add_argument("--args", metavar="JSON", help="constructor arguments as a JSON object, e.g. '{\"num_classes\": 10}'")
    i.add_argument("--overwrite", action="store_true",
                   help="replace PROJECT.json and its weights file if they exist (without it, they are refused)")
    i.add_argument("--partial", action="store_true",
                   help="write the project even where parts have no node type: each becomes an Unmapped node "
                        "naming the op, its module path and line, which does not compile until replaced")

    b = sub.add_parser("bench", help="benchmarks that print ratios measured in one run",
                       description="Benchmarks: train (trainer vs hand-written loops), ui (event-loop "
                                   "stalls while training), editor (large graphs), startup (time to a "
                                   "window). Progress goes to stderr; the figures to stdout.")
    b.add_argument("suite", choices=["train", "ui", "editor", "startup"], help="which benchmark to run")
    b.add_argument("--device", default="cpu", metavar="D", help="device to train on: cpu (default), cuda, cuda:N, mps")
    b.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    b.add_argument("--quick", action="store_true", help="fewer cases and repeats (for tests)")
    b.add_argument("--verbose", action="store_true", help="also print each variant's warm-up and notes")
    b.add_argument("--views", action="store_true", help="ui: train with Try it (drawn on, Grad-CAM), Where it "
                   "errs and Classes all shown, against them in their tabs (A/B, interleaved)")
    b.add_argument("--preview", action="store_true",
                   help="editor: also measure the live preview (per template, and edits at 1,000 nodes with it on)")
    _explain_parser(sub, project)
    from .training.finetune_cli import add_parser as finetune_parser  # no torch: the help stays fast

    finetune_parser(sub, project)
    return p


def _explain_parser(sub, project: str) -> None:
    from .training.explain_notes import METHODS  # no torch: the help stays fast

    x = sub.add_parser("explain", help="why the model decided: an attribution of one sample drawn into a PNG",
                       description="Attribute one sample's prediction to its input with Captum and draw it: "
                                   "an overlay on the image, or one bar per feature for tabular data.")
    x.add_argument("file", metavar="FILE", help=project)
    x.add_argument("--checkpoint", metavar="CKPT", help="a training checkpoint or a state dict with the trained weights")
    x.add_argument("--sample", type=int, default=0, metavar="N",
                   help="which sample of the validation split (else the training split), from 0 (default 0)")
    x.add_argument("--method", required=True, choices=METHODS, help="saliency, integrated_gradients, gradcam "
                   "(on a conv node) or occlusion")
    x.add_argument("--node", metavar="CONV", help="gradcam: the conv node to look at (default: the last conv)")
    x.add_argument("-o", "--output", required=True, metavar="OUT.png", help="the PNG to write")
    x.add_argument("--overwrite", action="store_true", help="replace OUT.png if it exists (without it, it is refused)")


def overview() -> str:
    """`python -m studio --help`: every command with its one line, then the GUI's options."""
    import textwrap

    from .ui.app import add_gui_arguments  # argparse only: no Qt is loaded for the help

    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    gui = argparse.ArgumentParser(prog="python -m studio", add_help=False)
    add_gui_arguments(gui)
    width = max(len(c.dest) for c in commands._choices_actions) + 4
    lines = ["usage: python -m studio [FILE] [--screenshot OUT.png [--size WxH] [--train-steps N]]",
             "       python -m studio COMMAND [options]   (python -m studio COMMAND --help for its options)",
             "", "NetStudio: build, train and export PyTorch networks on a node canvas.", "", "commands:"]
    for c in commands._choices_actions:
        lines.append(f"  {c.dest:<{width}}{c.help}")
    lines += ["", "without a command, it opens the GUI:"]
    for action in gui._actions:
        name = ", ".join(action.option_strings) or action.metavar
        if action.option_strings and action.metavar:
            name += f" {action.metavar}"
        lines += textwrap.wrap(action.help, 100, initial_indent=f"  {name:<{width + 12}}",
                               subsequent_indent=" " * (width + 14))
    return "\n".join(lines)


def _load(path: str):
    from .core.project import ProjectError, load_project

    try:
        return load_project(path)
    except ProjectError as exc:
        raise UserError(str(exc)) from None


def cmd_validate(args) -> int:
    from .core.analysis import analyze

    project = _load(args.file)
    analysis = analyze(project.graph)
    if args.json:
        print(json.dumps({"ok": analysis.ok, "problems": [p.to_json() for p in analysis.problems]}, indent=2))
    else:
        for p in analysis.problems:
            print(p.line(), file=sys.stdout if analysis.ok else sys.stderr)
        if analysis.ok:
            n = len(project.graph)
            print(f"{args.file}: OK ({n} nodes, {len(analysis.warnings)} warnings)")
    return 0 if analysis.ok else EXIT_USER_ERROR


def cmd_summary(args) -> int:
    from .core.summary import summarize

    project = _load(args.file)
    report = summarize(project.graph)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.table())
    if not report.ok:
        for p in report.errors:
            print(p.line(), file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


def cmd_train(args) -> int:
    from .training.cli import run_train

    return run_train(args)


def cmd_export(args) -> int:
    from .export.cli import run_export

    return run_export(args)


def cmd_import(args) -> int:
    from .importing import ImportRefused, import_model, parse_shape
    from .importing.sources import WeightsUnavailable, parse_args_json

    try:
        shape = parse_shape(args.input_shape) if args.input_shape else None
        try:
            result = import_model(args.source, args.output, shape, args.weights, parse_args_json(args.args),
                                  args.overwrite, args.partial)
        except WeightsUnavailable as exc:
            if not args.random_if_offline:
                raise
            print(f"warning: {str(exc).split('. Get them')[0]}; importing with RANDOM weights (--random-if-offline)",
                  file=sys.stderr)
            result = import_model(args.source, args.output, shape, None, parse_args_json(args.args), args.overwrite,
                                  args.partial)
    except ImportRefused as exc:
        raise UserError(str(exc)) from None
    blocks = f", blocks: {', '.join(result.blocks)}" if result.blocks else ""
    if result.unmapped:
        lines = "\n".join("  " + line for line in result.unmapped)
        print(f"{result.project}: {result.nodes} nodes{blocks}; weights of the mapped layers in {result.weights.name}; "
              f"{len(result.unmapped)} Unmapped node(s) to replace before it compiles:\n{lines}")
        return 0
    print(f"{result.project}: {result.nodes} nodes{blocks}; weights in {result.weights.name} "
          f"(outputs agree with the source to {result.largest_difference:.1e})")
    if result.tuning:
        print(result.tuning)
    return 0


def cmd_finetune(args) -> int:
    from .training.finetune_cli import run_finetune

    return run_finetune(args)


def cmd_bench(args) -> int:
    from .bench import run_bench

    return run_bench(args)


def cmd_explain(args) -> int:
    from .training.explain_cli import run_explain

    return run_explain(args)


COMMANDS = {"validate": cmd_validate, "summary": cmd_summary, "train": cmd_train, "export": cmd_export,
            "import": cmd_import, "bench": cmd_bench, "explain": cmd_explain, "finetune": cmd_finetune}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args) or 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # user-caused errors from the layers below carry a clear message
        from .errors import is_user_error

        if is_user_error(exc):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        raise
