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

from sandbox import config, launcher

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


# ---- the configuration a sandbox was started with, and a run that asks for another ---------------------------


def test_state_records_the_configuration_it_was_started_with(sandbox):
    recorded = sandbox.state["configuration"]
    assert recorded["RATE_LIMIT_PER_MINUTE"] == "100000" and recorded["SMTP_RETRY_BACKOFF_MS"] == "50"
    assert {recorded[n] for n in ("DEBUG", "ENABLE_DOCS", "MAINTENANCE_MODE")} == {"false"}
    assert "JWT_SECRET" not in recorded and "SMTP_PORT" not in recorded  # chosen by the launcher, not given
    on_disk = json.loads((Path(sandbox.state["state_dir"]) / "state.json").read_text())
    assert on_disk["configuration"] == recorded


def test_configuration_record_normalises_and_never_holds_a_secret():
    record = launcher.configuration_record({"DEBUG": " Yes ", "SANDBOX_FAULTS": "slow_api, auth_bypass",
                                            "JWT_SECRET": "s3cret-value", "CORS_ORIGINS": "*", "LOG_LEVEL": "",
                                            "UNRELATED": "x"})
    assert record["DEBUG"] == "true" and record["ENABLE_DOCS"] == "false"
    assert record["SANDBOX_FAULTS"] == "auth_bypass,slow_api" and record["CORS_ORIGINS"] == "*"
    assert record["JWT_SECRET"].startswith("sha256:") and "s3cret-value" not in json.dumps(record)
    assert "LOG_LEVEL" not in record and "UNRELATED" not in record
    assert launcher.CONFIG_VARIABLES is config.CONFIG_VARIABLES  # what it records is the one list
    assert set(config.CONFIG_VARIABLES) >= {"CORS_ORIGINS", "ENABLE_DOCS", "DEBUG", "MAINTENANCE_MODE",
                                            "LOG_LEVEL", "SMTP_HOST", "SMTP_PORT", "SANDBOX_FAULTS", "JWT_SECRET"}


def test_configuration_mismatches_name_both_values_and_hide_secrets():
    from postdeploy import local

    state = {"state_dir": "/srv/shared", "started_at": "2026-01-01T00:00:00+00:00",
             "configuration": launcher.configuration_record({"RATE_LIMIT_PER_MINUTE": "100000",
                                                             "JWT_SECRET": "theirs", "SANDBOX_FAULTS": "slow_api"})}
    # what the sandbox has, written another way, agrees; unset variables are not compared
    same = {"RATE_LIMIT_PER_MINUTE": "100000", "DEBUG": "false", "JWT_SECRET": "theirs", "LOG_LEVEL": "",
            "SANDBOX_FAULTS": " slow_api ", "PATH": "/usr/bin"}
    assert local.configuration_mismatches(state, same) == []
    found = local.configuration_mismatches(state, {"DEBUG": "1", "JWT_SECRET": "mine", "SMTP_PORT": "1",
                                                   "RATE_LIMIT_PER_MINUTE": "100000"})
    assert [(m.name, m.here, m.sandbox) for m in found] == [
        ("DEBUG", "'1'", "'false'"),
        ("JWT_SECRET", "set (value hidden)", "another value (hidden)"),
        ("SMTP_PORT", "'1'", "not set (the sandbox's default)"),
    ]
    message = local.mismatch_message(state, found)
    assert "mine" not in message and "theirs" not in message
    assert "DEBUG is '1' here but 'false' in the sandbox" in message
    assert "`postdeploy sandbox down`" in message and "unset DEBUG, JWT_SECRET, SMTP_PORT" in message
    # a sandbox started before the launcher recorded its configuration: every variable set is a doubt
    old = local.configuration_mismatches({"state_dir": "/srv/shared"}, {"CORS_ORIGINS": "*"})
    assert [(m.name, m.sandbox) for m in old] == [
        ("CORS_ORIGINS", "unknown (its launcher did not record its configuration)")]


def test_a_run_with_other_settings_does_not_silently_reuse_the_shared_sandbox(sandbox, monkeypatch):
    from postdeploy import local
    from postdeploy.errors import SandboxStartError

    for name in config.CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POSTDEPLOY_SANDBOX_DIR", sandbox.state["state_dir"])
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "100000")
    variables, stop = local.ensure_sandbox()  # a subset of its settings, equal: reused
    assert stop is None and variables["SANDBOX_API_URL"] == sandbox.api

    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("SERVICE_TOKEN", "my-own-token")
    with pytest.raises(SandboxStartError) as info:
        local.ensure_sandbox()
    message = str(info.value)
    assert f"a shared sandbox is running ({sandbox.state['state_dir']}" in message
    assert "DEBUG is 'true' here but 'false' in the sandbox" in message
    assert "SERVICE_TOKEN is set (value hidden) here" in message and "my-own-token" not in message
    assert "RATE_LIMIT_PER_MINUTE" not in message
    assert launcher.status(Path(sandbox.state["state_dir"])) is not None  # refused, and left running


def _procs_naming(text: str) -> list[int]:
    """Live processes whose command line or environment names ``text``."""
    found = []
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            blob = Path(f"/proc/{d}/cmdline").read_bytes() + Path(f"/proc/{d}/environ").read_bytes()
        except OSError:
            continue
        if text in blob.decode(errors="replace") and pids_alive([int(d)]):
            found.append(int(d))
    return found


def test_a_start_interrupted_while_spawning_leaves_no_unrecorded_process(tmp_path, monkeypatch):
    """A signal that lands after Popen forked a component but before the launcher recorded it (SIGTERM to a run
    whose private sandbox is starting): that child is found by what it names and killed too."""
    original = launcher._Run.spawn

    def spawn(self, name, cmd, env, log, cwd, **kw):
        if name == "api":
            subprocess.Popen(cmd, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
            raise KeyboardInterrupt
        return original(self, name, cmd, env, log, cwd, **kw)

    monkeypatch.setattr(launcher._Run, "spawn", spawn)
    sd = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        launcher.start(sd, env=base_env())
    time.sleep(0.1)
    assert _procs_naming(str(sd)) == [] and not (sd / "pgdata").exists()


def test_free_ports_avoid_the_ephemeral_range():
    low = launcher._ephemeral_low()
    ports = [launcher.free_port() for _ in range(20)]
    assert len(set(ports)) == 20
    assert all(p < low for p in ports), ports


def test_a_port_taken_between_choice_and_bind_is_chosen_again(tmp_path, monkeypatch):
    # another process binds the port chosen for MailDev before MailDev does: start() chooses again
    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    squatter.bind((launcher.HOST, 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    real = launcher.free_port
    handed = iter([taken])
    monkeypatch.setattr(launcher, "free_port", lambda: next(handed, None) or real())
    sd = tmp_path / "retry"
    try:
        st = launcher.start(sd, env=base_env())
        ports = {st["database"]["port"], st["services"]["maildev"]["smtp_port"]}
        ports |= {int(s["url"].rsplit(":", 1)[1]) for s in st["services"].values()}
        assert taken not in ports
    finally:
        launcher.stop(sd)
        squatter.close()
