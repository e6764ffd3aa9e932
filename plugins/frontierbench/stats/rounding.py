"""The rounding policy: which numbers are rounded, to what, and why.

Rounding is what makes the outputs byte-identical from one run to the next (different BLAS
summation orders, float noise such as 0.010144875000000001), and keeps the JSON short:

- leaderboard values, intervals and samples: `LEADERBOARD_DIGITS` significant digits (`round_sig`,
  `round_array` for arrays, `round_floats` for whole JSON-like structures, `round_or_none` where a
  missing number stays missing);
- pooled point values: `POINT_DIGITS` significant digits, within 1e-9 of a median recomputed from
  the stored (already rounded) samples;
- reliability figures (probabilities, DIoR, intervals): `REPORTED_DECIMALS` decimal places
  (`round_reported`): they live in [0, 1] or near the metric values, and are compared to 0.95;
- numbers embedded in site pages: `PAGE_DIGITS` significant digits (3 for probabilities).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

LEADERBOARD_DIGITS = 7
POINT_DIGITS = 12
REPORTED_DECIMALS = 10
PAGE_DIGITS = 5


def round_sig(value: float | None, digits: int = LEADERBOARD_DIGITS) -> float | None:
    """`value` to `digits` significant digits; None, 0 and non-finite values pass through."""
    if value is None or value == 0.0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


def round_or_none(value: float | None, digits: int = LEADERBOARD_DIGITS) -> float | None:
    """`round_sig`, with a missing value (None or NaN) written as None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round_sig(float(value), digits)


def round_reported(value: float) -> float:
    """A reliability figure, to `REPORTED_DECIMALS` decimal places."""
    return float(round(float(value), REPORTED_DECIMALS))


def round_floats(data: Any, digits: int = LEADERBOARD_DIGITS) -> Any:
    """Round every float in a JSON-like structure to `digits` significant digits (stable bytes)."""
    if isinstance(data, float):
        return round_sig(data, digits)
    if isinstance(data, dict):
        return {key: round_floats(value, digits) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [round_floats(value, digits) for value in data]
    return data


def round_array(values: Any, digits: int = LEADERBOARD_DIGITS) -> np.ndarray:
    """Vectorised `round_sig`: each value rounded to `digits` significant digits.

    Scaling by an exact power of ten and dividing (or multiplying) back is correctly rounded, so
    the result is the double nearest the decimal with `digits` digits: stable, short JSON.
    """
    a = np.asarray(values, dtype=np.float64)
    out = a.copy()
    # Subnormal-range magnitudes would overflow the scale; they are left as they are.
    ok = np.isfinite(a) & (np.abs(a) > 1e-290)
    if not ok.any():
        return out
    x = a[ok]
    exponent = digits - 1 - np.floor(np.log10(np.abs(x))).astype(np.int64)
    up = exponent >= 0
    result = np.empty_like(x)
    scale = _POWERS_OF_TEN[exponent[up] + _LARGEST_POWER]  # the same doubles as 10.0 ** exponent
    result[up] = np.round(x[up] * scale) / scale
    down = _POWERS_OF_TEN[_LARGEST_POWER - exponent[~up]]
    result[~up] = np.round(x[~up] / down) * down
    out[ok] = result
    return out


# 10.0 ** k for every k round_array can need (|x| between 1e-290 and the largest double), looked up
# instead of computed: a third of its time on the million-row histories aggregate rounds.
_LARGEST_POWER = 320
with np.errstate(over="ignore"):
    _POWERS_OF_TEN = 10.0 ** np.arange(-_LARGEST_POWER, _LARGEST_POWER + 1, dtype=np.float64)
