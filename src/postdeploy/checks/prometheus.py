"""Prometheus metrics: the answer is text exposition and exposes the metric families wanted."""

from __future__ import annotations

from collections.abc import Iterable

from .. import evidence, metrics
from ..http import Exchange
from ._base import fail


def prometheus_metrics(exchange: Exchange) -> list[metrics.Metric]:
    """The metric families of a Prometheus answer, with their samples (fails if it is not Prometheus exposition)."""
    __tracebackhide__ = True
    content_type = exchange.headers.get("content-type", "")
    try:
        families = metrics.parse(exchange.text, content_type)
    except metrics.MalformedExposition as exc:
        line = f"the line {exc.line[:80]!r}" if exc.line is not None else "a text"
        fail(f"expected Prometheus text exposition, got {line} from {exchange.where} ({exc.reason})")
    if not content_type.startswith(("text/plain", metrics.OPENMETRICS)) or not families:
        fail(f"expected Prometheus text (text/plain with samples), got {content_type or 'no content type'} "
             f"{exchange.summary(120)} from {exchange.where}")
    return families


def prometheus_exposes(exchange: Exchange, wanted: Iterable[str]) -> list[metrics.Metric]:
    """The answer is Prometheus exposition with every metric of ``wanted`` (``_total``, ``_count``, ``_sum``,
    ``_bucket``, ``_created`` suffixes match); returns its families."""
    __tracebackhide__ = True
    families = prometheus_metrics(exchange)
    wanted = list(wanted)
    missing = [name for name in wanted if not metrics.exposes(families, name)]
    evidence.table("metrics", [{"metric": name, "exposed": name not in missing} for name in wanted])
    if missing:
        fail(f"expected the metrics {', '.join(missing)} in the Prometheus text from {exchange.where}; "
             f"it exposes {len(families)} others")
    return families
