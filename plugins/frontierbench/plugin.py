"""The frontierbench pytest plugin: options, the `frontier` marker and fixture, and reporting.

Each finished case travels as a `user_properties` entry of its test report. That is how pytest
ships reports from xdist workers to the controller, so one path serves both modes and no case is
lost silently.
"""

from __future__ import annotations

import contextlib
import math
import random
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from frontierbench.capture import benchmark_bridge
from frontierbench.capture.fixture import CaseResult, FrontierFixture, MetricError
from frontierbench.capture.meters.carbon import carbon_config_from
from frontierbench.formats.gates import parse_gates
from frontierbench.capture.meters.energy import EnergyMeter, choose_counter
from frontierbench.capture.session import FrontierSession

PROPERTY = "frontierbench"
XDIST_MESSAGE = ("frontierbench: metered cases do not run under pytest-xdist (parallel workers share "
                 "cores and memory, so their timings and energy would not be honest); run them without -n")


def pytest_addhooks(pluginmanager) -> None:
    from frontierbench import hookspec

    pluginmanager.add_hookspecs(hookspec)


def add_frontier_options(group) -> None:
    """The options shared with `frontierbench run`."""
    group.addoption("--frontier-out", default=None, metavar="DIR",
                    help="where run records are written (default .frontierbench/runs, ini frontier_out)")
    group.addoption("--frontier-quick", action="store_true", default=False,
                    help="the quick profile: fewer rounds and smaller training budgets")
    group.addoption("--frontier-country", default=None, metavar="ISO3",
                    help="pin the grid's carbon intensity to a country's mix from codecarbon's offline "
                         "tables, e.g. FRA (env FRONTIERBENCH_COUNTRY, ini frontier_country)")
    group.addoption("--frontier-carbon-intensity", default=None, metavar="G_PER_KWH",
                    help="pin the carbon intensity in gCO2e/kWh (env FRONTIERBENCH_CARBON_INTENSITY)")
    group.addoption("--frontier-seed", type=int, default=0, help="the seed set before every case")
    group.addoption("--frontier-boards", default=None, metavar="DIR",
                    help="board definitions, to record their versions (default: leaderboards/)")
    group.addoption("--frontier-no-record", action="store_true", default=False,
                    help="measure and report, but write no run record")
    group.addoption("--frontier-summary-rows", type=int, default=50, metavar="N",
                    help="rows of the terminal summary (default 50, failures first; 0 shows every case)")


def pytest_addoption(parser) -> None:
    group = parser.getgroup("frontierbench", "efficiency benchmarks")
    add_frontier_options(group)
    group.addoption("--frontier-benchmarks", action="store_true", default=False,
                    help="also meter every case that uses pytest-benchmark's `benchmark` fixture (memory, energy, "
                         "carbon; board from the frontier marker, else the module), with no change to the tests")
    parser.addini("frontier_out", "where run records are written", default=None)
    parser.addini("frontier_country", "ISO 3166-1 alpha-3 country for the carbon intensity", default=None)
    parser.addini("frontier_carbon_intensity", "carbon intensity in gCO2e/kWh", default=None)


@contextlib.contextmanager
def own_work():
    """Our bookkeeping (lazy imports of rich, codecarbon, pydantic at the end of the session) must
    not trip a suite's `filterwarnings = error`: a warning from our imports is not the user's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def is_xdist_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "frontier(board=None, entry=None, family=None, max_regression=None): a metered efficiency "
                   "benchmark case; max_regression=\"5%\" (wall time) or {metric: limit} gates `frontierbench compare`")
    root = Path(str(config.rootpath))
    out = config.getoption("frontier_out") or config.getini("frontier_out") or ".frontierbench/runs"
    boards = config.getoption("frontier_boards")
    carbon = carbon_config_from(config.getoption("frontier_country") or config.getini("frontier_country"),
                                config.getoption("frontier_carbon_intensity")
                                or config.getini("frontier_carbon_intensity"))
    config._frontiersession = FrontierSession(
        config, out_dir=root / out, quick=config.getoption("frontier_quick"),
        seed=config.getoption("frontier_seed"), carbon=carbon,
        boards_dir=Path(boards) if boards else root / "leaderboards",
        write=not is_xdist_worker(config) and not config.getoption("frontier_no_record"))


def _json_safe(value: Any) -> Any:
    """A parameter as JSON can hold it: NaN, inf and objects are kept as their repr."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return repr(value)


def _reseed(seed: int) -> None:
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _new_case(item, strict: bool = True) -> CaseResult:
    marker = item.get_closest_marker("frontier")
    options = dict(marker.kwargs) if marker else {}
    callspec = getattr(item, "callspec", None)
    params = {k: _json_safe(v) for k, v in (callspec.params.items() if callspec else [])}
    return CaseResult(nodeid=item.nodeid, entry=str(options.get("entry") or item.name),
                      board=options.get("board"), family=options.get("family"), params=params,
                      device=str(params["device"]) if isinstance(params.get("device"), str) else "cpu",
                      gates=marker_gates(item.nodeid, options.get("max_regression")) if strict else None)


def marker_gates(nodeid: str, max_regression: Any) -> dict[str, str] | None:
    """The marker's max_regression as {metric: limit}, checked here so a typo fails its own case."""
    if max_regression is None:
        return None
    try:
        gates = parse_gates(max_regression, source=f"marker on {nodeid}")
    except ValueError as exc:
        raise MetricError(f"{nodeid}: @pytest.mark.frontier(max_regression=...): {exc}") from None
    return {metric: gate.text for metric, gate in gates.items()}


def _energy_meters(config) -> _EnergyMeters:
    if not hasattr(config, "_frontier_energy_meters"):
        config._frontier_energy_meters = _EnergyMeters(config)
    return config._frontier_energy_meters


class _EnergyMeters:
    """One energy meter per device, discovered once per session."""

    def __init__(self, config):
        self.config = config
        self.meters: dict[str, EnergyMeter] = {}

    def __call__(self, device: str) -> EnergyMeter:
        if device not in self.meters:
            counter = self.config.hook.pytest_frontier_energy_counter(config=self.config, device=device)
            self.meters[device] = EnergyMeter(counter or choose_counter(device), estimate=True)
        return self.meters[device]


@pytest.fixture
def frontier(request) -> FrontierFixture:
    """Meter a workload and record quality: see `FrontierFixture`."""
    config = request.config
    session: FrontierSession = config._frontiersession
    case = _new_case(request.node)
    request.node._frontier_case = case
    if is_xdist_worker(config):
        pytest.skip(XDIST_MESSAGE)
    session.running[case.nodeid] = case
    _reseed(session.seed)
    energy_meters = _energy_meters(config)
    # pytest-benchmark's fixture is set up only when the case measures: a case that skips first
    # (no CUDA, say) then costs nothing and leaves no "fixture was not used" warning.
    return FrontierFixture(case, lambda: request.getfixturevalue("benchmark"), quick=session.quick,
                           energy_meter_for=energy_meters,
                           progress=lambda message: _progress(config, message))


def _progress(config, message: str) -> None:
    reporter = config.pluginmanager.getplugin("terminalreporter")
    capture = config.pluginmanager.getplugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"  frontier: {message}")


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """--frontier-benchmarks: meter pytest-benchmark's fixture as it is set up (capture.benchmark_bridge)."""
    outcome = yield
    config = request.config
    if fixturedef.argname != "benchmark" or not config.getoption("frontier_benchmarks", False):
        return
    item = request.node
    if outcome.excinfo is not None or is_xdist_worker(config) or not benchmark_bridge.wants_bridge(item):
        return
    case = benchmark_bridge.name_case(_new_case(item), item.nodeid)
    meter = benchmark_bridge.BenchmarkMeter(case, _energy_meters(config)(case.device))
    meter.attach(outcome.get_result())
    item._frontier_case, item._frontier_meter = case, meter
    config._frontiersession.running[case.nodeid] = case
    config._frontier_bridged = getattr(config, "_frontier_bridged", set()) | {case.nodeid}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    meter = getattr(item, "_frontier_meter", None)
    if "frontier" not in getattr(item, "fixturenames", ()) and meter is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if meter is not None and report.when == "call":
            meter.finish(getattr(item, "funcargs", {}).get("benchmark"))
        case = getattr(item, "_frontier_case", None) or _new_case(item, strict=False)
        if report.passed:
            status, error = "passed", None
        elif report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            status, error = "skipped", reason.removeprefix("Skipped: ")
        else:
            status = "failed" if report.when == "call" else "error"
            error = call.excinfo.exconly()[:2000] if call.excinfo else report.longreprtext[-2000:]
        report.user_properties.append((PROPERTY, case.to_case_dict(status, report.duration, error)))


def pytest_collection_finish(session) -> None:
    """Count the cases this session will meter, for the progress line (capture.progress)."""
    config = session.config
    bridge = config.getoption("frontier_benchmarks", False)
    metered = sum(1 for item in session.items if "frontier" in getattr(item, "fixturenames", ())
                  or (bridge and "benchmark" in getattr(item, "fixturenames", ())))
    if metered > 1 and not is_xdist_worker(config):
        with own_work():
            from frontierbench.capture.progress import MeteredProgress
        config._frontier_progress = MeteredProgress(metered)


def pytest_runtest_logreport(report) -> None:
    for name, value in report.user_properties:
        if name == PROPERTY:
            session = _session_of(report)
            if session is not None:
                session.add_case(value)
                progress = getattr(session.config, "_frontier_progress", None)
                line = progress.advance() if progress is not None else None
                if line:
                    _progress(session.config, line)


_CONFIG: list = []  # the running config, so report hooks (which get no config) reach the session


def pytest_sessionstart(session) -> None:
    _CONFIG[:] = [session.config]


def _session_of(report) -> FrontierSession | None:
    return getattr(_CONFIG[0], "_frontiersession", None) if _CONFIG else None


def pytest_sessionfinish(session, exitstatus) -> None:
    config = session.config
    frontier_session: FrontierSession = getattr(config, "_frontiersession", None)
    if frontier_session is None or is_xdist_worker(config):
        return
    if not frontier_session.cases and not frontier_session.running:
        return  # no metered case ran: nothing to record
    with own_work():
        frontier_session.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)


@pytest.hookimpl(hookwrapper=True)
def pytest_terminal_summary(terminalreporter):
    """The frontierbench table replaces pytest-benchmark's rows for frontier-fixture cases
    (--frontier-benchmarks cases keep pytest-benchmark's table: their output is unchanged)."""
    session = getattr(terminalreporter.config, "_frontiersession", None)
    restore = lambda: None  # noqa: E731
    if session is not None and session.cases:
        hide_from_benchmark_table = benchmark_bridge.hide_from_benchmark_table
        bridged = getattr(terminalreporter.config, "_frontier_bridged", set())
        restore = hide_from_benchmark_table(terminalreporter.config, set(session.cases) - bridged)
    try:
        yield
    finally:
        restore()
    _frontier_summary(terminalreporter)


def _frontier_summary(terminalreporter) -> None:
    frontier_session = getattr(terminalreporter.config, "_frontiersession", None)
    if frontier_session is None or frontier_session.record is None:
        return
    with own_work():
        from frontierbench.capture.summary import render_summary

    terminalreporter.write(render_summary(frontier_session.record, width=terminalreporter._tw.fullwidth,
                                          color=terminalreporter.hasmarkup,
                                          max_rows=terminalreporter.config.getoption("frontier_summary_rows")))
    if frontier_session.record_path is not None:
        terminalreporter.write_line(f"frontierbench: run record written to {frontier_session.record_path}")
