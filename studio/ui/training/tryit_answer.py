"""What the Try it dock computes on its helper thread for one input, by kind of model: a classifier's
probabilities (and, if asked, the attribution of the input), a regression's values, an autoencoder's
reconstruction, a token model's next-token probabilities and a short continuation. Qt-free work;
each part timed (ms)."""
from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class Request:
    seq: int  # the request's number: only the newest one's answer is shown
    model: object
    x: object  # the one-sample batch (a token model: the typed text, a str)
    task: str  # the dataset's task: classification, regression, reconstruction
    method: str | None = None  # Why: an attribution method, or None
    node: str | None = None  # Grad-CAM's conv node
    sampling: object = None  # a token model's TextSampling


def answer(r: Request) -> dict:
    """On the helper thread: the answer to `r` as a dict (probs / values / output / text, attribution,
    "problem" for a user's mistake, "bug" for anything else, "ms" for the times)."""
    from studio.errors import is_user_error
    from studio.training.explain import explain, predict
    from studio.training.explain_tokens import continuation, next_token, raw_output

    out: dict = {"ms": {}}
    t0 = time.perf_counter()
    try:
        if r.sampling is not None:
            out["probs"] = next_token(r.model, r.sampling, r.x)
            t1 = time.perf_counter()
            out["ms"]["predict"] = (t1 - t0) * 1000
            out["continuation"] = continuation(r.model, r.sampling, r.x)
            out["ms"]["continue"] = (time.perf_counter() - t1) * 1000
            return out
        if r.task == "classification":
            out["probs"] = predict(r.model, r.x)
        else:  # regression: the values; reconstruction: the output beside the input
            out["output"] = raw_output(r.model, r.x)
        t1 = time.perf_counter()
        out["ms"]["predict"] = (t1 - t0) * 1000
        if r.method is not None:
            out["attribution"] = explain(r.model, r.x, r.method, node=r.node)
            out["ms"]["why"] = (time.perf_counter() - t1) * 1000
    except Exception as exc:  # noqa: BLE001 - a choice that does not apply is said; a bug is re-raised
        out["problem" if is_user_error(exc) else "bug"] = exc
    return out
