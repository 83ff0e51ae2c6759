@smoke
Feature: The deployment is up
  Right after a deploy: every service the environment names answers its health check the way the
  environment file says a healthy one does, and the home page answers.

  @severity:critical
  Scenario: Every service answers its health check
    When I ask every service for its health
    Then every service answers its health check as the environment expects

  Scenario: The home page answers without revealing internals
    When I send a GET request to "/" on the "app" service
    Then the response status is 200
    And the response does not reveal a stack trace
