"""Measure one call (e.g. training) for time and energy, outside any pytest case."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from frontierbench.capture.meters import cuda
from frontierbench.capture.meters.energy import EnergyMeter, choose_counter


@dataclass(frozen=True)
class OneShot:
    seconds: float
    energy_j: float | None
    energy_method: str
    energy_covers: str | None


def measure_once(fn: Callable[[], Any], *, device: str = "cpu") -> tuple[Any, OneShot]:
    from frontierbench.capture.environment import cpu_model, logical_cpus
    from frontierbench.capture.meters.carbon import EnergyEstimator

    meter = EnergyMeter(choose_counter(device), estimate=True)
    started = meter.start()
    t0 = time.perf_counter()
    result = fn()
    if cuda.in_use():
        cuda.synchronize()
    seconds = time.perf_counter() - t0
    window = meter.stop(started, calls=1)  # no repeats: one training run is long enough
    EnergyEstimator(cpu_model(), logical_cpus()).complete(window)
    return result, OneShot(seconds, window.joules, window.method, window.covers)
