"""Carbon and the energy estimate: codecarbon's models, asked once and kept."""

from __future__ import annotations

import pytest
from codecarbon.external.hardware import CPU

from frontierbench.capture.meters.carbon import (CarbonConfig, EnergyEstimator, LookupCache, cpu_power_from_load,
                                         resolve_intensity)
from frontierbench.capture.meters.energy import EnergyWindow


@pytest.mark.parametrize("load", [0.0, 5.0, 37.5, 100.0])
@pytest.mark.parametrize("model", ["Intel(R) Xeon(R) Processor", "AMD Ryzen Threadripper 3990X"])
def test_our_load_model_is_codecarbons(load, model):
    assert cpu_power_from_load(120.0, load, model) == CPU._calculate_power_from_cpu_load(120.0, load, model)


def test_a_country_mix_is_asked_once_then_read_from_the_cache(tmp_path, monkeypatch):
    cache = LookupCache(tmp_path / "cache.json")
    first = resolve_intensity(CarbonConfig(country="FRA"), cache)
    assert first.provenance["method"] == "codecarbon-country-mix" and 20 < first.g_per_kwh < 200

    import frontierbench.capture.meters.carbon as carbon

    monkeypatch.setattr(carbon, "_codecarbon_intensity", lambda config: pytest.fail("asked codecarbon again"))
    again = resolve_intensity(CarbonConfig(country="FRA"), cache)
    assert (again.g_per_kwh, again.provenance) == (first.g_per_kwh, first.provenance)


def test_a_pinned_intensity_needs_no_tables():
    grid = resolve_intensity(CarbonConfig(intensity_g_per_kwh=100.0))
    assert grid.carbon_g(3.6e6) == pytest.approx(100.0)  # 1 kWh at 100 g/kWh


def test_an_estimate_is_power_times_window_and_says_what_it_assumed(tmp_path):
    estimator = EnergyEstimator("Intel(R) Xeon(R) Processor", 2, LookupCache(tmp_path / "cache.json"))
    window = EnergyWindow("estimated", "cpu+ram", seconds=2.0, cpu_seconds=2.0, calls=10)
    estimator.complete(window)
    inputs = estimator.inputs
    expected_w = max(inputs["cpu_tdp_w"] * 0.5, inputs["cpu_tdp_w"] * 0.1) + inputs["ram_w"]  # 1 of 2 cores busy
    assert window.joules == pytest.approx(expected_w * 2.0)
    assert window.details["cpu_load_percent"] == 50.0
    assert window.per_call_joules(0.1) == pytest.approx(expected_w * 0.1)
