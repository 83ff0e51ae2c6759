"""Prometheus exposition read with ``prometheus_client``'s parsers: metric families with their samples.

:func:`parse` turns an answer's text into families (``prometheus_client.Metric``: ``name``, ``type``,
``documentation`` and ``samples``, each a ``Sample`` with ``name``, ``labels`` and ``value``). The text format
(``text/plain; version=0.0.4``) is read by ``prometheus_client.parser``, OpenMetrics
(``application/openmetrics-text``) by ``prometheus_client.openmetrics.parser``. A counter's family is named
without its ``_total`` suffix, as the parsers name it; its samples keep the suffix.

:func:`exposes` says whether a family or sample name is exposed (``x`` matches ``x_total``, ``x_count``,
``x_sum``, ``x_bucket`` and ``x_created``); :func:`metric_value` reads one sample's value by name and labels,
so a release-health check can compare values and their deltas between two scrapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import Metric
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as _parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as _parse_text

__all__ = ["OPENMETRICS", "SUFFIXES", "MalformedExposition", "MetricNotFound", "Metric", "exposes", "metric_value", "names", "parse"]

SUFFIXES = ("", "_total", "_count", "_sum", "_bucket", "_created")
OPENMETRICS = "application/openmetrics-text"


class MalformedExposition(ValueError):
    """The text is not Prometheus exposition: ``reason`` is the parser's, ``line`` the first line it refuses."""

    def __init__(self, reason: str, line: str | None) -> None:
        self.reason, self.line = reason, line
        where = f" at the line {line[:80]!r}" if line is not None else ""
        super().__init__(f"{reason}{where}")


class MetricNotFound(LookupError):
    """No sample, or more than one, has this name and these labels."""


def parse(text: str, content_type: str = "text/plain") -> list[Metric]:
    """The metric families of an exposition, in the order they appear (raises :class:`MalformedExposition`)."""
    parser = _parse_openmetrics if content_type.strip().lower().startswith(OPENMETRICS) else _parse_text
    try:
        return list(parser(text))
    except ValueError as exc:  # the parsers say why, not where: find the first line that fails on its own
        raise MalformedExposition(_reason(exc), _first_bad_line(text, parser)) from None


def _reason(exc: ValueError) -> str:
    text = " ".join(str(part) for part in exc.args if str(part))
    return text[:120] or "the parser refused it"


def _first_bad_line(text: str, parser) -> str | None:
    """The first line at which the text stops parsing: the shortest failing prefix (found by bisection, so a
    line is judged with the lines before it, its family's ``# TYPE`` included)."""
    lines = text.splitlines()

    def fails(count: int) -> bool:
        prefix = "\n".join(lines[:count]) + "\n"
        if parser is _parse_openmetrics and lines[count - 1] != "# EOF":
            prefix += "# EOF\n"  # a prefix is not refused for lacking the end of the whole text
        try:
            list(parser(prefix))
        except ValueError:
            return True
        return False

    if not lines or not fails(len(lines)):
        return None  # a rule about the whole text (OpenMetrics' final # EOF)
    good, bad = 0, len(lines)
    while bad - good > 1:
        middle = (good + bad) // 2
        good, bad = (good, middle) if fails(middle) else (middle, bad)
    return lines[bad - 1]


def names(families: Iterable[Metric]) -> set[str]:
    """Every family name and every sample name exposed."""
    out: set[str] = set()
    for family in families:
        out.add(family.name)
        out.update(sample.name for sample in family.samples)
    return out


def exposes(families: Iterable[Metric], name: str) -> bool:
    """Is this metric exposed, as a family or a sample (``_total``, ``_count``, ``_sum``, ``_bucket``, ``_created``
    suffixes match)?"""
    seen = names(families)
    return any(name + suffix in seen for suffix in SUFFIXES)


def metric_value(families: Iterable[Metric], name: str, labels: Mapping[str, object] | None = None) -> float:
    """The value of the one sample named ``name`` whose labels include ``labels`` (values compared as text).

    ``name`` is a sample name (``http_requests_total``, ``latency_seconds_count``); a counter may also be named as
    its family (``http_requests`` reads ``http_requests_total``). Raises :class:`MetricNotFound` when no sample
    matches (saying which label sets the metric has) or when several do (give more labels to choose one).
    """
    wanted = {key: str(value) for key, value in (labels or {}).items()}
    families = list(families)
    samples = [sample for family in families for sample in family.samples]
    named = [s for s in samples if s.name == name] or [s for s in samples if s.name == name + "_total"]
    if not named:
        raise MetricNotFound(f"no metric named {name!r} is exposed")
    matching = [s for s in named if all(s.labels.get(key) == value for key, value in wanted.items())]
    if len(matching) == 1:
        return matching[0].value
    shown = ", ".join(_labels(s.labels) for s in named[:5]) + (", ..." if len(named) > 5 else "")
    if not matching:
        raise MetricNotFound(f"no sample of {named[0].name} has the labels {_labels(wanted)} (it has {shown})")
    raise MetricNotFound(f"{len(matching)} samples of {named[0].name} have the labels {_labels(wanted)}; "
                         f"name more labels to choose one (it has {shown})")


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{key}="{value}"' for key, value in sorted(labels.items())) + "}"
