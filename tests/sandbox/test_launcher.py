"""up / status / down: no process left behind, crashed runs detected, failed starts explained."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox import launcher

from conftest import base_env, pids_alive

REPO = Path(__file__).resolve().parents[2]


def _cli(state_dir, *args):
    return subprocess.run([sys.executable, "-m", "sandbox", "--state-dir", str(state_dir), *args],
                          capture_output=True, text=True, cwd=REPO, env=base_env(), timeout=60)


def _procs_mentioning(text: str) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = open(f"/proc/{d}/cmdline", "rb").read().decode(errors="replace")
            except OSError:
                continue
            if text in cmd and pids_alive([int(d)]):
                out.append(int(d))
    return out


def _all_pids(st):
    return [s["pid"] for s in st["services"].values()] + [st["database"]["pid"]]


def test_cli_up_twice_status_crash_and_down(tmp_path):
    sd = tmp_path / "cli"
    r = _cli(sd, "up")
    assert r.returncode == 0, r.stderr
    assert "MailDev UI" in r.stdout and "postgresql://" in r.stdout and "/login" in r.stdout
    r2 = _cli(sd, "up")
    assert r2.returncode == 0 and "already up" in r2.stdout
    st = json.loads(_cli(sd, "status", "--json").stdout)
    assert set(st) >= {"state_dir", "started_at", "faults", "services", "database", "accounts", "service_token"}
    assert set(st["services"]) == {"api", "worker", "frontend", "maildev"}
    pids = _all_pids(st)
    assert len(pids_alive(pids)) == 5
    # a crash: the api dies; status notices, cleans up everything, and reports nothing running
    os.killpg(st["services"]["api"]["pid"], signal.SIGKILL)
    time.sleep(0.2)
    r = _cli(sd, "status", "--json")
    assert r.returncode == 3 and r.stdout.strip() == "null"
    assert pids_alive(pids) == [] and not (sd / "pgdata").exists() and not (sd / "state.json").exists()
    # up again, then down: nothing left
    assert _cli(sd, "up").returncode == 0
    st = json.loads(_cli(sd, "status", "--json").stdout)
    r = _cli(sd, "down")
    assert r.returncode == 0 and "stopped" in r.stdout
    time.sleep(0.1)
    assert pids_alive(_all_pids(st)) == [] and _procs_mentioning(str(sd)) == []
    assert _cli(sd, "down").stdout.strip() == "sandbox: nothing was running"


def test_unknown_fault_fails_fast_without_processes(tmp_path):
    with pytest.raises(launcher.SandboxError, match="unknown fault name.*bogus"):
        launcher.start(tmp_path / "x", env=base_env(SANDBOX_FAULTS="bogus"))
    assert launcher.status(tmp_path / "x") is None


def test_failed_start_names_component_and_cleans_up(tmp_path):
    sd = tmp_path / "busy"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        with pytest.raises(launcher.SandboxError) as ei:
            launcher.start(sd, env=base_env(), ports={"api": port})
    msg = str(ei.value)
    assert msg.startswith("api:") and "address already in use" in msg.lower()
    time.sleep(0.1)
    assert _procs_mentioning(str(sd)) == [] and not (sd / "pgdata").exists()
    assert launcher.status(sd) is None and launcher.stop(sd) is False
