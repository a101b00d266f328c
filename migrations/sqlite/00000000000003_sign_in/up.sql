-- Sign-in: a user is one identity at one provider (provider + subject);
-- logins are only what the provider shows, so two providers may share one.
-- SQLite cannot drop the old UNIQUE (login), so the table is rebuilt, with
-- foreign keys off: dropping the old table would otherwise cascade into
-- every upload and job.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_new (
    id         TEXT PRIMARY KEY,
    login      TEXT NOT NULL,
    name       TEXT,
    created_at TIMESTAMP NOT NULL,
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    email      TEXT,
    avatar_url TEXT
);
INSERT INTO users_new (id, login, name, created_at, provider, subject)
    SELECT id, login, name, created_at, 'local', id FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_identity ON users (provider, subject);

-- A browser's session. The cookie holds a random secret; only its SHA-256
-- is stored (as the key), so a copy of the database signs nobody in. It ends
-- at expires_at, or after the idle limit past last_seen_at.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- A script's credential, sent as `Authorization: Bearer`. Only the SHA-256
-- of its secret is stored; the secret is shown once, at creation.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    expires_at   TIMESTAMP
);

CREATE INDEX api_tokens_user_id ON api_tokens (user_id, created_at);
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
