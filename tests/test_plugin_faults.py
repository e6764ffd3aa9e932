"""Faults: bad input gets a clear error, and nothing is lost (DESIGN.md, principle 5)."""

from __future__ import annotations

import json
import os

import pytest

from frontierbench.formats import atomic
from frontierbench.formats import run as records
from frontierbench.plugin import XDIST_MESSAGE
from frontierbench.formats.run import FutureSchemaError, RecordError, load_run, parse_run, save_run

THREE_CASES_ONE_FAILS = """
import pytest


@pytest.fixture
def broken_dataset():
    raise FileNotFoundError("digits.npz")


@pytest.mark.frontier(board="faults")
def test_before(frontier):
    frontier.measure(sum, range(100), rounds=3)


@pytest.mark.frontier(board="faults")
def test_raises(frontier):
    frontier.measure(sum, range(100), rounds=3)
    raise RuntimeError("model diverged")


@pytest.mark.frontier(board="faults")
def test_setup_error(frontier, broken_dataset):
    frontier.measure(sum, range(100), rounds=3)


@pytest.mark.frontier(board="faults")
def test_after(frontier):
    frontier.measure(sum, range(100), rounds=3)
"""


def test_a_failing_case_is_recorded_as_failed_and_the_others_keep_their_results(pytester, run_frontier):
    pytester.makepyfile(test_faults=THREE_CASES_ONE_FAILS)
    run = run_frontier()
    run.result.assert_outcomes(passed=2, failed=1, errors=1)

    assert run.record["status"] == "complete"
    failed = run.case("test_raises")
    assert failed["outcome"] == "failed"
    assert "RuntimeError: model diverged" in failed["error"]
    error = run.case("test_setup_error")
    assert error["outcome"] == "error"
    assert "digits.npz" in error["error"]
    for name in ("test_before", "test_after"):
        case = run.case(name)
        assert case["outcome"] == "passed" and case["error"] is None
        assert {"wall_time", "peak_memory", "energy", "carbon", "throughput"} <= set(case["metrics"])


INTERRUPTED = """
import pytest


@pytest.mark.frontier(board="faults")
def test_first(frontier):
    frontier.measure(sum, range(100), rounds=3)


@pytest.mark.frontier(board="faults")
def test_interrupted(frontier):
    frontier.measure(sum, range(100), rounds=3)
    raise KeyboardInterrupt  # what Ctrl-C does in the middle of a case


@pytest.mark.frontier(board="faults")
def test_never_started(frontier):
    frontier.measure(sum, range(100), rounds=3)
"""


def test_ctrl_c_leaves_a_valid_interrupted_record(pytester, run_frontier):
    pytester.makepyfile(test_interrupt=INTERRUPTED)
    run = run_frontier(subprocess=True)  # in-process, the interrupt would stop this session too
    assert run.result.ret == pytest.ExitCode.INTERRUPTED

    assert run.record_path is not None, "an interrupted run must still write its record"
    loaded = load_run(run.record_path)  # validates
    assert loaded.status == "interrupted"
    assert run.case("test_first")["outcome"] == "passed"
    assert "wall_time" in run.case("test_first")["metrics"]
    interrupted = run.case("test_interrupted")
    assert interrupted["outcome"] == "failed"
    assert "interrupted" in interrupted["error"]
    assert not any(c["nodeid"].endswith("test_never_started") for c in run.record["cases"])


XDIST_SUITE = {
    "test_metered": """
import pytest


@pytest.mark.frontier(board="faults")
@pytest.mark.parametrize("size", [10, 1000])
def test_sum(frontier, size):
    frontier.measure(sum, range(size), rounds=3)
""",
    "test_plain": """
def test_one():
    assert 1 + 1 == 2


def test_two():
    assert "frontier".startswith("front")
""",
}


def test_under_xdist_metered_cases_refuse_clearly_and_are_still_recorded(pytester, run_frontier):
    pytest.importorskip("xdist")
    pytester.makepyfile(**XDIST_SUITE)
    run = run_frontier("-n", "2", "-rs", subprocess=True)
    run.result.assert_outcomes(passed=2, skipped=2)
    # every metered case was refused: the session fails, saying why once
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    run.result.stdout.fnmatch_lines(["frontierbench: every metered case was refused: *xdist*"])

    # one clear message, shown once for all the refused cases
    run.result.stdout.fnmatch_lines([f"SKIPPED [[]2[]] *{XDIST_MESSAGE[:60]}*"])
    assert "xdist" in XDIST_MESSAGE
    # the controller wrote the single record, and no metered case is missing from it
    assert run.record is not None and len(list(run.out_dir.iterdir())) == 1
    recorded = {c["nodeid"]: c for c in run.record["cases"]}
    assert set(recorded) == {"test_metered.py::test_sum[10]", "test_metered.py::test_sum[1000]"}
    for case in recorded.values():
        assert case["outcome"] == "skipped"
        assert "xdist" in case["error"]


BAD_COSTS = """
import math

import pytest


@pytest.mark.frontier(board="faults")
@pytest.mark.parametrize("latency", [float("nan"), float("inf"), -0.5], ids=["nan", "inf", "negative"])
def test_bad_latency(frontier, latency):
    frontier.metric("latency", latency, unit="s", higher_is_better=False)


@pytest.mark.frontier(board="faults")
def test_nan_among_the_samples(frontier):
    frontier.metric("latency", 0.1, unit="s", higher_is_better=False, samples=[0.1, math.nan, 0.1])


@pytest.mark.frontier(board="faults")
def test_good_latency(frontier):
    frontier.metric("latency", 0.5, unit="s", higher_is_better=False)
    frontier.metric("log_likelihood", -3.2, unit="nats", higher_is_better=True)  # not a cost: may be < 0
"""


def test_nan_inf_and_negative_costs_fail_their_case_naming_case_and_metric(pytester, run_frontier):
    pytester.makepyfile(test_costs=BAD_COSTS)
    run = run_frontier()
    run.result.assert_outcomes(passed=1, failed=4)

    for name in ("test_bad_latency[nan]", "test_bad_latency[inf]", "test_bad_latency[negative]",
                 "test_nan_among_the_samples"):
        case = run.case(name)
        assert case["outcome"] == "failed"
        assert case["nodeid"] in case["error"] and "'latency'" in case["error"]
        assert "latency" not in case["metrics"]  # the bad value was never stored
    assert "nan" in run.case("test_bad_latency[nan]")["error"]
    assert "negative" in run.case("test_bad_latency[negative]")["error"]
    good = run.case("test_good_latency")
    assert good["outcome"] == "passed"
    assert good["metrics"]["latency"]["value"] == 0.5
    assert good["metrics"]["log_likelihood"]["value"] == -3.2


# -- record files: versions, migrations, malformed input, atomic writes ------------------------

def a_valid_record(schema: str = "frontierbench.run/1") -> dict:
    return {
        "schema": schema, "run_id": "20260101T000000Z-abcdef12", "started_at": "2026-01-01T00:00:00.000Z",
        "finished_at": "2026-01-01T00:01:00.000Z", "status": "complete",
        "environment": {"hardware_class": "cpu-x86_64-test-2t"}, "config": {"seed": 0},
        "cases": [{
            "nodeid": "test_a.py::test_a", "board": "digits", "entry": "fp32", "params": {},
            "outcome": "passed",
            "metrics": {"wall_time": {"value": 0.02, "unit": "s", "higher_is_better": False,
                                      "samples": [0.02, 0.021], "provenance": {"method": "pytest-benchmark"}}},
        }],
    }


def write(path, data) -> str:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_a_future_schema_version_is_refused_naming_file_and_field(tmp_path):
    path = write(tmp_path / "future.json", a_valid_record("frontierbench.run/99"))
    with pytest.raises(FutureSchemaError) as raised:
        load_run(path)
    message = str(raised.value)
    assert path in message and "'schema'" in message and "frontierbench.run/99" in message
    assert isinstance(raised.value, RecordError)


def broken(edit):
    data = a_valid_record()
    edit(data)
    return data


@pytest.mark.parametrize("content, field", [
    (broken(lambda d: d["cases"][0].pop("entry")), "cases.0.entry"),
    (broken(lambda d: d["cases"][0]["metrics"]["wall_time"].update(value="fast")), "cases.0.metrics.wall_time.value"),
    (broken(lambda d: d.update(status="half-done")), "status"),
    (broken(lambda d: d["environment"].pop("hardware_class")), "environment.hardware_class"),
    (broken(lambda d: d.update(schema="someone-else/1")), "schema"),
    (broken(lambda d: d.pop("schema")), "schema"),
    ('{"schema": "frontierbench.run/1", ', "line 1"),
    ("[1, 2, 3]", "top level"),
], ids=["missing-entry", "non-number", "bad-status", "no-hardware-class", "other-format", "no-schema",
        "truncated-json", "not-an-object"])
def test_a_malformed_file_is_refused_naming_file_and_field(tmp_path, content, field):
    path = write(tmp_path / "malformed.json", content)
    with pytest.raises(RecordError) as raised:
        load_run(path)
    assert path in str(raised.value)
    assert field in str(raised.value)


def test_a_registered_migration_upgrades_an_older_version(monkeypatch, tmp_path):
    monkeypatch.setattr(records, "RUN_MIGRATIONS", {})  # keep the real registry untouched

    # Version 0 (made up for this test) called the cases "results".
    @records.register_run_migration(0)
    def rename_results_to_cases(data):
        data["cases"] = data.pop("results")
        return data

    old = a_valid_record("frontierbench.run/0")
    old["results"] = old.pop("cases")
    record = load_run(write(tmp_path / "old.json", old))
    assert record.schema_ == "frontierbench.run/1"
    assert [case.entry for case in record.cases] == ["fp32"]


def test_an_older_version_without_a_migration_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(records, "RUN_MIGRATIONS", {})
    path = write(tmp_path / "old.json", a_valid_record("frontierbench.run/0"))
    with pytest.raises(RecordError, match="no migration from 'frontierbench.run/0'") as raised:
        load_run(path)
    assert path in str(raised.value)


@pytest.mark.parametrize("failing_step", ["json dumping", "fsync"])
def test_a_failed_write_leaves_the_previous_file_intact_and_no_temp_files(monkeypatch, tmp_path, failing_step):
    path = tmp_path / "run.json"
    save_run(parse_run(a_valid_record()), path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if failing_step == "json dumping":  # fails before any byte is written
        monkeypatch.setattr(atomic, "dumps_canonical", fail)
    else:  # fails with the temp file half-written
        monkeypatch.setattr(atomic.os, "fsync", fail)
    changed = a_valid_record()
    changed["run_id"] = "another-run"
    with pytest.raises(OSError, match="No space left"):
        save_run(parse_run(changed), path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.json"]
    assert load_run(path).run_id == "20260101T000000Z-abcdef12"
