"""The README's tutorial, run literally in an empty folder: it must reach a site page.

The tutorial section's ```python blocks are written to the file its text names just before them
(`test_first.py`; a snippet with no file named before it is only shown); its ```bash blocks are run
in order, as written, with `set -e`. Other blocks
(```text output, ```yaml, ```toml) are shown to the reader, not run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Write your first efficiency benchmark"
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
NAMED_FILE = re.compile(r"`([\w./-]+\.py)`")


def tutorial_steps() -> list[tuple[str, str, str | None]]:
    """(language, code, file name for python blocks) in reading order."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start:end if end > 0 else len(text)]
    steps, position = [], 0
    for match in BLOCK.finditer(section):
        named = NAMED_FILE.findall(section[position:match.start()])
        steps.append((match.group(1), match.group(2), named[-1] if named else None))
        position = match.end()
    return steps


def shims(folder: Path) -> dict[str, str]:
    """`pytest` and `frontierbench` on PATH, run by this interpreter (so this checkout's code runs)."""
    folder.mkdir()
    for name, module in (("pytest", "pytest"), ("frontierbench", "frontierbench.cli")):
        script = folder / name
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n')
        script.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{folder}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_readme_tutorial_runs_as_written_and_reaches_a_site_page(tmp_path):
    steps = tutorial_steps()
    assert any(lang == "python" and name for lang, _, name in steps) and any(lang == "bash" for lang, _, _ in steps)
    work = tmp_path / "empty"
    work.mkdir()
    env = shims(tmp_path / "bin")
    for lang, code, name in steps:
        if lang == "python" and name:
            (work / name).write_text(code, encoding="utf-8")
        elif lang == "bash":
            done = subprocess.run(["bash", "-e", "-c", code], cwd=work, env=env, capture_output=True, text=True,
                                  timeout=600)
            assert done.returncode == 0, f"{code}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    page = work / "site" / "_build" / "boards" / "tutorial" / "index.html"
    assert page.is_file()
    assert "tutorial" in page.read_text(encoding="utf-8")
    # The workload is chosen so that the front does not depend on the machine's load: every
    # truncation trades accuracy for time, so all of them are on it (the README says so).
    board = json.loads((work / ".frontierbench" / "leaderboards" / "tutorial" / "leaderboard.json").read_text())
    assert board["groups"][0]["frontier"] == ["first-128", "first-256", "first-512", "first-64"]
