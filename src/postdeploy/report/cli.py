"""``postdeploy report``: build the HTML report from a run's results and print its path."""

from __future__ import annotations

import argparse
import sys
import webbrowser
from pathlib import Path

from .allure_cli import ReportError
from .build import INCOMPLETE_LABEL, build_report

DEFAULT_RESULTS = Path("reports/allure-results")
DEFAULT_OUTPUT = Path("reports/html")


def main(argv: list[str]) -> int:
    """``postdeploy report [--results DIR] [--output DIR] [--open] [--allow-incomplete]``: build the HTML report,
    print its path."""
    parser = argparse.ArgumentParser(
        prog="postdeploy report",
        description="Build the HTML report (one file that opens from disk) from the Allure results of a run.",
    )
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="Allure results (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="report directory (default: %(default)s)")
    parser.add_argument(
        "--history",
        type=Path,
        default=None,
        help="history file kept across runs (default: history.jsonl next to the report directory)",
    )
    parser.add_argument("--title", default="postdeploy", help="report title (default: %(default)s)")
    parser.add_argument("--open", action="store_true", help="open the report in the default browser")
    parser.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="build a report from the results of a run that did not complete (interrupted, or stopped before its "
        f"scenarios), its name labelled {INCOMPLETE_LABEL}; without it such results are refused",
    )
    args = parser.parse_args(argv)
    try:
        index = build_report(args.results, args.output, history_path=args.history, title=args.title,
                             allow_incomplete=args.allow_incomplete)
    except ReportError as exc:
        print(f"postdeploy report: {exc}", file=sys.stderr)
        return 1
    print(index)
    if args.open:
        webbrowser.open(index.resolve().as_uri())
    return 0
