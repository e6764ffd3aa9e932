"""`pytest --frontier-benchmarks`: plain pytest-benchmark cases metered with no change to their code."""

from __future__ import annotations

import json

PLAIN = '''
import pytest

CALLS = []


def squares(n):
    CALLS.append(n)
    return sum(i * i for i in range(n))


@pytest.mark.parametrize("n", [100, 1000])
def test_squares(benchmark, n):
    benchmark.extra_info["accuracy"] = 1.0
    benchmark.extra_info["label"] = "not a number"
    assert benchmark(squares, n) == sum(i * i for i in range(n))


@pytest.mark.frontier(board="sorting", entry="sorted-500")
def test_sorted(benchmark):
    runs = []

    def target(items):
        runs.append(1)
        return sorted(items)

    benchmark.pedantic(target, args=(list(range(500, 0, -1)),), rounds=5, iterations=2)
    assert len(runs) == 5 * 2 + 1  # pytest-benchmark's own calls, and not one more


def test_plain():
    assert True
'''


def record_of(pytester) -> dict:
    (path,) = (pytester.path / "runs").glob("*.json")
    return json.loads(path.read_text())


def test_benchmark_cases_get_time_memory_energy_and_carbon(pytester):
    pytester.makepyfile(test_plain=PLAIN)
    result = pytester.runpytest("-p", "no:cacheprovider", "--frontier-out=runs", "--frontier-benchmarks",
                                "--benchmark-max-time=0.02", "--benchmark-json=pb.json")
    result.assert_outcomes(passed=4)
    cases = {c["entry"]: c for c in record_of(pytester)["cases"]}
    assert sorted(cases) == ["sorted-500", "test_squares[1000]", "test_squares[100]"]  # test_plain is not metered
    assert cases["test_squares[100]"]["board"] == "plain"  # the module, test_plain.py
    assert cases["sorted-500"]["board"] == "sorting"  # the marker
    for case in cases.values():
        metrics = case["metrics"]
        for name in ("wall_time", "peak_memory", "energy", "carbon"):
            assert metrics[name]["value"] is not None and metrics[name]["value"] >= 0, (case["entry"], name)
        assert metrics["wall_time"]["provenance"]["method"] == "pytest-benchmark"
        assert len(metrics["wall_time"]["samples"]) == metrics["wall_time"]["provenance"]["rounds"]
    assert cases["sorted-500"]["metrics"]["wall_time"]["provenance"]["rounds"] == 5
    accuracy = cases["test_squares[100]"]["metrics"]["accuracy"]
    assert accuracy["value"] == 1.0 and accuracy["higher_is_better"] and accuracy["provenance"]["kind"] == "quality"
    assert "label" not in cases["test_squares[100]"]["metrics"]  # only numbers become metrics
    # pytest-benchmark's JSON is its own: same rounds as our samples, extra_info untouched.
    written = {b["name"]: b for b in json.loads((pytester.path / "pb.json").read_text())["benchmarks"]}
    assert written["test_squares[100]"]["extra_info"] == {"accuracy": 1.0, "label": "not a number"}
    assert written["test_sorted"]["stats"]["rounds"] == 5
    result.stdout.fnmatch_lines(["*benchmark: 3 tests*", "*frontierbench*", "*sorted-500*sorting*"])


def test_without_the_option_nothing_is_metered(pytester):
    pytester.makepyfile(test_plain=PLAIN)
    result = pytester.runpytest("-p", "no:cacheprovider", "--frontier-out=runs", "--benchmark-max-time=0.02")
    result.assert_outcomes(passed=4)
    assert not (pytester.path / "runs").exists()


def test_the_frontier_summary_replaces_pytest_benchmarks_table_for_frontier_cases(pytester):
    pytester.makepyfile(test_mixed='''
        import pytest

        @pytest.mark.frontier(board="toy")
        def test_metered(frontier):
            frontier.measure(sum, range(100), rounds=3)

        def test_plain_benchmark(benchmark):
            benchmark(sum, range(100))
    ''')
    result = pytester.runpytest("-p", "no:cacheprovider", "--frontier-out=runs", "--benchmark-max-time=0.02")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    table = out[out.index("benchmark: 1 tests"):out.index("frontierbench ·")]
    assert "test_plain_benchmark" in table and "test_metered" not in table
    assert "test_metered" in out[out.index("frontierbench ·"):]


def test_a_suite_that_turns_warnings_into_errors_keeps_its_outcomes(pytester):
    """pygal (a pytest-benchmark extra) installs a legacy import finder; under `filterwarnings =
    error` every later import warns, so our own lazy imports must not turn into the suite's errors."""
    pytester.makeini("[pytest]\nfilterwarnings =\n    error\n")
    pytester.makeconftest('''
        import sys

        class LegacyFinder:  # like pygal's PluginImportFixer: find_module only
            def find_module(self, name, path=None):
                return None

        sys.meta_path.append(LegacyFinder())
    ''')
    pytester.makepyfile(test_plain=PLAIN)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--frontier-out=runs", "--frontier-benchmarks",
                                           "--benchmark-max-time=0.02")
    result.assert_outcomes(passed=4)
    assert len(record_of(pytester)["cases"]) == 3
