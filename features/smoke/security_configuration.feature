@smoke
Feature: Production configuration is safe
  Checklist: "Helmet.js security headers enabled", "Security headers present",
  "CORS configured for production domains (NOT *)", "Disable API documentation in production",
  "DEBUG=false", "Graceful error handling working", "API calls working" (JSON answers labelled as JSON).

  Scenario Outline: <service> sends the security headers
    When I send a GET request to "<path>" on the "<service>" service
    Then the response headers match:
      | name                      | pattern          |
      | Strict-Transport-Security | max-age=\d{6,}   |
      | X-Content-Type-Options    | ^nosniff$        |
      | X-Frame-Options           | ^(DENY\|SAMEORIGIN)$ |
      | Content-Security-Policy   | default-src      |
      | Referrer-Policy           | .+               |

    Examples:
      | service  | path             |
      | api      | /api/v1/health   |
      | frontend | /login           |

  Scenario Outline: Answers do not reveal the server software
    When I send a GET request to "<path>" on the "<service>" service
    Then the response header "X-Powered-By" is absent

    Examples:
      | service  | path             |
      | api      | /api/v1/health   |
      | frontend | /login           |

  Scenario: CORS allows the configured origins
    When I send CORS requests to "/api/v1/users/me" on the "api" service from every allowed origin
    Then CORS allows every allowed origin

  Scenario: CORS does not let an unknown origin in
    When I send a CORS preflight for GET "/api/v1/users/me" to the "api" service from the origin "https://evil.example"
    Then CORS does not combine a wildcard origin with credentials
    And CORS does not allow the origin "https://evil.example"

  Scenario: CORS refuses look-alike and foreign origins
    When I send CORS requests to "/api/v1/users/me" on the "api" service from foreign origins
    Then CORS refuses every foreign origin

  Scenario: API documentation is exposed only where the environment allows it
    When I look for API documentation on the "api" service
    Then API documentation is exposed as the environment expects

  Scenario: Error answers carry no stack traces
    When I send these requests to the "api" service:
      | method | path                        | body        | body type | headers                          |
      | GET    | /api/v1/no-such-route       |             |           |                                  |
      | POST   | /api/v1/auth/login          | {"email": [ | raw       | Content-Type: application/json   |
      | GET    | /api/v1/users/me            |             |           | Authorization: Bearer not-a-jwt  |
      | GET    | /api/v1/orders/not-a-number |             |           |                                  |
    Then no response reveals internals

  Scenario: API answers are labelled JSON
    Given I am signed in as "customer"
    When I send these requests to the "api" service:
      | method | path                                        | content type     |
      | GET    | /api/v1/health                              | application/json |
      | GET    | /api/v1/users/me                            | application/json |
      | GET    | /api/v1/users/notification-preferences      | application/json |
      | GET    | /api/v1/activity/notifications/unread-count | application/json |
      | GET    | /version                                    | application/json |
    Then every response has the content type its row expects

  Scenario: Pages are labelled HTML and translations JSON
    When I send these requests to the "frontend" service:
      | method | path          | content type     |
      | GET    | /login        | text/html        |
      | GET    | /dashboard    | text/html        |
      | GET    | /i18n/en.json | application/json |
    Then every response has the content type its row expects
