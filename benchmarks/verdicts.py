"""Benchmark: verdicts you can trust, measured (docs/performance.md, docs/verdicts.md).

1. N back-to-back `pytest --env=local -m smoke` runs against ONE sandbox at its default limits (100
   anonymous requests a minute from one address): exit codes, how many were red, and how long the polite
   429 handling made them wait.
2. The wall time of a run against a dead target (every service on a closed port) and a hung one (every
   service accepts connections and never answers), with `-m smoke`.
3. The wall time of a run against a deployment whose API health answers but whose other API routes hang
   (the worker and the frontend are a real sandbox's).

Usage: .venv/bin/python benchmarks/verdicts.py [RUNS]   (prints Markdown)
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from sandbox import launcher  # noqa: E402  (the benchmark drives the sandbox directly)

PY = sys.executable


def run(args: list[str], env: dict[str, str]) -> tuple[int, float, str]:
    started = time.perf_counter()
    proc = subprocess.run([PY, "-m", "pytest", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    return proc.returncode, time.perf_counter() - started, proc.stdout + proc.stderr


def verdict_line(output: str) -> str:
    found = re.findall(r"postdeploy verdict: .*", output)
    return found[-1] if found else "(no verdict line)"


def back_to_back(runs: int) -> None:
    state = Path(tempfile.mkdtemp(prefix="pd-bench-"))
    launcher.start(state, env=dict(os.environ))  # default limits: nothing lifted
    env = {**os.environ, "POSTDEPLOY_SANDBOX_DIR": str(state)}
    reports = tempfile.mkdtemp(prefix="pd-bench-reports-")
    rows = []
    try:
        for i in range(runs):
            code, seconds, output = run(["--env=local", "-m", "smoke", "-q", f"--reports-dir={reports}"], env)
            rows.append((i + 1, code, seconds, verdict_line(output)))
    finally:
        launcher.stop(state)
    reds = sum(1 for _, code, _, _ in rows if code != 0)
    print(f"### {runs} back-to-back smoke runs, one sandbox, default limits\n")
    print("| run | exit | wall (s) | verdict |\n|---|---|---|---|")
    for i, code, seconds, line in rows:
        print(f"| {i} | {code} | {seconds:.1f} | {line.removeprefix('postdeploy verdict: ')} |")
    print(f"\n**{reds} of {runs} runs not green**; median wall {sorted(r[2] for r in rows)[len(rows) // 2]:.1f} s, "
          f"slowest {max(r[2] for r in rows):.1f} s (a run that met a 429 waited for its Retry-After).\n")


class _Hang(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path.startswith("/health"):
            body = b'{"status": "ok", "checks": {"api": "ok", "database": "ok", "smtp": "ok"}, "service": "notification-service"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        time.sleep(120)

    do_POST = do_OPTIONS = do_GET  # noqa: N815

    def log_message(self, *args):
        pass


def _env_file(directory: Path, urls: dict[str, str]) -> None:
    text = (ROOT / "environments" / "local.yaml").read_text()
    text = re.sub(r"(?m)^sandbox:\n(  .*\n)+", "", text)
    for name, url in urls.items():
        text = text.replace("${SANDBOX_" + name.upper() + "_URL}", url)
    (directory / "bench.yaml").write_text(text)


def dead_and_hung() -> None:
    variables = {f"SANDBOX_{r}_{k}": "x@example.com" if k == "EMAIL" else "not-a-real-password"
                 for r in ("ADMIN", "STAFF", "CUSTOMER") for k in ("EMAIL", "PASSWORD")}
    base = {**os.environ, **variables, "SANDBOX_DATABASE_DSN": "postgresql://x@127.0.0.1:9/x",
            "SANDBOX_MAILDEV_URL": "http://127.0.0.1:9"}
    reports = tempfile.mkdtemp(prefix="pd-bench-reports-")
    print("### Dead, silent and half-hung targets (`-m smoke`)\n")
    print("| target | exit | wall (s) | verdict |\n|---|---|---|---|")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # accepts connections (the kernel completes them) and never answers
    hung = ThreadingHTTPServer(("127.0.0.1", 0), _Hang)
    hung.daemon_threads = True
    threading.Thread(target=hung.serve_forever, daemon=True).start()
    cases = {
        "every service on a closed port": {n: f"http://127.0.0.1:{closed}" for n in ("api", "worker", "frontend")},
        "every service accepts connections and never answers":
            {n: f"http://127.0.0.1:{silent.getsockname()[1]}" for n in ("api", "worker", "frontend")},
    }
    state = Path(tempfile.mkdtemp(prefix="pd-bench-"))
    try:
        from postdeploy import local

        sandbox = local.variables(launcher.start(state, env=dict(os.environ)))
        for name, urls in cases.items():
            _case(name, urls, base, reports)
        _case("API health answers, every other API route hangs (worker, frontend: a sandbox's)",
              {"api": f"http://127.0.0.1:{hung.server_address[1]}"}, {**os.environ, **sandbox}, reports)
    finally:
        launcher.stop(state)
        silent.close()
        hung.shutdown()
    print()


def _case(name: str, urls: dict[str, str], env: dict[str, str], reports: str) -> None:
    directory = Path(tempfile.mkdtemp(prefix="pd-bench-env-"))
    _env_file(directory, urls)
    code, seconds, output = run(["--env=bench", f"--env-dir={directory}", "-m", "smoke", "-q",
                                 f"--reports-dir={reports}"], env)
    print(f"| {name} | {code} | {seconds:.1f} | {verdict_line(output).removeprefix('postdeploy verdict: ')} |")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    dead_and_hung()
    back_to_back(runs)


if __name__ == "__main__":
    main()
