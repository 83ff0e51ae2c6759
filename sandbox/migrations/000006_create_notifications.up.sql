CREATE TABLE notifications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id uuid REFERENCES orders (id),
    user_id uuid REFERENCES users (id),
    type text NOT NULL CHECK (type IN ('staff', 'customer')),
    recipient_email text NOT NULL,
    subject text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    error_type text CHECK (error_type IS NULL OR error_type IN ('auth', 'connection', 'timeout', 'other')),
    error_message text,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX idx_notifications_status ON notifications (status);
CREATE INDEX idx_notifications_created_at ON notifications (created_at);
CREATE INDEX idx_notifications_order_id ON notifications (order_id);
CREATE INDEX idx_notifications_user_id ON notifications (user_id);
-- duplicate prevention: one notification of each type per payment transaction
CREATE UNIQUE INDEX idx_notifications_transaction_type
    ON notifications ((metadata ->> 'transaction_id'), type)
    WHERE metadata ->> 'transaction_id' IS NOT NULL;

CREATE TABLE notification_duplicates (
    id bigserial PRIMARY KEY,
    transaction_id text NOT NULL,
    type text NOT NULL,
    detected_at timestamptz NOT NULL DEFAULT now()
);
