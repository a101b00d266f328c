DROP TRIGGER jobs_notify ON jobs;
DROP FUNCTION loupe_notify_job();
ALTER TABLE jobs DROP COLUMN version;
