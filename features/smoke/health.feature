@smoke
Feature: Services are up and healthy
  After a release every service of the deployment answers its health endpoint, and the answer
  says that its own dependencies (database, SMTP, the API) are up.
  Checklist: "Service running and healthy", "Health endpoint responding: /health",
  "Load balancer health check passing", "All workers responding", "API response: 250 ms average",
  "Verify: 100% traffic on v2.0.0".

  Scenario: Every service answers its health endpoint and reports its dependencies up
    When I ask every service for its health
    Then every service answers its health check as the environment expects

  Scenario: The API reports its database check in the documented shape
    When I send a GET request to "/health" on the "api" service
    Then the response status is 200
    And the JSON at "status" is "ok"
    And the JSON at "checks.database" is "ok"

  Scenario: The API answers within its latency objective
    When I send a GET request to "/api/v1/health" on the "api" service
    Then the response status is 200
    And the response time is within the "api_latency_ms" objective

  Scenario: Maintenance mode is off
    When I send a GET request to "/api/v1/health" on the "api" service
    Then the response status is not 503
    And the response header "Retry-After" is absent
    And the JSON at "status" is "ok"

  Scenario: Signed-in API routes answer within the latency objective
    Given I am signed in as "staff"
    When I send these requests to the "api" service:
      | method | path                          |
      | GET    | /api/v1/users/me              |
      | GET    | /api/v1/orders                |
      | GET    | /api/v1/notifications/history |
    Then every response arrived within the "api_latency_ms" objective

  Scenario: Every service runs the release that should be live
    When I ask every service for the release it runs
    Then every service reports the release version
