@email_delivery @mutating
Feature: A test notification arrives, and a resend from the history sends it again
  The notification settings' "send a test" and the history's "resend", as an admin uses them, to an address of
  this run's own; the notification is removed afterwards.
  Checklist: "Test notification endpoint working", "Resend from history works".

  @checklist:test-notification
  Scenario: A test notification arrives, and its resend arrives once more
    Given I am signed in as "admin"
    And a new email address "test_email"
    When I send a POST request to "/api/v1/notifications/test" on the "api" service with the JSON body:
      """
      {"recipient_email": "{{test_email}}", "notification_type": "customer"}
      """
    Then the response status is 202
    When I remember the JSON at "$.notification_id" as "notification_id"
    And I clean up afterwards with a DELETE request to "/api/v1/notifications/{{notification_id}}" on the "api" service
    And I wait for an email to "{{test_email}}" with "Test customer notification" in its subject
    Then the email arrived within the "email_delivery_s" objective
    And the email is fully rendered
    And every link in the email points at the "frontend" service
    When I send a POST request to "/api/v1/notifications/{{notification_id}}/resend" on the "api" service
    Then the response status is 202
    When I collect the emails to "{{test_email}}" for 3 seconds
    Then exactly 2 emails with "Test customer notification" in their subject arrived
