"""The @security family proven against the sandbox and HTTPS servers of its own, fault by fault (DESIGN principle 6).

Every fault of ``faults/security.py`` is a sandbox configuration: a seed's variable set to a default or a debug
value (``JWT_SECRET=secret``, ``SERVICE_TOKEN=changeme``, ``ENVIRONMENT=staging`` ...) or a ``SANDBOX_FAULTS``
switch. Faults that fail different scenarios and set different variables share one sandbox, started for the round
(switches joined with commas), and are proven by one run of ``pytest --env=local -m security``: every scenario a
fault names fails at its step, with its verdict kind and message; every other one passes. A healthy sandbox of
the module's own (its rate limit is not shared with other tests) passes every scenario first.

TLS: the sandbox speaks plain HTTP, so the module serves HTTPS itself, one small server per certificate variant
(trustme: valid, expiring within the margin, expired, for another host, issued by a CA nobody trusts, and one that
still accepts TLS 1.0 when the machine's OpenSSL allows it), and runs the features with local.yaml plus a ``tls:``
section listing the servers of the round (``ca_file``: trustme's CA).
"""

from __future__ import annotations

import datetime
import os
import shutil
import ssl
import tempfile
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from faults import Fault, assert_fails_exactly, configuration, rounds
from faults.security import FAULTS, TLS_ROUNDS
from harness import ROOT, run_features

from sandbox import config, launcher

ROUNDS = rounds(FAULTS)


@pytest.fixture
def sandbox_of() -> Iterator:
    """``sandbox_of(**variables)``: a sandbox started with this configuration; all stopped after the test."""
    started: list[Path] = []

    def start(**overrides: str) -> Path:
        state = Path(tempfile.mkdtemp(prefix="pd-security-"))
        started.append(state)
        environ = {k: v for k, v in os.environ.items() if k not in config.CONFIG_VARIABLES}
        launcher.start(state, env={**environ, **overrides})
        return state

    yield start
    for state in started:
        launcher.stop(state)
        shutil.rmtree(state, ignore_errors=True)


class _Quiet(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https_servers(tmp_path_factory) -> Iterator[dict]:
    """name -> "localhost:PORT" of an HTTPS server presenting that certificate variant; and the CA file."""
    import trustme

    ca, now = trustme.CA(), datetime.datetime.now(datetime.UTC)
    days = datetime.timedelta(days=1)
    variants = {
        "valid": (ca.issue_cert("localhost"), False),
        "expiring": (ca.issue_cert("localhost", not_before=now - days, not_after=now + 9.5 * days), False),
        "expired": (ca.issue_cert("localhost", not_before=now - 60 * days, not_after=now - 1.5 * days), False),
        "wrong_host": (ca.issue_cert("other.example"), False),
        "untrusted_ca": (trustme.CA().issue_cert("localhost"), False),
        "tls_1_0": (ca.issue_cert("localhost"), True),
    }
    servers, hosts = [], {}
    for name, (cert, legacy) in variants.items():
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if legacy:
            with warnings.catch_warnings():  # deprecated: that is the point of this server
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = ssl.TLSVersion.TLSv1
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        cert.configure_cert(context)
        server = HTTPServer(("127.0.0.1", 0), _Quiet)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        hosts[name] = f"localhost:{server.server_address[1]}"
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    yield {"hosts": hosts, "ca_file": ca_file}
    for server in servers:
        server.shutdown()
        server.server_close()


def with_tls(base: Path, servers: dict, names: tuple[str, ...]) -> Path:
    """An environments folder: local.yaml plus a tls section listing these servers."""
    base.mkdir()
    hosts = ", ".join(servers["hosts"][name] for name in names)
    (base / "local.yaml").write_text((ROOT / "environments" / "local.yaml").read_text() +
                                     f"\ntls: {{hosts: [{hosts}], expiry_margin_days: 30, "
                                     f"ca_file: '{servers['ca_file']}'}}\n")
    return base


def tls_1_0_possible() -> bool:
    """Whether this machine's OpenSSL lets a server speak TLS 1.0 (some builds compile it out)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        return False
    return ssl.HAS_TLSv1


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[Path]:
    """A healthy sandbox for the healthy run and the TLS rounds (which send it only health checks)."""
    state = Path(tempfile.mkdtemp(prefix="pd-security-"))
    environ = {k: v for k, v in os.environ.items() if k not in config.CONFIG_VARIABLES}
    try:
        launcher.start(state, env=environ)
        yield state
    finally:
        launcher.stop(state)
        shutil.rmtree(state, ignore_errors=True)


def test_a_healthy_deployment_passes_every_security_scenario(shared_sandbox, https_servers, tmp_path):
    run = run_features(shared_sandbox, tmp_path / "reports", "--env=local", "-m", "security",
                       env_dir=with_tls(tmp_path / "environments", https_servers, ("valid",)))
    assert_fails_exactly({}, run)
    assert run.returncode == 0 and len(run.passed) == 21, run.output[-3000:]


@pytest.mark.parametrize(("names", "failures"), TLS_ROUNDS, ids=["+".join(names) for names, _ in TLS_ROUNDS])
def test_each_tls_defect_fails_exactly_its_steps(shared_sandbox, https_servers, tmp_path, names, failures):
    if "tls_1_0" in names and not tls_1_0_possible():
        pytest.skip("this machine's OpenSSL cannot serve TLS 1.0: the legacy-protocol server cannot be built")
    run = run_features(shared_sandbox, tmp_path / "reports", "--env=local", "-m", "security", "-k", "tls",
                       env_dir=with_tls(tmp_path / "environments", https_servers, names))
    assert_fails_exactly(failures, run)
    assert run.returncode == 1


@pytest.mark.parametrize("faults", ROUNDS, ids=["+".join(f.id for f in group) for group in ROUNDS])
def test_each_fault_fails_exactly_its_steps(sandbox_of, tmp_path, faults: list[Fault]):
    expected = {name: failure for fault in faults for name, failure in fault.failures.items()}
    run = run_features(sandbox_of(**configuration(faults)), tmp_path / "reports", "--env=local", "-m", "security")
    assert_fails_exactly(expected, run)
    assert run.returncode == 1


def test_every_security_step_is_failed_by_a_fault():
    """No Then step of the family goes unproven: each is the failing step of some fault."""
    import re

    features = Path(__file__).resolve().parents[2] / "features" / "security"
    thens = {re.sub(r"<[^>]+>", "", line.strip()).split('"')[0]
             for f in features.glob("*.feature") for line in f.read_text().splitlines()
             if line.strip().startswith("Then ")}
    proven = {failure.step.split('"')[0] for fault in FAULTS for failure in fault.failures.values()}
    proven |= {failure.step for _, failures in TLS_ROUNDS for failure in failures.values()}
    assert thens <= proven, f"Then steps no fault fails: {sorted(thens - proven)}"
