"""A progress bar with an ETA for long metered sessions (rich's bar, one line every tenth of the way).

A metered session can run for many minutes with nothing but pytest's dots; a line such as

    frontier ━━━━━━━━━━━━╺━━━━━━━ 24/40 metered cases · 2:10 elapsed · about 1:27 left

says how far it is. Lines are written only once the session has run for a while, and only at each
tenth, so short sessions and logs stay as they were.
"""

from __future__ import annotations

import io
import time

from rich.console import Console
from rich.progress_bar import ProgressBar

SHOW_AFTER_S = 20.0
STEPS = 10


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class MeteredProgress:
    def __init__(self, total: int, *, show_after_s: float = SHOW_AFTER_S, steps: int = STEPS,
                 now=time.monotonic):
        self.total = total
        self.done = 0
        self.show_after_s = show_after_s
        self.steps = steps
        self.now = now
        self.started = now()
        self.shown_step = 0

    def advance(self) -> str | None:
        """Count one finished metered case; the line to show, when one is due."""
        self.done += 1
        if self.total <= 1 or self.done > self.total:
            return None
        elapsed = self.now() - self.started
        step = self.done * self.steps // self.total
        if step <= self.shown_step or elapsed < self.show_after_s:
            return None
        self.shown_step = step
        left = elapsed / self.done * (self.total - self.done)
        return self.render(elapsed, left)

    def render(self, elapsed: float, left: float) -> str:
        buffer = io.StringIO()
        console = Console(file=buffer, width=200, force_terminal=False, color_system=None)
        console.print(ProgressBar(total=self.total, completed=self.done, width=30), end="")
        bar = buffer.getvalue().rstrip().ljust(30, "╌")  # without colour rich leaves the rest blank
        tail = "done" if self.done >= self.total else f"about {clock(left)} left"
        return f"{bar} {self.done}/{self.total} metered cases · {clock(elapsed)} elapsed · {tail}"
