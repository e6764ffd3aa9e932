"""The metric registry (formats/metrics.py): what a standard metric means, read from one place."""

from __future__ import annotations

import pytest

from frontierbench.formats import metrics


def test_throughput_is_a_rate_not_a_cost():
    throughput = metrics.spec("throughput")
    assert (throughput.kind, throughput.higher_is_better, throughput.is_cost) == ("rate", True, False)
    assert metrics.is_cost_or_rate("throughput") and metrics.is_cost_or_rate("wall_time")
    assert not metrics.is_cost_or_rate("accuracy")


def test_suite_metrics_are_not_named_in_the_registry():
    # time_per_token, kv_cache_bytes ...: the case declares their unit and direction
    for name in ("time_per_token", "kv_cache_bytes", "exact_match"):
        assert metrics.spec(name) is None


def test_what_measure_generation_records_is_registered():
    for name, unit, higher_is_better in (("ttft", "s", False), ("tpot", "s", False), ("request_latency", "s", False),
                                         ("output_tokens", "tokens", False), ("output_throughput", "tokens/s", True),
                                         ("request_throughput", "requests/s", True), ("energy_per_request", "J", False),
                                         ("energy_per_output_token", "J", False)):
        spec = metrics.spec(name)
        assert (spec.unit, spec.higher_is_better) == (unit, higher_is_better), name
    assert metrics.from_energy_meter("energy_per_output_token")  # ranked only against the same energy method


@pytest.mark.parametrize("name, provenance, expected", [
    ("wall_time", {}, "rounds"),                         # the registry knows it
    ("training_energy", {}, "rounds"),
    ("accuracy", {}, "items"),
    ("time_per_token", {"sample_kind": "rounds"}, "rounds"),  # the case declares it
    ("exact_match", {"kind": "quality"}, "items"),
    ("something_else", {}, "items"),                     # unknown and undeclared: per item
])
def test_sample_kind_prefers_what_the_case_declared(name, provenance, expected):
    assert metrics.sample_kind(name, provenance) == expected


def test_timing_is_a_per_call_duration():
    assert metrics.is_timing("wall_time", "s")
    assert metrics.is_timing("ttft", "s")  # a suite duration, whatever its name
    assert not metrics.is_timing("training_time", "s")  # paid once, by the registry
    assert not metrics.is_timing("own_training_time", "s", {"kind": "training"})  # by the case
    assert not metrics.is_timing("kv_cache_bytes", "B")


def test_energy_based_metrics_come_from_the_registry_or_their_provenance():
    assert metrics.from_energy_meter("energy") and metrics.from_energy_meter("carbon")
    assert not metrics.from_energy_meter("training_energy")
    assert metrics.energy_based("training_energy") and metrics.energy_based("energy_per_item")
    assert metrics.energy_based("accuracy_per_watt", {"energy_method": "rapl"})
    assert not metrics.energy_based("wall_time_per_item")


def test_derived_metrics_carry_their_base_unit():
    assert {name: spec.unit for name, spec in metrics.DERIVED.items()} == {
        "wall_time_per_item": "s", "energy_per_item": "J", "carbon_per_item": "gCO2e",
        "wall_time_per_correct": "s", "energy_per_correct": "J"}


def test_one_display_rule_per_unit():
    assert metrics.format_value(0.412, "s", 0.405, 0.431) == "412 ms [405, 431]"
    assert metrics.format_value(3 * 2**20, "B") == "3 MiB"
    assert metrics.format_value(1000, "B") == "1000 B"
    assert metrics.format_value(0.8564, "") == "0.8564"
    assert metrics.format_value(2500.0, "tokens") == "2500 tokens"  # a unit without a rule is shown as is
    assert metrics.format_value(None, "J") == "—"
    assert metrics.is_time_unit("s") and not metrics.is_time_unit("J")
