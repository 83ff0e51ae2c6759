ALTER TABLE users ADD COLUMN staff_notifications_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN email_notifications_enabled boolean NOT NULL DEFAULT true;
