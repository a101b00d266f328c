-- A sign-in under way, between the redirect to the provider and its
-- callback: keyed by the SHA-256 of its `state`, deleted when the callback
-- uses it (so a replayed callback finds nothing) or after ten minutes.
CREATE TABLE login_attempts (
    id            TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    return_to     TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE INDEX login_attempts_created_at ON login_attempts (created_at);
