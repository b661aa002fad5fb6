"""`python -m studio explain FILE --checkpoint CKPT --sample N --method M [--node CONV] -o OUT.png`:
the attribution of one sample drawn without Qt (matplotlib's Agg canvas): an overlay on the sample's
image, or one bar per feature for tabular data, with the prediction and the note on how to read it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from .explain import Attribution, ExplainError, Subject, explain


def run_explain(args) -> int:
    from ..core.project import load_project

    out = Path(args.output)
    if out.suffix.lower() != ".png":
        raise ExplainError(f"{out}: the output is a PNG picture; name it *.png")
    if out.exists() and not args.overwrite:
        raise ExplainError(f"{out} exists; pass --overwrite to replace it")
    if not out.parent.is_dir():
        raise ExplainError(f"{out.parent}: no such folder for the output")
    if args.checkpoint is not None and not Path(args.checkpoint).is_file():
        raise ExplainError(f"{args.checkpoint}: no such checkpoint file")
    if args.node is not None and args.method != "gradcam":
        raise ExplainError(f"--node chooses Grad-CAM's conv layer; {args.method} looks at the input (drop --node)")
    if args.checkpoint is None:
        print("note: no --checkpoint: the model has its untrained, initial weights", file=sys.stderr)
    project = load_project(args.file)
    subject = Subject.from_project(project, args.checkpoint)
    x, label = subject.sample(args.sample)
    a = explain(subject.model, x, args.method, node=args.node)
    title = f"sample {args.sample} of the {subject.split} split" + (f" (true: {label})" if label else "")
    write_png(out, x[0].detach().cpu().numpy(), a, subject, title)
    print(f"{out}: {a.method} for class {subject.class_name(a.target)} "
          f"(p={float(a.probs[a.target]):.3f})" + (f" at node {a.node}" if a.node else ""))
    print(a.note, file=sys.stderr)
    return 0


def figure(x: np.ndarray, a: Attribution, subject: Subject, title: str):
    """A matplotlib Figure (no pyplot, no GUI backend) of the input, the attribution and the top classes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6), dpi=110, layout="constrained")
    ax_in, ax_attr, ax_p = fig.subplots(1, 3, width_ratios=[1, 1, 0.9])
    predicted = subject.class_name(a.target)
    if x.ndim == 3:  # [C, H, W]: the image, then the attribution over it in grey
        image = _image(x)
        ax_in.imshow(image, cmap="gray" if image.ndim == 2 else None)
        grey = image if image.ndim == 2 else image.mean(-1)
        heat = a.values if a.values.ndim == 2 else a.values.sum(0)
        ax_attr.imshow(grey, cmap="gray")
        signed = heat.min() < 0
        lim = float(np.abs(heat).max()) or 1.0
        shown = ax_attr.imshow(heat, cmap="coolwarm" if signed else "inferno", alpha=0.6,
                               vmin=-lim if signed else 0, vmax=lim)
        fig.colorbar(shown, ax=ax_attr, shrink=0.8)
        for ax in (ax_in, ax_attr):
            ax.set_xticks([])
            ax.set_yticks([])
    else:  # features: the values, then one bar of attribution per feature
        values = a.values.reshape(-1)
        names = [f"f{i}" for i in range(values.size)]
        ax_in.barh(names, x.reshape(-1), color="#7f8c8d")
        ax_in.invert_yaxis()
        ax_attr.barh(names, values, color=["#c0392b" if v < 0 else "#2e86de" for v in values])
        ax_attr.invert_yaxis()
        ax_attr.axvline(0, color="black", linewidth=0.8)
    ax_in.set_title("input", fontsize=9)
    ax_attr.set_title(a.method + (f" at {a.node}" if a.node else ""), fontsize=9)
    top = np.argsort(a.probs)[::-1][:5]
    ax_p.barh([subject.class_name(int(k)) for k in top], a.probs[top], color="#27ae60")
    ax_p.invert_yaxis()
    ax_p.set_xlim(0, 1)
    ax_p.set_title("probabilities", fontsize=9)
    fig.suptitle(f"{title}: predicted {predicted} (p={float(a.probs[a.target]):.2f})\n{a.note}",
                 fontsize=8, wrap=True)
    return fig


def write_png(out: Path, x: np.ndarray, a: Attribution, subject: Subject, title: str) -> None:
    """Write the picture to a temporary file beside `out`, then move it in place (never half a PNG)."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        figure(x, a, subject, title).savefig(tmp, format="png")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _image(x: np.ndarray) -> np.ndarray:
    """[C, H, W] as a picture for imshow: grey [H, W] for one channel, RGB [H, W, 3] scaled to 0..1."""
    if x.shape[0] == 1:
        return x[0]
    rgb = np.moveaxis(x[:3], 0, -1)
    lo, hi = float(rgb.min()), float(rgb.max())
    return (rgb - lo) / ((hi - lo) or 1.0)
