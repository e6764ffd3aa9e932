"""What aggregate derives from generation cases: tail percentiles (and when they are not
supported), the idealized-runtime fit, and cost in money from a board's [prices]."""

from __future__ import annotations

import numpy as np
import pytest

from factories import board_definition, case, metric, run_record, write_board
from frontierbench.aggregate.pipeline import aggregate
from frontierbench.formats.board import BoardDefinition, load_board
from frontierbench.formats.leaderboard import Objective
from frontierbench.formats.run import RecordError, save_run
from frontierbench.stats import money
from frontierbench.stats.quantiles import mlperf_queries, quantile_interval, quantile_ranks
from frontierbench.stats.runtime_model import fit_runtime


# -- percentiles --------------------------------------------------------------------------------

def test_with_50_requests_p99_is_not_supported_and_the_highest_supported_is_named():
    samples = np.random.default_rng(0).lognormal(size=50)
    p99 = quantile_interval(samples, 0.99)
    assert not p99.supported and p99.value is None and p99.low is None
    assert "p99 not supported: 50 samples" in p99.note and "it needs at least 368" in p99.note
    assert "the highest it supports is p92.8" in p99.note  # 0.025 ** (1 / 50) = 0.9289
    p90 = quantile_interval(samples, 0.90)
    assert p90.supported and p90.low <= p90.value <= p90.high and p90.coverage >= 0.95


def test_the_median_interval_is_the_order_statistic_one():
    assert quantile_ranks(6, 0.5)[:2] == (1, 6)  # below 6 samples no pair of ranks reaches 95%
    assert quantile_ranks(5, 0.5) is None
    assert quantile_ranks(50, 0.5)[:2] == (18, 33)


def test_the_quantile_interval_covers_the_true_percentile_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    true_p90 = -np.log(0.1)  # exponential(1)
    hits = [quantile_interval(rng.exponential(size=100), 0.9) for _ in range(400)]
    coverage = np.mean([e.low <= true_p90 <= e.high for e in hits])
    assert 0.92 <= coverage <= 0.995


def test_mlperf_sizes_its_runs_for_a_tight_margin():
    # MLPerf Inference rules: 23,886 queries for p90 and 262,742 for p99 (before rounding up)
    assert mlperf_queries(0.90) == 23886
    assert abs(mlperf_queries(0.99) - 262742) <= 20


# -- idealized runtime -------------------------------------------------------------------------

def test_a_planted_runtime_model_is_recovered_within_5_percent():
    rng = np.random.default_rng(2)
    prompt = rng.integers(16, 512, 200)
    output = rng.integers(1, 256, 200)
    a, b, c = 0.030, 0.0002, 0.012
    runtime = a + b * prompt + c * (output - 1) + rng.normal(0, 0.002, 200)
    fit = fit_runtime(prompt, output, runtime)
    for term, planted in (("overhead", a), ("per_prompt_token", b), ("per_output_token", c)):
        coefficient = fit.coefficients[term]
        assert coefficient.value == pytest.approx(planted, rel=0.05), term
        assert coefficient.low < planted < coefficient.high, term


def test_a_coefficient_the_requests_cannot_identify_is_left_out_with_the_reason():
    fit = fit_runtime([32] * 10, list(range(1, 11)), [0.1 + 0.01 * i for i in range(10)])
    assert fit.coefficients["per_prompt_token"] is None
    assert fit.coefficients["per_output_token"].value == pytest.approx(0.01)
    assert "same prompt length" in fit.notes[0]


# -- money -------------------------------------------------------------------------------------

def test_price_arithmetic_is_exact():
    # $3.60 an hour is $0.001 a second; 4 requests/s -> $0.00025 a request
    per_request = money.per_unit_of_rate(3.60, money.Amount(4.0, 2.0, 8.0))
    assert (per_request.value, per_request.low, per_request.high) == (0.00025, 0.000125, 0.0005)
    per_million = money.per_unit_of_rate(3.60, money.Amount(500.0), scale=money.TOKENS_PER_MILLION)
    assert per_million == money.Amount(2.0)  # $0.001/s / 500 tokens/s x 1e6
    of_pass = money.cost_of_pass(money.Amount(0.5, 0.25, 1.0), money.Amount(0.5, 0.25, 1.0))
    assert (of_pass.value, of_pass.low, of_pass.high) == (1.0, 0.25, 4.0)
    assert money.cost_of_pass(money.Amount(0.5), money.Amount(0.0)) is None  # never correct: no price


def test_the_frontier_cost_of_pass_and_what_each_family_contributes():
    result = money.frontier_cost_of_pass([("a1", "A", 1.0), ("a2", "A", 3.0), ("b1", "B", 2.0), ("x", None, None)])
    assert (result.entry, result.value) == ("a1", 1.0)
    assert result.without_family == {"A": ("b1", 2.0), "B": ("a1", 1.0)}


def test_prices_must_be_positive_and_name_their_source(tmp_path):
    text = 'name = "gen"\ntitle = "t"\nversion = "1"\nprimary = "tpot"\n[reference_point]\ntpot = 1.0\nacc = 0.0\n' \
           '[[objectives]]\nmetric = "tpot"\ndirection = "min"\nmargin = 0.05\n' \
           '[[objectives]]\nmetric = "acc"\ndirection = "max"\nmargin = 0.01\n'
    path = tmp_path / "board.toml"
    path.write_text(text + '[prices]\nsource = "list price"\n"cuda-h100-80gb" = 2.5\n')
    assert load_board(path).prices.per_hour("cuda-h100-80gb") == 2.5
    path.write_text(text + '[prices]\nsource = "list price"\n"cuda-h100-80gb" = -1\n')
    with pytest.raises(RecordError, match="prices.cuda-h100-80gb: dollars per hour must be a positive number"):
        load_board(path)
    path.write_text(text + '[prices]\n"cuda-h100-80gb" = 2.5\n')
    with pytest.raises(RecordError, match="source"):
        load_board(path)


# -- through aggregate -------------------------------------------------------------------------

def generation_case(entry: str, *, family: str, seconds_per_token: float, requests: int, correct: list[int],
                    seed: int) -> object:
    rng = np.random.default_rng(seed)
    prompt = rng.integers(8, 64, requests).astype(float)
    output = rng.integers(2, 40, requests).astype(float)
    ttft = 0.005 + 0.0001 * prompt + rng.normal(0, 1e-4, requests)
    tpot = seconds_per_token * (1 + rng.normal(0, 0.01, requests))
    latency = ttft + tpot * (output - 1)
    per_request = {"sample_kind": "rounds", "samples_are": "requests"}
    per_pass = {"sample_kind": "rounds", "samples_are": "timed passes"}
    extra = {
        "ttft": metric(None, unit="s", samples=ttft, **per_request),
        "tpot": metric(None, unit="s", samples=tpot, **per_request),
        "request_latency": metric(None, unit="s", samples=latency, **per_request),
        "output_tokens": metric(None, unit="tokens", samples=output, **per_request),
        "prompt_tokens": metric(None, unit="tokens", samples=prompt, **per_request),
        "request_throughput": metric(None, unit="requests/s", higher_is_better=True,
                                     samples=[1 / latency.mean()] * 3, **per_pass),
        "output_throughput": metric(None, unit="tokens/s", higher_is_better=True,
                                    samples=[output.sum() / latency.sum()] * 3, **per_pass),
    }
    return case(entry, board="gen", family=family, accuracy=correct, extra=extra)


def test_aggregate_reports_percentiles_the_runtime_fit_and_money(tmp_path):
    board = board_definition("gen", objectives=[
        Objective(metric="accuracy", direction="max", margin=0.01, margin_kind="absolute"),
        Objective(metric="tpot", direction="min", margin=0.05)])
    prices = {"source": "test", "cpu-x86_64-test-cpu-4t": 3.6}
    board = BoardDefinition.model_validate({**board.model_dump(), "prices": prices})
    write_board(tmp_path / "boards", board)
    cases = [generation_case("big", family="A", seconds_per_token=0.004, requests=50, correct=[1, 1, 1, 0], seed=1),
             generation_case("small", family="B", seconds_per_token=0.001, requests=50, correct=[1, 0, 0, 0], seed=2)]
    save_run(run_record(cases), tmp_path / "r.json")
    leaderboard = aggregate([tmp_path / "r.json"], {"gen": board})["gen"]
    group = leaderboard.groups[0]
    big = next(e for e in group.entries if e.name == "big").metrics

    assert big["tpot_p50"].value == pytest.approx(0.004, rel=0.02) and big["tpot_p50"].n == 50
    assert big["tpot_p90"].low <= big["tpot_p90"].value <= big["tpot_p90"].high
    p99 = big["request_latency_p99"]
    assert p99.value is None and p99.provenance["supported"] is False
    assert p99.provenance["highest_supported"] == "p92.8"

    assert big["idealized_runtime_per_output_token"].value == pytest.approx(0.004, rel=0.05)
    assert big["idealized_runtime_per_output_token"].interval == "regression"
    assert big["idealized_runtime_per_prompt_token"].value == pytest.approx(0.0001, rel=0.05)
    assert big["idealized_request_latency"].provenance["measured"] == "request_latency"
    assert "request_latency" in big  # the measured figure is still there, unchanged

    # $3.60/hour = $0.001/s; cost per request = $0.001 x mean latency; cost of pass / 0.75
    rate = big["request_throughput"].value
    assert big["cost_per_request"].value == pytest.approx(0.001 / rate, rel=1e-6)
    assert big["cost_of_pass"].value == pytest.approx(0.001 / rate / 0.75, rel=1e-6)
    assert big["cost_of_pass"].unit == "$"
    small_cost = next(e for e in group.entries if e.name == "small").metrics["cost_of_pass"].value
    cheapest = min(("big", big["cost_of_pass"].value), ("small", small_cost), key=lambda x: x[1])
    assert group.money["frontier_cost_of_pass"]["entry"] == cheapest[0]
    other = "small" if cheapest[0] == "big" else "big"
    family = "A" if cheapest[0] == "big" else "B"
    assert group.money["without_family"][family]["entry"] == other


def test_without_prices_there_is_no_money_column(tmp_path):
    board = board_definition("gen", objectives=[
        Objective(metric="accuracy", direction="max", margin=0.01, margin_kind="absolute"),
        Objective(metric="tpot", direction="min", margin=0.05)])
    cases = [generation_case("big", family="A", seconds_per_token=0.004, requests=20, correct=[1, 0], seed=1)]
    save_run(run_record(cases), tmp_path / "r.json")
    group = aggregate([tmp_path / "r.json"], {"gen": board})["gen"].groups[0]
    assert not any(name.startswith("cost_") for name in group.entries[0].metrics)
    assert "money" not in group.model_dump()


def test_the_site_shows_measured_and_normalised_figures_side_by_side(tmp_path):
    from frontierbench.formats.leaderboard import save_leaderboard
    from frontierbench.site.build import build_site

    board = board_definition("gen", objectives=[
        Objective(metric="accuracy", direction="max", margin=0.01, margin_kind="absolute"),
        Objective(metric="tpot", direction="min", margin=0.05)])
    prices = {"source": "test", "cpu-x86_64-test-cpu-4t": 3.6}
    board = BoardDefinition.model_validate({**board.model_dump(), "prices": prices})
    cases = [generation_case("big", family="A", seconds_per_token=0.004, requests=50, correct=[1, 1, 1, 0], seed=1),
             generation_case("small", family="B", seconds_per_token=0.001, requests=50, correct=[1, 0, 0, 0], seed=2)]
    save_run(run_record(cases), tmp_path / "r.json")
    leaderboard = aggregate([tmp_path / "r.json"], {"gen": board}, draws=50)["gen"]
    path = save_leaderboard(leaderboard, tmp_path / "lb" / "gen" / "leaderboard.json")
    build_site([path], tmp_path / "site")
    page = (tmp_path / "site" / "boards" / "gen" / "index.html").read_text()
    assert "Latency and throughput" in page and 'id="latency-plot"' in page and "generation.js" in page
    assert "measured" in page and "normalised (fitted, HELM idealized runtime)" in page
    assert "money (board [prices])" in page and "Frontier cost-of-pass:" in page
    assert "not supported" in page and "the highest it supports is p92.8" in page  # p99 of 50 requests


def test_without_a_fit_the_site_says_why_instead_of_empty_columns(tmp_path):
    from frontierbench.site.generation import generation_view

    board = board_definition("gen", objectives=[
        Objective(metric="accuracy", direction="max", margin=0.01, margin_kind="absolute"),
        Objective(metric="tpot", direction="min", margin=0.05)])
    same_shape = generation_case("one", family="A", seconds_per_token=0.004, requests=20, correct=[1, 0], seed=1)
    for name in ("prompt_tokens", "output_tokens"):
        same_shape.metrics[name].samples = [32.0] * 20
    save_run(run_record([same_shape]), tmp_path / "r.json")
    group = aggregate([tmp_path / "r.json"], {"gen": board}, draws=50)["gen"].groups[0]
    assert not any(name.startswith("idealized_") for name in group.entries[0].metrics)
    view = generation_view(group)
    assert [g["label"] for g in view["groups"]] == ["measured"]
    assert "cannot tell its terms apart" in view["normalised_note"]
