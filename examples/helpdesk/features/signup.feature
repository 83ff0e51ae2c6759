@smoke @mutating
Feature: New accounts and password recovery
  A new user of this run signs up, is greeted by e-mail, recovers their password with the link the recovery
  e-mail holds, and the link works exactly once. The user is removed afterwards, whatever happens.

  @severity:critical
  Scenario: A new account is greeted and resets its password once
    Given the value "new_email" is "postdeploy-{{run_id}}@{{test_domain}}"
    And I am signed in as "admin"
    When I send a POST request to "/api/v1/users/signup" on the "api" service with the JSON body:
      """
      {"email": "{{new_email}}", "password": "pd-{{run_id}}-Secret", "full_name": "Post Deploy {{run_id}}"}
      """
    Then the response status is 200
    When I remember the JSON at "$.id" as "new_user_id"
    And I clean up afterwards with a DELETE request to "/api/v1/users/{{new_user_id}}" on the "api" service
    When I send a GET request to "/api/email?to.address={{new_email}}" on the "mail" service
    Then the response body contains "Welcome to"
    When I send a POST request to "/api/v1/password-recovery/{{new_email}}" on the "api" service
    Then the response status is 200
    When I send a GET request to "/api/email?to.address={{new_email}}" on the "mail" service
    And I remember the text matching "reset-password\?token=([\w.-]+)" in the response body as the secret "reset_token"
    And I send a POST request to "/api/v1/reset-password/" on the "api" service with the JSON body:
      """
      {"token": "{{reset_token}}", "new_password": "pd-{{run_id}}-New1"}
      """
    Then the response status is 200
    When I send a POST request to "/api/v1/reset-password/" on the "api" service with the JSON body:
      """
      {"token": "{{reset_token}}", "new_password": "pd-{{run_id}}-New2"}
      """
    Then the response status is 400
