"""Energy: read a hardware counter around the timing rounds, or keep the inputs of an estimate.

Per case this module only reads counters (RAPL, NVML) or clocks (wall and process CPU time): a
few microseconds. The estimate for machines without counters is converted once per session by
`carbon.EnergyEstimator`, through codecarbon's power model. Provenance is always explicit:
`method` is rapl, nvml, estimated or unavailable, and an estimate is never called measured.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

POWERCAP_ROOT = Path("/sys/class/powercap")


class EnergyCounter(Protocol):
    method: str  # "rapl" or "nvml"
    covers: str
    min_window_s: float  # shorter windows are dominated by the counter's update interval

    def read_joules(self) -> float: ...


class RaplCounter:
    """Sum of the CPU package domains (intel-rapl:N), handling counter wrap-around."""

    method = "rapl"
    min_window_s = 0.05  # RAPL updates about every millisecond

    def __init__(self, domains: list[Path]):
        self.domains = domains
        self.covers = "cpu-package (whole machine): " + ", ".join(
            (d / "name").read_text().strip() for d in domains)
        self._ranges = [int((d / "max_energy_range_uj").read_text()) for d in domains]
        self._last = [self._raw(d) for d in domains]
        self._total_uj = 0

    @staticmethod
    def _raw(domain: Path) -> int:
        return int((domain / "energy_uj").read_text())

    def read_joules(self) -> float:
        for i, domain in enumerate(self.domains):
            now = self._raw(domain)
            delta = now - self._last[i]
            if delta < 0:  # the counter wrapped
                delta += self._ranges[i]
            self._total_uj += delta
            self._last[i] = now
        return self._total_uj / 1e6

    @classmethod
    def discover(cls, root: Path = POWERCAP_ROOT) -> RaplCounter | None:
        domains = sorted(p for p in Path(root).glob("intel-rapl:*") if p.name.count(":") == 1)
        readable = []
        for domain in domains:
            try:
                cls._raw(domain)
                (domain / "max_energy_range_uj").read_text()
                readable.append(domain)
            except (OSError, ValueError):
                continue
        return cls(readable) if readable else None


class NvmlCounter:
    """NVML's cumulative total-energy counter (mJ) of one GPU (Volta and newer)."""

    method = "nvml"
    min_window_s = 0.5  # the counter moves about every 100 ms (Zeus); keep >= 5 updates
    tick_aligned = True  # start and end windows on counter updates, so no partial step is lost

    def __init__(self, nvml: Any, index: int):
        self.nvml = nvml
        self.index = index
        self.handle = nvml.nvmlDeviceGetHandleByIndex(index)
        name = nvml.nvmlDeviceGetName(self.handle)
        name = name.decode() if isinstance(name, bytes) else name
        self.covers = f"gpu:{index} {name} (whole device)"
        nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)  # raises where unsupported

    def read_joules(self) -> float:
        return self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle) / 1000.0

    @classmethod
    def discover(cls, index: int, nvml: Any = None) -> NvmlCounter | None:
        try:
            if nvml is None:
                import pynvml as nvml  # nvidia-ml-py
            nvml.nvmlInit()
            return cls(nvml, index)
        except Exception:  # no driver, no device, or a GPU without the counter
            return None


@dataclass
class EnergyWindow:
    """What one case's timing rounds cost: a counter delta, or the inputs of an estimate."""

    method: str  # rapl | nvml | estimated | unavailable
    covers: str | None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    calls: int = 0
    joules: float | None = None  # set for counters; for estimates, by EnergyEstimator
    details: dict[str, Any] = field(default_factory=dict)
    # Counter readings inside the window, one after each call at least the counter's minimum
    # window long: (seconds, joules) per lap, so energy gets per-round samples (EnergyLaps).
    laps: list[tuple[float, float]] = field(default_factory=list)

    def mean_power_w(self) -> float | None:
        if self.joules is None or self.seconds <= 0:
            return None
        return self.joules / self.seconds

    def per_call_joules(self, call_seconds: float) -> float | None:
        """Mean power over the window x the time of one call.

        Dividing the window's energy by the number of calls would also charge each call with the
        harness's own time between rounds, which dominates for very short calls.
        """
        power = self.mean_power_w()
        return None if power is None else power * call_seconds

    def per_call_samples(self, call_seconds: float | None) -> list[float] | None:
        """One energy sample per lap (its mean power x the time of one call), when the counter was
        read after two or more long enough calls; otherwise None (one window, no samples)."""
        laps = [(seconds, joules) for seconds, joules in self.laps if seconds > 0]
        if call_seconds is None or len(laps) < 2:
            return None
        return [joules / seconds * call_seconds for seconds, joules in laps]

    def provenance(self) -> dict[str, Any]:
        power = self.mean_power_w()
        out = {"method": self.method, "covers": self.covers, "window_s": round(self.seconds, 6),
               "calls": self.calls, "mean_power_w": None if power is None else round(power, 4),
               "formula": "mean window power x median wall_time", **self.details}
        if len(self.laps) >= 2:
            out["samples"] = f"per round: {len(self.laps)} counter laps, each lap's mean power x median wall_time"
        return out


class EnergyLaps:
    """Per-round energy where the counter allows it: after each call that lasted at least the
    counter's minimum window, read the counter and close a lap. Shorter calls are never
    interrupted by a read (it would land inside their timed round), and their energy stays one
    window; per-process samples then come from worker processes instead."""

    def __init__(self, counter: EnergyCounter | None, started: tuple[float, float, float | None]):
        self.counter = counter
        self.last_time, _, self.last_joules = started
        self.laps: list[tuple[float, float]] = []

    def after_call(self, call_seconds: float) -> None:
        if self.counter is None or self.last_joules is None or call_seconds < self.counter.min_window_s:
            return
        now = time.perf_counter()
        joules = self.counter.read_joules()
        self.laps.append((now - self.last_time, joules - self.last_joules))
        self.last_time, self.last_joules = now, joules


class EnergyMeter:
    """Open a window before the timing rounds and close it after; extend it if it is too short."""

    def __init__(self, counter: EnergyCounter | None, *, estimate: bool):
        self.counter = counter
        self.estimate = estimate

    def start(self) -> tuple[float, float, float | None]:
        reading = self.counter.read_joules() if self.counter else None
        if reading is not None and getattr(self.counter, "tick_aligned", False):
            # Wait (idle, before the window) for the counter to move: the window then opens on
            # an update instead of somewhere inside a 100 ms step.
            deadline = time.perf_counter() + 4 * self.counter.min_window_s
            first = reading
            while reading == first and time.perf_counter() < deadline:
                time.sleep(0.0005)
                reading = self.counter.read_joules()
        return time.perf_counter(), time.process_time(), reading

    def laps(self, started: tuple[float, float, float | None]) -> EnergyLaps:
        return EnergyLaps(self.counter, started)

    def stop(self, started: tuple[float, float, float | None], calls: int,
             repeat: Callable[[], Any] | None = None, laps: EnergyLaps | None = None) -> EnergyWindow:
        t0, cpu0, joules0 = started
        if self.counter is not None and repeat is not None:
            # Too short a window reads the counter's update step, not the workload: repeat the
            # call, still inside the window, and divide by the calls made (Zeus does the same).
            while time.perf_counter() - t0 < self.counter.min_window_s:
                repeat()
                calls += 1
        joules1 = self.counter.read_joules() if self.counter else None
        if self.counter is not None and repeat is not None and getattr(self.counter, "tick_aligned", False):
            # Keep the workload running until the counter moves, so the window closes on an update.
            deadline = time.perf_counter() + 4 * self.counter.min_window_s
            last = joules1
            while joules1 == last and time.perf_counter() < deadline:
                repeat()
                calls += 1
                joules1 = self.counter.read_joules()
        seconds = time.perf_counter() - t0
        cpu_seconds = time.process_time() - cpu0
        if self.counter is not None:
            return EnergyWindow(self.counter.method, self.counter.covers, seconds, cpu_seconds, calls,
                                joules=joules1 - joules0, laps=list(laps.laps) if laps is not None else [])
        if self.estimate:
            return EnergyWindow("estimated", "cpu+ram share of this process (codecarbon power model)",
                                seconds, cpu_seconds, calls)
        return EnergyWindow("unavailable", None, seconds, cpu_seconds, calls)


def choose_counter(device: str, *, rapl_root: Path = POWERCAP_ROOT, nvml: Any = None,
                   env: dict[str, str] | None = None) -> EnergyCounter | None:
    """The best hardware counter for a case on `device`; None means estimate (or unavailable)."""
    env = os.environ if env is None else env
    if env.get("FRONTIERBENCH_ENERGY_COUNTERS", "1") == "0":
        return None
    if device.startswith("cuda"):
        index = int(device.split(":")[1]) if ":" in device else 0
        counter = NvmlCounter.discover(index, nvml)
        if counter is not None:
            return counter
    return RaplCounter.discover(rapl_root)
