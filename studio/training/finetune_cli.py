"""`python -m studio finetune PROJECT -o OUT [--replace-head [N]] [--freeze-backbone]` (docs/finetune.md).

A command of its own rather than a flag of `import`: it works on any project with weights (an import,
a project saved with its weights, one fine-tuned before), after the person has seen the imported graph
and picked the dataset whose class count the head takes."""
from __future__ import annotations

HEAD_FROM_DATASET = "dataset"


def add_parser(sub, project_help: str) -> None:
    f = sub.add_parser("finetune", help="a fine-tuning project: replace the head, freeze the backbone",
                       description="Write a new project (and its weights file) for fine-tuning PROJECT: "
                                   "--replace-head gives its last Linear the dataset's class count (or N) with "
                                   "fresh weights and keeps every other weight; --freeze-backbone freezes every "
                                   "layer but that head. PROJECT and its weights are left as they are.")
    f.add_argument("file", metavar="PROJECT", help=project_help)
    f.add_argument("-o", "--output", required=True, metavar="OUT.json", help="the project file to write "
                   "(its weights go to OUT.safetensors beside it)")
    f.add_argument("--replace-head", nargs="?", const=HEAD_FROM_DATASET, metavar="N",
                   help="give the last Linear N outputs (default: the class count of the project's dataset) "
                        "and fresh weights")
    f.add_argument("--freeze-backbone", action="store_true", help="freeze every layer with weights except the head")
    f.add_argument("--overwrite", action="store_true",
                   help="replace OUT.json and its weights file if they exist (without it, they are refused)")


def run_finetune(args) -> int:
    """A refusal is a TrainingError or ProjectError: the CLI prints its message and exits 2."""
    from .finetune_head import FinetuneError, make_finetune

    classes = None
    if args.replace_head not in (None, HEAD_FROM_DATASET):
        try:
            classes = int(args.replace_head)
        except ValueError:
            raise FinetuneError(f"--replace-head {args.replace_head!r} must be a class count (a whole number), "
                                "or given alone for the dataset's") from None
    if args.replace_head is None and not args.freeze_backbone:
        raise FinetuneError("say what to change: --replace-head [N] and/or --freeze-backbone")
    result = make_finetune(args.file, args.output, classes, freeze_backbone=args.freeze_backbone,
                           replace=args.replace_head is not None, overwrite=args.overwrite)
    said = []
    if args.replace_head is not None:
        said.append(f"head '{result.head}' {result.old_classes} -> {result.classes} outputs (fresh weights)")
    if result.frozen:
        said.append(f"{len(result.frozen)} layers frozen")
    print(f"{result.project}: {'; '.join(said)}; {result.kept} tensors kept in {result.weights.name}")
    return 0
