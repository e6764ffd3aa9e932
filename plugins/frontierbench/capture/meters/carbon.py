"""Carbon and the energy estimate, both through codecarbon, converted once per session.

The grid intensity is pinned by configuration (a country's mix from codecarbon's offline tables,
or an explicit g/kWh); it is never looked up by IP. Building codecarbon's objects costs a fraction
of a second, so it happens once, at the end of the session, not per case.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
import importlib.util
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
    A file of the wrong shape (not an object, an answer missing a field, a negative or non-finite
    power or intensity) is not trusted: it is ignored with a warning, codecarbon is asked again,
    and the file is rebuilt.
    """

    def __init__(self, path: Path | None):
        self.path = path

    def get(self, key: dict[str, Any], compute: Callable[[], dict[str, Any]],
            check: Callable[[Any], str | None] = lambda answer: None) -> dict[str, Any]:
        if self.path is None:
            return _checked(compute(), check, "codecarbon")
        name = json.dumps({**key, "codecarbon": codecarbon_version()}, sort_keys=True)
        entries = self._read()
        if name in entries:
            problem = check(entries[name])
            if problem is None:
                return entries[name]
            warnings.warn(f"{self.path}: ignoring the cached answer to {key.get('question')!r}: {problem}; "
                          f"asking codecarbon again", CacheWarning, stacklevel=2)
        value = _checked(compute(), check, "codecarbon")
        entries[name] = value
        try:
            from frontierbench.formats.atomic import write_json_atomic

            write_json_atomic(self.path, entries)
        except OSError:
            pass  # a read-only checkout still measures; it just asks codecarbon again next time
        return value

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            warnings.warn(f"{self.path}: unreadable ({exc}); ignored and rebuilt", CacheWarning, stacklevel=3)
            return {}
        try:
            entries = json.loads(text)
        except ValueError as exc:
            warnings.warn(f"{self.path}: not valid JSON ({exc}); ignored and rebuilt", CacheWarning, stacklevel=3)
            return {}
        if not isinstance(entries, dict):
            warnings.warn(f"{self.path}: expected a JSON object, found {type(entries).__name__}; ignored and "
                          f"rebuilt", CacheWarning, stacklevel=3)
            return {}
        return entries


class CacheWarning(UserWarning):
    """The codecarbon cache file was damaged or held impossible values; it is rebuilt."""


def _checked(answer: Any, check: Callable[[Any], str | None], source: str) -> Any:
    problem = check(answer)
    if problem is not None:
        raise CarbonConfigError(f"{source} gave an answer that cannot be used: {problem}")
    return answer


def _non_negative_numbers(answer: Any, fields: tuple[str, ...]) -> str | None:
    """None if `answer` is a dict whose `fields` are finite numbers >= 0, else what is wrong."""
    if not isinstance(answer, dict):
        return f"expected an object, found {answer!r:.60}"
    for name in fields:
        value = answer.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"field {name!r} is {value!r:.60}, not a number"
        if not math.isfinite(value) or value < 0:
            return f"field {name!r} is {value!r}; a power or an intensity is a finite number >= 0"
    return None


def intensity_problem(answer: Any) -> str | None:
    problem = _non_negative_numbers(answer, ("g_per_kwh",))
    if problem is None and not isinstance(answer.get("provenance"), dict):
        return "field 'provenance' is missing"
    return problem


def power_model_problem(answer: Any) -> str | None:
    problem = _non_negative_numbers(answer, ("cpu_tdp_w", "ram_w"))
    if problem is None and not isinstance(answer.get("tdp_source"), str):
        return "field 'tdp_source' is missing"
    return problem


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
                                              lambda: _ask_codecarbon_intensity(config), intensity_problem)
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
                              self._ask_codecarbon, power_model_problem)

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


class CarbonConfigError(ValueError):
    """A carbon option that cannot be used; the message names the option."""


def codecarbon_countries() -> dict[str, str] | None:
    """ISO 3166-1 alpha-3 code -> country name, from codecarbon's own offline table (read as a
    file: importing codecarbon costs half a second). None when codecarbon is not installed."""
    spec = importlib.util.find_spec("codecarbon")
    if spec is None or not spec.submodule_search_locations:
        return None
    table = Path(list(spec.submodule_search_locations)[0]) / "data" / "private_infra" / "global_energy_mix.json"
    try:
        mix = json.loads(table.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {code: str(row.get("country_name", code)) for code, row in mix.items() if isinstance(row, dict)}


def check_country(country: str, option: str) -> str:
    code = country.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise CarbonConfigError(f"{option} {country!r}: give an ISO 3166-1 alpha-3 code, e.g. FRA, DEU, USA")
    known = codecarbon_countries()
    if known is not None and code not in known:
        raise CarbonConfigError(f"{option} {country!r}: not a country in codecarbon's energy-mix table "
                                f"(ISO 3166-1 alpha-3, e.g. FRA, DEU, USA)")
    return code


def carbon_config_from(country: str | None, intensity: str | float | None) -> CarbonConfig:
    """The carbon options, checked: a bad one is a CarbonConfigError naming the option."""
    option = "--frontier-country"
    if not country:
        country, option = os.environ.get("FRONTIERBENCH_COUNTRY") or None, "FRONTIERBENCH_COUNTRY"
    raw, intensity_option = intensity, "--frontier-carbon-intensity"
    if raw in (None, ""):
        raw, intensity_option = os.environ.get("FRONTIERBENCH_CARBON_INTENSITY"), "FRONTIERBENCH_CARBON_INTENSITY"
    value = None
    if raw not in (None, ""):
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise CarbonConfigError(f"{intensity_option} {raw!r}: the carbon intensity must be a finite "
                                    f"number >= 0 of gCO2e/kWh")
    return CarbonConfig(country=check_country(country, option) if country else None, intensity_g_per_kwh=value)
