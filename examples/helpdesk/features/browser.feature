@smoke @browser
Feature: People use the helpdesk in a browser
  The single-page app: signing in (by its form, or with the session in local storage), the login form's controls,
  and no credentials in the address bar.

  @severity:critical
  Scenario: A user signs in and reaches their dashboard
    When I sign in through the browser as "user"
    Then the page shows "Log Out"
    And the page address carries no credentials
    And the page has no console errors
    And the page made no failed requests

  Scenario: The password field is the one next to its show-password toggle
    When I open the page "/login"
    And I fill in "Password" with "not-my-password"
    And I check "Remember me"
    And I click "Show password"
    Then the page shows "Hide password"

  Scenario: A forgotten password leads to its recovery
    When I open the page "/login"
    And I click "Forgot password?"
    Then the page path is "/recover-password"
    And the page shows the heading "Password Recovery"
