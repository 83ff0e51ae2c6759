"""The local environment's sandbox: reuse a running one, or start a private one for the run.

This module is the only place in the library that imports the sandbox (:func:`sandbox_package`; the CLI asks
it too): the checks reach the sandbox over HTTP, SQL and SMTP like any deployment. The sandbox is not part of
the installed distribution: it ships with the postdeploy repository (and its server dependencies with the
``sandbox`` extra), and is found from the directory a run starts in.

A private sandbox lives as long as the run, whatever ends it:

* the run ends normally or on an error: the plugin calls the stopper in ``pytest_unconfigure``;
* SIGTERM (``timeout``, CI cancellation), SIGINT (Ctrl-C) or SIGHUP (closed terminal): the signal handler
  stops the sandbox at once, then raises :class:`Interrupted` (a ``KeyboardInterrupt``) in the main thread, so
  pytest handles it like Ctrl-C: it writes its summary and the results of what ran, reaches
  ``pytest_unconfigure`` and exits with code 2 (``ExitCode.INTERRUPTED``). The code is pytest's "interrupted"
  rather than 128+signum because a plugin cannot change pytest's exit code once the session is unwinding, and
  exiting from the handler would skip the summary and the results. A signal that arrives while the sandbox is
  being stopped is ignored (the stop finishes); once it is stopped, the previous handlers are back;
* the interpreter exits some other way: an ``atexit`` fallback runs the stopper;
* the pytest process is killed with SIGKILL: nothing can run, but the next run that uses the local sandbox
  stops the orphaned sandbox and removes its temporary directory (each private directory records its owner).

A signal during the sandbox's start makes the launcher stop what it had started (the start is covered too).
"""

from __future__ import annotations

import atexit
import importlib.metadata
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import SandboxStartError
from .redact import register

PRIVATE_PREFIX = "postdeploy-sandbox-"
OWNER_FILE = "owner.json"
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def variables(status: dict[str, Any]) -> dict[str, str]:
    """The ``${SANDBOX_*}`` variables ``environments/local.yaml`` is written with."""
    services = status["services"]
    found = {f"SANDBOX_{name.upper()}_URL": info["url"] for name, info in services.items()}
    found["SANDBOX_SMTP_PORT"] = str(services.get("maildev", {}).get("smtp_port", ""))
    database = status.get("database", {})
    found["SANDBOX_DATABASE_DSN"] = database.get("readonly_dsn", "")
    for role, account in status.get("accounts", {}).items():
        found[f"SANDBOX_{role.upper()}_EMAIL"] = account["email"]
        found[f"SANDBOX_{role.upper()}_PASSWORD"] = account["password"]
        register(account["password"])
    register(status.get("service_token"))
    for key in ("dsn", "readonly_dsn", "app_dsn"):
        if database.get(key):
            register(database[key])
    return found


def shared_state_dir() -> Path:
    launcher = sandbox_package().launcher

    default = getattr(launcher, "default_state_dir", None)
    return Path(default()) if callable(default) else Path(os.environ.get("POSTDEPLOY_SANDBOX_DIR", ".postdeploy/sandbox"))


# ---- finding the sandbox -----------------------------------------------------------------------


def sandbox_package(start: Path | None = None) -> ModuleType:
    """The sandbox package (``sandbox``, with its ``launcher`` and ``cli`` loaded).

    It is importable when the run starts in the repository (pytest puts the root, where ``conftest.py`` is,
    on ``sys.path``); the ``postdeploy`` command finds it from the current directory or one of its parents.
    A module named ``sandbox`` that is not postdeploy's (a project's own folder) is not taken for it.
    :class:`SandboxStartError` says what to do when it is missing or its server dependencies are.
    """
    here = Path(start or Path.cwd()).resolve()
    module = _import_sandbox()
    if module is None:
        for folder in (here, *here.parents):
            if (folder / "sandbox" / "launcher.py").is_file() and (folder / "sandbox" / "__init__.py").is_file():
                sys.path.insert(0, str(folder))
                module = _import_sandbox()
                break
    if module is None:
        raise SandboxStartError(
            "the local sandbox is not here: it ships with the postdeploy repository, not with the installed "
            "package. Run from a checkout of the repository (`git clone` it, then `make smoke`), or verify a "
            "deployment of your own with `pytest --env=NAME` and an environment file that has no sandbox section.")
    missing = _missing_requirements("sandbox")
    if missing:
        raise SandboxStartError(
            f"the local sandbox's server dependencies are not installed ({', '.join(missing)}); install them "
            "with `pip install -e '.[sandbox]'` from the repository root (`make setup` does).")
    return module


def _import_sandbox() -> ModuleType | None:
    try:
        import sandbox
        import sandbox.cli
        import sandbox.launcher
    except ImportError:
        return None
    if not callable(getattr(sandbox.launcher, "start", None)) or not hasattr(sandbox.launcher, "SandboxError"):
        return None  # a project's own package named sandbox
    return sandbox


def _missing_requirements(extra: str) -> list[str]:
    """The distributions that postdeploy's ``extra`` requires and that are not installed (none when postdeploy
    itself is not installed as a distribution: then nothing can be said)."""
    try:
        requires = importlib.metadata.requires("postdeploy") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    missing = []
    for requirement in requires:
        if not re.search(r"""extra\s*==\s*["']""" + re.escape(extra) + """["']""", requirement):
            continue
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if name is None:
            continue
        try:
            importlib.metadata.version(name.group(0))
        except importlib.metadata.PackageNotFoundError:
            missing.append(name.group(0))
    return missing


# ---- a shared sandbox started with other settings ---------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    """A sandbox configuration variable this run sets to another value than the shared sandbox was started with."""

    name: str
    here: str  # shown to the user: the value in this run's environment (hidden when secret-like)
    sandbox: str  # shown to the user: what the sandbox was started with


def configuration_mismatches(state: Mapping[str, Any], environ: Mapping[str, str]) -> list[Mismatch]:
    """The sandbox configuration variables set in ``environ`` whose values differ from the sandbox's.

    ``state`` is the sandbox's status (its ``"configuration"``, as the launcher records it). Only variables this
    run sets (not empty) are compared; equal settings written differently (``DEBUG=1`` and ``true``) agree. A
    sandbox whose state records no configuration (an older launcher) differs from every variable that is set.
    """
    launcher = sandbox_package().launcher

    wanted = launcher.configuration_record(environ)
    recorded = state.get("configuration")
    found = []
    for name in launcher.CONFIG_VARIABLES:
        raw = environ.get(name)
        if raw is None or not raw.strip():
            continue
        secret = launcher.is_secret_variable(name)
        here = "set (value hidden)" if secret else repr(raw)
        if not isinstance(recorded, Mapping):
            found.append(Mismatch(name, here, "unknown (its launcher did not record its configuration)"))
            continue
        theirs = recorded.get(name)
        if theirs == wanted.get(name):
            continue
        if theirs is None:
            shown = "not set (the sandbox's default)"
        elif secret:
            shown = "another value (hidden)"
        else:
            shown = repr(theirs)
        found.append(Mismatch(name, here, shown))
    return found


def mismatch_message(state: Mapping[str, Any], mismatches: list[Mismatch]) -> str:
    names = [m.name for m in mismatches]
    details = "; ".join(f"{m.name} is {m.here} here but {m.sandbox} in the sandbox" for m in mismatches)
    where = state.get("state_dir", "the shared state directory")
    started = f", started {state['started_at']}" if state.get("started_at") else ""
    return (
        f"a shared sandbox is running ({where}{started}) with other settings than this run's environment asks "
        f"for: {details}. The run would verify that sandbox, not the configuration you set, so it stops here. "
        "Stop the shared sandbox with `postdeploy sandbox down` so that a private one starts with your settings, "
        f"or unset {', '.join(names)} to verify the shared sandbox as it is."
    )


# ---- stopping a private sandbox once, whatever ends the run ------------------------------------


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by the signal handlers: pytest handles it like Ctrl-C."""

    def __init__(self, signum: int, what: str) -> None:
        self.signum = signum
        super().__init__(f"{signal.Signals(signum).name} received: {what}")


class Stopper:
    """Stops a private sandbox: once (idempotent), from any thread, and never twice at the same time.

    ``started`` is False while the sandbox is being started: a signal then only interrupts the start (the
    launcher stops what it had started). Callbacks given to :meth:`after` run once the stopper has run.
    """

    def __init__(self, stop: Callable[[], None], *, started: bool = True) -> None:
        self._stop = stop
        self._lock = threading.Lock()
        self._after: list[Callable[[], None]] = []
        self.started = started
        self.done = False
        self.signalled: int | None = None
        self.guard: _Guard | None = None

    def after(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)

    def __call__(self) -> None:
        with self._lock:
            self._run()

    def try_stop(self) -> bool:
        """Stop unless another caller is stopping right now; never waits (for signal handlers). True if run."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._run()
        finally:
            self._lock.release()
        return True

    def _run(self) -> None:
        if self.done:
            return
        try:
            self._stop()
        finally:
            self.done = True
            self._finish()

    def _finish(self) -> None:
        for callback in self._after:
            try:
                callback()
            except Exception:  # noqa: BLE001, S110 - restoring handlers must never hide the outcome of the stop
                pass


class _Guard:
    """The signal handlers and the atexit fallback of one stopper."""

    def __init__(self, stopper: Stopper) -> None:
        self.stopper = stopper
        self.previous: dict[int, Any] = {}
        self.installed = False

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread; atexit still covers normal exits
        for signum in HANDLED_SIGNALS:
            try:
                current = signal.getsignal(signum)
                if current == signal.SIG_IGN:  # nohup, or a background job: the caller chose to ignore it
                    continue
                self.previous[signum] = signal.signal(signum, self.handle)
            except (ValueError, OSError):
                continue
        self.installed = True

    def restore(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, previous in list(self.previous.items()):
            try:
                if signal.getsignal(signum) == self.handle:  # someone else's handler since: leave it
                    signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
            except (ValueError, OSError):
                continue
            del self.previous[signum]

    def handle(self, signum: int, frame: Any) -> None:
        stopper = self.stopper
        if stopper.done:  # stopped already, and these handlers were not restored: behave as before them
            self.restore()
            signal.raise_signal(signum)
            return
        if not stopper.started:  # the start is under way: interrupt it once; the launcher cleans up
            if stopper.signalled is None:
                stopper.signalled = signum
                raise Interrupted(signum, "the run was interrupted while its private sandbox was starting; "
                                          "what had started was stopped")
            return
        if stopper.signalled is not None:
            return
        stopper.signalled = signum
        if not stopper.try_stop():
            return  # a stop is under way (pytest_unconfigure, atexit): let it finish, the run is ending anyway
        raise Interrupted(signum, "the run was interrupted; its private sandbox was stopped")


_GUARDS_LOCK = threading.Lock()


def install_signal_cleanup(stop: Callable[[], None]) -> Stopper:
    """Make sure ``stop`` runs once whatever ends the run: SIGTERM, SIGINT, SIGHUP, or interpreter exit.

    Returns the :class:`Stopper` to call instead of ``stop`` (``stop`` itself when it is one already, which is
    what :func:`ensure_sandbox` returns: its handlers are in place from before the start, so calling this
    again for it changes nothing). When the stopper has run, the previous signal handlers are restored and
    the atexit fallback is removed. Signals the process ignores (``nohup``) stay ignored.
    """
    stopper = stop if isinstance(stop, Stopper) else Stopper(stop)
    with _GUARDS_LOCK:
        if stopper.guard is not None or stopper.done:
            return stopper
        guard = stopper.guard = _Guard(stopper)

    def uninstall() -> None:
        guard.restore()
        atexit.unregister(stopper)

    stopper.after(uninstall)
    guard.install()
    atexit.register(stopper)
    return stopper


# ---- private sandboxes -------------------------------------------------------------------------


def _write_owner(private: Path) -> None:
    launcher = sandbox_package().launcher

    record = {"pid": os.getpid(), "start_time": launcher.process_start_time(os.getpid())}
    (private / OWNER_FILE).write_text(json.dumps(record))


def reap_orphans(tmp: Path | None = None) -> list[Path]:
    """Stop and remove the private sandboxes of runs that died without cleaning up (SIGKILL, power loss).

    Only directories that record their owner, belong to this user, and whose owner process is gone.
    """
    launcher = sandbox_package().launcher

    base = Path(tmp or tempfile.gettempdir())
    removed = []
    for path in base.glob(PRIVATE_PREFIX + "*"):
        try:
            if not path.is_dir() or path.stat().st_uid != os.getuid():
                continue
            owner = json.loads((path / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(owner, dict) or launcher.process_alive(owner.get("pid", -1), owner.get("start_time")):
            continue
        try:
            launcher.stop(path)
        except Exception:  # noqa: BLE001, S112 - a leftover that cannot be stopped must not stop this run
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def ensure_sandbox() -> tuple[dict[str, str], Stopper | None]:
    """Variables of a running sandbox, starting a private one (and its stopper) if none runs.

    A shared sandbox is reused only when the sandbox configuration variables this run sets agree with the
    ones it was started with (else :class:`SandboxStartError` says which differ and how to fix it). A private
    sandbox's stopper is guarded from the start by :func:`install_signal_cleanup`.
    """
    launcher = sandbox_package().launcher
    reap_orphans()
    running = launcher.status(shared_state_dir())
    if running:
        mismatches = configuration_mismatches(running, os.environ)
        if mismatches:
            raise SandboxStartError(mismatch_message(running, mismatches))
        return variables(running), None
    private = Path(tempfile.mkdtemp(prefix=PRIVATE_PREFIX))

    def stop() -> None:
        try:
            launcher.stop(private)
        finally:
            shutil.rmtree(private, ignore_errors=True)

    stopper = install_signal_cleanup(Stopper(stop, started=False))
    try:
        _write_owner(private)
        status = launcher.start(private, env=dict(os.environ))
        stopper.started = True
    except launcher.SandboxError as exc:
        stopper()  # the launcher stopped what it had started; this removes the directory
        raise SandboxStartError(f"the local sandbox did not start: {exc}") from None
    except BaseException as exc:
        # interrupted: inside the start the launcher stopped what it had started; just after it, this stops it
        stopper()
        if isinstance(exc, Interrupted):  # pytest's terminal is not set up yet: say why the run ends
            print(f"postdeploy: {exc}", file=sys.stderr, flush=True)
        raise
    return variables(status), stopper
