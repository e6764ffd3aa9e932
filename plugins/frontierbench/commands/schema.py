"""`frontierbench schema run|leaderboard`: print a file format's JSON Schema."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=["run", "leaderboard"], help="which file format")


def json_schema(format_name: str) -> dict:
    if format_name == "run":
        from frontierbench.formats.run import run_json_schema

        return run_json_schema()
    from frontierbench.formats.leaderboard import leaderboard_json_schema

    return leaderboard_json_schema()


def main(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(args.format), indent=2, sort_keys=True))
    return 0
