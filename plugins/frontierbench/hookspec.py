"""Hooks that other plugins (or a conftest.py) can implement to extend frontierbench."""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("pytest")


@hookspec(firstresult=True)
def pytest_frontier_energy_counter(config, device):
    """Return an energy counter (see meters/energy.py: EnergyCounter) for cases on `device`,
    e.g. a lab power meter. The first non-None result wins; None falls back to RAPL/NVML."""


@hookspec
def pytest_frontier_environment(config, environment):
    """Add to or adjust the run's environment fingerprint (a dict) before it is recorded."""


@hookspec
def pytest_frontier_case(config, case):
    """Called with each finished case (a dict in the run-record format) before it is stored."""


@hookspec
def pytest_frontier_record(config, record):
    """Called with the whole run record (a dict) just before it is written."""
