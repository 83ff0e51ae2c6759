CREATE TABLE payments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id uuid NOT NULL REFERENCES orders (id),
    transaction_id text NOT NULL,
    amount_cents integer NOT NULL CHECK (amount_cents >= 0),
    payment_method text NOT NULL DEFAULT 'card',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX idx_payments_transaction_id ON payments (transaction_id);
CREATE INDEX idx_payments_order_id ON payments (order_id);
