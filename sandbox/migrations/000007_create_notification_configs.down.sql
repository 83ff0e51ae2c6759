DROP TABLE IF EXISTS notification_configs;
