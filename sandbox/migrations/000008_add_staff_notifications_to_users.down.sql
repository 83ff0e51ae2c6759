ALTER TABLE users DROP COLUMN IF EXISTS email_notifications_enabled;
ALTER TABLE users DROP COLUMN IF EXISTS staff_notifications_enabled;
