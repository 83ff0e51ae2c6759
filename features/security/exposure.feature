@security
Feature: Nothing that should stay private is exposed
  Configuration, repository, backup and editor files, debug and profiler pages, admin consoles, directory
  listings and source maps are not served, and the scripts hold no secret. Each probe is a GET of a path from the
  catalogue (docs/security.md), judged by what it answers, not only its status; every probe is in the report.
  Checklist: "No exposed credentials or secrets", "Disable debug endpoints in production".

  @checklist:no-exposed-secrets
  Scenario Outline: No configuration or repository file is served
    When I probe the "<service>" service for exposed files
    Then nothing probed is exposed

    Examples:
      | service  |
      | api      |
      | frontend |

  @checklist:no-debug-endpoints
  Scenario Outline: No debug, profiler or admin page is served
    When I probe the "<service>" service for exposed debug
    Then nothing probed is exposed

    Examples:
      | service  |
      | api      |
      | frontend |

  @checklist:no-exposed-secrets
  Scenario: The frontend lists no directory
    When I probe the "frontend" service for exposed listings
    Then nothing probed is exposed

  @checklist:no-exposed-secrets
  Scenario: The frontend's scripts ship without public source maps
    When I fetch the scripts of the "frontend" pages and their source maps
    Then no script has a public source map

  @checklist:no-exposed-secrets
  Scenario: The frontend's scripts hold no secret
    When I fetch the scripts of the "frontend" pages and their source maps
    Then no script holds a secret-looking string
