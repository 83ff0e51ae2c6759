@smoke @mutating
Feature: New accounts and password recovery
  A new user of this run signs up, is greeted by e-mail, recovers their password with the link the recovery
  e-mail holds: the new password works, the old one does not, and the link works exactly once. The user is
  removed afterwards, whatever happens.

  @severity:critical
  Scenario: A new account is greeted and resets its password once
    Given I am signed in as "admin"
    And a new email address "new_email"
    When I send a POST request to "/api/v1/users/signup" on the "api" service with the JSON body:
      """
      {"email": "{{new_email}}", "password": "pd-{{run_id}}-Secret", "full_name": "Post Deploy {{run_id}}"}
      """
    Then the response status is 200
    When I remember the JSON at "$.id" as "new_user_id"
    And I clean up afterwards with a DELETE request to "/api/v1/users/{{new_user_id}}" on the "api" service
    And I wait for an email to "{{new_email}}" with "New account" in its subject
    Then the email says "Welcome to"
    And the email is fully rendered
    And every link in the email points at the "frontend" service
    When I send a POST request to "/api/v1/password-recovery/{{new_email}}" on the "api" service
    Then the response status is 200
    When I wait for an email to "{{new_email}}" with "Password recovery" in its subject
    Then every link in the email points at the "frontend" service
    And every link in the email works
    When I remember the link matching "reset-password\?token=([\w.-]+)" in the email as the secret "reset_token"
    And I send a POST request to "/api/v1/reset-password/" on the "api" service with the JSON body:
      """
      {"token": "{{reset_token}}", "new_password": "pd-{{run_id}}-New1"}
      """
    Then the response status is 200
    When I send a POST request to "/api/v1/login/access-token" on the "api" service with the form:
      | name     | value                |
      | username | {{new_email}}        |
      | password | pd-{{run_id}}-New1   |
    Then the response status is 200
    When I send a POST request to "/api/v1/login/access-token" on the "api" service with the form:
      | name     | value                |
      | username | {{new_email}}        |
      | password | pd-{{run_id}}-Secret |
    Then the response status is 400
    When I send a POST request to "/api/v1/reset-password/" on the "api" service with the JSON body:
      """
      {"token": "{{reset_token}}", "new_password": "pd-{{run_id}}-New2"}
      """
    Then the response status is 400
