-- Job changes are announced by the instance that made them, after their
-- transaction has committed (src/db/announcements.rs says why): a NOTIFY
-- inside the writing transaction made every such commit of every instance
-- wait for the disk in single file.
DROP TRIGGER jobs_notify ON jobs;
DROP FUNCTION loupe_notify_job();
