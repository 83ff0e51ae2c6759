"""Start, inspect and stop a sandbox deployment of the notification platform.

The suite's pytest plugin and CLI import only this module:

    start(state_dir, env=None, ports=None) -> dict   start everything, wait until healthy, write state.json
    status(state_dir) -> dict | None                 what runs there (None: nothing; a crashed run is cleaned up)
    stop(state_dir) -> bool                          stop every process it started, remove the data

Every component is its own OS process in its own process group (session), bound to 127.0.0.1.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import glob
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Mapping

import httpx
import psycopg

from . import config, db

SANDBOX_DIR = Path(__file__).resolve().parent
REPO_ROOT = SANDBOX_DIR.parent
HOST = "127.0.0.1"
STATE_FILE = "state.json"
PIDS_FILE = "pids.json"
LOCK_FILE = "launcher.lock"
HEALTH_TIMEOUT_S = float(os.environ.get("SANDBOX_START_TIMEOUT", "30"))
PYTHON_COMPONENTS = ("api", "worker", "frontend")

# the variables the platform reads as its configuration (defined once: config.CONFIG_VARIABLES); state.json records
# how a sandbox was started (postdeploy.local compares them through this name)
CONFIG_VARIABLES = config.CONFIG_VARIABLES
_SECRET_VARIABLE = re.compile(r"SECRET|TOKEN|PASSWORD|KEY")

# processes started by this Python process, so they can be reaped (no zombies in long-lived callers)
_children: dict[int, subprocess.Popen] = {}


class SandboxError(Exception):
    """A sandbox could not be started (or stopped). str() is user-facing: the component and its log tail."""


# ----------------------------------------------------------------------------------------------- helpers


_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free TCP port on HOST, chosen below the kernel's ephemeral range.

    A port the kernel hands out for bind(0) comes from the same range as the source ports of outgoing
    connections, so between choosing it and a component binding it, any client on the machine may take it
    (seen as MailDev's EADDRINUSE under a parallel test run). Ports below that range are only ever taken by
    an explicit bind; the few collisions left (two sandboxes starting at once) are retried by start().
    """
    low = max(_ephemeral_low(), 12000)
    rng = secrets.SystemRandom()
    for _ in range(200):
        candidate = rng.randrange(10000, low)
        if candidate in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, candidate))
            except OSError:
                continue
        _HANDED_OUT.add(candidate)
        return candidate
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _port_taken(error: BaseException) -> bool:
    text = str(error).lower()
    return "eaddrinuse" in text or "address already in use" in text


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    rows = text.rstrip().splitlines()[-lines:]
    return "\n".join("    " + r for r in rows) if rows else "(log is empty)"


def _proc_start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    if rest[0] in ("Z", "X"):
        return None
    return rest[19]


def _alive(rec: dict) -> bool:
    st = _proc_start_time(rec["pid"])
    return st is not None and (rec.get("start_time") is None or st == rec.get("start_time"))


def process_start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, from /proc), None if it is gone: with the pid, an
    identity that survives pid reuse."""
    return _proc_start_time(pid)


def process_alive(pid: int, start_time: str | None = None) -> bool:
    """Whether the process ``pid`` runs (and, given its ``start_time``, is still that same process)."""
    return isinstance(pid, int) and pid > 0 and _alive({"pid": pid, "start_time": start_time})


def _is_root() -> bool:
    return os.geteuid() == 0


def _pg_user() -> pwd.struct_passwd | None:
    if not _is_root():
        return None
    for name in ("postgres",):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise SandboxError("postgres: running as root needs a 'postgres' system user to run the cluster as")


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), uid, gid)


def _traversable_by_others(path: Path) -> bool:
    p = path.resolve()
    for anc in [p, *p.parents]:
        try:
            if not os.stat(anc).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


def is_secret_variable(name: str) -> bool:
    return bool(_SECRET_VARIABLE.search(name))


def configuration_record(env: Mapping[str, str]) -> dict[str, str]:
    """The sandbox configuration in ``env`` as ``state.json`` records it under "configuration".

    Every variable of ``CONFIG_VARIABLES`` that is set (not empty) is recorded, the booleans always (unset is
    "false"). Values are normalised so that equal settings compare equal: booleans as "true"/"false",
    ``SANDBOX_FAULTS`` sorted, others stripped; a secret-like variable (``JWT_SECRET``, ``SERVICE_TOKEN``,
    ``SMTP_PASSWORD``) is recorded as a SHA-256 digest, never its value.
    """
    record: dict[str, str] = {}
    for name in CONFIG_VARIABLES:
        raw = env.get(name)
        if name in config.BOOLEAN_VARIABLES:
            record[name] = "true" if config.env_bool_from(env, name) else "false"
            continue
        value = (raw or "").strip()
        if not value:
            continue
        if name == "SANDBOX_FAULTS":
            value = ",".join(sorted({f.strip() for f in value.split(",") if f.strip()}))
        elif is_secret_variable(name):
            value = "sha256:" + hashlib.sha256(value.encode()).hexdigest()
        record[name] = value
    return record


# ----------------------------------------------------------------------------------------------- postgres


def find_pg_bin() -> Path:
    cands: list[Path] = []
    if os.environ.get("PG_BIN"):
        cands.append(Path(os.environ["PG_BIN"]))
    w = shutil.which("initdb")
    if w:
        cands.append(Path(w).resolve().parent)
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=5)
        if out.returncode == 0:
            cands.append(Path(out.stdout.strip()))
    except (OSError, subprocess.SubprocessError):
        pass
    cands += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for c in cands:
        if (c / "initdb").exists() and (c / "postgres").exists():
            return c
    raise SandboxError("postgres: no PostgreSQL binaries found (looked at $PG_BIN, PATH, pg_config, "
                       "/usr/lib/postgresql/*/bin); install PostgreSQL or set PG_BIN")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "postdeploy"


def _template_cluster(pg_bin: Path) -> Path:
    """An initdb'd cluster cached per PostgreSQL version; copied for each sandbox (saves ~1 s)."""
    ver = subprocess.run([str(pg_bin / "postgres"), "--version"], capture_output=True, text=True).stdout.split()[-1]
    target = _cache_dir() / f"pg-template-{ver}"
    if (target / "PG_VERSION").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="postdeploy-initdb-"))
    os.chmod(work, 0o755)
    data = work / "data"
    user = _pg_user()
    kw = {}
    if user:
        os.chown(work, user.pw_uid, user.pw_gid)
        kw = {"user": user.pw_uid, "group": user.pw_gid}
    r = subprocess.run([str(pg_bin / "initdb"), "-D", str(data), "--no-locale", "-E", "UTF8", "-A", "trust",
                        "-U", "postgres", "--no-sync", "--no-instructions"],
                       capture_output=True, text=True, cwd="/", **kw)
    if r.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise SandboxError(f"postgres: initdb failed:\n{r.stdout}\n{r.stderr}")
    tmp_target = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.copytree(data, tmp_target, symlinks=True)
    shutil.rmtree(work, ignore_errors=True)
    try:
        os.rename(tmp_target, target)
    except OSError:
        shutil.rmtree(tmp_target, ignore_errors=True)
    return target


# ----------------------------------------------------------------------------------------------- state files


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


@contextmanager
def _locked(state_dir: Path, blocking: bool = True):
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class _Run:
    """Book-keeping of one start: processes and directories, recorded on disk as they are created."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.procs: dict[str, dict] = {}
        self.dirs: list[str] = []
        self.popen: dict[str, subprocess.Popen] = {}

    def save(self) -> None:
        _write_json(self.state_dir / PIDS_FILE, {"processes": self.procs, "dirs": self.dirs})

    def spawn(self, name: str, cmd: list[str], env: dict, log: Path, cwd: Path, user=None,
              kill_signal: int = signal.SIGTERM) -> subprocess.Popen:
        logf = open(log, "ab")
        kw = {}
        if user is not None:
            kw = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, env=env,
                                 cwd=str(cwd), start_new_session=True, **kw)
        except OSError as e:
            raise SandboxError(f"{name}: cannot start {cmd[0]}: {e}")
        finally:
            logf.close()
        _children[p.pid] = p
        self.popen[name] = p
        self.procs[name] = {"pid": p.pid, "pgid": p.pid, "start_time": _proc_start_time(p.pid),
                            "kill_signal": int(kill_signal), "log": str(log)}
        self.save()
        return p


def _kill_group(rec: dict, sig: int) -> None:
    if not _alive(rec):
        return
    try:
        os.killpg(rec["pgid"], sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        try:
            os.kill(rec["pid"], sig)
        except OSError:
            pass


def _terminate(procs: Mapping[str, dict], timeout: float = 5.0) -> bool:
    """Stop the given process groups: their own signal first, SIGKILL after timeout. True if any was alive."""
    order = ["frontend", "api", "worker", "maildev", "postgres"]
    names = sorted(procs, key=lambda n: order.index(n) if n in order else -1)
    any_alive = False
    for n in names:
        rec = procs[n]
        if _alive(rec):
            any_alive = True
            _kill_group(rec, rec.get("kill_signal", signal.SIGTERM))
    deadline = time.monotonic() + timeout
    for n in names:
        rec = procs[n]
        p = _children.get(rec["pid"])
        while _alive(rec) and time.monotonic() < deadline:
            if p is not None:
                try:
                    p.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
            else:
                time.sleep(0.05)
        if _alive(rec):
            _kill_group(rec, signal.SIGKILL)
        # also kill any remaining members of the group (e.g. postgres backends)
        try:
            os.killpg(rec["pgid"], signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if p is not None:
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            _children.pop(rec["pid"], None)
    return any_alive


def _kill_unrecorded_children(run: _Run, paths: list[str]) -> None:
    """Kill (with their process groups) the children this process started for ``run`` that it did not record.

    A start interrupted by a signal while ``Popen`` was starting a component (after the fork, before ``Popen``
    returned) leaves a child that nothing recorded. It is a direct child of this process whose command line or
    environment names the sandbox's directories (its log file, data or mail directory).
    """
    me = os.getpid()
    known = {rec["pid"] for rec in run.procs.values()}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in known:
            continue
        pid = int(entry)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != me:
                continue
            text = (Path(f"/proc/{pid}/cmdline").read_bytes() + Path(f"/proc/{pid}/environ").read_bytes()).decode(
                errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if not any(p and p in text for p in paths):
            continue
        group = int(fields[2])
        try:
            if group == pid:  # its own group (start_new_session): the group holds what it started
                os.killpg(group, signal.SIGKILL)
            else:  # not yet in a session of its own: never signal this process's group
                os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        _children.pop(pid, None)


def _remove_data(state_dir: Path, dirs: list[str]) -> None:
    for d in dirs:
        p = Path(d)
        if p.is_symlink():
            p.unlink()
        else:
            shutil.rmtree(p, ignore_errors=True)
    for name in ("pgdata", "maildev", "run", STATE_FILE, PIDS_FILE):
        p = state_dir / name
        if p.is_symlink() or p.is_file():
            p.unlink(missing_ok=True)
        elif p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def _cleanup(state_dir: Path) -> bool:
    rec = _read_json(state_dir / PIDS_FILE) or {}
    state = _read_json(state_dir / STATE_FILE) or {}
    procs = dict(state.get("processes") or {})
    procs.update(rec.get("processes") or {})
    stopped = _terminate(procs) if procs else False
    dirs = list(dict.fromkeys((rec.get("dirs") or []) + (state.get("dirs") or [])))
    _remove_data(state_dir, dirs)
    return stopped


# ----------------------------------------------------------------------------------------------- public API


def status(state_dir: Path) -> dict | None:
    """The running sandbox's status dict, or None. A crashed or stale run is cleaned up (then None)."""
    state_dir = Path(state_dir).resolve()
    if not state_dir.exists():
        return None
    with _locked(state_dir, blocking=False) as got:
        if not got:  # another process is starting or stopping a sandbox there right now
            return None
        return _status_locked(state_dir)


def _status_locked(state_dir: Path) -> dict | None:
    state = _read_json(state_dir / STATE_FILE)
    if state and all(_alive(r) for r in state.get("processes", {}).values()):
        return _public(state)
    if state or (state_dir / PIDS_FILE).exists():
        _cleanup(state_dir)
    return None


def _public(state: dict) -> dict:
    return {k: v for k, v in state.items() if k not in ("processes", "dirs")}


def stop(state_dir: Path) -> bool:
    """Stop every process the sandbox in state_dir started and remove its data. True if something was stopped."""
    state_dir = Path(state_dir).resolve()
    if not state_dir.exists():
        return False
    with _locked(state_dir):
        return _cleanup(state_dir)


def start(state_dir: Path, env: Mapping[str, str] | None = None, ports: Mapping[str, int] | None = None) -> dict:
    """Start PostgreSQL, MailDev, api, worker and frontend; wait until all are healthy; return the status dict.

    When a sandbox already runs in state_dir, its status is returned with "already_running": True.
    On failure everything started is stopped and SandboxError says which component failed, with its log tail.
    """
    state_dir = Path(state_dir).resolve()
    base_env = dict(os.environ if env is None else env)
    try:
        faults = config.parse_faults(base_env.get("SANDBOX_FAULTS"))
    except config.ConfigError as e:
        raise SandboxError(f"configuration: {e}") from None
    with _locked(state_dir):
        existing = _status_locked(state_dir)
        if existing:
            return {**existing, "already_running": True}
        attempts = 1 if ports else 3  # ports the caller chose are not changed behind their back
        for attempt in range(1, attempts + 1):
            run = _Run(state_dir)
            try:
                return _start(run, state_dir, base_env, dict(ports or {}), faults)
            except BaseException as e:
                _terminate(run.procs)
                _kill_unrecorded_children(run, [str(state_dir), *run.dirs])
                _remove_data(state_dir, run.dirs)
                if isinstance(e, SandboxError):
                    if attempt < attempts and _port_taken(e):
                        continue  # another process bound a chosen port first: choose again
                    raise
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                raise SandboxError(f"sandbox: unexpected error while starting: {e!r}") from e
        raise AssertionError("unreachable")


def _start(run: _Run, state_dir: Path, base_env: dict, ports: dict, faults: list[str]) -> dict:
    t0 = time.monotonic()
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for n in ("postgres", "maildev", "migrations", *PYTHON_COMPONENTS):
        (logs / f"{n}.log").write_text("")
    for n in ("maildev", "run"):
        shutil.rmtree(state_dir / n, ignore_errors=True)

    port = {k: ports.get(k) or free_port() for k in ("postgres", "smtp", "maildev", *PYTHON_COMPONENTS)}
    url = {k: f"http://{HOST}:{port[k]}" for k in ("maildev", *PYTHON_COMPONENTS)}
    pw = {k: secrets.token_urlsafe(16) for k in ("postgres", "app_user", "postdeploy_readonly")}

    # -- PostgreSQL and MailDev at once
    pg_bin = find_pg_bin()
    user = _pg_user()
    template = _template_cluster(pg_bin)
    if user is None or _traversable_by_others(state_dir):
        data = state_dir / "pgdata"
        sock = state_dir / "run"
        shutil.rmtree(data, ignore_errors=True)
    else:  # the postgres user cannot reach state_dir: keep the cluster in /tmp, linked from the state dir
        tmp = Path(tempfile.mkdtemp(prefix="postdeploy-pg-"))
        run.dirs.append(str(tmp))
        os.chmod(tmp, 0o755)
        data, sock = tmp / "data", tmp / "run"
        link = state_dir / "pgdata"
        if link.is_symlink() or link.is_file():
            link.unlink()
        else:
            shutil.rmtree(link, ignore_errors=True)
        link.symlink_to(data)
    if len(str(sock)) > 90:
        short = Path(tempfile.mkdtemp(prefix="pdsb-"))
        os.chmod(short, 0o755)
        run.dirs.append(str(short))
        sock = short
    run.dirs.append(str(data))
    run.save()
    if subprocess.run(["cp", "-a", str(template), str(data)], capture_output=True).returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(template, data, symlinks=True)
    sock.mkdir(parents=True, exist_ok=True)
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
    if user:
        _chown_tree(data, user.pw_uid, user.pw_gid)
        os.chown(sock, user.pw_uid, user.pw_gid)
        os.chown(logs / "postgres.log", user.pw_uid, user.pw_gid)
    os.chmod(data, 0o700)
    pg_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
    run.spawn("postgres", [str(pg_bin / "postgres"), "-D", str(data), "-p", str(port["postgres"]),
                           "-c", f"listen_addresses={HOST}", "-c", f"unix_socket_directories={sock}",
                           "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                           "-c", "shared_buffers=32MB", "-c", "max_connections=100",
                           "-c", "log_min_messages=warning", "-c", "timezone=UTC"],
              pg_env, logs / "postgres.log", Path("/"), user=user, kill_signal=signal.SIGINT)

    maildev_bin = _find_maildev()
    maildir = state_dir / "maildev"
    maildir.mkdir(parents=True, exist_ok=True)
    md_env = {k: v for k, v in base_env.items() if not k.startswith("MAILDEV_")}
    run.spawn("maildev", [maildev_bin, "--ip", HOST, "--web-ip", HOST, "--smtp", str(port["smtp"]),
                          "--web", str(port["maildev"]), "--mail-directory", str(maildir)],
              md_env, logs / "maildev.log", REPO_ROOT)

    dsn = f"postgresql://postgres:{pw['postgres']}@{HOST}:{port['postgres']}/platform"
    app_dsn = f"postgresql://app_user:{pw['app_user']}@{HOST}:{port['postgres']}/platform"
    ro_dsn = f"postgresql://postdeploy_readonly:{pw['postdeploy_readonly']}@{HOST}:{port['postgres']}/platform"

    # -- api, worker, frontend at once (started before the database is ready, to overlap their imports)
    service_token = base_env.get("SERVICE_TOKEN") or secrets.token_urlsafe(32)
    common = dict(base_env)
    common.update({
        "SANDBOX_DATABASE_URL": app_dsn,
        "SANDBOX_API_URL": url["api"],
        "SANDBOX_FRONTEND_URL": url["frontend"],
        "SANDBOX_FAULTS": ",".join(faults),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), base_env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "PYTHONUNBUFFERED": "1",
        "SERVICE_TOKEN": service_token,
        "JWT_SECRET": base_env.get("JWT_SECRET") or secrets.token_urlsafe(48),
    })
    common.setdefault("SMTP_HOST", HOST)
    common.setdefault("SMTP_PORT", str(port["smtp"]))
    for name in PYTHON_COMPONENTS:
        e = dict(common)
        e["SANDBOX_PORT"] = str(port[name])
        e["SANDBOX_LOG_FILE"] = str(logs / f"{name}.log")
        run.spawn(name, [sys.executable, "-m", f"sandbox.{name}"], e, logs / f"{name}.log", REPO_ROOT)

    # the platform processes import while the database is set up; they retry until it is ready
    # -- wait for postgres, create roles and the database, migrate, seed
    _wait_postgres(run, sock, port["postgres"], logs)
    try:
        _setup_database(sock, port["postgres"], pw, faults, logs / "migrations.log")
    except SandboxError:
        raise
    except Exception as e:
        raise SandboxError(f"migrations: setting up the database failed: {e}\n{_tail(logs / 'migrations.log')}")

    health = {"api": "/health", "worker": "/health", "frontend": "/health", "maildev": "/api/healthz"}
    # in maintenance mode the api (and so the frontend's api check) answers 503 by design: any answer will do
    lenient = {"api", "frontend"} if config.env_bool_from(base_env, "MAINTENANCE_MODE") else set()
    if "database_unreachable_from_api" in faults:
        # the api cannot reach its database: its honest health (and so the frontend's) answers 503 by design
        lenient |= {"api", "frontend"}
    if base_env.get("SMTP_HOST") or base_env.get("SMTP_PORT"):
        # an SMTP server of the caller's choosing, not the sandbox's MailDev: the worker may rightly report it
        # down (a misconfigured deployment still starts; its health says what is wrong)
        lenient.add("worker")
    _wait_healthy(run, {n: url[n] + health[n] for n in health}, logs, lenient)

    accounts = {k: {"email": a["email"], "password": a["password"], "role": a["role"]}
                for k, a in db.ACCOUNTS.items()}
    state = {
        "state_dir": str(state_dir),
        "started_at": _now_iso(),
        "startup_seconds": round(time.monotonic() - t0, 2),
        "faults": faults,
        "configuration": configuration_record(base_env),
        "services": {
            "api": {"url": url["api"], "health": "/health", "pid": run.procs["api"]["pid"]},
            "worker": {"url": url["worker"], "health": "/health", "pid": run.procs["worker"]["pid"]},
            "frontend": {"url": url["frontend"], "health": "/health", "pid": run.procs["frontend"]["pid"]},
            "maildev": {"url": url["maildev"], "smtp_host": HOST, "smtp_port": port["smtp"],
                        "health": "/api/healthz", "pid": run.procs["maildev"]["pid"]},
        },
        "database": {"dsn": dsn, "readonly_dsn": ro_dsn, "app_dsn": app_dsn, "host": HOST,
                     "port": port["postgres"], "name": "platform", "pid": run.procs["postgres"]["pid"]},
        "accounts": accounts,
        "service_token": service_token,
        "logs": {n: str(logs / f"{n}.log") for n in ("postgres", "maildev", "migrations", *PYTHON_COMPONENTS)},
        "processes": run.procs,
        "dirs": run.dirs,
    }
    _write_json(state_dir / STATE_FILE, state)
    (state_dir / PIDS_FILE).unlink(missing_ok=True)
    return _public(state)


def _find_maildev() -> str:
    cands = [os.environ.get("MAILDEV_BIN") or "", str(REPO_ROOT / "node_modules" / ".bin" / "maildev"),
             str(Path.cwd() / "node_modules" / ".bin" / "maildev"), shutil.which("maildev") or ""]
    for c in cands:
        if c and os.path.exists(c):
            return c
    raise SandboxError("maildev: MailDev not found; run `npm install` at the repository root (or set MAILDEV_BIN)")


def _wait_postgres(run: _Run, sock: Path, port: int, logs: Path) -> None:
    deadline = time.monotonic() + 15
    p = run.popen["postgres"]
    while True:
        if p.poll() is not None:
            raise SandboxError(f"postgres: exited with code {p.returncode} while starting; log tail:\n"
                               f"{_tail(logs / 'postgres.log')}")
        try:
            psycopg.connect(host=str(sock), port=port, user="postgres", dbname="postgres",
                            connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise SandboxError(f"postgres: not accepting connections after 15 s; log tail:\n"
                                   f"{_tail(logs / 'postgres.log')}")
            time.sleep(0.03)


def _setup_database(sock: Path, port: int, pw: dict, faults: list[str], log: Path) -> None:
    with psycopg.connect(host=str(sock), port=port, user="postgres", dbname="postgres", autocommit=True) as c:
        c.execute(f"ALTER ROLE postgres PASSWORD '{pw['postgres']}'")
        c.execute(f"CREATE ROLE app_user LOGIN PASSWORD '{pw['app_user']}'")
        c.execute(f"CREATE ROLE postdeploy_readonly LOGIN PASSWORD '{pw['postdeploy_readonly']}'")
        c.execute("ALTER ROLE postdeploy_readonly SET default_transaction_read_only = on")
        c.execute("ALTER ROLE postdeploy_readonly SET statement_timeout = '10s'")
        c.execute("CREATE DATABASE platform")
    with psycopg.connect(host=str(sock), port=port, user="postgres", dbname="platform", autocommit=True) as c:
        v = db.migrate_up(c)
        with open(log, "a") as f:
            f.write(f"migrated to version {v}\n")
        db.seed(c)
        applied = db.apply_faults(c, faults)  # the database faults' SQL is declared with them, in config.FAULTS
        with open(log, "a") as f:
            f.write(f"seeded; database faults applied: {applied or 'none'}\n")


def _wait_healthy(run: _Run, urls: dict[str, str], logs: Path, lenient: set[str] = frozenset()) -> None:
    pending = dict(urls)
    last: dict[str, str] = {}
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    with httpx.Client(timeout=1.0) as client:
        while pending:
            for name in list(pending):
                p = run.popen[name]
                if p.poll() is not None:
                    raise SandboxError(f"{name}: exited with code {p.returncode} while starting; log tail "
                                       f"({logs / (name + '.log')}):\n{_tail(logs / f'{name}.log')}")
                try:
                    r = client.get(pending[name])
                    if r.status_code == 200 or (name in lenient and r.status_code == 503):
                        del pending[name]
                    else:
                        last[name] = f"HTTP {r.status_code}: {r.text[:300]}"
                except httpx.HTTPError as e:
                    last[name] = f"{type(e).__name__}"
            if not pending:
                return
            if time.monotonic() > deadline:
                name = next(iter(pending))
                raise SandboxError(
                    f"{name}: not healthy after {HEALTH_TIMEOUT_S:.0f} s at {pending[name]} "
                    f"(last answer: {last.get(name, 'none')}); log tail ({logs / (name + '.log')}):\n"
                    f"{_tail(logs / f'{name}.log')}")
            time.sleep(0.04)
