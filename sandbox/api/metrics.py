"""The api's Prometheus metrics: request counts and durations per route, the seeds' notification_* families derived
from the database, and GET /metrics (404 under the metrics_disabled fault)."""

import time

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .. import db
from .common import Settings

disable_created_metrics()


class Metrics:
    """One app's registry: the HTTP request metrics and the database-derived notification metrics."""

    def __init__(self, pool: db.Pool):
        self.registry = CollectorRegistry()
        self.http_requests = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"],
                                     registry=self.registry)
        self.http_duration = Histogram("http_request_duration_seconds", "HTTP request duration", ["method", "route"],
                                       registry=self.registry)
        self.registry.register(_NotificationCollector(pool))

    def observe(self, request: Request, response: Response, start: float, route: str) -> None:
        if request.url.path == "/metrics":
            return
        self.http_requests.labels(request.method, route, str(response.status_code)).inc()
        self.http_duration.labels(request.method, route).observe(time.perf_counter() - start)


def router(s: Settings, registry: CollectorRegistry) -> APIRouter:
    routes = APIRouter()

    @routes.get("/metrics", include_in_schema=False)
    def metrics():
        if "metrics_disabled" in s.faults:
            raise HTTPException(404, "Not Found")
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return routes


class _NotificationCollector:
    """The seeds' notification metrics on the api, derived from the database (the worker exports live ones)."""

    def __init__(self, pool: db.Pool):
        self.pool = pool

    def collect(self):
        try:
            with self.pool.connection() as conn:
                sent = conn.execute("SELECT count(*) FROM notifications WHERE status = 'sent'").fetchone()[0]
                failed = dict(conn.execute("SELECT coalesce(error_type, 'other'), count(*) FROM notifications "
                                           "WHERE status = 'failed' GROUP BY 1").fetchall())
                dups = conn.execute("SELECT count(*) FROM notification_duplicates").fetchone()[0]
                lag = conn.execute("SELECT count(*) FROM outbox_events WHERE status = 'pending'").fetchone()[0]
                conn.commit()
        except Exception:
            return
        c = CounterMetricFamily("notification_email_sent", "Emails sent (all time, from the database)")
        c.add_metric([], sent)
        yield c
        f = CounterMetricFamily("notification_email_failed", "Emails failed by error type", labels=["error_type"])
        for et in ("auth", "connection", "timeout", "other"):
            f.add_metric([et], failed.get(et, 0))
        yield f
        d = CounterMetricFamily("notification_duplicate_prevented", "Duplicate notifications prevented")
        d.add_metric([], dups)
        yield d
        g = GaugeMetricFamily("notification_queue_lag", "Pending outbox events", labels=["group"])
        g.add_metric(["notification-service"], lag)
        yield g
