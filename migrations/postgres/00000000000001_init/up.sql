-- Identifiers are UUID strings and times are UTC `TIMESTAMP`s so that one
-- diesel schema serves both PostgreSQL and SQLite (see src/db/schema.rs).

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    login      TEXT NOT NULL UNIQUE,
    name       TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE uploads (
    id             TEXT PRIMARY KEY,
    owner_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filename       TEXT NOT NULL,
    content_type   TEXT,
    size           BIGINT NOT NULL CHECK (size >= 0),
    object_key     TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL CHECK (status IN ('AWAITING_UPLOAD', 'UPLOADED')),
    -- The user's overrides of format and delimiter detection, if any.
    format         TEXT CHECK (format IN ('csv', 'tsv', 'json_lines')),
    delimiter      TEXT,
    created_at     TIMESTAMP NOT NULL,
    url_expires_at TIMESTAMP NOT NULL,
    uploaded_at    TIMESTAMP
);

CREATE INDEX uploads_owner_id ON uploads (owner_id, id);

-- The job queue. A worker claims a job by setting status RUNNING together
-- with a lease (lease_owner, lease_expires_at) that its heartbeat renews; a
-- RUNNING job whose lease has expired belongs to a dead worker and is claimed
-- again, until attempts reaches max_attempts.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    upload_id        TEXT NOT NULL UNIQUE REFERENCES uploads (id) ON DELETE CASCADE,
    owner_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status           TEXT NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    progress         DOUBLE PRECISION NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at TIMESTAMP,
    error_code       TEXT,
    error_message    TEXT,
    result           TEXT,
    created_at       TIMESTAMP NOT NULL,
    started_at       TIMESTAMP,
    finished_at      TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL
);

CREATE INDEX jobs_owner_id ON jobs (owner_id, id);
CREATE INDEX jobs_claimable ON jobs (status, created_at);
