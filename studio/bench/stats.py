"""Small statistics shared by the benchmark suites."""
from __future__ import annotations


def percentile(values, q: float) -> float:
    """The q-quantile (0..1) with linear interpolation between ranks; nan for no values."""
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)
