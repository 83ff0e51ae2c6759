"""`postdeploy sandbox up|down|status [--json]` (also `python -m sandbox ...`)."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from . import launcher


def default_state_dir() -> Path:
    env = os.environ.get("POSTDEPLOY_SANDBOX_DIR")
    if env:
        return Path(env)
    here = Path.cwd()
    for d in [here, *here.parents]:
        if (d / "pyproject.toml").exists() or (d / ".git").exists():
            return d / ".postdeploy" / "sandbox"
    return here / ".postdeploy" / "sandbox"


def _describe(st: dict) -> str:
    s = st["services"]
    lines = [
        f"  api        {s['api']['url']}   (health {s['api']['url']}{s['api']['health']})",
        f"  worker     {s['worker']['url']}   (health {s['worker']['url']}{s['worker']['health']})",
        f"  frontend   {s['frontend']['url']}   (login {s['frontend']['url']}/login)",
        f"  MailDev UI {s['maildev']['url']}   (SMTP {s['maildev']['smtp_host']}:{s['maildev']['smtp_port']})",
        f"  database   {st['database']['dsn']}",
        f"  read-only  {st['database']['readonly_dsn']}",
        f"  faults     {', '.join(st['faults']) or 'none'}",
        f"  state dir  {st['state_dir']}",
        "  accounts   " + ", ".join(f"{k}: {a['email']} / {a['password']}" for k, a in st["accounts"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="postdeploy sandbox",
                                     description="Run the reference notification platform locally.")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="where the sandbox keeps its state (default: $POSTDEPLOY_SANDBOX_DIR or "
                             "<repo>/.postdeploy/sandbox)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start everything in the background and wait until healthy")
    sub.add_parser("down", help="stop every process and remove the data")
    p_status = sub.add_parser("status", help="show what runs")
    p_status.add_argument("--json", action="store_true", help="machine-readable status")
    args = parser.parse_args(argv)
    state_dir = (args.state_dir or default_state_dir()).resolve()

    if args.command == "up":
        # Ctrl-C or SIGTERM while starting: start() stops what it started, then we exit 130
        prev = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            st = launcher.start(state_dir)
        except launcher.SandboxError as e:
            print(f"sandbox: failed to start: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("sandbox: interrupted; everything started was stopped", file=sys.stderr)
            return 130
        finally:
            signal.signal(signal.SIGTERM, prev)
        if st.get("already_running"):
            print(f"sandbox: already up (started {st['started_at']})")
        else:
            print(f"sandbox: up in {st.get('startup_seconds', '?')} s")
        print(_describe(st))
        return 0
    if args.command == "down":
        stopped = launcher.stop(state_dir)
        print("sandbox: stopped" if stopped else "sandbox: nothing was running")
        return 0
    st = launcher.status(state_dir)
    if args.json:
        print(json.dumps(st, indent=2))
        return 0 if st else 3
    if not st:
        print(f"sandbox: not running ({state_dir})")
        return 3
    print(f"sandbox: up since {st['started_at']}")
    print(_describe(st))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
