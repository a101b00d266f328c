DROP TABLE api_tokens;
DROP TABLE sessions;
DROP INDEX users_identity;
ALTER TABLE users DROP COLUMN avatar_url;
ALTER TABLE users DROP COLUMN email;
ALTER TABLE users DROP COLUMN subject;
ALTER TABLE users DROP COLUMN provider;
ALTER TABLE users ADD CONSTRAINT users_login_key UNIQUE (login);
