"""`frontierbench site LEADERBOARDS... -o site/_build`: leaderboards as a static site.

The site opens from disk (file://) or any static host: every page carries its data as JSON in a
<script type="application/json"> block, scripts and the vendored chart library are local files
under static/, and a Content-Security-Policy forbids everything else. Templates and assets live in
the package (frontierbench/site/), so a plain `pip install` can build a site.

The build is byte-identical for the same inputs: no clock, sorted iteration, canonical JSON. It is
written to a temporary sibling directory and swapped in at the end, so an interrupted build never
leaves a half-written site where the old one was.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from frontierbench.formats.inference import INFERRED_VERSION
from frontierbench.formats.leaderboard import Group, Leaderboard, find_leaderboards, load_leaderboard
from frontierbench.formats.metrics import format_value
from frontierbench.formats.run import RecordError
from frontierbench.site import views as sd
from frontierbench.site.badges import BADGES, data_ties, entry_badges
from frontierbench.site.pages import entry_page, group_page, json_for_script
from frontierbench.site.history import check_commit_url, recent_changes
from frontierbench.site.axes import default_axes, display_units
from frontierbench.site.generation import generation_view

# Scripts only from our own files; JSON data blocks are not scripts, so they need no exception.
# Plotly sets inline style attributes on the SVG it draws, hence 'unsafe-inline' for styles only.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'")
MARKER = ".frontierbench-site"  # marks a directory as a site build that may be replaced
MAX_PAGE_BYTES = 300_000
WRITE_THREADS = 4  # per worker process; see SiteWriter
SAFE_PATH = re.compile(r"[A-Za-z0-9._/-]{1,255}")


def site_source() -> Path:
    """The package's site/ folder (templates/ and static/), from an editable or a wheel install."""
    return Path(str(resources.files("frontierbench") / "site"))


def make_environment(templates: Path | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates or site_source() / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["fmt"] = lambda v, unit="": format_value(v, unit)
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.0f}%"
    env.filters["num"] = lambda v: "—" if v is None else f"{v:.3g}"
    env.globals["BADGES"] = BADGES
    env.globals["CSP"] = CSP
    return env


# ---------------------------------------------------------------- inputs

def check_finite(board: Leaderboard, source: str) -> None:
    """JSON from Python may hold NaN or Infinity; the site refuses them with the field's path."""
    for g, group in enumerate(board.groups):
        for e, entry in enumerate(group.entries):
            for name, metric in entry.metrics.items():
                where = f"groups.{g}.entries.{e}.metrics.{name}"
                for field in ("value", "low", "high", "run_spread"):
                    x = getattr(metric, field)
                    if x is not None and not math.isfinite(x):
                        raise RecordError(f"{source}: field '{where}.{field}': must be finite, got {x!r}")
                # A sum is finite when every term is (checked one by one only if the sum overflows).
                if metric.samples and not math.isfinite(math.fsum(metric.samples)):
                    bad = next((i for i, s in enumerate(metric.samples) if not math.isfinite(s)), None)
                    if bad is not None:
                        raise RecordError(f"{source}: field '{where}.samples.{bad}': must be finite, "
                                          f"got {metric.samples[bad]!r}")


def load_board_file(path: Path) -> Leaderboard:
    """The leaderboard, as load_leaderboard checks it: the site relies on its safe board slug (a
    folder name), finite numbers, a primary among its objectives and unique names."""
    return load_leaderboard(path)


# ---------------------------------------------------------------- rendering

class SiteWriter:
    """Writes pages under one root and refuses any path that would leave it.

    Creating a file costs far more than filling it on some file systems, and the cost is waiting,
    not computing, so the writes go to a few threads while the caller renders the next page.
    Call close() to wait for them (and to see their errors).
    """

    def __init__(self, root: Path, threads: int = 0):
        self.root = str(root)
        self.written: dict[str, int] = {}
        self._folders: set[str] = set()
        self._pool = None
        self._pending: list[Any] = []
        if threads > 0:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=threads)

    def write(self, relative: str, text: str) -> None:
        self.write_bytes(relative, text.encode("utf-8"))

    def write_bytes(self, relative: str, data: bytes) -> None:
        # Every path is built from checked slugs and hashes; refuse anything else outright, so
        # no name from a record can climb out of the site (no resolve(): it costs a stat per part).
        parts = relative.split("/")
        if not SAFE_PATH.fullmatch(relative) or any(part in ("", ".", "..") for part in parts):
            raise RecordError(f"refusing to write {relative!r}: not a safe path inside the site directory")
        if relative in self.written:
            raise RecordError(f"two pages want the same file {relative!r}")
        target = os.path.join(self.root, *parts)
        folder = os.path.dirname(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        self.written[relative] = len(data)
        if self._pool is None:
            _write_file(target, data)
        else:
            self._pending.append(self._pool.submit(_write_file, target, data))
            if len(self._pending) > 256:
                self._drain(128)

    def _drain(self, keep: int = 0) -> None:
        done, self._pending = self._pending[:len(self._pending) - keep], self._pending[len(self._pending) - keep:]
        for future in done:
            future.result()

    def close(self) -> None:
        if self._pool is not None:
            try:
                self._drain()
            finally:
                self._pool.shutdown(wait=True)
                self._pool = None


def _write_file(target: str, data: bytes) -> None:
    with open(target, "wb") as handle:
        handle.write(data)


def group_title(group: Group) -> str:
    version = "inferred board" if group.board_version == INFERRED_VERSION else f"board v{group.board_version}"
    return f"{group.hardware_class} · {version}"


def render_board(env: Environment, writer: SiteWriter, board: Leaderboard, source: Path,
                 commit_url: str | None = None) -> dict[str, Any]:
    """Every page of one board; returns its summary for the index."""
    base = f"boards/{board.board}"
    # The published leaderboard, byte for byte as it was read (and validated).
    writer.write_bytes(f"{base}/leaderboard.json", source.read_bytes())
    if board.samples_sidecar is not None:  # the samples it names (formats/samples_sidecar.py)
        sidecar = board.samples_sidecar["file"]
        writer.write_bytes(f"{base}/{sidecar}", (source.parent / sidecar).read_bytes())
    board_tpl = env.get_template("board.html")
    entry_tpl = env.get_template("entry.html")
    objectives = sd.objectives_view(board)
    groups = board.groups
    pages = [group_page(g, default=(i == 0)) for i, g in enumerate(groups)]
    selector = [{"href": page, "text": group_title(g)} for page, g in zip(pages, groups)]
    x_default, y_default = default_axes(board)
    summary_groups = []
    for index, (group, page) in enumerate(zip(groups, pages)):
        status = sd.reliability_status(group)
        ties = data_ties(board, group) if group.reliability is None else set()
        badges = {entry.name: entry_badges(entry, group, ties) for entry in group.entries}
        shown = display_units(board, group)
        data = sd.board_data(board, group, badges)
        data.update(display=shown, x_default=x_default, y_default=y_default)
        generation = generation_view(group)  # None unless the board measures generation
        page_text = board_tpl.render(
            root="../../", board=board, group=group, group_index=index, selector=selector,
            objectives=objectives, x_default=x_default, y_default=y_default, shown=shown,
            status=status, budget=sd.budget_text(group), report=group.reliability, leader=sd.leader(board, group),
            data_json=json_for_script(data), entry_count=len(group.entries),
            changes=recent_changes(group, {e.name: entry_page(group, e.name) for e in group.entries}, commit_url),
            history_runs=len({run for e in group.entries for run in e.runs}),
            generation=generation, generation_json=json_for_script(generation) if generation else None,
            samples_file=board.samples_sidecar["file"] if board.samples_sidecar is not None else None,
        )
        if len(page_text.encode("utf-8")) > MAX_PAGE_BYTES:
            warnings.warn(f"{base}/{page}: {len(page_text.encode('utf-8'))} bytes, over the "
                          f"{MAX_PAGE_BYTES // 1000} KB budget of a board page", stacklevel=1)
        writer.write(f"{base}/{page}", page_text)
        environment = sd.flatten(group.environment)
        for entry in group.entries:
            writer.write(f"{base}/{entry_page(group, entry.name)}", entry_tpl.render(
                root="../../../", board=board, group=group, group_href=f"../{page}", entry=entry,
                data_json=json_for_script(sd.entry_data(board, group, entry, environment, badges[entry.name],
                                                      commit_url)),
            ))
        summary_groups.append({
            "href": f"{base}/{page}", "hardware_class": group.hardware_class,
            "board_version": group.board_version, "entries": len(group.entries),
            "front": len(group.frontier), "leader": sd.leader(board, group), "status": status,
            "energy_method": group.energy_method, "page_bytes": len(page_text.encode("utf-8")),
        })
    return {"board": board.board, "title": board.title, "description": board.description,
            "inferred": board.inferred, "json_href": f"{base}/leaderboard.json", "groups": summary_groups}


def _render_part(task: tuple[int, str, str, str | None]) -> tuple[str, str, dict[str, Any]]:
    """Load, check and render one leaderboard into its own part folder (runs in a worker)."""
    _, path_text, part, commit_url = task
    path = Path(path_text)
    board = load_board_file(path)
    writer = SiteWriter(Path(part), threads=WRITE_THREADS)
    try:
        summary = render_board(_environment(), writer, board, path, commit_url)
    finally:
        writer.close()
    return board.board, path_text, summary


_ENV: Environment | None = None


def _environment() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = make_environment()
    return _ENV


def _render_all(paths: list[Path], staging: Path, workers: int, commit_url: str | None = None) -> list[dict[str, Any]]:
    parts = staging / ".parts"
    tasks = [(i, str(path), str(parts / str(i)), commit_url) for i, path in enumerate(paths)]
    if workers > 1 and len(tasks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
            results = list(pool.map(_render_part, tasks, chunksize=1))
    else:
        results = [_render_part(task) for task in tasks]
    seen: dict[str, str] = {}
    for name, path_text, _ in results:
        if name in seen:
            raise RecordError(f"{path_text}: field 'board': {name!r} is also the board of {seen[name]}")
        seen[name] = path_text
    (staging / "boards").mkdir()
    for (_, _, part, _), (name, _, _) in zip(tasks, results):
        os.replace(Path(part) / "boards" / name, staging / "boards" / name)
    shutil.rmtree(parts)
    return [summary for _, _, summary in sorted(results, key=lambda r: r[0])]


def copy_static(destination: Path) -> None:
    shutil.copytree(site_source() / "static", destination / "static")
    # copytree keeps modification times; files are compared by content, so that is harmless.


def _prepare_output(out_dir: Path) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise RecordError(f"{out_dir}: the output exists and is not a directory")
        if any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
            raise RecordError(f"{out_dir}: refusing to replace a non-empty directory that is not a "
                              f"frontierbench site build (no {MARKER} file in it)")


def build_site(leaderboard_paths: Iterable[str | Path], out_dir: str | Path, *, workers: int | None = None,
               commit_url: str | None = None) -> Path:
    """Render the leaderboards into out_dir (replaced whole); return out_dir.

    Boards render in parallel worker processes (one board per task); the output does not depend
    on the number of workers. `commit_url` (e.g. https://github.com/OWNER/REPO/commit/{commit})
    links each run of an entry's history to its commit.
    """
    out_dir = Path(out_dir)
    if commit_url is not None:
        try:
            check_commit_url(commit_url)
        except ValueError as exc:
            raise RecordError(f"--commit-url: {exc}") from None
    paths = find_leaderboards(leaderboard_paths)
    _prepare_output(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if workers is None:
        workers = os.cpu_count() or 1
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        summaries = _render_all(paths, staging, workers, commit_url)
        env = _environment()
        writer = SiteWriter(staging)
        writer.write("index.html", env.get_template("index.html").render(root="", boards=summaries))
        writer.write("methodology.html", env.get_template("methodology.html").render(root=""))
        writer.write(MARKER, "frontierbench static site; this folder is rebuilt whole by `frontierbench site`\n")
        copy_static(staging)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a site is for reading
        _swap(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _swap(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
    os.rmdir(old)
    os.replace(out_dir, old)
    os.replace(staging, out_dir)
    shutil.rmtree(old, ignore_errors=True)
