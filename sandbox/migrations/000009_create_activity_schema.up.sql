CREATE SCHEMA activity;

CREATE TABLE activity.notifications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type text NOT NULL,
    title text NOT NULL,
    message text NOT NULL DEFAULT '',
    data jsonb NOT NULL DEFAULT '{}'::jsonb,
    priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high')),
    is_read boolean NOT NULL DEFAULT false,
    read_at timestamptz,
    is_deleted boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_activity_notifications_user_created ON activity.notifications (user_id, created_at DESC);
CREATE INDEX idx_activity_notifications_unread ON activity.notifications (user_id) WHERE NOT is_read AND NOT is_deleted;

CREATE TABLE activity.notification_settings (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email_enabled boolean NOT NULL DEFAULT true,
    push_enabled boolean NOT NULL DEFAULT false,
    in_app_enabled boolean NOT NULL DEFAULT true,
    digest_frequency text NOT NULL DEFAULT 'daily' CHECK (digest_frequency IN ('never', 'daily', 'weekly')),
    muted_types text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);
