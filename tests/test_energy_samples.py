"""Energy samples (issue 11): per round where the counter's window allows it, so energy's
uncertainty enters the intervals and family A; one window (no samples) for short calls."""

from __future__ import annotations

import time

import pytest

from frontierbench.capture.meters.energy import EnergyLaps, EnergyMeter, EnergyWindow

POWER_W = 40.0


class SteadyCounter:
    """A counter that accumulates a constant power, readable at any time (like RAPL)."""

    method = "rapl"
    covers = "fake package"
    min_window_s = 0.02

    def __init__(self, power_w: float = POWER_W):
        self.power_w = power_w
        self.started = time.perf_counter()
        self.reads = 0

    def read_joules(self) -> float:
        self.reads += 1
        return self.power_w * (time.perf_counter() - self.started)


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_laps_close_only_after_calls_as_long_as_the_counters_window():
    counter = SteadyCounter()
    meter = EnergyMeter(counter, estimate=False)
    started = meter.start()
    laps = meter.laps(started)
    for seconds in (0.03, 0.001, 0.03, 0.03):
        t0 = time.perf_counter()
        busy(seconds)
        laps.after_call(time.perf_counter() - t0)
    window = meter.stop(started, calls=4, laps=laps)
    assert len(window.laps) == 3  # the 1 ms call was not interrupted by a read
    samples = window.per_call_samples(0.03)
    assert samples == pytest.approx([POWER_W * 0.03] * 3, rel=0.05)
    assert "3 counter laps" in window.provenance()["samples"]


def test_one_lap_or_no_counter_means_no_samples():
    assert EnergyWindow("rapl", "x", 1.0, 1.0, 3, joules=40.0, laps=[(1.0, 40.0)]).per_call_samples(0.1) is None
    assert EnergyLaps(None, (0.0, 0.0, None)).laps == []
    window = EnergyWindow("estimated", "x", 1.0, 1.0, 3)
    assert window.per_call_samples(0.1) is None and "samples" not in window.provenance()


CONFTEST = """
import time

from frontierbench.capture.meters.energy import RaplCounter


class SteadyCounter:
    method = "rapl"
    covers = "fake package"
    min_window_s = 0.02

    def __init__(self):
        self.started = time.perf_counter()

    def read_joules(self):
        return 40.0 * (time.perf_counter() - self.started)


def pytest_frontier_energy_counter(config, device):
    return SteadyCounter()
"""

CASES = """
import time

import pytest


def busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@pytest.mark.frontier(board="energy")
def test_long_calls(frontier):
    frontier.measure(busy, 0.03, rounds=5)


@pytest.mark.frontier(board="energy")
def test_short_calls(frontier):
    frontier.measure(busy, 0.001, rounds=5)
"""


def test_a_run_records_per_round_energy_for_long_calls_only(pytester, run_frontier):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_energy=CASES)
    run = run_frontier()
    run.result.assert_outcomes(passed=2)
    cases = {c["entry"]: c for c in run.record["cases"]}
    long_energy = cases["test_long_calls"]["metrics"]["energy"]
    assert long_energy["provenance"]["method"] == "rapl"
    assert len(long_energy["samples"]) >= 5  # warm-up and timed rounds, one lap each
    assert long_energy["samples"] == pytest.approx([40.0 * 0.03] * len(long_energy["samples"]), rel=0.2)
    carbon = cases["test_long_calls"]["metrics"]["carbon"]
    assert carbon["samples"] is None or len(carbon["samples"]) == len(long_energy["samples"])
    assert cases["test_short_calls"]["metrics"]["energy"]["samples"] is None
