"""Prometheus exposition through prometheus_client's parsers: families, samples, values, and the metrics check."""

from __future__ import annotations

import httpx
import pytest

from postdeploy import checks, metrics
from postdeploy.http import Exchange

TEXT = """\
# HELP notification_email_sent_total Emails handed to the SMTP server.
# TYPE notification_email_sent_total counter
notification_email_sent_total{template="welcome"} 3
notification_email_sent_total{template="reset"} 1
# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{route="/api/v1/orders/{order_id}",le="0.1"} 4
http_request_duration_seconds_bucket{route="/api/v1/orders/{order_id}",le="+Inf"} 5
http_request_duration_seconds_count{route="/api/v1/orders/{order_id}"} 5
http_request_duration_seconds_sum{route="/api/v1/orders/{order_id}"} 0.42
# TYPE queue_depth gauge
queue_depth{queue="email",note="say \\"hi\\""} 7
up 1
"""

OPENMETRICS = """\
# TYPE jobs counter
# HELP jobs Jobs done.
jobs_total{kind="mail"} 2.0 # {trace_id="abc"} 1.0
jobs_created{kind="mail"} 1.7e9
# EOF
"""


def exchange(body: str, content_type: str | None = "text/plain; version=0.0.4; charset=utf-8") -> Exchange:
    headers = {"content-type": content_type} if content_type else {}
    return Exchange(service="worker", method="GET", url="http://worker.test/metrics", request_headers=(),
                    request_body=b"", status=200, headers=httpx.Headers(headers), body=body.encode(), elapsed_ms=3.0)


def test_families_keep_their_samples_with_labels_and_values():
    families = {family.name: family for family in metrics.parse(TEXT)}
    assert set(families) == {"notification_email_sent", "http_request_duration_seconds", "queue_depth", "up"}
    sent = families["notification_email_sent"]
    assert sent.type == "counter"
    assert [(s.name, s.labels, s.value) for s in sent.samples] == [
        ("notification_email_sent_total", {"template": "welcome"}, 3),
        ("notification_email_sent_total", {"template": "reset"}, 1)]
    assert families["queue_depth"].samples[0].labels == {"queue": "email", "note": 'say "hi"'}
    assert families["http_request_duration_seconds"].type == "histogram"


def test_openmetrics_is_read_by_the_openmetrics_parser():
    families = metrics.parse(OPENMETRICS, "application/openmetrics-text; version=1.0.0; charset=utf-8")
    assert [(f.name, f.type) for f in families] == [("jobs", "counter")]
    assert metrics.metric_value(families, "jobs_total", {"kind": "mail"}) == 2.0
    with pytest.raises(metrics.MalformedExposition, match="EOF") as err:
        metrics.parse(OPENMETRICS.replace("# EOF\n", ""), "application/openmetrics-text")
    assert err.value.line is None  # a rule about the whole text, not one line


def test_metric_value_reads_one_sample_by_name_and_labels():
    families = metrics.parse(TEXT)
    assert metrics.metric_value(families, "notification_email_sent_total", {"template": "welcome"}) == 3
    assert metrics.metric_value(families, "notification_email_sent", {"template": "reset"}) == 1  # the family's name
    assert metrics.metric_value(families, "http_request_duration_seconds_bucket",
                                {"route": "/api/v1/orders/{order_id}", "le": "+Inf"}) == 5
    assert metrics.metric_value(families, "http_request_duration_seconds_sum") == 0.42  # one sample: no labels needed
    assert metrics.metric_value(families, "up") == 1
    assert metrics.metric_value(families, "queue_depth", {"queue": "email"}) == 7


def test_a_delta_between_two_scrapes():
    before = metrics.parse(TEXT)
    after = metrics.parse(TEXT.replace('{template="welcome"} 3', '{template="welcome"} 8'))
    delta = (metrics.metric_value(after, "notification_email_sent", {"template": "welcome"})
             - metrics.metric_value(before, "notification_email_sent", {"template": "welcome"}))
    assert delta == 5


def test_metric_value_says_what_is_there_when_nothing_or_too_much_matches():
    families = metrics.parse(TEXT)
    with pytest.raises(metrics.MetricNotFound, match="no metric named 'emails_bounced' is exposed"):
        metrics.metric_value(families, "emails_bounced")
    with pytest.raises(metrics.MetricNotFound) as err:
        metrics.metric_value(families, "notification_email_sent", {"template": "invoice"})
    assert str(err.value) == ('no sample of notification_email_sent_total has the labels {template="invoice"} '
                              '(it has {template="welcome"}, {template="reset"})')
    with pytest.raises(metrics.MetricNotFound, match="2 samples of notification_email_sent_total have the labels {}"):
        metrics.metric_value(families, "notification_email_sent")


@pytest.mark.parametrize("name", ["notification_email_sent", "notification_email_sent_total", "http_request_duration_seconds",
                                  "http_request_duration_seconds_count", "queue_depth", "up"])
def test_exposes_matches_families_samples_and_suffixes(name):
    assert metrics.exposes(metrics.parse(TEXT), name)


def test_exposes_does_not_match_a_prefix():
    assert not metrics.exposes(metrics.parse(TEXT), "notification_email")
    assert not metrics.exposes(metrics.parse(TEXT), "queue")


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("up 1\nqueue_depth{queue=\"email\"} lots\ndown 0\n", 'queue_depth{queue="email"} lots', "lots"),
    ("<html>\n<body>metrics</body>\n</html>\n", "<html>", "invalid metric name"),
    ("up 1\nqueue_depth{queue=email} 1\n", "queue_depth{queue=email} 1", "Invalid labels"),
])
def test_malformed_exposition_names_the_parser_reason_and_the_first_offending_line(text, line, reason):
    with pytest.raises(metrics.MalformedExposition) as err:
        metrics.parse(text)
    assert err.value.line == line
    assert reason in err.value.reason


def test_the_check_returns_the_families_and_refuses_what_is_not_exposition():
    families = checks.prometheus_metrics(exchange(TEXT))
    assert metrics.metric_value(families, "up") == 1
    with pytest.raises(AssertionError) as err:
        checks.prometheus_metrics(exchange("up 1\nqueue_depth{queue=\"email\"} lots\n"))
    assert str(err.value).startswith("expected Prometheus text exposition, got the line 'queue_depth{queue=\"email\"} lots' "
                                     "from GET http://worker.test/metrics (service 'worker') (could not convert")
    with pytest.raises(AssertionError, match="expected Prometheus text \\(text/plain with samples\\), got text/html"):
        checks.prometheus_metrics(exchange("up 1\n", "text/html"))
    with pytest.raises(AssertionError, match="got text/plain"):
        checks.prometheus_metrics(exchange(""))


def test_the_metrics_check_names_the_missing_families():
    assert checks.prometheus_exposes(exchange(TEXT), ["notification_email_sent", "http_request_duration_seconds"])
    with pytest.raises(AssertionError) as err:
        checks.prometheus_exposes(exchange(TEXT), ["notification_email_sent", "notification_email_failed",
                                                   "notification_queue_depth"])
    assert str(err.value).startswith("expected the metrics notification_email_failed, notification_queue_depth in the "
                                     "Prometheus text from GET http://worker.test/metrics (service 'worker')")
