@smoke
Feature: People can sign in, and only they see their data

  @severity:critical
  Scenario: Every account signs in and is recognised
    Then every account can sign in and "/api/v1/users/me" on the "api" service accepts its credentials

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
