"""Carbon and the energy estimate, both through codecarbon, converted once per session.

The grid intensity is pinned by configuration (a country's mix from codecarbon's offline tables,
or an explicit g/kWh); it is never looked up by IP. Building codecarbon's objects costs a fraction
of a second, so it happens once, at the end of the session, not per case.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from frontierbench.capture.meters.energy import EnergyWindow

JOULES_PER_KWH = 3.6e6


def _quiet_codecarbon() -> None:
    logging.getLogger("codecarbon").setLevel(logging.CRITICAL)


def codecarbon_version() -> str:
    try:
        return metadata.version("codecarbon")
    except metadata.PackageNotFoundError:
        return "missing"


class LookupCache:
    """codecarbon's answers (a grid intensity, a CPU's TDP) kept on disk between sessions.

    Importing codecarbon and reading its tables costs about half a second per session; its
    answers depend only on the key (codecarbon's version and the question), so they are reused.
    """

    def __init__(self, path: Path | None):
        self.path = path

    def get(self, key: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if self.path is None:
            return compute()
        name = json.dumps({**key, "codecarbon": codecarbon_version()}, sort_keys=True)
        try:
            entries = json.loads(self.path.read_text())
        except (OSError, ValueError):
            entries = {}
        if name in entries:
            return entries[name]
        value = compute()
        entries[name] = value
        try:
            from frontierbench.formats.atomic import write_json_atomic

            write_json_atomic(self.path, entries)
        except OSError:
            pass  # a read-only checkout still measures; it just asks codecarbon again next time
        return value


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


def resolve_intensity(config: CarbonConfig, cache: LookupCache | None = None) -> GridIntensity:
    """The pinned grid intensity, from an explicit value or codecarbon's offline country mix."""
    found = (cache or LookupCache(None)).get({"question": "grid intensity", **config.describe()},
                                              lambda: _ask_codecarbon_intensity(config))
    return GridIntensity(found["g_per_kwh"], found["provenance"])


def _ask_codecarbon_intensity(config: CarbonConfig) -> dict[str, Any]:
    found = _codecarbon_intensity(config)
    return {"g_per_kwh": found.g_per_kwh, "provenance": found.provenance}


def _codecarbon_intensity(config: CarbonConfig) -> GridIntensity:
    if config.intensity_g_per_kwh is not None:
        return GridIntensity(config.intensity_g_per_kwh, {
            "method": "pinned-intensity", "intensity_g_per_kwh": config.intensity_g_per_kwh})
    import codecarbon
    from codecarbon import OfflineEmissionsTracker
    from codecarbon.core.units import Energy

    _quiet_codecarbon()
    version = getattr(codecarbon, "__version__", "unknown")
    if config.country:
        tracker = OfflineEmissionsTracker(country_iso_code=config.country, output_methods=[],
                                          log_level="critical")
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

    def __init__(self, cpu_model: str, logical_cpus: int, cache: LookupCache | None = None):
        self.cpu_model = cpu_model
        self.logical_cpus = max(1, logical_cpus)
        self.cache = cache or LookupCache(None)

    @cached_property
    def inputs(self) -> dict[str, Any]:
        return self.cache.get({"question": "power model", "cpu": self.cpu_model, "cpus": self.logical_cpus},
                              self._ask_codecarbon)

    def _ask_codecarbon(self) -> dict[str, Any]:
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
        inputs = self.inputs
        load_percent = min(100.0, 100.0 * window.cpu_seconds / (window.seconds * self.logical_cpus))
        cpu_w = cpu_power_from_load(inputs["cpu_tdp_w"], load_percent, self.cpu_model)
        window.joules = (cpu_w + inputs["ram_w"]) * window.seconds
        window.details.update({"cpu_load_percent": round(load_percent, 2), "cpu_w": round(cpu_w, 3),
                               **inputs})


def cpu_power_from_load(tdp_w: float, load_percent: float, cpu_model: str) -> float:
    """codecarbon's load model (CPU._calculate_power_from_cpu_load): TDP x load, at least 10% of
    TDP. Restated here for speed; tests check it against codecarbon's own function."""
    if "AMD Ryzen Threadripper" in cpu_model:
        from codecarbon.external.hardware import CPU

        return CPU._calculate_power_from_cpu_load(tdp_w, load_percent, cpu_model)
    return max(tdp_w * (load_percent / 100.0), tdp_w * 0.1)


def carbon_config_from(country: str | None, intensity: str | float | None) -> CarbonConfig:
    country = country or os.environ.get("FRONTIERBENCH_COUNTRY") or None
    raw = intensity if intensity not in (None, "") else os.environ.get("FRONTIERBENCH_CARBON_INTENSITY")
    value = float(raw) if raw not in (None, "") else None
    if value is not None and (value < 0 or value != value):
        raise ValueError(f"carbon intensity must be a non-negative number of gCO2e/kWh, got {raw!r}")
    return CarbonConfig(country=country.upper() if country else None, intensity_g_per_kwh=value)
