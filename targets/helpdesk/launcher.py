"""Start, inspect and stop a helpdesk deployment on loopback.

    start(state_dir, env=None) -> dict   start MailDev, the API and the frontend, wait until healthy, write state.json
    status(state_dir) -> dict | None     what runs there (None: nothing; a crashed run is cleaned up)
    stop(state_dir) -> bool              stop every process it started, remove its data

Every component is its own OS process in its own process group (session), bound to 127.0.0.1.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from sandbox.launcher import (  # the same process care as the sandbox's: ports, logs, pids, state
    _read_json,
    _tail,
    _write_json,
    free_port,
    process_alive,
    process_start_time,
)

from . import config, db

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent
HOST = "127.0.0.1"
STATE_FILE = "state.json"
PIDS_FILE = "pids.json"
LOCK_FILE = "launcher.lock"
HEALTH_TIMEOUT_S = float(os.environ.get("HELPDESK_START_TIMEOUT", "30"))
COMPONENTS = ("maildev", "api", "frontend")
HEALTH = {"api": "/api/v1/utils/health-check/", "frontend": "/", "maildev": "/api/healthz"}
# variables of the caller's environment the helpdesk reads; not passed on, the launcher sets what it needs
_OWN_VARIABLES = ("HELPDESK_PORT", "HELPDESK_HOST", "HELPDESK_DB", "HELPDESK_API_URL", "FRONTEND_HOST",
                  "SMTP_HOST", "SMTP_PORT")

_children: dict[int, subprocess.Popen] = {}


class HelpdeskError(Exception):
    """The helpdesk could not be started. str() is user-facing: the component and its log tail."""


# ----------------------------------------------------------------------------------------------- helpers


def _alive(rec: Mapping) -> bool:
    return process_alive(rec["pid"], rec.get("start_time"))


@contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _terminate(procs: Mapping[str, dict], timeout: float = 5.0) -> bool:
    """SIGTERM each process group, SIGKILL what is left after ``timeout``. True if any was alive."""
    any_alive = False
    for rec in procs.values():
        if _alive(rec):
            any_alive = True
            try:
                os.killpg(rec["pgid"], signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + timeout
    for rec in procs.values():
        p = _children.get(rec["pid"])
        while _alive(rec) and time.monotonic() < deadline:
            if p is not None:
                try:
                    p.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
            else:
                time.sleep(0.05)
        try:  # whatever is left in the group (also children the component started)
            os.killpg(rec["pgid"], signal.SIGKILL)
        except OSError:
            pass
        if p is not None:
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            _children.pop(rec["pid"], None)
    return any_alive


def _cleanup(state_dir: Path) -> bool:
    procs = dict((_read_json(state_dir / STATE_FILE) or {}).get("processes") or {})
    procs.update((_read_json(state_dir / PIDS_FILE) or {}).get("processes") or {})
    stopped = _terminate(procs) if procs else False
    for name in ("data", "maildev"):
        shutil.rmtree(state_dir / name, ignore_errors=True)
    for name in (STATE_FILE, PIDS_FILE):
        (state_dir / name).unlink(missing_ok=True)
    return stopped


def _public(state: dict) -> dict:
    return {k: v for k, v in state.items() if k != "processes"}


def find_maildev() -> str:
    for c in (os.environ.get("MAILDEV_BIN") or "", str(REPO_ROOT / "node_modules" / ".bin" / "maildev"),
              str(Path.cwd() / "node_modules" / ".bin" / "maildev"), shutil.which("maildev") or ""):
        if c and os.path.exists(c):
            return c
    raise HelpdeskError("maildev: MailDev not found; run `npm install` at the repository root (or set MAILDEV_BIN)")


# ----------------------------------------------------------------------------------------------- public API


def status(state_dir: Path) -> dict | None:
    """The running helpdesk's state (state.json without the process records), or None."""
    state_dir = Path(state_dir).resolve()
    if not state_dir.exists():
        return None
    with _locked(state_dir):
        return _status_locked(state_dir)


def _status_locked(state_dir: Path) -> dict | None:
    state = _read_json(state_dir / STATE_FILE)
    if state and all(_alive(r) for r in state.get("processes", {}).values()):
        return _public(state)
    if state or (state_dir / PIDS_FILE).exists():
        _cleanup(state_dir)
    return None


def stop(state_dir: Path) -> bool:
    """Stop every process the helpdesk in ``state_dir`` started and remove its data. True if one was running."""
    state_dir = Path(state_dir).resolve()
    if not state_dir.exists():
        return False
    with _locked(state_dir):
        return _cleanup(state_dir)


def start(state_dir: Path, env: Mapping[str, str] | None = None) -> dict:
    """Start MailDev, the API and the frontend; wait until all are healthy; write state.json; return the state.

    ``env`` (default: this process's environment) is the components' environment: HELPDESK_FAULTS, the seeded
    accounts (FIRST_SUPERUSER, FIRST_SUPERUSER_PASSWORD, HELPDESK_USER_EMAIL, HELPDESK_USER_PASSWORD),
    SECRET_KEY... An unknown fault refuses the start before anything runs. A running helpdesk in ``state_dir``
    is returned as it is, with "already_running": True. On failure everything started is stopped.
    """
    state_dir = Path(state_dir).resolve()
    base_env = dict(os.environ if env is None else env)
    base_env.setdefault("PATH", os.environ.get("PATH", "/usr/bin:/bin"))  # MailDev's `env node` needs it
    try:
        faults = config.parse_faults(base_env.get("HELPDESK_FAULTS"))
    except config.ConfigError as e:
        raise HelpdeskError(f"configuration: {e}") from None
    with _locked(state_dir):
        existing = _status_locked(state_dir)
        if existing:
            return {**existing, "already_running": True}
        _cleanup(state_dir)
        for attempt in range(1, 4):
            procs: dict[str, dict] = {}
            try:
                return _start(state_dir, base_env, faults, procs)
            except BaseException as e:
                _terminate(procs)
                _cleanup(state_dir)
                if isinstance(e, HelpdeskError):
                    text = str(e).lower()
                    if attempt < 3 and ("address already in use" in text or "eaddrinuse" in text):
                        continue  # another process bound a chosen port first: choose again
                    raise
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                raise HelpdeskError(f"helpdesk: unexpected error while starting: {e!r}") from e
    raise AssertionError("unreachable")


def _start(state_dir: Path, base_env: dict, faults: list[str], procs: dict[str, dict]) -> dict:
    t0 = time.monotonic()
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    port = {k: free_port() for k in ("smtp", *COMPONENTS)}
    url = {k: f"http://{HOST}:{port[k]}" for k in COMPONENTS}
    popen: dict[str, subprocess.Popen] = {}

    def spawn(name: str, cmd: list[str], env: dict) -> None:
        log = logs / f"{name}.log"
        with open(log, "wb") as logf:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, env=env,
                                 cwd=str(REPO_ROOT), start_new_session=True)
        _children[p.pid] = popen[name] = p
        procs[name] = {"pid": p.pid, "pgid": p.pid, "start_time": process_start_time(p.pid), "log": str(log)}
        _write_json(state_dir / PIDS_FILE, {"processes": procs})

    accounts = config.accounts(base_env)
    db_path = state_dir / "data" / "helpdesk.db"
    db.init(db_path, accounts)

    maildir = state_dir / "maildev"
    maildir.mkdir(parents=True, exist_ok=True)
    spawn("maildev", [find_maildev(), "--ip", HOST, "--web-ip", HOST, "--smtp", str(port["smtp"]),
                      "--web", str(port["maildev"]), "--mail-directory", str(maildir)],
          {k: v for k, v in base_env.items() if not k.startswith("MAILDEV_")})

    common = {k: v for k, v in base_env.items() if k not in _OWN_VARIABLES}
    common.update({
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), base_env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "PYTHONUNBUFFERED": "1",
        "HELPDESK_FAULTS": ",".join(faults),
        "HELPDESK_DB": str(db_path),
        "HELPDESK_API_URL": url["api"],
        "FRONTEND_HOST": url["frontend"],
        "SMTP_HOST": HOST,
        "SMTP_PORT": str(port["smtp"]),
        "SECRET_KEY": base_env.get("SECRET_KEY") or secrets.token_urlsafe(32),
    })
    for name in ("api", "frontend"):
        spawn(name, [sys.executable, "-m", f"targets.helpdesk.{name}"], {**common, "HELPDESK_PORT": str(port[name])})

    _wait_healthy(popen, {n: url[n] + HEALTH[n] for n in COMPONENTS}, logs)
    state = {
        "target": "helpdesk",
        "state_dir": str(state_dir),
        "started_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "startup_seconds": round(time.monotonic() - t0, 2),
        "faults": faults,
        "services": {
            "api": {"url": url["api"], "health": HEALTH["api"], "openapi": "/api/v1/openapi.json",
                    "pid": procs["api"]["pid"]},
            "frontend": {"url": url["frontend"], "health": HEALTH["frontend"], "pid": procs["frontend"]["pid"]},
            "maildev": {"url": url["maildev"], "smtp_host": HOST, "smtp_port": port["smtp"],
                        "health": HEALTH["maildev"], "pid": procs["maildev"]["pid"]},
        },
        "database": {"path": str(db_path)},
        "accounts": accounts,
        "logs": {n: str(logs / f"{n}.log") for n in COMPONENTS},
        "processes": procs,
    }
    _write_json(state_dir / STATE_FILE, state)
    (state_dir / PIDS_FILE).unlink(missing_ok=True)
    return _public(state)


def _wait_healthy(popen: dict[str, subprocess.Popen], urls: dict[str, str], logs: Path) -> None:
    pending = dict(urls)
    last: dict[str, str] = {}
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    with httpx.Client(timeout=1.0) as client:
        while pending:
            for name in list(pending):
                p = popen[name]
                if p.poll() is not None:
                    raise HelpdeskError(f"{name}: exited with code {p.returncode} while starting; log tail "
                                        f"({logs / (name + '.log')}):\n{_tail(logs / f'{name}.log')}")
                try:
                    r = client.get(pending[name])
                    if r.status_code == 200:
                        del pending[name]
                    else:
                        last[name] = f"HTTP {r.status_code}: {r.text[:300]}"
                except httpx.HTTPError as e:
                    last[name] = type(e).__name__
            if pending and time.monotonic() > deadline:
                name = next(iter(pending))
                raise HelpdeskError(f"{name}: not healthy after {HEALTH_TIMEOUT_S:.0f} s at {pending[name]} "
                                    f"(last answer: {last.get(name, 'none')}); log tail:\n"
                                    f"{_tail(logs / f'{name}.log')}")
            if pending:
                time.sleep(0.05)
