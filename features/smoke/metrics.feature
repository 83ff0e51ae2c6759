@smoke
Feature: Metrics are exposed for monitoring
  Checklist: "Metrics visible in dashboard", "Prometheus scraping all targets",
  "All workers reporting metrics".

  Scenario: The API exposes Prometheus metrics
    When I send a GET request to "/metrics" on the "api" service
    Then the response status is 200
    And the response is Prometheus text exposing the metrics:
      | metric                        |
      | http_requests                 |
      | http_request_duration_seconds |

  Scenario: The notification worker exposes the delivery metrics the alerts use
    When I send a GET request to "/metrics" on the "worker" service
    Then the response status is 200
    And the response is Prometheus text exposing the metrics:
      | metric                           |
      | notification_email_sent          |
      | notification_email_failed        |
      | notification_email_duration_ms   |
      | notification_duplicate_prevented |
      | notification_queue_lag           |
