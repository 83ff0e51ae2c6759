"""Metrics: the last response is Prometheus text exposing the metric families wanted
(:mod:`postdeploy.checks.prometheus`)."""

from __future__ import annotations

from pytest_bdd import then

from postdeploy import checks
from postdeploy.http import Exchange

from ._support import table


@then("the response is Prometheus text exposing the metrics:")
def _(response: Exchange, datatable) -> None:
    """The body is Prometheus text exposition and has every metric family of the table (column ``metric``; ``_total`` etc. suffixes match).

    Example: Then the response is Prometheus text exposing the metrics:
      | metric                        |
      | http_requests                 |
      | http_request_duration_seconds |
    """
    checks.prometheus_exposes(response, [row["metric"] for row in table(datatable)])
