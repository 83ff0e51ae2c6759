@smoke
Feature: The helpdesk is up
  Right after a deploy every service answers its health check, the API describes itself, and the
  interactive documentation is off.

  @severity:critical
  Scenario: Every service answers its health check
    When I ask every service for its health
    Then every service answers its health check as the environment expects

  Scenario: The API serves its OpenAPI document
    When I send a GET request to "/api/v1/openapi.json" on the "api" service
    Then the response status is 200
    And the JSON at "$.info.title" exists

  Scenario: The interactive API documentation is off
    When I look for API documentation on the "api" service
    Then API documentation is exposed as the environment expects
