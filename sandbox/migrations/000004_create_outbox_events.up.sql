-- Transactional outbox: the order service writes events in the same transaction as the state change;
-- the notification worker consumes them (stands in for the Kafka topic "order-events").
CREATE TABLE outbox_events (
    id bigserial PRIMARY KEY,
    topic text NOT NULL DEFAULT 'order-events',
    event_type text NOT NULL,
    aggregate_id text,
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE INDEX idx_outbox_events_pending ON outbox_events (id) WHERE status = 'pending';
