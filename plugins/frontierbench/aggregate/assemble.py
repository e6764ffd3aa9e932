"""Step 5 of `frontierbench aggregate` and the leaderboards: each group's inputs (its entries, runs
and failed cases), its front and reliability (aggregate.groups), and one leaderboard per board."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from frontierbench.aggregate.generation import group_money
from frontierbench.aggregate.groups import build_group
from frontierbench.aggregate.ingest import LoadedRun
from frontierbench.aggregate.reuse import GroupKey, group_fingerprint
from frontierbench.aggregate.tidy import GROUP_KEYS, Tidy
from frontierbench.formats.board import BoardDefinition
from frontierbench.formats.leaderboard import Group, InputRun, Leaderboard, LeaderboardEntry


@dataclass
class RunInfo:
    """What a leaderboard says of one of its input runs."""

    path: str
    sha256: str
    run_id: str
    started_at: str
    finished_at: str | None
    status: str
    format: str
    git_commit: str | None
    environment: dict[str, Any]

    @classmethod
    def of(cls, run: LoadedRun) -> RunInfo:
        record = run.record
        return cls(path=run.path, sha256=run.sha256, run_id=record.run_id, started_at=record.started_at,
                   finished_at=record.finished_at, status=record.status, format=run.format,
                   git_commit=run.git_commit, environment=record.environment.model_dump(mode="json"))


@dataclass
class GroupInputs:
    """One group's entries (ids), the runs with a case in it (ascending), and its failed cases."""

    board: str
    hardware_class: str
    board_version: str
    entries: list[int]
    runs: list[int]
    failures: list[str]

    @property
    def key(self) -> GroupKey:
        return (self.board, self.hardware_class, self.board_version)


def failures_by_group(tidy: Tidy) -> dict[GroupKey, list[str]]:
    """The cases that did not pass, as notes, by group (also of groups with no passed case)."""
    found: dict[GroupKey, list[str]] = defaultdict(list)
    for failure in tidy.failures:
        key = (failure["board"], failure["hardware_class"], failure["board_version"])
        found[key].append(failure_note(failure))
    return dict(found)


def group_inputs(tidy: Tidy) -> list[GroupInputs]:
    failures = failures_by_group(tidy)
    groups = []
    for (board_name, hardware_class, version), rows in tidy.cases.groupby(GROUP_KEYS, sort=True, observed=True):
        groups.append(GroupInputs(str(board_name), str(hardware_class), str(version),
                                  sorted(set(rows["entry_id"].tolist())), sorted(set(rows["run"].tolist())),
                                  failures.get((str(board_name), str(hardware_class), str(version)), [])))
    return groups


def failure_note(failure: dict[str, Any]) -> str:
    error = f": {failure['error'][0]}" if failure["error"] else ""
    return f"entry {failure['entry']!r} {failure['outcome']} in run {failure['run_id']}{error}"


def assemble_leaderboards(groups: list[GroupInputs], entries: dict[int, LeaderboardEntry],
                          boards: dict[str, BoardDefinition], runs: list[RunInfo], *, draws: int, seed: int,
                          reliability: bool, previous: dict[GroupKey, Any]) -> dict[str, Leaderboard]:
    """Step 5, then one leaderboard per board (groups in (board, hardware class, version) order)."""
    by_board: dict[str, list[Group]] = defaultdict(list)
    board_runs: dict[str, set[int]] = defaultdict(set)
    for spec in groups:
        board = boards[spec.board]
        newest = runs[max(spec.runs)].environment
        board_runs[spec.board].update(spec.runs)
        fingerprint = group_fingerprint(board, spec.hardware_class, spec.board_version,
                                        [runs[r].sha256 for r in spec.runs], draws=draws, seed=seed)
        known = previous.get(spec.key)
        group = build_group(board, spec.hardware_class, spec.board_version, [entries[i] for i in spec.entries],
                            dict(newest), spec.failures, draws=draws, seed=seed, reliability=reliability,
                            report=known[1] if known is not None and known[0] == fingerprint else None)
        group.inputs_sha256 = fingerprint
        money = group_money(group.entries)
        if money is not None:
            group.money = money
        by_board[spec.board].append(group)

    leaderboards: dict[str, Leaderboard] = {}
    for board_name, board_groups in sorted(by_board.items()):
        board = boards[board_name]
        used = [runs[i] for i in sorted(board_runs[board_name])]
        newest_time = max((run.finished_at or run.started_at) for run in used)
        leaderboards[board_name] = Leaderboard(
            board=board.name, title=board.title, description=board.description,
            objectives=board.objectives, primary=board.primary, reference_point=board.reference_point,
            top_k=board.top_k, generated_at=newest_time, inferred=board.inferred,
            inputs=[InputRun(path=run.path, sha256=run.sha256, run_id=run.run_id, started_at=run.started_at,
                             status=run.status, format=run.format, git_commit=run.git_commit) for run in used],
            groups=board_groups)
    return leaderboards


def reports_of(leaderboards: dict[str, Leaderboard]) -> dict[GroupKey, tuple[str | None, Any]]:
    """Each group's (inputs fingerprint, reliability report), as aggregate.reuse matches them."""
    return {(board.board, group.hardware_class, group.board_version): (group.inputs_sha256, group.reliability)
            for board in leaderboards.values() for group in board.groups}
