@smoke
Feature: Sign-in works and protected endpoints stay protected
  Checklist: "User login works", "JWT validation working", "Login with v1.1.0 account",
  "Permissions working", "All routes accessible" (to the roles that may call them, and to no one else).

  Scenario: Every test account signs in and its token is accepted
    When every account signs in and calls "/api/v1/users/me" on the "api" service
    Then every account is signed in and accepted

  Scenario: The signed-in user is who the token says
    Given I am signed in as "admin"
    When I send a GET request to "/api/v1/users/me" on the "api" service
    Then the response status is 200
    And the JSON at "role" is "admin"

  Scenario: Protected endpoints reject anonymous calls
    Given I am anonymous
    When I send these requests to the "api" service:
      | method | path                                   | status |
      | GET    | /api/v1/users/me                       | 401    |
      | GET    | /api/v1/users/notification-preferences | 401    |
      | GET    | /api/v1/notifications/history          | 401    |
      | GET    | /api/v1/notifications/config           | 401    |
      | GET    | /api/v2/users/me                       | 401    |
    Then every response has the status its row expects

  Scenario: A forged token is rejected
    When I send a GET request to "/api/v1/users/me" on the "api" service with the headers:
      | name          | value                                                                                  |
      | Authorization | Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIn0.forged-signature-xxxxx |
    Then the response status is 401

  Scenario: A customer cannot reach admin endpoints
    Given I am signed in as "customer"
    When I send these requests to the "api" service:
      | method | path                          | status |
      | GET    | /api/v1/notifications/config  | 403    |
      | GET    | /api/v1/notifications/history | 403    |
    Then every response has the status its row expects

  Scenario: Every route of the release answers each caller as the environment lists
    When every identity calls the routes of the environment's routes table
    Then every route answers each identity as the routes table says

  Scenario: Every account is served its own identity
    When every account signs in and calls "/api/v1/users/me" on the "api" service
    Then every account sees its own username at "email" and role at "role"
