-- Roles app_user and postdeploy_readonly are cluster-level and created by the launcher before migrations run;
-- this migration only grants. The API and worker connect as app_user (not the tables' owner), so the row level
-- security policies below apply to them.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA activity FROM PUBLIC;

DO $$ BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO app_user, postdeploy_readonly', current_database());
END $$;
GRANT USAGE ON SCHEMA public TO app_user;
GRANT USAGE ON SCHEMA activity TO app_user;
GRANT SELECT, INSERT, UPDATE ON users, orders, order_items, payments, outbox_events, notifications,
    notification_configs, notification_duplicates TO app_user;
-- an order and what it caused may be removed: how test orders are cleaned up (DELETE /api/v1/orders/{id})
GRANT DELETE ON orders, order_items, payments, outbox_events, notifications, notification_duplicates TO app_user;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO app_user;
GRANT SELECT, INSERT, UPDATE ON activity.notifications, activity.notification_settings TO app_user;
GRANT EXECUTE ON FUNCTION activity.sp_get_user_notifications TO app_user;
GRANT EXECUTE ON FUNCTION activity.sp_get_notification_by_id TO app_user;
GRANT EXECUTE ON FUNCTION activity.sp_mark_notification_as_read TO app_user;
GRANT EXECUTE ON FUNCTION activity.sp_mark_notifications_as_read_bulk TO app_user;
GRANT EXECUTE ON FUNCTION activity.sp_delete_notification TO app_user;
GRANT EXECUTE ON FUNCTION activity.sp_get_unread_count TO app_user;
GRANT EXECUTE ON FUNCTION activity.sp_create_notification TO app_user;
GRANT EXECUTE ON FUNCTION activity.sp_get_notification_settings TO app_user;
GRANT EXECUTE ON FUNCTION activity.sp_update_notification_settings TO app_user;

GRANT USAGE ON SCHEMA public, activity TO postdeploy_readonly;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO postdeploy_readonly;
GRANT SELECT ON ALL TABLES IN SCHEMA activity TO postdeploy_readonly;
GRANT EXECUTE ON FUNCTION activity.sp_get_unread_count TO postdeploy_readonly;
GRANT EXECUTE ON FUNCTION activity.sp_get_user_notifications TO postdeploy_readonly;

-- Row level security. The application sets app.user_id / app.user_role per transaction (set_config(..., true)).
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
CREATE POLICY notifications_app_access ON notifications TO app_user
    USING (current_setting('app.user_role', true) IN ('admin', 'staff', 'service')
           OR user_id::text = current_setting('app.user_id', true))
    WITH CHECK (current_setting('app.user_role', true) IN ('admin', 'staff', 'service')
           OR user_id::text = current_setting('app.user_id', true));
CREATE POLICY notifications_readonly ON notifications FOR SELECT TO postdeploy_readonly USING (true);

ALTER TABLE activity.notifications ENABLE ROW LEVEL SECURITY;
CREATE POLICY activity_notifications_owner ON activity.notifications TO app_user
    USING (user_id::text = current_setting('app.user_id', true))
    WITH CHECK (user_id::text = current_setting('app.user_id', true));
CREATE POLICY activity_notifications_readonly ON activity.notifications FOR SELECT TO postdeploy_readonly
    USING (true);

ALTER TABLE activity.notification_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY activity_settings_owner ON activity.notification_settings TO app_user
    USING (user_id::text = current_setting('app.user_id', true))
    WITH CHECK (user_id::text = current_setting('app.user_id', true));
CREATE POLICY activity_settings_readonly ON activity.notification_settings FOR SELECT TO postdeploy_readonly
    USING (true);
