@data_integrity
Feature: Row level security and grants protect the notifications
  The API's role reaches notifications only through row level security and the stored procedures granted to
  it; the suite's own role reads and cannot write.
  Checklist: "RLS policies active", "Stored procedures created (9)", "Grants to the API's role".

  Scenario: Row level security is enabled on the notification tables with their policies
    Then row level security is enabled on "notifications" with the policies "notifications_app_access, notifications_readonly"
    And row level security is enabled on "activity.notifications" with the policies "activity_notifications_owner"
    And row level security is enabled on "activity.notification_settings" with the policies "activity_settings_owner"

  Scenario: The nine activity procedures exist and the API's role may execute them
    Then these functions exist:
      | signature                                                                        |
      | activity.sp_get_user_notifications(uuid, integer, integer, boolean, text)        |
      | activity.sp_get_notification_by_id(uuid, uuid)                                   |
      | activity.sp_mark_notification_as_read(uuid, uuid)                                |
      | activity.sp_mark_notifications_as_read_bulk(uuid, uuid[])                        |
      | activity.sp_delete_notification(uuid, uuid)                                      |
      | activity.sp_get_unread_count(uuid, boolean)                                      |
      | activity.sp_create_notification(uuid, text, text, text, jsonb, text)             |
      | activity.sp_get_notification_settings(uuid)                                      |
      | activity.sp_update_notification_settings(uuid, boolean, boolean, boolean, text, text[]) |
    And the role "api" has these privileges:
      | privilege | object                                                                           |
      | USAGE     | schema activity                                                                  |
      | EXECUTE   | activity.sp_get_user_notifications(uuid, integer, integer, boolean, text)        |
      | EXECUTE   | activity.sp_get_notification_by_id(uuid, uuid)                                   |
      | EXECUTE   | activity.sp_mark_notification_as_read(uuid, uuid)                                |
      | EXECUTE   | activity.sp_mark_notifications_as_read_bulk(uuid, uuid[])                        |
      | EXECUTE   | activity.sp_delete_notification(uuid, uuid)                                      |
      | EXECUTE   | activity.sp_get_unread_count(uuid, boolean)                                      |
      | EXECUTE   | activity.sp_create_notification(uuid, text, text, text, jsonb, text)             |
      | EXECUTE   | activity.sp_get_notification_settings(uuid)                                      |
      | EXECUTE   | activity.sp_update_notification_settings(uuid, boolean, boolean, boolean, text, text[]) |

  Scenario: The read-only role cannot write
    Then the role "readonly" does not have these privileges:
      | privilege | object                                                               |
      | INSERT    | notifications                                                        |
      | UPDATE    | notifications                                                        |
      | DELETE    | orders                                                               |
      | EXECUTE   | activity.sp_create_notification(uuid, text, text, text, jsonb, text) |
