"""Idealized runtime (HELM, "Cheaply Evaluating Inference Efficiency Metrics for Autoregressive
Transformer APIs"): runtime = a + b * prompt_tokens + c * (output_tokens - 1), by least squares
over an entry's requests, with t intervals on a, b and c.

The fit normalises a measured figure; it never replaces it. A coefficient that the requests
cannot identify (every prompt the same length, say) is left out with the reason, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from frontierbench.stats.nested import t_quantile

CONFIDENCE = 0.95
TERMS = ("overhead", "per_prompt_token", "per_output_token")  # a, b, c


@dataclass(frozen=True)
class Coefficient:
    value: float
    low: float
    high: float


@dataclass
class RuntimeFit:
    n: int
    coefficients: dict[str, Coefficient | None]  # by TERMS; None when not identifiable
    residual_s: float | None  # residual standard deviation (seconds)
    r_squared: float | None
    notes: list[str] = field(default_factory=list)

    def predict(self, prompt_tokens: float, output_tokens: float) -> float | None:
        """Runtime of one request of this shape; None when a needed coefficient is missing."""
        parts = {"overhead": 1.0, "per_prompt_token": prompt_tokens, "per_output_token": output_tokens - 1}
        total = 0.0
        for term, x in parts.items():
            coefficient = self.coefficients[term]
            if coefficient is None:
                if x and term != "overhead":
                    return None
                continue
            total += coefficient.value * x
        return total


def fit_runtime(prompt_tokens: Any, output_tokens: Any, runtime: Any,
                confidence: float = CONFIDENCE) -> RuntimeFit:
    prompt = np.asarray(prompt_tokens, dtype=np.float64)
    output = np.asarray(output_tokens, dtype=np.float64)
    y = np.asarray(runtime, dtype=np.float64)
    if not (len(prompt) == len(output) == len(y)):
        raise ValueError(f"prompt_tokens, output_tokens and runtime differ in length "
                         f"({len(prompt)}, {len(output)}, {len(y)})")
    n = len(y)
    columns = {"overhead": np.ones(n), "per_prompt_token": prompt, "per_output_token": output - 1}
    notes = []
    used = ["overhead"]
    for term, what in (("per_prompt_token", "prompt"), ("per_output_token", "output")):
        if n and np.ptp(columns[term]) > 0:
            used.append(term)
        else:
            notes.append(f"{term}: every request has the same {what} length, so its cost cannot be told "
                         "apart from the overhead (folded into it)")
    coefficients: dict[str, Coefficient | None] = {term: None for term in TERMS}
    dof = n - len(used)
    if dof < 1:
        notes.append(f"{n} requests are too few to fit {len(used)} coefficients with an interval")
        return RuntimeFit(n, coefficients, None, None, notes)
    X = np.column_stack([columns[t] for t in used])
    beta, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    if rank < len(used):
        notes.append("prompt and output lengths are collinear over these requests; fitted the overhead only")
        used, X = ["overhead"], np.ones((n, 1))
        beta, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
        dof = n - 1
    residuals = y - X @ beta
    rss = float(residuals @ residuals)
    sigma2 = rss / dof
    covariance = sigma2 * np.linalg.inv(X.T @ X)
    t = float(t_quantile(dof, confidence))
    for i, term in enumerate(used):
        half = t * float(np.sqrt(max(covariance[i, i], 0.0)))
        coefficients[term] = Coefficient(float(beta[i]), float(beta[i]) - half, float(beta[i]) + half)
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - rss / total if total > 0 else None
    return RuntimeFit(n, coefficients, float(np.sqrt(sigma2)), r2, notes)
