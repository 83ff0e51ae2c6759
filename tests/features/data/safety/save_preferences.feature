@browser
Feature: A browser scenario that saves, not tagged @mutating
  tests/features/test_safety.py runs it against a private sandbox: in a read-only environment the save is
  blocked before it leaves the browser and nothing is written; in a read-write one it saves.

  Scenario: An admin saves the notification preferences
    Given I am signed in to the browser as "admin"
    When I open the page "/settings/notifications"
    And I click the "Save preferences" button
    Then the page shows the text "Preferences saved"
