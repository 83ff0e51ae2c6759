@data_integrity
Feature: The database has headroom after the deployment
  Checklist: "Database connections < 50", "> 80% pool used" (alert), "No table locks".

  Scenario: Connections in use leave headroom
    Then database connections in use stay below the expected share

  Scenario: No session waits on another's lock
    Then no database session is blocked by another

  Scenario: The platform's frequent queries read large tables through indexes
    Then the plan of the query "payments_of_an_order" reads its large tables through indexes
