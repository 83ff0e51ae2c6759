@data_integrity
Feature: The database schema is at the release's migration version
  Every migration of the release ran to its end, and none was left half-applied.
  Checklist: "migrate ... version should say 8 after 000006-000008", "All migrations applied (001-012)",
  "Run migrations", "Verify migration success".

  Scenario: The applied migration version is the expected one and the state is clean
    Then the database migrations are at the expected version and clean
