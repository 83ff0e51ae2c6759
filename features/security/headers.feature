@security
Feature: Security headers grade well and no answer announces its software
  The headers are graded the way Mozilla's HTTP Observatory grades them (CSP without unsafe-inline, unsafe-eval or
  wildcard script sources, framing, nosniff, Referrer-Policy, HSTS on HTTPS), with the score and every test in the
  report; smoke checks that the headers are there, this family how strong they are.
  Checklist: "Security headers present", "Helmet.js security headers enabled".

  @checklist:security-headers
  Scenario Outline: Security headers grade as the environment requires
    When I send a GET request to "<path>" on the "<service>" service
    Then the response's security headers grade as the environment requires

    Examples:
      | service  | path           |
      | api      | /api/v1/health |
      | frontend | /login         |

  @checklist:security-headers
  Scenario Outline: Answers announce no server software or version
    When I send a GET request to "<path>" on the "<service>" service
    Then the response announces no server software or version

    Examples:
      | service  | path           |
      | api      | /api/v1/health |
      | frontend | /login         |
