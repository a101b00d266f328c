-- Every write to a job adds one to its version, so events about a job can
-- be ordered without trusting clocks. (PostgreSQL also announces each
-- change to other instances; a SQLite file has one instance.)
ALTER TABLE jobs ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
