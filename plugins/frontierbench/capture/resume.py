"""`--frontier-resume`: continue the newest crashed or interrupted run in the output folder.

Its recorded cases are kept and deselected; new cases append under the same run_id, and the
record is rewritten at the end with all of them. A case cut short by Ctrl-C or SIGTERM runs again
(it was the user's choice to stop, not the case's fault). The case that killed the process (cut
short in a crashed run) is kept as failed and not run again, unless it is named on the command
line (its node id, as pytest prints it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frontierbench.formats.journal import JOURNAL_SUFFIX

UNFINISHED = ("crashed", "interrupted")


@dataclass
class ResumePlan:
    path: Path
    record: dict[str, Any]  # the cases kept, as they will be re-journalled
    skip: set[str]  # node ids not to run again
    rerun: list[str]  # node ids cut short that run again

    def describe(self) -> str:
        return (f"resuming run {self.record['run_id']} ({self.path.name}, {self.record['status']}): "
                f"{len(self.skip)} cases already recorded are not run again"
                + (f"; running again {len(self.rerun)} cut short" if self.rerun else ""))


def newest_unfinished(out_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest record in `out_dir` whose status is crashed or interrupted."""
    found = []
    for path in Path(out_dir).glob("*.json") if Path(out_dir).is_dir() else []:
        if path.name.endswith(JOURNAL_SUFFIX) or path.name.endswith(".invalid.json"):
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("status") in UNFINISHED:
            found.append((str(record.get("started_at")), str(record.get("run_id")), path, record))
    if not found:
        return None
    _, _, path, record = max(found)
    return path, record


def resume_plan(out_dir: Path, args: list[str]) -> ResumePlan | None:
    newest = newest_unfinished(out_dir)
    if newest is None:
        return None
    path, record = newest
    named = set(args)
    kept, skip, rerun = [], set(), []
    for case in record.get("cases", []):
        nodeid = case.get("nodeid")
        killer = case.get("cut_short") and record["status"] == "crashed"
        if case.get("cut_short") and (not killer or nodeid in named):
            rerun.append(nodeid)
            continue
        kept.append(case)
        skip.add(nodeid)
    return ResumePlan(path, {**record, "cases": kept}, skip, rerun)
