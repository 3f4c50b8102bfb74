-- When an account's password last changed: a session opened before it ends at its next request, so a
-- reset (or the user's own change elsewhere) also logs out whoever knew the old password.
ALTER TABLE users ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now();
