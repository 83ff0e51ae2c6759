@smoke
Feature: Static assets are cached and translations load
  Checklist: "Static assets cached", "Static assets: 1-year cache with version hash",
  "New bundle hashes deployed", "i18n files loaded", "Service worker updated" (pages revalidated,
  so users get the new bundle).

  Scenario: Scripts and styles are content-hashed and cached for a long time
    When I fetch the static assets referenced by "/login" on the "frontend" service
    Then every asset answers 200 with a Cache-Control max-age of at least 86400 seconds
    And every script and style sheet name carries a content hash

  Scenario: Translation files load
    When I send these requests to the "frontend" service:
      | method | path          | status |
      | GET    | /i18n/en.json | 200    |
      | GET    | /i18n/es.json | 200    |
    Then every response has the status its row expects
    And every response is JSON with at least 10 entries

  Scenario: Pages are revalidated, never cached as immutable
    When I send these requests to the "frontend" service:
      | path                            |
      | /login                          |
      | /dashboard                      |
      | /settings/notifications         |
      | /settings/notifications/history |
    Then no response is cached as immutable nor for more than 300 seconds
