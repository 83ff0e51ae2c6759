@security
Feature: The deployment runs with its production settings
  What a service reports about itself (its environment, debug flag and log level) is what this environment expects.
  Checklist: "ENVIRONMENT=production", "DEBUG=false", "LOG_LEVEL=WARNING or ERROR".

  @checklist:production-settings
  Scenario Outline: The api reports the expected <setting>
    When I ask the "api" service for the settings it reports
    Then the reported "<setting>" is what the environment expects

    Examples:
      | setting     |
      | environment |
      | debug       |
      | log_level   |
