DROP TABLE IF EXISTS notification_duplicates;
DROP TABLE IF EXISTS notifications;
