"""python -m targets.helpdesk up|down|status [--json] --state-dir DIR"""
from __future__ import annotations

import argparse
import json
import sys

from . import launcher


def _describe(state: dict) -> str:
    s = state["services"]
    lines = [f"helpdesk in {state['state_dir']}" + (" (already running)" if state.get("already_running") else ""),
             f"  frontend  {s['frontend']['url']}",
             f"  api       {s['api']['url']}  (openapi: {s['api']['url']}{s['api']['openapi']})",
             f"  maildev   {s['maildev']['url']}  (smtp {s['maildev']['smtp_host']}:{s['maildev']['smtp_port']})",
             f"  faults    {', '.join(state['faults']) or 'none'}"]
    for name, a in state["accounts"].items():
        lines.append(f"  {name:<9} {a['email']} / {a['password']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m targets.helpdesk",
                                     description="Start, inspect or stop the helpdesk reference target.")
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--state-dir", required=True, help="directory for state.json, logs and data")
    parser.add_argument("--json", action="store_true", help="print the state as JSON")
    args = parser.parse_args(argv)
    if args.command == "up":
        try:
            state = launcher.start(args.state_dir)
        except launcher.HelpdeskError as e:
            print(f"helpdesk: {e}", file=sys.stderr)
            return 2
        print(json.dumps(state, indent=2) if args.json else _describe(state))
        return 0
    if args.command == "down":
        stopped = launcher.stop(args.state_dir)
        if args.json:
            print(json.dumps({"stopped": stopped}))
        else:
            print("helpdesk stopped" if stopped else "helpdesk was not running")
        return 0
    state = launcher.status(args.state_dir)
    if args.json:
        print(json.dumps(state, indent=2))
    else:
        print(_describe(state) if state else "helpdesk is not running")
    return 0 if state else 1


if __name__ == "__main__":
    sys.exit(main())
