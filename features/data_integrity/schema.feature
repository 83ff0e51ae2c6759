@data_integrity
Feature: The notification tables, columns and indexes exist as the migrations create them
  Checklist: "\d notifications", "staff_notifications_enabled on users", "Indexes created",
  "Database queries use indexes (check with EXPLAIN)".

  Scenario: The notifications table has its columns
    Then the table "notifications" has the columns:
      | column          | type        | nullable | default           |
      | id              | uuid        | no       | gen_random_uuid() |
      | order_id        | uuid        | yes      |                   |
      | user_id         | uuid        | yes      |                   |
      | type            | text        | no       | (none)            |
      | recipient_email | text        | no       |                   |
      | status          | text        | no       | 'pending'::text   |
      | attempts        | integer     | no       | 0                 |
      | metadata        | jsonb       | no       | '{}'::jsonb       |
      | created_at      | timestamptz | no       | now()             |
      | sent_at         | timestamptz | yes      | (none)            |

  Scenario: Users carry the staff notification preference
    Then the table "users" has the columns:
      | column                      | type    | nullable | default |
      | staff_notifications_enabled | boolean | no       | false   |
      | email_notifications_enabled | boolean | no       | true    |

  Scenario: The notification indexes are valid and ready
    Then the table "notifications" has a valid index on "status"
    And the table "notifications" has a valid index on "created_at"
    And the table "notifications" has a valid index on "order_id"
    And the table "notifications" has a valid index on "user_id"
    And the table "activity.notifications" has a valid index on "user_id, created_at DESC"

  Scenario: A unique index prevents duplicate notifications per payment and type
    Then the table "notifications" has a valid unique index on "metadata->>'transaction_id', type"

  Scenario: Notifications reference their orders and users, and their status is constrained
    Then the table "notifications" has a foreign key on "order_id" referencing "orders"
    And the table "activity.notifications" has a foreign key on "user_id" referencing "users"
    And the table "notifications" has a check constraint on "status"
