"""The ``postdeploy`` command: the sandbox, the step catalogue and the HTML report."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="postdeploy",
        description="Post-deploy verification. Run the checks with `pytest --env=NAME [-m TAGS]`; "
                    "this command manages what is around them.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("sandbox", help="the local reference deployment: up | down | status [--json]", add_help=False)
    steps = sub.add_parser("steps", help="print the step catalogue (every phrase, its parameters, an example)")
    steps.add_argument("--markdown", action="store_true", help="print docs/steps.md")
    steps.add_argument("--fields", action="store_true",
                       help="print the table of environment fields and the steps that read them (docs/environments.md)")
    sub.add_parser("report", help="build the HTML report from the last run's results", add_help=False)
    init = sub.add_parser("init", help="create a verification suite of your own for another system",
                          description="Create a verification suite for a system of your own in DIR: an environment "
                                      "file, a smoke feature, conftest.py and pyproject.toml. Nothing is overwritten.")
    init.add_argument("directory", metavar="DIR", help="where the project goes (new, or without its files)")
    init.add_argument("--name", help="the system's name, as people say it (default: the directory's name)")
    init.add_argument("--env", default="staging", help="the first environment's name (default: staging)")
    init.add_argument("--base-url", default="https://staging.example.com",
                      help="the address of its main service (default: https://staging.example.com)")
    init.add_argument("--health-path", default="/health", help="its health check's path (default: /health)")
    if not argv:
        parser.print_help()
        return 2
    command, rest = argv[0], argv[1:]
    if command == "sandbox":
        from .errors import SandboxStartError
        from .local import sandbox_package

        try:
            package = sandbox_package()
        except SandboxStartError as exc:
            print(f"postdeploy sandbox: {exc}", file=sys.stderr)
            return 2
        return package.cli.main(rest)
    if command == "report":
        from .report import main as report_main

        return report_main(rest)
    options = parser.parse_args(argv)
    if options.command == "init":
        from pathlib import Path

        from .scaffold import Answers, InitError, init, next_steps

        target = Path(options.directory)
        answers = Answers(name=options.name or target.resolve().name, env=options.env,
                          base_url=options.base_url, health_path=options.health_path)
        try:
            init(target, answers)
        except InitError as exc:
            print(f"postdeploy init: {exc}", file=sys.stderr)
            return 2
        print(next_steps(target, answers))
        return 0
    if options.command == "steps":
        from . import catalogue

        if options.fields:
            sys.stdout.write(catalogue.readers_markdown())
        else:
            sys.stdout.write(catalogue.as_markdown() if options.markdown else catalogue.as_text())
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
