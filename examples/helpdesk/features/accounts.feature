@smoke
Feature: People can sign in, and only they see their data

  @severity:critical
  Scenario: Every account signs in and is recognised
    When every account signs in and calls "/api/v1/users/me" on the "api" service
    Then every account is signed in and accepted

  Scenario: A signed-in user reads their own profile and items
    Given I am signed in as "user"
    When I send a GET request to "/api/v1/users/me" on the "api" service
    Then the response status is 200
    And the JSON at "$.email" is "{{accounts.user.username}}"
    When I send a GET request to "/api/v1/items/" on the "api" service
    Then the response status is 200
    And the JSON at "$.count" exists

  Scenario: Anonymous callers are turned away
    Given I am anonymous
    When I send a GET request to "/api/v1/items/" on the "api" service
    Then the response status is 401
