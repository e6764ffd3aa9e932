"""What a pytest item says about its case: the marker (checked), the parameters, the outcome."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import pytest

from frontierbench.capture.fixture import CaseResult, MetricError


def printable(text: Any) -> str:
    """A string that can be written as UTF-8: lone surrogates become backslash escapes."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")

KNOWN_MARKER_KEYWORDS = ("board", "entry", "family", "max_regression")


def check_marker(item) -> None:
    """`@pytest.mark.frontier(bord="x")` is a usage error naming the case and the keyword."""
    for marker in item.iter_markers("frontier"):
        unknown = [key for key in marker.kwargs if key not in KNOWN_MARKER_KEYWORDS]
        if unknown or marker.args:
            what = f"unknown keyword {unknown[0]!r}" if unknown else f"positional arguments {marker.args!r}"
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.frontier got {what}; it takes "
                                    f"{', '.join(KNOWN_MARKER_KEYWORDS)} (as keywords)")


def is_metered(item, config) -> bool:
    """A case frontierbench records: it uses the `frontier` fixture, or, under
    --frontier-benchmarks, pytest-benchmark's `benchmark` fixture."""
    names = getattr(item, "fixturenames", ())
    return "frontier" in names or ("benchmark" in names and config.getoption("frontier_benchmarks", False))


def is_xdist_worker(config) -> bool:
    return hasattr(config, "workerinput")


def json_safe(value: Any) -> Any:
    """A test parameter as JSON can hold it: NaN, inf and objects are kept as their repr."""
    if value is None or isinstance(value, (bool, int, str)):
        return printable(value) if isinstance(value, str) else value
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return value
    return printable(repr(value))


def new_case(item, strict: bool = True) -> CaseResult:
    marker = item.get_closest_marker("frontier")
    options = dict(marker.kwargs) if marker else {}
    callspec = getattr(item, "callspec", None)
    params = {k: json_safe(v) for k, v in (callspec.params.items() if callspec else [])}
    return CaseResult(nodeid=item.nodeid, entry=str(options.get("entry") or item.name),
                      board=options.get("board"), family=options.get("family"), params=params,
                      device=str(params["device"]) if isinstance(params.get("device"), str) else "cpu",
                      gates=marker_gates(item.nodeid, options.get("max_regression")) if strict else None)


def marker_gates(nodeid: str, max_regression: Any) -> dict[str, str] | None:
    """The marker's max_regression as {metric: limit}, checked here so a typo fails its own case."""
    if max_regression is None:
        return None
    from frontierbench.formats.gates import parse_gates

    try:
        gates = parse_gates(max_regression, source=f"marker on {nodeid}")
    except ValueError as exc:
        raise MetricError(f"{nodeid}: @pytest.mark.frontier(max_regression=...): {exc}") from None
    return {metric: gate.text for metric, gate in gates.items()}


def outcome_of(report, call) -> tuple[str, str | None]:
    if report.passed:
        return "passed", None
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return "skipped", reason.removeprefix("Skipped: ")
    error = call.excinfo.exconly()[:2000] if call.excinfo else report.longreprtext[-2000:]
    return ("failed" if report.when == "call" else "error"), printable(error)


@contextlib.contextmanager
def own_work():
    """Our bookkeeping (lazy imports of rich, codecarbon, pydantic) must not trip a suite's
    `filterwarnings = error`: a warning from our imports is not the user's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def write_progress(config, message: str) -> None:
    """A line on the terminal, between pytest's own output, even while output is captured."""
    reporter = config.pluginmanager.getplugin("terminalreporter")
    capture = config.pluginmanager.getplugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"  frontier: {message}")
