-- Every write to a job adds one to its version, so events about a job can
-- be ordered whichever instance made or relays them (wall clocks of
-- instances disagree; a version does not).
ALTER TABLE jobs ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- Every change to a job is announced to every instance (see
-- src/jobs/events.rs for why a trigger rather than the writer): a small
-- payload, never the result (NOTIFY payloads stop at 8,000 bytes; ids are
-- UUIDs, so this one stays near 200). A job that becomes PENDING also wakes
-- idle workers everywhere. NOTIFY is sent at commit, and not at all on
-- rollback, so no instance hears of a change that did not happen.
CREATE FUNCTION loupe_notify_job() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('loupe_job_changed', json_build_object(
        'id', NEW.id, 'owner', NEW.owner_id, 'status', NEW.status,
        'progress', NEW.progress, 'attempts', NEW.attempts, 'version', NEW.version)::text);
    IF NEW.status = 'PENDING' THEN
        PERFORM pg_notify('loupe_jobs_available', '');
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION loupe_notify_job();
