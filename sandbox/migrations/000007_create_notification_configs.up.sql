CREATE TABLE notification_configs (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    staff_notifications_enabled boolean NOT NULL DEFAULT true,
    customer_receipts_enabled boolean NOT NULL DEFAULT true,
    sender_name text NOT NULL DEFAULT 'Notification Platform',
    reply_to text,
    retry_attempts integer NOT NULL DEFAULT 3 CHECK (retry_attempts BETWEEN 1 AND 10),
    updated_by uuid REFERENCES users (id),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO notification_configs (id) VALUES (1);
