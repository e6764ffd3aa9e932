"""A value that cannot be recorded fails its own case, naming the case and the field; a usage
error stops the session before anything is measured, naming the option or the marker; the
other cases are never lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings

import pytest

from frontierbench.capture.meters.carbon import (CacheWarning, CarbonConfig, CarbonConfigError, EnergyEstimator,
                                                 LookupCache, carbon_config_from, resolve_intensity)

GOOD_CASE = """

@pytest.mark.frontier(board="faults")
def test_good(frontier):
    frontier.measure(sum, range(100), rounds=3)
"""

BAD_VALUES = """
import numpy as np
import pytest


@pytest.mark.frontier(board="faults")
def test_numpy_values(frontier):
    frontier.entry("np", lr=np.float32(0.5), shape=np.array([[1, 2], [3, 4]]))
    frontier.metric("loss", np.float64(0.25), unit="", higher_is_better=False, samples=np.array([0.2, 0.3]),
                    provenance={"steps": np.int64(7)})
    frontier.measure(sum, range(100), rounds=3)


@pytest.mark.frontier(board="faults")
def test_nan_in_provenance(frontier):
    frontier.metric("loss", 0.25, unit="", higher_is_better=False, provenance={"lr": float("nan")})


@pytest.mark.frontier(board="faults")
def test_object_in_params(frontier):
    frontier.entry("obj", optimizer=object())


@pytest.mark.frontier(board="faults")
def test_surrogate_in_name(frontier):
    frontier.entry("bad\\udcffname")


@pytest.mark.frontier(board="faults")
def test_family_dict(frontier):
    frontier.entry("fam", family={"a": 1})


@pytest.mark.frontier(board="faults")
def test_device_int(frontier):
    frontier.entry("dev", device=3)


@pytest.mark.frontier(board="../../etc")
def test_unsafe_board(frontier):
    frontier.measure(sum, range(10), rounds=3)


@pytest.mark.frontier(board="faults")
def test_overwrites_wall_time(frontier):
    frontier.measure(sum, range(10), rounds=3)
    frontier.metric("wall_time", 0.0, unit="s", higher_is_better=False)
""" + GOOD_CASE

REFUSED = {  # test -> words its error must hold (besides the case's node id)
    "test_nan_in_provenance": ["'metrics.loss.provenance.lr'", "nan"],
    "test_object_in_params": ["'params.optimizer'", "object"],
    "test_surrogate_in_name": ["'entry'", "Unicode"],
    "test_family_dict": ["'family'"],
    "test_device_int": ["'device'"],
    "test_unsafe_board": ["'board'", "../../etc"],
    "test_overwrites_wall_time": ["'wall_time'", "measured by frontierbench"],
}


def test_bad_values_fail_their_own_case_naming_case_and_field(pytester, run_frontier):
    pytester.makepyfile(test_values=BAD_VALUES)
    run = run_frontier()
    run.result.assert_outcomes(passed=2, failed=len(REFUSED))
    assert run.record["status"] == "complete"

    good = run.case("test_good")
    assert good["outcome"] == "passed" and "wall_time" in good["metrics"]
    converted = run.case("test_numpy_values")  # numpy scalars and arrays become numbers and lists
    assert converted["outcome"] == "passed"
    assert converted["params"] == {"lr": 0.5, "shape": [[1, 2], [3, 4]]}
    assert converted["metrics"]["loss"]["samples"] == [0.2, 0.3]
    assert converted["metrics"]["loss"]["provenance"]["steps"] == 7
    for name, words in REFUSED.items():
        case = run.case(name)
        assert case["outcome"] == "failed", name
        assert case["nodeid"].split("::")[-1] in case["error"]
        for word in words:
            assert word in case["error"], (name, word, case["error"])
        run.result.stdout.fnmatch_lines([f"*{name}*"])


def test_a_teardown_error_records_the_case_as_error(pytester, run_frontier):
    pytester.makepyfile(test_teardown="""
import pytest


@pytest.fixture
def leaky():
    yield
    raise RuntimeError("could not release the GPU")


@pytest.mark.frontier(board="faults")
def test_leaks(frontier, leaky):
    frontier.measure(sum, range(100), rounds=3)
""" + GOOD_CASE)
    run = run_frontier()
    run.result.assert_outcomes(passed=2, errors=1)
    leaks = run.case("test_leaks")
    assert leaks["outcome"] == "error"
    assert "teardown" in leaks["error"] and "could not release the GPU" in leaks["error"]
    assert run.case("test_good")["outcome"] == "passed"


def test_two_cases_naming_one_entry_are_refused_naming_both(pytester, run_frontier):
    pytester.makepyfile(test_twins="""
import pytest


@pytest.mark.frontier(board="faults", entry="same")
def test_one(frontier):
    frontier.measure(sum, range(10), rounds=3)


@pytest.mark.frontier(board="faults")
def test_two(frontier):
    frontier.entry("same")
    frontier.measure(sum, range(10), rounds=3)
""")
    run = run_frontier()
    run.result.assert_outcomes(passed=1, failed=1)
    assert run.case("test_one")["outcome"] == "passed"
    error = run.case("test_two")["error"]
    assert "test_twins.py::test_one" in error and "test_twins.py::test_two" in error and "'same'" in error


def test_a_marker_typo_is_a_usage_error_naming_case_and_keyword(pytester, run_frontier):
    pytester.makepyfile(test_typo="""
import pytest


@pytest.mark.frontier(bord="faults")
def test_typo(frontier):
    frontier.measure(sum, range(10), rounds=3)
""")
    run = run_frontier()
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    run.result.stderr.fnmatch_lines(["*test_typo.py::test_typo*unknown keyword 'bord'*"])
    assert run.record is None


@pytest.mark.parametrize("option, value, words", [
    ("--frontier-country", "XYZ", ["--frontier-country", "'XYZ'", "codecarbon"]),
    ("--frontier-country", "FR", ["--frontier-country", "alpha-3"]),
    ("--frontier-carbon-intensity", "-5", ["--frontier-carbon-intensity", "'-5'"]),
    ("--frontier-carbon-intensity", "lots", ["--frontier-carbon-intensity", "'lots'"]),
])
def test_a_bad_carbon_option_is_a_usage_error_before_measuring(pytester, run_frontier, option, value, words):
    pytester.makepyfile(test_ok="import pytest\n" + GOOD_CASE)
    run = run_frontier(f"{option}={value}")
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    for word in words:
        assert word in run.result.stderr.str()
    assert run.record is None


def test_a_known_country_is_accepted():
    assert carbon_config_from("fra", None) == CarbonConfig(country="FRA")
    with pytest.raises(CarbonConfigError, match="'XYZ'"):
        carbon_config_from("XYZ", None)


@pytest.mark.parametrize("content", ["[]", "null", "{not json", "ANSWER_NOT_AN_OBJECT", "ANSWER_MISSING_A_FIELD"],
                         ids=["list", "null", "truncated", "answer-not-an-object", "answer-missing-a-field"])
def test_a_badly_shaped_cache_is_ignored_with_a_warning_and_rebuilt(tmp_path, content):
    cache_path = tmp_path / "cache.json"
    cache = LookupCache(cache_path)
    first = resolve_intensity(CarbonConfig(country="FRA"), cache)
    entries = json.loads(cache_path.read_text())
    if content == "ANSWER_NOT_AN_OBJECT":
        content = json.dumps({name: [answer["g_per_kwh"]] for name, answer in entries.items()})
    elif content == "ANSWER_MISSING_A_FIELD":
        content = json.dumps({name: {"provenance": answer["provenance"]} for name, answer in entries.items()})
    cache_path.write_text(content)
    with pytest.warns(CacheWarning, match=str(cache_path)):
        again = resolve_intensity(CarbonConfig(country="FRA"), cache)
    assert again.g_per_kwh == first.g_per_kwh
    rebuilt = json.loads(cache_path.read_text())  # rebuilt: read back without a warning
    assert isinstance(rebuilt, dict) and rebuilt
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_intensity(CarbonConfig(country="FRA"), cache)


@pytest.mark.parametrize("bad", [-65.0, "inf"])
def test_negative_or_non_finite_cached_powers_are_refused(tmp_path, bad):
    cache_path = tmp_path / "cache.json"
    cache = LookupCache(cache_path)
    inputs = EnergyEstimator("Intel(R) Xeon(R) Processor", 2, cache).inputs
    entries = json.loads(cache_path.read_text())
    for answer in entries.values():
        answer["cpu_tdp_w"] = float(bad)
    cache_path.write_text(json.dumps(entries))
    with pytest.warns(CacheWarning, match="cpu_tdp_w"):
        again = EnergyEstimator("Intel(R) Xeon(R) Processor", 2, cache).inputs
    assert again["cpu_tdp_w"] == inputs["cpu_tdp_w"] > 0


def test_an_output_folder_that_is_a_file_is_a_usage_error_naming_the_option(pytester):
    pytester.makepyfile(test_ok="import pytest\n" + GOOD_CASE)
    (pytester.path / "taken").write_text("a file, not a folder")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--frontier-out", "taken")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--frontier-out*taken*cannot write*"])
    result.stdout.no_fnmatch_line("*test_good*PASSED*")


def make_read_only(folder) -> callable:
    """A folder nobody may write into, root included (root ignores mode bits, not the immutable
    attribute); returns what undoes it."""
    folder.chmod(0o555)
    if os.access(folder, os.W_OK) and shutil.which("chattr"):
        subprocess.run(["chattr", "+i", str(folder)], check=False, capture_output=True)
        return lambda: (subprocess.run(["chattr", "-i", str(folder)], check=False), folder.chmod(0o755))
    return lambda: folder.chmod(0o755)


def test_a_read_only_output_folder_is_a_usage_error_naming_the_option(pytester):
    pytester.makepyfile(test_ok="import pytest\n" + GOOD_CASE)
    out = pytester.path / "readonly"
    out.mkdir()
    undo = make_read_only(out)
    try:
        if os.access(out, os.W_OK):
            pytest.skip("cannot make a folder read-only for this user here")
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--frontier-out", str(out))
    finally:
        undo()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--frontier-out*readonly*cannot write*"])
    result.stdout.no_fnmatch_line("*test_good*PASSED*")


FILL_THE_DISK = """
import errno

from frontierbench.formats import atomic
from frontierbench.capture import session


def no_space(path, data):
    raise OSError(errno.ENOSPC, "No space left on device")


session.write_json_atomic = no_space  # the final record write meets a full disk
"""


def test_a_full_disk_at_the_end_names_the_journal_that_holds_every_case(pytester):
    """Simulated: the final write raises ENOSPC (a real full filesystem needs a mount)."""
    pytester.makeconftest(FILL_THE_DISK)
    pytester.makepyfile(test_ok="import pytest\n" + GOOD_CASE)
    out = pytester.path / "runs"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--frontier-out", str(out))
    assert result.ret != 0
    [journal] = out.glob("*.journal.jsonl")
    result.stdout.fnmatch_lines([f"*No space left on device*every case is kept in the journal {journal}*"])
    from frontierbench.formats.journal import read_journal

    assert [case["nodeid"] for case in read_journal(journal).cases] == ["test_ok.py::test_good"]
