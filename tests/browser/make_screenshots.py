"""Screenshots of the site for docs/screenshots/ (index, a board page, an entry page).

    python tests/browser/make_screenshots.py                      # synthetic leaderboards
    python tests/browser/make_screenshots.py leaderboards/        # the published leaderboards
    python tests/browser/make_screenshots.py leaderboards/ --board digits   (default: the largest board)
    python tests/browser/make_screenshots.py leaderboards/ --board charlm --prefix charlm-   (charlm-board.png, ...)

Builds the site in a temporary folder, opens it from disk in Debian's headless Chromium and writes
PNGs. Fails if a page logs a console error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from site_factories import make_leaderboard, write_leaderboards  # noqa: E402

from frontierbench.site.build import build_site  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("leaderboards", nargs="*", help="leaderboard files or folders (default: synthetic)")
    parser.add_argument("--board", help="the board to show (default: the first)")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--prefix", default="", help="file name prefix, e.g. 'tutorial-' for tutorial-board.png")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="fb-shots-") as tmp:
        inputs = args.leaderboards or write_leaderboards(Path(tmp) / "lb", [
            make_leaderboard("digits", n_entries=14),
            make_leaderboard("charlm", n_entries=9, hardware_classes=("cpu-x86_64-8c",), seed=1),
        ])
        site = build_site(inputs, Path(tmp) / "site")
        # The board with the most entry pages, unless one is named.
        boards = sorted((site / "boards").iterdir(), key=lambda b: (-len(list(b.glob("entries/*.html"))), b.name))
        board = site / "boards" / args.board if args.board else boards[0]
        entry = sorted((board / "entries").glob("*.html"))[0]
        shots = {f"{args.prefix}{name}.png": path for name, path in
                 (("index", site / "index.html"), ("board", board / "index.html"), ("entry", entry))}
        args.output.mkdir(parents=True, exist_ok=True)
        errors: list[str] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1360, "height": 900}, device_scale_factor=1)
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            for name, path in shots.items():
                page.goto(path.as_uri())
                page.wait_for_load_state("load")
                page.wait_for_timeout(500)
                page.screenshot(path=str(args.output / name), full_page=True)
                print(args.output / name)
            browser.close()
    if errors:
        print("console errors:", *errors, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
