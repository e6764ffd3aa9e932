"""Figures `aggregate` derives for generation entries (frontier.measure_generation's per-request
samples) and, where the board declares `[prices]`, cost in money.

- Tail latency: p50, p90 and p99 of ttft, tpot and request_latency, each with its order-statistic
  interval and n; a percentile the requests cannot support has no value and says which one they do.
- Idealized runtime (HELM): runtime = a + b * prompt_tokens + c * (output_tokens - 1) fitted over
  the entry's requests, stored beside the measured figures as `idealized_runtime_*`.
- Money: cost per request, per million output tokens (or per item), and cost of pass; per group
  the frontier cost-of-pass with its leave-one-family-out counterfactuals.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from frontierbench.aggregate.derived import quality_metric
from frontierbench.aggregate.pooling import round_or_none
from frontierbench.formats.board import BoardDefinition
from frontierbench.formats.leaderboard import LeaderboardEntry, MetricEstimate
from frontierbench.stats import money
from frontierbench.stats.quantiles import mlperf_queries, percentile_label, quantile_interval
from frontierbench.stats.runtime_model import fit_runtime

TAIL_METRICS = ("ttft", "tpot", "request_latency")
PERCENTILES = (0.50, 0.90, 0.99)
FIT_TERMS = {"overhead": ("idealized_runtime_overhead", "s"),
             "per_prompt_token": ("idealized_runtime_per_prompt_token", "s/token"),
             "per_output_token": ("idealized_runtime_per_output_token", "s/token")}


def _estimate(value: float | None, unit: str, *, low: float | None = None, high: float | None = None,
              interval: str = "none", n: int = 0, higher_is_better: bool = False,
              **provenance: Any) -> MetricEstimate:
    return MetricEstimate(value=round_or_none(value), low=round_or_none(low), high=round_or_none(high), unit=unit,
                          higher_is_better=higher_is_better, estimator="derived", interval=interval, n=n,
                          provenance={"method": "derived", **provenance})


def tail_latencies(metrics: dict[str, MetricEstimate]) -> dict[str, MetricEstimate]:
    """<metric>_p50, _p90, _p99 from the per-request samples."""
    out = {}
    for name in TAIL_METRICS:
        estimate = metrics.get(name)
        if estimate is None or not estimate.samples or estimate.provenance.get("samples_are") != "requests":
            continue
        for q in PERCENTILES:
            result = quantile_interval(estimate.samples, q)
            label = percentile_label(q)
            out[f"{name}_{label}"] = _estimate(
                result.value, estimate.unit, low=result.low, high=result.high,
                interval="quantile" if result.supported else "none", n=result.n,
                formula=f"{label} of {name} over requests", percentile=round(q * 100, 6),
                supported=result.supported, coverage=round_or_none(result.coverage),
                highest_supported=percentile_label(result.highest_supported) if result.highest_supported else None,
                mlperf_requests_for_tight_margin=mlperf_queries(q), note=result.note)
            _carry_scope(out[f"{name}_{label}"], estimate)
    return out


def _carry_scope(derived: MetricEstimate, base: MetricEstimate) -> None:
    """A percentile's interval treats the pooled requests as independent: say what that covers."""
    if derived.interval == "none":
        return
    if base.interval_scope == "within one process":
        derived.interval_scope, derived.interval_note = base.interval_scope, base.interval_note
    elif base.replicates and base.replicates > 1:
        derived.interval_note = (f"requests pooled over {base.replicates} processes; the order-statistic "
                                 "interval treats them as independent (process-to-process variation not in it)")


def idealized_runtime(metrics: dict[str, MetricEstimate]) -> dict[str, MetricEstimate]:
    """The HELM fit over the entry's requests; normalised figures, kept apart from the measured."""
    latency, output = metrics.get("request_latency"), metrics.get("output_tokens")
    if latency is None or output is None or not latency.samples or not output.samples:
        return {}
    if len(latency.samples) != len(output.samples):
        return {}
    prompt = metrics.get("prompt_tokens")
    known_prompts = prompt is not None and prompt.samples and len(prompt.samples) == len(latency.samples)
    prompts = prompt.samples if known_prompts else [0.0] * len(latency.samples)
    fit = fit_runtime(prompts, output.samples, latency.samples)
    if fit.coefficients["per_prompt_token"] is None and fit.coefficients["per_output_token"] is None:
        return {}  # every request has the same shape: the "fit" would only restate the mean latency
    notes = list(fit.notes)
    if not known_prompts:
        notes = [n for n in notes if not n.startswith("per_prompt_token")]
        notes.append("per_prompt_token: prompt lengths were not recorded")
    common = {"kind": "normalised", "model": "request_latency = a + b * prompt_tokens + c * (output_tokens - 1)",
              "fit": "least squares over requests (HELM idealized runtime)", "requests": fit.n,
              "residual_s": round_or_none(fit.residual_s), "r_squared": round_or_none(fit.r_squared), "notes": notes}
    out = {}
    for term, (name, unit) in FIT_TERMS.items():
        coefficient = fit.coefficients[term]
        if coefficient is not None:
            out[name] = _estimate(coefficient.value, unit, low=coefficient.low, high=coefficient.high,
                                  interval="regression", n=fit.n, formula=f"fitted {term}", **common)
    shape = (median(prompts), median(output.samples))
    predicted = fit.predict(*shape)
    if predicted is not None and out:
        out["idealized_request_latency"] = _estimate(
            predicted, "s", n=fit.n, formula="the fitted model at the entry's median request "
            f"({shape[0]:g} prompt, {shape[1]:g} output tokens)", measured="request_latency", **common)
    return out


def generation_figures(metrics: dict[str, MetricEstimate], board: BoardDefinition,
                       hardware_class: str) -> dict[str, MetricEstimate]:
    """Everything this module derives for one entry (nothing for an entry without these inputs)."""
    out = tail_latencies(metrics)
    out.update(idealized_runtime(metrics))
    out.update(money_metrics({**metrics, **out}, board, hardware_class))
    return out


def _amount(estimate: MetricEstimate) -> money.Amount:
    return money.Amount(estimate.value, estimate.low, estimate.high)


def money_metrics(metrics: dict[str, MetricEstimate], board: BoardDefinition,
                  hardware_class: str) -> dict[str, MetricEstimate]:
    """cost_per_request, cost_per_million_output_tokens (or cost_per_item) and cost_of_pass, in $."""
    price = board.prices.per_hour(hardware_class) if board.prices is not None else None
    if price is None:
        return {}
    common = {"price_per_hour": price, "hardware_class": hardware_class, "price_source": board.prices.source}
    out: dict[str, MetricEstimate] = {}

    def priced(name: str, amount: money.Amount, formula: str, interval_from: str) -> None:
        out[name] = _estimate(amount.value, "$", low=amount.low, high=amount.high,
                              interval="propagated" if amount.has_interval else "none",
                              formula=formula, interval_from=interval_from, **common)

    attempt = None
    rate = metrics.get("request_throughput")
    if rate is not None and rate.value:
        attempt = money.per_unit_of_rate(price, _amount(rate))
        priced("cost_per_request", attempt, "price_per_hour / 3600 / request_throughput", "request_throughput")
        tokens = metrics.get("output_throughput")
        if tokens is not None and tokens.value:
            priced("cost_per_million_output_tokens",
                   money.per_unit_of_rate(price, _amount(tokens), scale=money.TOKENS_PER_MILLION),
                   "price_per_hour / 3600 / output_throughput x 1e6", "output_throughput")
    elif metrics.get("wall_time_per_item") is not None and metrics["wall_time_per_item"].value is not None:
        per_item = metrics["wall_time_per_item"]
        scale = price / money.SECONDS_PER_HOUR
        attempt = money.Amount(per_item.value * scale, None if per_item.low is None else per_item.low * scale,
                               None if per_item.high is None else per_item.high * scale)
        priced("cost_per_item", attempt, "price_per_hour / 3600 x wall_time_per_item", "wall_time_per_item")
    quality = quality_metric(metrics, board)
    if attempt is not None and quality is not None and metrics[quality].value is not None:
        result = money.cost_of_pass(attempt, _amount(metrics[quality]))
        if result is not None:
            basis = "cost_per_request" if "cost_per_request" in out else "cost_per_item"
            priced("cost_of_pass", result, f"{basis} / {quality}",
                   f"ends of the {basis} and {quality} intervals (conservative)")
            out["cost_of_pass"].provenance["quality"] = quality
    return out


def group_money(entries: list[LeaderboardEntry]) -> dict[str, Any] | None:
    """The frontier cost-of-pass (the cheapest entry) and the same with each family left out."""
    rows = [(e.name, e.family, e.metrics["cost_of_pass"].value) for e in entries if "cost_of_pass" in e.metrics]
    if not rows:
        return None
    result = money.frontier_cost_of_pass(rows)
    return {"frontier_cost_of_pass": {"entry": result.entry, "value": round_or_none(result.value), "unit": "$"},
            "without_family": {family: {"entry": entry, "value": round_or_none(value)}
                               for family, (entry, value) in result.without_family.items()},
            "note": "Cost-of-Pass: the minimum cost of one correct answer over the entries; without_family "
                    "leaves one family out to show what it contributes"}
