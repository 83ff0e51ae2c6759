CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    password_hash text NOT NULL,
    full_name text NOT NULL DEFAULT '',
    role text NOT NULL DEFAULT 'customer' CHECK (role IN ('admin', 'staff', 'customer')),
    is_active boolean NOT NULL DEFAULT true,
    created_by_release text NOT NULL DEFAULT 'v2.0.0',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX idx_users_email ON users (lower(email));
