@data_integrity
Feature: The data is intact after the deployment
  No duplicate notifications, no orphans, nothing missing, and fresh enough.
  Checklist: "No duplicate notifications (metadata->>'transaction_id' counted twice)",
  "100% of orders intact", "Data integrity after the migration".

  Scenario: No payment transaction was notified twice
    Then no two rows of "notifications" share "metadata->>'transaction_id', type"

  Scenario: Every notification of a payment refers to a recorded payment
    Then every "metadata->>'transaction_id'" of "notifications" exists as "transaction_id" in "payments"

  Scenario: Every notification belongs to a user
    Then no row of "notifications" has a NULL "user_id"

  Scenario: Paid orders carry their payment time
    Then this query returns no rows:
      """
      SELECT id, status, created_at FROM orders WHERE status = 'paid' AND paid_at IS NULL
      """

  Scenario: Few notifications failed
    Then the rows of "notifications" by "status" are within the environment's bounds

  Scenario: The configuration and the accounts are there
    Then the table "notification_configs" holds as many rows as the environment expects
    And the table "users" holds as many rows as the environment expects

  Scenario: In-app notifications are recent
    Then the newest "created_at" of "activity.notifications" is as recent as the environment expects
