"""`frontierbench site LEADERBOARDS... -o site/_build`: leaderboards as a static site (see site.build)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from frontierbench.site.build import build_site

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("leaderboards", nargs="+", metavar="LEADERBOARD",
                        help="leaderboard JSON files, or folders searched for them (e.g. leaderboards/)")
    parser.add_argument("-o", "--output", default="site/_build", type=Path,
                        help="the site folder, replaced whole (default: site/_build)")
    parser.add_argument("--commit-url", default=None, metavar="TEMPLATE",
                        help="link each run in an entry's history to its commit, e.g. "
                             "https://github.com/OWNER/REPO/commit/{commit}")


def main(args: argparse.Namespace) -> int:
    out = build_site(args.leaderboards, args.output, commit_url=args.commit_url)
    index = out.resolve() / "index.html"
    print(f"frontierbench site: wrote {out}; open {index.as_uri()}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(prog="frontierbench site")
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
