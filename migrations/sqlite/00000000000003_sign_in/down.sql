PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE api_tokens;
DROP TABLE sessions;
CREATE TABLE users_old (
    id         TEXT PRIMARY KEY,
    login      TEXT NOT NULL UNIQUE,
    name       TEXT,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO users_old (id, login, name, created_at) SELECT id, login, name, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;
