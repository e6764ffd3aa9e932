"""The frontierbench pytest plugin: options, the `frontier` marker and fixture.

Like pytest-benchmark, this module is thin: `pytest_configure` checks the options (a bad one is a
usage error before anything is measured) and registers the session object, which implements the
hooks that record cases (capture/session.py). The session lives in `config.stash`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from frontierbench.capture.fixture import FrontierFixture
from frontierbench.capture.meters.carbon import CarbonConfigError, carbon_config_from
from frontierbench.capture.meters.energy import EnergyMeter, choose_counter
from frontierbench.capture.cases import is_xdist_worker, new_case, own_work, write_progress
from frontierbench.capture.session import CASE_KEY, METER_KEY, XDIST_MESSAGE, FrontierSession, SessionOptions

SESSION_KEY = pytest.StashKey[FrontierSession]()
METERS_KEY = pytest.StashKey["EnergyMeters"]()
__all__ = ["SESSION_KEY", "XDIST_MESSAGE", "frontier"]


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
    group.addoption("--frontier-resume", action="store_true", default=False,
                    help="continue the newest crashed or interrupted run in --frontier-out: recorded cases "
                         "are not run again, new ones join the same run_id")
    group.addoption("--frontier-processes", type=int, default=0, metavar="N",
                    help="run the metered cases in fresh worker interpreters, N passes (the pyperf model); "
                         "a worker that dies fails its case and a new one goes on (default 0: in this process)")


def pytest_addoption(parser) -> None:
    group = parser.getgroup("frontierbench", "efficiency benchmarks")
    add_frontier_options(group)
    group.addoption("--frontier-benchmarks", action="store_true", default=False,
                    help="also meter every case that uses pytest-benchmark's `benchmark` fixture (memory, energy, "
                         "carbon; board from the frontier marker, else the module), with no change to the tests")
    # Set by the supervisor on the worker processes it starts (--frontier-processes); not for users.
    group.addoption("--frontier-worker-journal", default=None, help="(internal) the journal a worker appends to")
    group.addoption("--frontier-process-index", type=int, default=None, help="(internal) the worker's pass")
    parser.addini("frontier_out", "where run records are written", default=None)
    parser.addini("frontier_country", "ISO 3166-1 alpha-3 country for the carbon intensity", default=None)
    parser.addini("frontier_carbon_intensity", "carbon intensity in gCO2e/kWh", default=None)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "frontier(board=None, entry=None, family=None, max_regression=None): a metered efficiency "
                   "benchmark case; max_regression=\"5%\" (wall time) or {metric: limit} gates `frontierbench compare`")
    root = Path(str(config.rootpath))
    out = config.getoption("frontier_out") or config.getini("frontier_out") or ".frontierbench/runs"
    boards = config.getoption("frontier_boards")
    try:
        carbon = carbon_config_from(config.getoption("frontier_country") or config.getini("frontier_country"),
                                    config.getoption("frontier_carbon_intensity")
                                    or config.getini("frontier_carbon_intensity"))
    except CarbonConfigError as exc:
        raise pytest.UsageError(f"frontierbench: {exc}") from None
    processes = config.getoption("frontier_processes")
    if processes < 0:
        raise pytest.UsageError(f"frontierbench: --frontier-processes must be 0 or more, got {processes}")
    worker_journal = config.getoption("frontier_worker_journal")
    options = SessionOptions(
        out_dir=root / out, quick=config.getoption("frontier_quick"), seed=config.getoption("frontier_seed"),
        carbon=carbon, boards_dir=Path(boards) if boards else root / "leaderboards",
        write=not is_xdist_worker(config) and not config.getoption("frontier_no_record"),
        resume=config.getoption("frontier_resume"), processes=processes,
        worker_journal=Path(worker_journal) if worker_journal else None,
        process_index=config.getoption("frontier_process_index"))
    session = FrontierSession(config, options)
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "frontierbench-session")
    if processes and worker_journal is None and not is_xdist_worker(config):
        from frontierbench.capture.workers import Supervisor

        config.pluginmanager.register(Supervisor(session), "frontierbench-supervisor")


def _reseed(seed: int) -> None:
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def energy_meters(config) -> EnergyMeters:
    meters = config.stash.get(METERS_KEY, None)
    if meters is None:
        meters = config.stash[METERS_KEY] = EnergyMeters(config)
    return meters


class EnergyMeters:
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
    session = config.stash[SESSION_KEY]
    case = new_case(request.node)
    request.node.stash[CASE_KEY] = case
    if is_xdist_worker(config):
        pytest.skip(XDIST_MESSAGE)
    session.case_started(case)
    _reseed(session.seed)
    meters = energy_meters(config)
    # pytest-benchmark's fixture is set up only when the case measures: a case that skips first
    # (no CUDA, say) then costs nothing and leaves no "fixture was not used" warning.
    return FrontierFixture(case, lambda: request.getfixturevalue("benchmark"), quick=session.quick,
                           energy_meter_for=meters, progress=lambda message: write_progress(config, message))





@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """--frontier-benchmarks: meter pytest-benchmark's fixture as it is set up (capture.benchmark_bridge)."""
    outcome = yield
    config = request.config
    if fixturedef.argname != "benchmark" or not config.getoption("frontier_benchmarks", False):
        return
    with own_work():
        from frontierbench.capture import benchmark_bridge

    item = request.node
    if outcome.excinfo is not None or is_xdist_worker(config) or not benchmark_bridge.wants_bridge(item):
        return
    case = benchmark_bridge.name_case(new_case(item), item.nodeid)
    meter = benchmark_bridge.BenchmarkMeter(case, energy_meters(config)(case.device))
    meter.attach(outcome.get_result())
    item.stash[CASE_KEY], item.stash[METER_KEY] = case, meter
    session = config.stash[SESSION_KEY]
    session.bridged.add(case.nodeid)
    session.case_started(case)
