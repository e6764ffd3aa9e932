"""The session object, registered as a pytest plugin (as pytest-benchmark registers its own): it
records each finished case in the run's journal, and writes the run record from it at the end.

Each finished case travels as a `user_properties` entry of its teardown report. That is how
pytest ships reports from xdist workers to the controller, so one path serves both modes. The
case is built and checked where it ran (so a bad value fails that test there), and journalled
where the reports arrive.
"""

from __future__ import annotations

import signal
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from frontierbench import __version__
from frontierbench.capture.cases import (check_marker, is_metered, is_xdist_worker, new_case, outcome_of, own_work,
                                         printable, write_progress)
from frontierbench.capture.environment import collect_environment, cpu_hardware_class
from frontierbench.capture.fixture import CaseResult
from frontierbench.capture.meters.carbon import CarbonConfig
from frontierbench.formats.atomic import write_json_atomic

if TYPE_CHECKING:  # imported when the first metered case runs: pydantic costs 0.25 s to import
    from frontierbench.capture.recording import CaseRecorder
    from frontierbench.formats.journal import JournalContents, JournalWriter

PROPERTY = "frontierbench"
CASE_KEY = pytest.StashKey[CaseResult]()  # on an item: the case its `frontier` fixture fills
RECORDED_KEY = pytest.StashKey[dict]()  # on an item: the checked case dict, until its teardown
METER_KEY = pytest.StashKey[Any]()  # on an item: its benchmark_bridge.BenchmarkMeter (--frontier-benchmarks)
XDIST_MESSAGE = ("frontierbench: metered cases do not run under pytest-xdist (parallel workers share "
                 "cores and memory, so their timings and energy would not be honest); run them without -n")


class SessionOptions:
    """What the command line asked for, parsed once at configure time."""

    def __init__(self, *, out_dir: Path, quick: bool, seed: int, carbon: CarbonConfig,
                 boards_dir: Path | None, write: bool, resume: bool = False, processes: int = 0,
                 worker_journal: Path | None = None, process_index: int | None = None):
        self.out_dir = out_dir
        self.quick = quick
        self.seed = seed
        self.carbon = carbon
        self.boards_dir = boards_dir
        self.write = write
        self.resume = resume
        self.processes = processes
        self.worker_journal = worker_journal  # set in a worker process: append to this journal
        self.process_index = process_index


class FrontierSession:
    def __init__(self, config: Any, options: SessionOptions):
        self.config = config
        self.options = options
        self.quick = options.quick
        self.seed = options.seed
        self.out_dir = options.out_dir
        self.run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.running: dict[str, CaseResult] = {}  # set up, not yet reported (an interrupt's victims)
        self.journal: JournalWriter | None = None
        self.contents: JournalContents | None = None  # what the journal holds, mirrored in memory
        self.recorder: CaseRecorder | None = None
        self.record: dict[str, Any] | None = None  # the run record as written
        self.record_path: Path | None = None
        self.problems: list[str] = []  # shown in the terminal summary
        self.interrupted_by: str | None = None
        self._previous_sigterm: Any = None
        self.resumed: dict[str, Any] | None = None  # the record a --frontier-resume continues
        self.progress: Any = None  # capture.progress.MeteredProgress, for sessions of several metered cases
        self.bridged: set[str] = set()  # node ids metered through --frontier-benchmarks
        self._prior_cases: list[dict[str, Any]] = []  # a worker's: cases earlier workers of its pass recorded

    # -- the journal -----------------------------------------------------------------------
    def open_journal(self) -> None:
        """Create the journal (or attach to the supervisor's, in a worker). Its failure is a usage
        error naming the option: nothing has been measured yet."""
        if self.journal is not None or not self.options.write:
            return
        with own_work():
            from frontierbench.formats.journal import JournalContents, JournalWriter, journal_path, read_journal

        try:
            if self.options.worker_journal is not None:
                self.journal = JournalWriter.attach(self.options.worker_journal)
                self.contents = None
                self._prior_cases = [case for case in read_journal(self.journal.path).cases
                                     if case.get("process") == self.options.process_index]
            else:
                self._recover_dead_journals()
                header = self.header()
                self.journal = JournalWriter.create(journal_path(self.out_dir, self.run_id), header)
                self.contents = JournalContents(header=header)
                self.contents.config.update(header["config"])
        except OSError as exc:
            raise pytest.UsageError(f"frontierbench: --frontier-out {self.out_dir}: cannot write the run's "
                                    f"journal there ({exc.strerror or exc}); choose a writable folder") from None
        for case in (self.resumed or {}).get("cases", []):
            self._append({"case": case})

    def _recover_dead_journals(self) -> None:
        from frontierbench.formats.journal import recover_dead_journals

        self.problems.extend(recover_dead_journals(self.out_dir))

    def header(self) -> dict[str, Any]:
        if self.resumed is not None:
            resumed = self.resumed
            config = {**resumed["config"], "resumed": [*resumed["config"].get("resumed", []),
                                                       {"at": self.started_at, "status": resumed["status"]}]}
            return {"run_id": resumed["run_id"], "started_at": resumed["started_at"],
                    "environment": resumed["environment"], "config": config}
        environment = collect_environment(Path(str(self.config.rootpath)),
                                          {"seed": self.seed, "policy": "random, numpy and torch reseeded per case"})
        self.config.hook.pytest_frontier_environment(config=self.config, environment=environment)
        options = self.options
        config = {"profile": "quick" if self.quick else "full", "seed": self.seed,
                  "carbon": options.carbon.describe(), "grid_intensity": None, "board_versions": {},
                  "frontierbench": __version__, "invocation": list(self.config.invocation_params.args)}
        if options.processes:
            config["processes"] = options.processes
        return {"run_id": self.run_id, "started_at": self.started_at, "environment": environment,
                "config": config}

    def _append(self, line: dict[str, Any], *, durable: bool = True) -> None:
        if self.contents is not None:
            self.contents.add(line)
        if self.journal is not None:
            self.journal.append(line, durable=durable)

    def reload_journal(self) -> None:
        """Read back what worker processes appended (--frontier-processes)."""
        if self.journal is not None:
            from frontierbench.formats.journal import read_journal

            self.contents = read_journal(self.journal.path)

    def _note_config(self, update: dict[str, Any]) -> None:
        self._append({"config": update})

    def get_recorder(self) -> CaseRecorder:
        if self.recorder is None:
            with own_work():
                from frontierbench.capture.recording import CaseRecorder
            hardware = (self.contents.header["environment"]["hardware_class"] if self.contents
                        else cpu_hardware_class())
            self.recorder = CaseRecorder(rootpath=Path(str(self.config.rootpath)), carbon=self.options.carbon,
                                         boards_dir=self.options.boards_dir, hardware_class=hardware,
                                         on_config=self._note_config)
            for case in (self.contents.cases if self.contents else self._prior_cases):
                self.recorder.accepted(case)
        return self.recorder

    # -- cases -----------------------------------------------------------------------------
    def case_started(self, case: CaseResult) -> None:
        case.process = self.options.process_index
        self.running[case.nodeid] = case
        if self.journal is not None:
            self._append({"started": case.names()}, durable=False)

    def build_case(self, case: CaseResult, outcome: str, duration: float | None,
                   error: str | None) -> tuple[dict[str, Any], str | None]:
        """The checked case dict, and the refusal message if it could not be recorded as it is."""
        from frontierbench.capture.recording import CaseRefused, refused_case

        raw = case.to_case_dict(outcome, duration, error)
        recorder = self.get_recorder()
        try:
            with own_work():  # the first case's completion may import codecarbon
                recorder.complete(raw)
            self.config.hook.pytest_frontier_case(config=self.config, case=raw)
            checked = recorder.check(raw)
            recorder.check_unique(checked)
            return checked, None
        except CaseRefused as exc:
            return refused_case(raw, str(exc)), str(exc)

    def add_case(self, case: dict[str, Any]) -> None:
        """A finished case reaches the journal (where reports arrive: the controller under xdist)."""
        from frontierbench.capture.recording import CaseRefused, refused_case

        self.running.pop(case["nodeid"], None)
        recorder = self.get_recorder()
        try:
            recorder.check_unique(case)
        except CaseRefused as exc:  # a duplicate only the controller sees, under xdist
            case = refused_case(case, str(exc))
        self.open_journal()
        recorder.accepted(case)
        try:
            self._append({"case": case})
        except OSError as exc:
            self.problems.append(f"{printable(case['nodeid'])}: could not append to the journal "
                                 f"({exc.strerror or exc}); the case is kept in memory")
            if self.contents is not None and case not in self.contents.cases:
                self.contents.cases.append(case)
        line = self.progress.advance() if self.progress is not None else None
        if line:
            write_progress(self.config, line)

    # -- interrupts ------------------------------------------------------------------------
    def install_sigterm(self) -> None:
        """SIGTERM (CI cancellation, job time-outs, Slurm, Kubernetes) ends the run like Ctrl-C."""
        if threading.current_thread() is not threading.main_thread():
            return

        def interrupt(signum, frame):
            self.interrupted_by = "SIGTERM"
            raise KeyboardInterrupt("SIGTERM")

        self._previous_sigterm = signal.signal(signal.SIGTERM, interrupt)

    def restore_sigterm(self) -> None:
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None

    @pytest.hookimpl
    def pytest_keyboard_interrupt(self, excinfo) -> None:
        if self.interrupted_by is None:
            if isinstance(excinfo.value, pytest.exit.Exception):
                self.interrupted_by = f"pytest.exit: {excinfo.value.msg}"
            else:
                self.interrupted_by = "KeyboardInterrupt"

    # -- the end of the session ------------------------------------------------------------
    def finish(self, interrupted: bool) -> dict[str, Any] | None:
        cause = self.interrupted_by or "KeyboardInterrupt"
        for case in list(self.running.values()):  # a case cut off by the interrupt is kept, as failed
            built, _ = self.build_case(case, "failed", None,
                                       f"interrupted ({cause}) before the case finished")
            built["cut_short"] = True
            self.add_case(built)
        self.running.clear()
        if self.contents is None:
            return None
        from frontierbench.formats.journal import record_from_journal

        record = record_from_journal(self.contents, status="interrupted" if interrupted else "complete")
        if interrupted:
            record["config"]["interrupted_by"] = cause
        if self.config.hook.pytest_frontier_record.get_hookimpls():
            self.config.hook.pytest_frontier_record(config=self.config, record=record)
            self._validate(record)  # a plugin changed it: check before writing
        self.record = record
        if self.options.write:
            target = self.out_dir / f"{record['run_id']}.json"
            try:
                self.record_path = write_json_atomic(target, record)
            except OSError as exc:
                where = self.journal.path if self.journal else "no journal"
                self.problems.append(f"could not write the run record {target} ({exc.strerror or exc}); every "
                                     f"case is kept in the journal {where}: run `frontierbench recover "
                                     f"{self.out_dir}` once there is room")
                raise
            if self.journal is not None:
                self.journal.remove()
        return record

    def _validate(self, record: dict[str, Any]) -> None:
        """A plugin's pytest_frontier_record hook changed the record: validate it before writing,
        and keep an invalid record beside the error, never lose it."""
        from frontierbench.formats.run import RecordError, parse_run

        try:
            parse_run(record, source=f"run {self.run_id}")
        except RecordError:
            if self.options.write:
                write_json_atomic(self.out_dir / f"{self.run_id}.invalid.json", record)
            raise

    def close(self) -> None:
        self.restore_sigterm()
        if self.journal is not None:
            self.journal.close()

    # -- pytest hooks: this object is registered as a plugin -------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items) -> None:
        metered = [item for item in items if is_metered(item, config)]
        for item in items:
            check_marker(item)
        if self.options.resume and self.options.worker_journal is None:
            from frontierbench.capture.resume import resume_plan

            self._recover_dead_journals()
            plan = resume_plan(self.out_dir, list(config.args))
            if plan is not None:
                self.resumed = plan.record
                self.problems.append(plan.describe())
                deselected = [item for item in items if item.nodeid in plan.skip]
                if deselected:
                    config.hook.pytest_deselected(items=deselected)
                    items[:] = [item for item in items if item.nodeid not in plan.skip]
        if metered and not is_xdist_worker(config):
            self.open_journal()  # fails fast, naming --frontier-out, before anything is measured

    @pytest.hookimpl
    def pytest_collection_finish(self, session) -> None:
        """Count the cases this session will meter, for the progress line (capture.progress)."""
        metered = sum(1 for item in session.items if is_metered(item, self.config))
        if metered > 1 and not is_xdist_worker(self.config) and self.options.processes == 0:
            with own_work():
                from frontierbench.capture.progress import MeteredProgress
            self.progress = MeteredProgress(metered)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        meter = item.stash.get(METER_KEY, None)
        if meter is None and "frontier" not in getattr(item, "fixturenames", ()):
            return
        if meter is not None and report.when == "call":
            meter.finish(getattr(item, "funcargs", {}).get("benchmark"))
        if report.when == "call" or (report.when == "setup" and not report.passed):
            status, error = outcome_of(report, call)
            case = item.stash.get(CASE_KEY, None) or new_case(item, strict=False)
            built, refused = self.build_case(case, status, report.duration, error)
            if refused is not None:  # the case fails here, naming the field; the others go on
                report.outcome = "failed"
                report.longrepr = refused
            item.stash[RECORDED_KEY] = built
        elif report.when == "teardown":
            built = item.stash.get(RECORDED_KEY, None)
            if built is None:
                return
            if report.failed and built["outcome"] in ("passed", "skipped"):
                built["outcome"] = "error"
                built["error"] = "error at teardown: " + printable(
                    call.excinfo.exconly() if call.excinfo else report.longreprtext)[-2000:]
            report.user_properties.append((PROPERTY, built))

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report) -> None:
        if is_xdist_worker(self.config):
            return
        for name, value in report.user_properties:
            if name == PROPERTY:
                self.add_case(value)

    @pytest.hookimpl
    def pytest_sessionstart(self, session) -> None:
        self.install_sigterm()

    @pytest.hookimpl
    def pytest_sessionfinish(self, session, exitstatus) -> None:
        if is_xdist_worker(self.config):
            return
        if self.contents is None and not self.running:
            if self.journal is None:
                return  # no metered case ran: nothing to record
        try:
            with own_work():
                self.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
        except OSError:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.record is not None and self.record["cases"] and all(
                case["outcome"] == "skipped" and case.get("error") == XDIST_MESSAGE for case in self.record["cases"]):
            self.problems.append("every metered case was refused: " + XDIST_MESSAGE)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    @pytest.hookimpl(hookwrapper=True)
    def pytest_terminal_summary(self, terminalreporter):
        """The frontierbench table replaces pytest-benchmark's rows for frontier-fixture cases
        (--frontier-benchmarks cases keep pytest-benchmark's table: their output is unchanged)."""
        restore = lambda: None  # noqa: E731
        recorded = {case["nodeid"] for case in self.contents.cases} if self.contents else set()
        if recorded - self.bridged:
            with own_work():
                from frontierbench.capture.benchmark_bridge import hide_from_benchmark_table

            restore = hide_from_benchmark_table(self.config, recorded - self.bridged)
        try:
            yield
        finally:
            restore()
        if self.record is not None:
            with own_work():
                from frontierbench.capture.summary import render_summary

            terminalreporter.write(render_summary(
                self.record, width=terminalreporter._tw.fullwidth, color=terminalreporter.hasmarkup,
                max_rows=self.config.getoption("frontier_summary_rows")))
            if self.record_path is not None:
                terminalreporter.write_line(f"frontierbench: run record written to {self.record_path}")
        for problem in self.problems:
            terminalreporter.write_line(f"frontierbench: {problem}", yellow=True)

    @pytest.hookimpl
    def pytest_unconfigure(self, config) -> None:
        self.close()
