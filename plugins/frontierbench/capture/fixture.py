"""The `frontier` fixture: what a benchmark author calls inside a case."""

from __future__ import annotations

import math
import time
from statistics import median
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

from frontierbench.capture import generation
from frontierbench.capture.meters import cuda
from frontierbench.capture.meters.energy import EnergyMeter, EnergyWindow
from frontierbench.capture.meters.memory import PeakMemory, record_peaks
from frontierbench.formats.metrics import DERIVED, FULL_CYCLE_PREFIX, STANDARD

# Slow workloads are bounded the way pytest-benchmark's pedantic mode is: a first call longer than
# this switches from calibration to a fixed number of rounds that fits the time budget.
SLOW_CALL_S = 0.05
QUICK_ROUNDS = 5  # at 5 rounds a side, compare sees a 10% change up to ~4.7% round noise (3: ~3.1%)
FULL_MIN_ROUNDS = 5
FULL_TIME_BUDGET_S = 10.0
PROGRESS_AFTER_S = 2.0
# What frontier.measure() and the session produce per call (wall_time, memory, energy, carbon,
# throughput) and what aggregate derives: a case may not set these itself.
METERED = frozenset(name for name, spec in STANDARD.items() if spec.per_call and spec.kind in ("cost", "rate"))


class MetricError(ValueError):
    """A metric value that cannot be recorded (NaN, inf, a negative cost, a bad name)."""


@dataclass
class CaseResult:
    """Everything recorded for one case; becomes a `records.Case` at the end of the session."""

    nodeid: str
    entry: str
    board: str | None = None
    family: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    gpu_name: str | None = None
    items: int | None = None
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    energy_window: EnergyWindow | None = None
    measured: bool = False
    gates: dict[str, str] | None = None  # the marker's max_regression, {metric: "5%"} (formats.gates)
    process: int | None = None  # the worker process's index, with --frontier-processes

    def to_case_dict(self, outcome: str, duration: float | None, error: str | None) -> dict[str, Any]:
        case = {"nodeid": self.nodeid, "entry": self.entry, "board": self.board, "family": self.family,
                "params": self.params, "device": self.device, "gpu_name": self.gpu_name,
                "items": self.items, "outcome": outcome, "duration": duration, "error": error,
                "metrics": self.metrics,
                "energy_window": None if self.energy_window is None else vars(self.energy_window).copy()}
        if self.gates:
            case["gates"] = dict(self.gates)
        if self.process is not None:
            case["process"] = self.process
        return case

    def names(self) -> dict[str, Any]:
        """What the journal's `started` line holds: enough to record the case if it never ends."""
        names = {"nodeid": self.nodeid, "entry": self.entry}
        for key in ("board", "family", "device", "process"):
            value = getattr(self, key)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                names[key] = value
        return names


def _number(value: Any, *, case: str, name: str, what: str = "value") -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MetricError(f"{case}: metric {name!r}: {what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise MetricError(f"{case}: metric {name!r}: {what} is {number!r}; only finite numbers are recorded")
    return number


class FrontierFixture:
    """Meters a case's workload and records what the case reports. See the README's tutorial."""

    def __init__(self, case: CaseResult, benchmark: Callable[[], Any], *, quick: bool,
                 energy_meter_for: Callable[[str], EnergyMeter],
                 progress: Callable[[str], None] | None = None):
        self._case = case
        self._get_benchmark = benchmark  # pytest-benchmark's fixture, set up on first use
        self._energy_meter_for = energy_meter_for
        self._progress = progress
        self.quick = quick
        self.profile = "quick" if quick else "full"

    # -- naming ----------------------------------------------------------------------------
    def entry(self, name: str | None = None, *, board: str | None = None, family: str | None = None,
              device: str | None = None, **params: Any) -> FrontierFixture:
        """Name the entry (default: the test name with its parameters) and add parameters."""
        if name is not None:
            self._case.entry = str(name)
        if board is not None:
            self._case.board = board
        if family is not None:
            self._case.family = family
        if device is not None:
            self._case.device = device
        self._case.params.update(params)
        return self

    # -- reported figures ------------------------------------------------------------------
    def metric(self, name: str, value: Any, *, unit: str, higher_is_better: bool,
               samples: Any = None, provenance: dict[str, Any] | None = None) -> None:
        """Record any figure. Costs (higher_is_better=False) may not be negative. The metered
        figures (wall_time, energy...) are the meters' alone: a case may not set them."""
        if name in METERED or name in DERIVED or str(name).startswith(FULL_CYCLE_PREFIX):
            raise MetricError(f"{self._case.nodeid}: metric {name!r} is "
                              f"{'measured' if name in METERED else 'derived'} by frontierbench and cannot be "
                              f"set by the case; report your own figure under another name")
        self._store(name, value, unit=unit, higher_is_better=higher_is_better, samples=samples,
                    provenance=provenance)

    def _store(self, name: str, value: Any, *, unit: str, higher_is_better: bool,
               samples: Any = None, provenance: dict[str, Any] | None = None) -> None:
        case = self._case.nodeid
        if not name or not isinstance(name, str):
            raise MetricError(f"{case}: a metric needs a non-empty string name, got {name!r}")
        number = None if value is None else _number(value, case=case, name=name)
        sample_list = None
        if samples is not None:
            sample_list = [_number(s, case=case, name=name, what="sample") for s in samples]
        if not higher_is_better:
            lowest = min([v for v in [number, *(sample_list or [])] if v is not None], default=0.0)
            if lowest < 0:
                raise MetricError(f"{case}: metric {name!r}: a cost cannot be negative, got {lowest!r}")
        provenance = {"method": "reported-by-case", "covers": None, **(provenance or {})}
        self._case.metrics[name] = {"value": number, "unit": unit, "higher_is_better": bool(higher_is_better),
                                    "samples": sample_list, "provenance": provenance}

    def quality(self, name: str, value: Any = None, *, per_item: Any = None, higher_is_better: bool = True,
                unit: str = "") -> None:
        """Record a quality figure; with `per_item`, the value is its mean and the samples are kept."""
        if per_item is not None:
            items = [float(x) for x in per_item]
            if not items:
                raise MetricError(f"{self._case.nodeid}: metric {name!r}: per_item is empty")
            computed = math.fsum(items) / len(items)
            if value is not None and not math.isclose(float(value), computed, rel_tol=1e-9, abs_tol=1e-12):
                raise MetricError(f"{self._case.nodeid}: metric {name!r}: value {value!r} is not the mean "
                                  f"of per_item ({computed!r})")
            value = computed
        elif value is None:
            raise MetricError(f"{self._case.nodeid}: metric {name!r}: give a value or per_item")
        self.metric(name, value, unit=unit, higher_is_better=higher_is_better, samples=per_item,
                    provenance={"method": "reported-by-case", "kind": "quality",
                                "items": None if per_item is None else len(per_item)})

    def record_training(self, cost: Any) -> None:
        """Record what training the model cost (a model_cache.TrainingCost), cached or not."""
        self.metric("training_time", cost.seconds, unit="s", higher_is_better=False,
                    provenance={"method": "perf_counter", "cached": cost.cached, "kind": "training"})
        self.metric("training_energy", cost.energy_j, unit="J", higher_is_better=False,
                    provenance={"method": cost.energy_method, "covers": cost.energy_covers,
                                "cached": cost.cached, "kind": "training"})

    # -- the measurement -------------------------------------------------------------------
    def measure(self, fn: Callable[..., Any], *args: Any, rounds: int | None = None,
                warmup_rounds: int | None = None, iterations: int | None = None, items: int = 1,
                **kwargs: Any) -> Any:
        """Run and meter `fn(*args, **kwargs)`; return its result.

        1. One memory pass (peak RSS, and peak CUDA memory when CUDA is in use). It is also the
           first warm-up call, so it costs no extra call.
        2. Timing rounds through pytest-benchmark: explicit `rounds` use pedantic mode; otherwise
           pytest-benchmark calibrates, or, for a slow call, a bounded number of rounds.
        3. An energy window around the timing rounds (counter delta, or estimate inputs).
        """
        case = self._case
        if case.measured:
            raise RuntimeError(f"{case.nodeid}: frontier.measure() can be called once per case")
        case.measured = True
        if not isinstance(items, int) or items < 1:
            raise MetricError(f"{case.nodeid}: items must be a positive int, got {items!r}")
        case.items = items

        call = partial(fn, *args, **kwargs)
        on_cuda = cuda.in_use()
        with PeakMemory() as memory:
            cuda_memory = cuda.CudaPeakMemory() if on_cuda else None
            if cuda_memory:
                cuda_memory.__enter__()
            started = time.perf_counter()
            result = call()
            if cuda_memory:
                cuda_memory.__exit__(None, None, None)
            first_call_s = time.perf_counter() - started
        on_cuda = on_cuda or cuda.in_use()  # the workload may have created the CUDA context
        if on_cuda:
            call = cuda.synchronized(call)
            if case.device == "cpu":
                case.device = f"cuda:{cuda.device_index()}"
            case.gpu_name = cuda._torch().cuda.get_device_name(cuda.device_index())

        calls = 0
        laps = None  # per-round energy, for calls as long as the counter's minimum window (EnergyLaps)

        def counted() -> Any:
            nonlocal calls
            calls += 1
            if laps is None:
                return call()
            started = time.perf_counter()
            result = call()
            laps.after_call(time.perf_counter() - started)
            return result

        plan = self._plan(first_call_s, rounds, warmup_rounds, iterations)
        if self._progress and first_call_s * plan["expected_calls"] > PROGRESS_AFTER_S:
            self._progress(f"{case.entry}: {plan['mode']} timing, ~{first_call_s * plan['expected_calls']:.0f} s")
        energy_meter = self._energy_meter_for(case.device)
        benchmark = self._get_benchmark()
        window_start = energy_meter.start()
        if energy_meter.counter is not None and first_call_s >= energy_meter.counter.min_window_s:
            laps = energy_meter.laps(window_start)
        if plan["mode"] == "calibrated":
            benchmark(counted)
        else:
            benchmark.pedantic(counted, rounds=plan["rounds"], warmup_rounds=plan["warmup_rounds"],
                                     iterations=plan["iterations"])
        case.energy_window = energy_meter.stop(window_start, calls, repeat=counted, laps=laps)

        stats = benchmark.stats
        per_round = list(stats.stats.data) if stats is not None else [first_call_s]
        iterations_done = stats.iterations if stats is not None else 1
        self._store("wall_time", median(per_round), unit="s", higher_is_better=False, samples=per_round,
                    provenance={"method": "pytest-benchmark", "timer": "time.perf_counter",
                                "mode": plan["mode"], "rounds": len(per_round), "iterations": iterations_done,
                                "cuda_synchronized": on_cuda, "memory_pass": "first warm-up call"})
        self._store("throughput", items / median(per_round) if median(per_round) > 0 else 0.0,
                    unit="items/s", higher_is_better=True,  # samples: derive from wall_time's
                    provenance={"method": "derived", "formula": "items / wall_time", "items": items})
        record_peaks(self._store, memory, cuda_memory, case.device, "separate memory pass")
        return result

    def measure_generation(self, generate: Callable[[Any], Any], requests: Any, *, rounds: int | None = None,
                           warmup: int = 1, scenario: str = "single_stream",
                           prompt_tokens: Callable[[Any], int] | None = None,
                           rate: float | None = None) -> list[list[Any] | None]:
        """Meter a generation workload: ttft, tpot, request_latency, output_tokens (one sample per
        served request), output_throughput, request_throughput, energy per request and per output
        token. `generate(request)` yields tokens, or ints counting chunks of tokens. `scenario`:
        single_stream, offline (one batch) or server (Poisson arrivals at `rate` per second). Returns the
        items each request yielded in the memory pass (None for a failed request).
        See capture/generation.py."""
        case = self._case
        if case.measured:
            raise RuntimeError(f"{case.nodeid}: frontier.measure_generation() can be called once per case, "
                               "and not together with frontier.measure()")
        case.measured = True
        context = generation.GenerationContext(case, self._store, self._energy_meter_for, self.quick, self._progress)
        return generation.measure_generation(context, generate, requests, rounds=rounds, warmup=warmup,
                                             scenario=scenario, prompt_tokens=prompt_tokens, rate=rate)

    def _plan(self, first_call_s: float, rounds: int | None, warmup_rounds: int | None,
              iterations: int | None) -> dict[str, Any]:
        # The memory pass already was one warm-up call.
        warmup = max(0, (1 if warmup_rounds is None else warmup_rounds) - 1)
        if rounds is not None:
            its = iterations or 1
            return {"mode": "pedantic", "rounds": rounds, "warmup_rounds": warmup, "iterations": its,
                    "expected_calls": (rounds + warmup) * its}
        if self.quick or first_call_s > SLOW_CALL_S:
            budget = 1.0 if self.quick else FULL_TIME_BUDGET_S
            floor = QUICK_ROUNDS if self.quick else FULL_MIN_ROUNDS
            planned = max(floor, min(100, int(budget / max(first_call_s, 1e-9))))
            its = iterations or max(1, min(1000, int(0.002 / max(first_call_s, 1e-9))))
            return {"mode": "pedantic", "rounds": planned, "warmup_rounds": warmup, "iterations": its,
                    "expected_calls": (planned + warmup) * its}
        return {"mode": "calibrated", "expected_calls": 0}
