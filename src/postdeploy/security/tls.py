"""TLS of the hosts the environment lists (``tls:``): the certificate verifies for the host name (OpenSSL's
verification through :mod:`ssl`, with the system's trust store and ``tls.ca_file``), does not expire within
``tls.expiry_margin_days``, and the host accepts no protocol below ``tls.min_version`` and no weak cipher suite
(every protocol and suite enumerated by sslyze, a maintained scanner, not a handshake loop of our own).

Every host is scanned once per run, all hosts concurrently; the scan is read-only (handshakes, no request)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .. import evidence
from ..checks._base import every

#: sslyze's scan commands, by the protocol version they enumerate
PROTOCOLS = {"SSL 2.0": "ssl_2_0_cipher_suites", "SSL 3.0": "ssl_3_0_cipher_suites",
             "TLS 1.0": "tls_1_0_cipher_suites", "TLS 1.1": "tls_1_1_cipher_suites",
             "TLS 1.2": "tls_1_2_cipher_suites", "TLS 1.3": "tls_1_3_cipher_suites"}
#: what makes a cipher suite weak (broken or without authentication): OpenSSL and IANA names alike
WEAK_MARKERS = ("NULL", "EXPORT", "EXP-", "anon", "ADH", "AECDH", "RC4", "DES", "MD5", "IDEA", "SEED", "PSK")


@dataclass
class HostScan:
    host: str                       # as the environment lists it
    name: str                       # the host name the certificate must cover
    port: int
    address: str = ""
    error: str = ""                 # the host could not be reached or spoke no TLS
    verify_error: str = ""          # why the certificate does not verify ('' when it does)
    not_after: datetime | None = None
    accepted: dict[str, list[str]] = field(default_factory=dict)  # protocol -> accepted suites

    @property
    def where(self) -> str:
        return f"{self.name}:{self.port}"


def _split(host: str) -> tuple[str, int]:
    name, _, port = host.partition(":")
    return name, int(port or 443)


def _address(name: str, port: int, timeout: float) -> str:
    """The first address of ``name`` that accepts a connection (IPv4 or IPv6, as resolved)."""
    last: OSError | None = None
    for *_, sockaddr in socket.getaddrinfo(name, port, type=socket.SOCK_STREAM):
        try:
            socket.create_connection((sockaddr[0], port), timeout=timeout).close()
            return sockaddr[0]
        except OSError as exc:
            last = exc
    raise last or OSError(f"{name} resolves to no address")


def _certificate(scan: HostScan, ca_file: Path | None, timeout: float) -> None:
    from cryptography import x509

    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    try:
        with socket.create_connection((scan.address, scan.port), timeout=timeout) as sock, \
                context.wrap_socket(sock, server_hostname=scan.name):
            pass
    except ssl.SSLCertVerificationError as exc:
        scan.verify_error = exc.verify_message or str(exc)
    unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((scan.address, scan.port), timeout=timeout) as sock, \
            unverified.wrap_socket(sock, server_hostname=scan.name) as tls:
        der = tls.getpeercert(binary_form=True)
    scan.not_after = x509.load_der_x509_certificate(der).not_valid_after_utc


def scan(hosts: Sequence[str], ca_file: Path | None = None, timeout: float = 10.0) -> list[HostScan]:
    """Each host's certificate, and the protocols and suites it accepts."""
    from sslyze import ScanCommand, Scanner, ServerNetworkLocation, ServerScanRequest

    scans, requests = [], []
    for host in hosts:
        name, port = _split(host)
        item = HostScan(host, name, port)
        scans.append(item)
        try:
            item.address = _address(name, port, timeout)
            _certificate(item, ca_file, timeout)
        except (OSError, ssl.SSLError) as exc:
            item.error = f"{type(exc).__name__}: {exc}"
            continue
        requests.append(ServerScanRequest(
            server_location=ServerNetworkLocation(hostname=name, port=port, ip_address=item.address),
            scan_commands={getattr(ScanCommand, command.upper()) for command in PROTOCOLS.values()}))
    by_port = {(s.address, s.port): s for s in scans if not s.error}
    if requests:
        scanner = Scanner()
        scanner.queue_scans(requests)
        for result in scanner.get_results():
            item = by_port[(result.server_location.ip_address, result.server_location.port)]
            if result.scan_result is None:
                item.error = f"sslyze could not connect: {result.connectivity_error_trace or result.scan_status}"
                continue
            for protocol, attribute in PROTOCOLS.items():
                attempt = getattr(result.scan_result, attribute)
                if attempt.result is not None:
                    item.accepted[protocol] = [s.cipher_suite.name for s in attempt.result.accepted_cipher_suites]
    evidence.table("TLS scan", [{"host": s.where, "address": s.address, "error": s.error,
                                 "certificate": s.verify_error or ("verifies" if not s.error else ""),
                                 "not after": s.not_after.isoformat() if s.not_after else "",
                                 **{p: len(s.accepted.get(p, [])) for p in PROTOCOLS}} for s in scans])
    return scans


def _unreached(scans: Sequence[HostScan]) -> list[str]:
    return [f"{s.where} could not be scanned: {s.error}" for s in scans if s.error]


def check_certificates(scans: Sequence[HostScan]) -> None:
    """Every host's certificate chain verifies and covers the host's name."""
    __tracebackhide__ = True
    problems = _unreached(scans) + [f"{s.where}: the certificate does not verify ({s.verify_error})"
                                    for s in scans if not s.error and s.verify_error]
    every("TLS certificates", [{"host": s.where, "verdict": s.error or s.verify_error or "verifies"} for s in scans],
          problems, "every certificate to verify for its host")


def check_expiry(scans: Sequence[HostScan], margin_days: int, now: datetime | None = None) -> None:
    """No certificate expires within ``margin_days``."""
    __tracebackhide__ = True
    now = now or datetime.now(UTC)
    rows, problems = [], _unreached(scans)
    for s in scans:
        if s.not_after is None:
            continue
        days = (s.not_after - now).total_seconds() / 86400
        rows.append({"host": s.where, "not after": s.not_after.isoformat(), "days left": round(days, 1)})
        if days < margin_days:
            problems.append(f"{s.where}: the certificate " + (f"expired {int(-days)} days ago" if days < 0 else
                            f"expires in {int(days)} days") + f" ({s.not_after:%Y-%m-%d})")
    every("TLS certificate expiry", rows, problems, f"every certificate valid for more than {margin_days} days")


def weak(suite: str) -> bool:
    return any(marker.lower() in suite.lower() for marker in WEAK_MARKERS)


def check_protocols(scans: Sequence[HostScan], min_version: str) -> None:
    """No protocol below ``min_version`` ("1.2" or "1.3") and no weak cipher suite accepted."""
    __tracebackhide__ = True
    allowed = [p for p in PROTOCOLS if p.startswith("TLS") and p.split()[1] >= min_version]
    rows, problems = [], _unreached(scans)
    for s in scans:
        old = [p for p, suites in s.accepted.items() if suites and p not in allowed]
        bad = sorted({suite for suites in s.accepted.values() for suite in suites if weak(suite)})
        rows.append({"host": s.where, **{p: ", ".join(s.accepted.get(p, [])) or "-" for p in PROTOCOLS}})
        found = ([f"{', '.join(old)} (below TLS {min_version})"] if old else []) + \
            ([f"weak cipher suites: {', '.join(bad)}"] if bad else [])
        if found:
            problems.append(f"{s.where} accepts {'; '.join(found)}")
    every("TLS protocols and cipher suites", rows, problems,
          f"only TLS {min_version} or newer, without weak cipher suites")
