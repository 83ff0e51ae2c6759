DROP POLICY IF EXISTS activity_settings_readonly ON activity.notification_settings;
DROP POLICY IF EXISTS activity_settings_owner ON activity.notification_settings;
ALTER TABLE activity.notification_settings DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS activity_notifications_readonly ON activity.notifications;
DROP POLICY IF EXISTS activity_notifications_owner ON activity.notifications;
ALTER TABLE activity.notifications DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS notifications_readonly ON notifications;
DROP POLICY IF EXISTS notifications_app_access ON notifications;
ALTER TABLE notifications DISABLE ROW LEVEL SECURITY;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA activity FROM app_user, postdeploy_readonly;
REVOKE ALL ON ALL TABLES IN SCHEMA activity FROM app_user, postdeploy_readonly;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM app_user, postdeploy_readonly;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM app_user;
REVOKE ALL ON SCHEMA activity FROM app_user, postdeploy_readonly;
REVOKE ALL ON SCHEMA public FROM app_user, postdeploy_readonly;
DO $$ BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM app_user, postdeploy_readonly', current_database());
END $$;
