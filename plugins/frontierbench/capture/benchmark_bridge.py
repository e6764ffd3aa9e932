"""`pytest --frontier-benchmarks`: meter existing pytest-benchmark cases as they are.

Every case that uses pytest-benchmark's `benchmark` fixture (and not `frontier`) is metered with
no change to its code: `benchmark(...)` and `benchmark.pedantic(...)` run exactly the calls they
always run, inside a peak-memory window and an energy window. Nothing is called an extra time
(a test may count its calls), and pytest-benchmark's stats, extra_info, table and
`--benchmark-json` are left alone. What the record gets, per case:

- wall_time: pytest-benchmark's per-round times (per iteration), as the frontier fixture records;
- peak_memory: the process's RSS high-water mark above its start over all of the benchmark's
  calls (Linux VmHWM; off Linux a sampling thread would disturb the timing, so it is not taken);
- energy: mean power over the window x the median time per call, as for the frontier fixture;
  carbon from it at the end of the session;
- numeric extra_info values as metrics (formats.inference.extra_info_metrics);
- board and entry from `@pytest.mark.frontier(board=..., entry=...)` if present, else the module
  ("tests/test_sort.py" -> "sort") and the test's name.
"""

from __future__ import annotations

import sys
from statistics import median
from typing import Any, Callable

from frontierbench.capture.fixture import CaseResult
from frontierbench.capture.meters.energy import EnergyMeter
from frontierbench.capture.meters.memory import PeakMemory
from frontierbench.formats.inference import board_from_nodeid, extra_info_metrics

OPTION = "--frontier-benchmarks"


def wants_bridge(item: Any) -> bool:
    """A case the option meters: it uses `benchmark` and not the `frontier` fixture."""
    names = getattr(item, "fixturenames", ())
    return "benchmark" in names and "frontier" not in names


def name_case(case: CaseResult, nodeid: str) -> CaseResult:
    """Board from the marker, else the module; the entry is already the marker's or the test's name."""
    if case.board is None:
        case.board = board_from_nodeid(nodeid)
    return case


class BenchmarkMeter:
    """Wraps one BenchmarkFixture: its runs are metered into `case`."""

    def __init__(self, case: CaseResult, energy_meter: EnergyMeter):
        self.case = case
        self.energy_meter = energy_meter

    def attach(self, fixture: Any) -> None:
        # Instance attributes shadow the methods that __call__ and pedantic() call, so the public
        # API, its checks ("can only be used once") and its errors stay pytest-benchmark's own.
        raw, raw_pedantic = fixture._raw, fixture._raw_pedantic
        fixture._raw = lambda *args, **kwargs: self.metered(fixture, lambda: raw(*args, **kwargs))
        fixture._raw_pedantic = lambda *args, **kwargs: self.metered(fixture, lambda: raw_pedantic(*args, **kwargs))

    def metered(self, fixture: Any, run: Callable[[], Any]) -> Any:
        if getattr(fixture, "disabled", False) or not getattr(fixture, "enabled", True):
            return run()  # --benchmark-disable: the function runs once, nothing is timed
        memory = PeakMemory() if sys.platform.startswith("linux") else None
        if memory is not None:
            memory.__enter__()
        started = self.energy_meter.start()
        try:
            result = run()
        finally:
            window = self.energy_meter.stop(started, 0)
            if memory is not None:
                memory.__exit__(None, None, None)
        stats = fixture.stats
        if stats is None:
            return result
        per_round = [float(x) for x in stats.stats.data]
        if not per_round:
            return result
        window.calls = len(per_round) * int(stats.iterations)
        self.case.energy_window = window
        self.case.measured = True
        middle = median(per_round)
        metrics = self.case.metrics
        metrics["wall_time"] = {
            "value": middle, "unit": "s", "higher_is_better": False, "samples": per_round,
            "provenance": {"method": "pytest-benchmark", "timer": str(getattr(fixture, "_timer", "")),
                           "mode": fixture._mode,
                           "rounds": len(per_round), "iterations": int(stats.iterations), "covers": "one call",
                           "bridge": OPTION}}
        metrics["throughput"] = {
            "value": 1.0 / middle if middle > 0 else 0.0, "unit": "items/s", "higher_is_better": True,
            "samples": None, "provenance": {"method": "derived", "formula": "1 / wall_time", "items": 1}}
        if memory is not None and memory.peak_bytes is not None:
            metrics["peak_memory"] = {
                "value": memory.peak_bytes, "unit": "B", "higher_is_better": False, "samples": None,
                "provenance": {"method": memory.method, "covers": "process RSS above its start",
                               "pass": "over all of pytest-benchmark's calls (no extra call)"}}
        return result

    def finish(self, fixture: Any) -> None:
        """At the end of the case: the numbers the test put in extra_info (kept as they are)."""
        extra = getattr(fixture, "extra_info", None) or {}
        for name, metric in extra_info_metrics(extra).items():
            self.case.metrics.setdefault(name, metric)


def hide_from_benchmark_table(config: Any, nodeids: set[str]) -> Callable[[], None]:
    """Leave `nodeids` (cases the frontierbench summary already shows) out of pytest-benchmark's
    table for this terminal summary; returns what restores it. Its JSON is written before this
    (pytest_sessionfinish), and its --benchmark-compare-fail check still runs."""
    session = getattr(config, "_benchmarksession", None)
    groups = getattr(session, "groups", None)
    if not groups or not nodeids:
        return lambda: None

    def fullname(bench: Any) -> str | None:
        try:
            return bench["fullname"]
        except (KeyError, TypeError):
            return getattr(bench, "fullname", None)

    kept = [(name, [b for b in benches if fullname(b) not in nodeids]) for name, benches in groups]
    kept = [(name, benches) for name, benches in kept if benches]
    before = (session.groups, session.quiet)
    if kept:
        session.groups = kept
    else:  # every case is ours: no table at all, but the regression check still runs
        session.quiet = True

    def restore() -> None:
        session.groups, session.quiet = before

    return restore
