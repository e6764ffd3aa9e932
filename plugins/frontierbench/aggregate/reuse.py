"""Reliability recomputed only for the groups whose inputs changed (`aggregate --reuse-reliability`).

A group's reliability report is a function of its entries (hence of the input files that gave it
cases), the board definition, the draws, the seed and this code. `Group.inputs_sha256` fingerprints
exactly those; when the previous leaderboards hold a group with the same fingerprint and a report,
that report is taken as it is instead of resampled again. Adding one run to a history of many
hardware classes then reassesses only the class the run was on.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from frontierbench import __version__
from frontierbench.formats.board import BoardDefinition
from frontierbench.formats.leaderboard import find_leaderboards, load_leaderboard
from frontierbench.formats.reliability import ReliabilityReport
from frontierbench.formats.run import RecordError

GroupKey = tuple[str, str, str]  # board, hardware class, board version


def group_fingerprint(board: BoardDefinition, hardware_class: str, board_version: str, input_sha256s: list[str],
                      *, draws: int, seed: int) -> str:
    parts = {"board": board.model_dump(mode="json"), "hardware_class": hardware_class,
             "board_version": board_version, "inputs": sorted(input_sha256s), "draws": draws, "seed": seed,
             "frontierbench": __version__}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def previous_reports(paths: list[str | Path],
                     warn: Callable[[str], None]) -> dict[GroupKey, tuple[str, ReliabilityReport]]:
    """(fingerprint, report) of every group that has both, in the leaderboards under `paths`.
    Missing or unreadable leaderboards only mean more is recomputed: a warning, never an error."""
    found: dict[GroupKey, tuple[str, ReliabilityReport]] = {}
    try:
        files = find_leaderboards([p for p in paths if Path(p).exists()])
    except RecordError as exc:
        warn(f"--reuse-reliability: {exc}; every group is assessed")
        return found
    for path in files:
        try:
            board = load_leaderboard(path)
        except RecordError as exc:
            warn(f"--reuse-reliability: {exc}; its groups are assessed again")
            continue
        for group in board.groups:
            fingerprint = getattr(group, "inputs_sha256", None)
            if fingerprint and group.reliability is not None:
                found[(board.board, group.hardware_class, group.board_version)] = (fingerprint, group.reliability)
    return found
