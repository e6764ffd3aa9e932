"""Carbon and the energy estimate, both through codecarbon, converted once per session.

The grid intensity is pinned by configuration (a country's mix from codecarbon's offline tables,
or an explicit g/kWh); it is never looked up by IP. Building codecarbon's objects costs a fraction
of a second, so it happens once, at the end of the session, not per case.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from frontierbench.meters.energy import EnergyWindow

JOULES_PER_KWH = 3.6e6


def _quiet_codecarbon() -> None:
    logging.getLogger("codecarbon").setLevel(logging.CRITICAL)


@dataclass
class CarbonConfig:
    country: str | None = None  # ISO 3166-1 alpha-3, e.g. "FRA"
    intensity_g_per_kwh: float | None = None  # overrides the country mix when given

    def describe(self) -> dict[str, Any]:
        return {"country": self.country, "intensity_g_per_kwh": self.intensity_g_per_kwh}


@dataclass
class GridIntensity:
    g_per_kwh: float
    provenance: dict[str, Any] = field(default_factory=dict)

    def carbon_g(self, joules: float) -> float:
        return joules / JOULES_PER_KWH * self.g_per_kwh


def resolve_intensity(config: CarbonConfig) -> GridIntensity:
    """The pinned grid intensity, from an explicit value or codecarbon's offline country mix."""
    import codecarbon
    from codecarbon import OfflineEmissionsTracker
    from codecarbon.core.units import Energy

    _quiet_codecarbon()
    version = getattr(codecarbon, "__version__", "unknown")
    if config.intensity_g_per_kwh is not None:
        return GridIntensity(config.intensity_g_per_kwh, {
            "method": "pinned-intensity", "intensity_g_per_kwh": config.intensity_g_per_kwh})
    if config.country:
        tracker = OfflineEmissionsTracker(country_iso_code=config.country, output_methods=[],
                                          save_to_file=False, log_level="critical")
        tracker._ensure_emissions_engine()  # codecarbon's own offline tables, no network
        tracker._ensure_geo_metadata()
        kg = tracker._emissions.get_private_infra_emissions(Energy.from_energy(kWh=1.0), tracker._geo)
        return GridIntensity(kg * 1000.0, {
            "method": "codecarbon-country-mix", "country": config.country,
            "intensity_g_per_kwh": round(kg * 1000.0, 3), "codecarbon": version})
    from codecarbon.input import DataSource

    world = float(DataSource().get_carbon_intensity_per_source_data()["world_average"])
    return GridIntensity(world, {"method": "codecarbon-world-average", "intensity_g_per_kwh": world,
                                 "codecarbon": version,
                                 "note": "no country or intensity configured; set --frontier-country"})


class EnergyEstimator:
    """codecarbon's power model for machines without counters: CPU TDP x load, plus RAM power."""

    def __init__(self, cpu_model: str, logical_cpus: int):
        self.cpu_model = cpu_model
        self.logical_cpus = max(1, logical_cpus)

    @cached_property
    def inputs(self) -> dict[str, Any]:
        _quiet_codecarbon()
        from codecarbon.core.cpu import DEFAULT_POWER_PER_CORE, TDP
        from codecarbon.external.ram import RAM

        # TDP() itself would re-detect the CPU through py-cpuinfo (about 1.4 s); we already know it.
        registry = TDP.__new__(TDP)
        tdp = registry._get_cpu_power_from_registry(self.cpu_model)
        source = "codecarbon-cpu-registry"
        if not tdp:
            tdp = self.logical_cpus * DEFAULT_POWER_PER_CORE
            source = f"codecarbon-default ({DEFAULT_POWER_PER_CORE} W per thread)"
        ram_w = float(RAM(tracking_mode="process").total_power().W)
        return {"cpu_tdp_w": float(tdp), "tdp_source": source, "ram_w": ram_w}

    def complete(self, window: EnergyWindow) -> None:
        """Fill in `window.joules` for an estimated window, from its wall and CPU seconds."""
        if window.method != "estimated" or window.seconds <= 0:
            return
        from codecarbon.external.hardware import CPU

        inputs = self.inputs
        load_percent = min(100.0, 100.0 * window.cpu_seconds / (window.seconds * self.logical_cpus))
        cpu_w = CPU._calculate_power_from_cpu_load(inputs["cpu_tdp_w"], load_percent, self.cpu_model)
        window.joules = (cpu_w + inputs["ram_w"]) * window.seconds
        window.details.update({"cpu_load_percent": round(load_percent, 2), "cpu_w": round(cpu_w, 3),
                               **inputs})


def carbon_config_from(country: str | None, intensity: str | float | None) -> CarbonConfig:
    country = country or os.environ.get("FRONTIERBENCH_COUNTRY") or None
    raw = intensity if intensity not in (None, "") else os.environ.get("FRONTIERBENCH_CARBON_INTENSITY")
    value = float(raw) if raw not in (None, "") else None
    if value is not None and (value < 0 or value != value):
        raise ValueError(f"carbon intensity must be a non-negative number of gCO2e/kWh, got {raw!r}")
    return CarbonConfig(country=country.upper() if country else None, intensity_g_per_kwh=value)
