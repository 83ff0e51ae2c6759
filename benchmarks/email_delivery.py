"""Benchmark: the @email_delivery family (docs/performance.md, docs/email.md).

1. Detection delay: N emails sent straight to the sandbox's MailDev over SMTP, each found by
   ``postdeploy.mail.checks.wait_for`` (polling every 0.1 to 0.2 s, by recipient and subject); the delay is the time from
   the SMTP transaction's end to the moment the wait returns. The goal is under 200 ms.
2. The family's wall time: `pytest --env=local -m email_delivery` against one sandbox, N runs.

Usage: .venv/bin/python benchmarks/email_delivery.py [EMAILS] [RUNS]   (prints Markdown)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))
from postdeploy.mail import MailDevBox, address  # noqa: E402
from postdeploy.mail.checks import wait_for  # noqa: E402
from _family import family_runs  # noqa: E402
from sandbox import launcher  # noqa: E402  (the benchmark drives the sandbox directly)


def detection(state: Path, emails: int) -> list[float]:
    services = json.loads((state / "state.json").read_text())["services"]["maildev"]
    box = MailDevBox(services["url"])
    delays = []
    for i in range(emails):
        to = address("bench+{run_id}-{n}@example.com", "bench")
        sent_at: list[float] = []

        def send() -> None:
            time.sleep(0.3)  # the wait is already polling when the email lands
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "bench@example.com", to, f"Benchmark {i}"
            message.set_content("detection delay")
            with smtplib.SMTP(services["smtp_host"], services["smtp_port"], timeout=5) as smtp:
                smtp.send_message(message)
            sent_at.append(time.monotonic())

        sender = threading.Thread(target=send)
        sender.start()
        wait_for(box, to, since=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5), timeout_s=10,
                 subject=f"Benchmark {i}")
        found_at = time.monotonic()
        sender.join()
        delays.append((found_at - sent_at[0]) * 1000)
    box.close()
    return delays


def main(emails: int, runs: int) -> None:
    state = Path(tempfile.mkdtemp(prefix="pd-bench-email-"))
    launcher.start(state, env={**os.environ, "RATE_LIMIT_PER_MINUTE": "10000"})
    try:
        delays = sorted(detection(state, emails))
        print(f"### Detection delay after delivery, {emails} emails (MailDev, polling every 0.1-0.2 s)\n")
        print("| median (ms) | p95 (ms) | max (ms) |\n|---|---|---|")
        print(f"| {statistics.median(delays):.0f} | {delays[int(0.95 * (len(delays) - 1))]:.0f} | {max(delays):.0f} |\n")
        results = family_runs(state, "email_delivery", runs)
        walls = [wall for _, wall in results]
        print(f"### `pytest --env=local -m email_delivery`, {runs} runs, one sandbox\n")
        print("| exit codes | median wall (s) | min (s) | max (s) |\n|---|---|---|---|")
        print(f"| {', '.join(str(code) for code, _ in results)} | {statistics.median(walls):.2f} | {min(walls):.2f} | "
              f"{max(walls):.2f} |")
    finally:
        launcher.stop(state)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
