DROP FUNCTION IF EXISTS activity.sp_update_notification_settings(uuid, boolean, boolean, boolean, text, text[]);
DROP FUNCTION IF EXISTS activity.sp_get_notification_settings(uuid);
DROP FUNCTION IF EXISTS activity.sp_create_notification(uuid, text, text, text, jsonb, text);
DROP FUNCTION IF EXISTS activity.sp_get_unread_count(uuid, boolean);
DROP FUNCTION IF EXISTS activity.sp_delete_notification(uuid, uuid);
DROP FUNCTION IF EXISTS activity.sp_mark_notifications_as_read_bulk(uuid, uuid[]);
DROP FUNCTION IF EXISTS activity.sp_mark_notification_as_read(uuid, uuid);
DROP FUNCTION IF EXISTS activity.sp_get_notification_by_id(uuid, uuid);
DROP FUNCTION IF EXISTS activity.sp_get_user_notifications(uuid, integer, integer, boolean, text);
