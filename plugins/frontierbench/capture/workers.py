"""`--frontier-processes N`: metered cases run in fresh worker interpreters (the pyperf/asv model).

The pytest process becomes a supervisor. Before its own test loop it makes N sequential passes
over the metered cases; each pass is one `python -m pytest NODEIDS...` worker that appends each
finished case, tagged with the pass (`process`), to the run's journal. A worker that dies (a
segfault, the OOM killer's SIGKILL) costs only the case it was running: the supervisor records
it as failed with the signal, starts a new worker for the cases left, and the run goes on. Then,
in the supervisor's own loop, each metered test is reported from what the journal holds, so
pytest's counts, exit status and `-r` summaries are those of the workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from typing import Any

import pytest

from frontierbench.capture.cases import is_metered
from frontierbench.formats.journal import read_journal

FORWARDED_OPTIONS = {  # dest -> flag: the frontier options a worker needs
    "frontier_quick": "--frontier-quick", "frontier_seed": "--frontier-seed",
    "frontier_country": "--frontier-country", "frontier_carbon_intensity": "--frontier-carbon-intensity",
    "frontier_boards": "--frontier-boards", "frontier_benchmarks": "--frontier-benchmarks",
}
SEVERITY = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


class Supervisor:
    """Registered as a plugin next to the session object when --frontier-processes is given."""

    def __init__(self, session: Any):
        self.session = session
        self.processes: int = session.options.processes
        self.metered: list[Any] = []
        self.outcomes: dict[str, list[dict[str, Any]]] = {}
        self.output_tail: dict[str, str] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items) -> None:
        if config.getoption("numprocesses", None):
            raise pytest.UsageError("frontierbench: --frontier-processes and pytest-xdist's -n cannot be combined; "
                                    "metered cases need the machine to themselves")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session) -> None:
        # The items as finally selected (after --frontier-resume's deselection).
        self.metered = [item for item in session.items if is_metered(item, session.config)]
        if self.metered and not session.config.option.collectonly and self.session.journal is not None:
            self.run_passes(session.config)

    # -- the workers -----------------------------------------------------------------------
    def worker_command(self, config, nodeids: list[str], process: int) -> list[str]:
        command = [sys.executable, "-m", "pytest", *nodeids, "-q", "--no-header", "-p", "no:cacheprovider",
                   f"--rootdir={config.rootpath}", f"--frontier-worker-journal={self.session.journal.path}",
                   f"--frontier-process-index={process}", "--frontier-summary-rows=1"]
        if config.inipath:
            command.append(f"--config-file={config.inipath}")
        for dest, flag in FORWARDED_OPTIONS.items():
            value = config.getoption(dest)
            if value is True:
                command.append(flag)
            elif value not in (None, False):
                command.append(f"{flag}={value}")
        args = list(config.invocation_params.args)
        for index, arg in enumerate(args):  # plugins loaded or blocked with -p, and pytest-benchmark's options
            if arg == "-p" and index + 1 < len(args):
                command += ["-p", str(args[index + 1])]
            elif str(arg).startswith("--benchmark-"):
                command.append(str(arg))
        return command

    def run_passes(self, config) -> None:
        nodeids = [item.nodeid for item in self.metered]
        journal = self.session.journal.path
        for process in range(self.processes):
            remaining = list(nodeids)
            while remaining:
                returncode, tail = self.run_worker(config, remaining, process)
                contents = read_journal(journal)
                done = {case["nodeid"] for case in contents.cases if case.get("process") == process}
                if returncode < 0:  # killed by a signal: fail the case it was running, go on
                    for names in [n for key, n in contents.started.items() if key[1] == process]:
                        cause = f"the worker process died during this case ({signal_name(returncode)})"
                        self.session.journal.append({"died": {**names, "cause": cause}})
                        self.output_tail[names["nodeid"]] = tail
                        done.add(names["nodeid"])
                left = [nodeid for nodeid in remaining if nodeid not in done]
                if len(left) == len(remaining) or returncode == pytest.ExitCode.INTERRUPTED:
                    self.session.problems.append(
                        f"a worker (pass {process}) ended with status {returncode} without finishing a case; "
                        f"{len(left)} cases not run in this pass. Its output ends:\n{tail[-1500:]}")
                    if returncode == pytest.ExitCode.INTERRUPTED:
                        raise KeyboardInterrupt("a worker was interrupted")
                    break
                remaining = left
        self.session.reload_journal()
        for case in self.session.contents.cases:
            self.outcomes.setdefault(case["nodeid"], []).append(case)

    def run_worker(self, config, nodeids: list[str], process: int) -> tuple[int, str]:
        """One worker, to its end; its output goes to a file, shown only if it goes wrong."""
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as output:
            worker = subprocess.Popen(self.worker_command(config, nodeids, process), cwd=config.rootpath,
                                      stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      env={**os.environ, "PYTHONFAULTHANDLER": "1"})
            try:
                returncode = worker.wait()
            except BaseException:  # Ctrl-C or SIGTERM: let the worker record its case, then go
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
                raise
            output.seek(0)
            text = output.read()
        return returncode, crash_report(text)

    # -- reporting the workers' cases in the supervisor's loop -----------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem) -> bool | None:
        if item.nodeid not in self.outcomes:  # not metered, or not run (a worker that would not start)
            return None
        cases = self.outcomes[item.nodeid]
        worst = max(cases, key=lambda case: SEVERITY.get(case["outcome"], 2))
        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        for when in ("setup", "call", "teardown"):
            outcome, longrepr = "passed", None
            if when == "call" and worst["outcome"] == "skipped":
                outcome, longrepr = "skipped", (str(item.path), item.location[1] or 0, f"Skipped: {worst['error']}")
            elif when == "call" and worst["outcome"] in ("failed", "error"):
                outcome = "failed"
                longrepr = (f"[process {worst.get('process')}] {worst['error']}"
                            + (f"\n--- worker output ---\n{self.output_tail[item.nodeid]}"
                               if item.nodeid in self.output_tail else ""))
            if when == "call" or outcome == "passed":
                report = pytest.TestReport(item.nodeid, item.location, {}, outcome, longrepr, when,
                                           duration=sum(case.get("duration") or 0.0 for case in cases))
                item.ihook.pytest_runtest_logreport(report=report)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True



def crash_report(output: str) -> str:
    """What a worker's output says about its death: faulthandler's report (the innermost frames
    first) when there is one, else the output's last lines."""
    start = output.find("Fatal Python error")
    if start >= 0:
        return "\n".join(output[start:].splitlines()[:8])
    return "\n".join(output.splitlines()[-12:])
