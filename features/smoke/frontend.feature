@smoke @browser
Feature: The frontend's new pages work in a real browser
  Checklist: "New pages deployed: /settings/notifications, /settings/notifications/history",
  "Home page loads", "Console errors: 0 critical", "Verify status badges show sent".

  Scenario: An admin signs in and opens the notification settings
    When I sign in through the browser as "admin"
    Then the page path is "/dashboard"
    When I open the page "/settings/notifications"
    Then the page shows the heading "Notification settings"
    And the page made no failed requests
    And the page has no console errors

  Scenario: The notification history shows status badges
    Given I am signed in to the browser as "admin"
    When I open the page "/settings/notifications/history"
    Then the page shows the heading "Notification history"
    And the page shows at least 1 element matching ".badge-sent"
    And the page made no failed requests
    And the page has no console errors
