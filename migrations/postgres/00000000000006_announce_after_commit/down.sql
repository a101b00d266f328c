-- Back to announcing from inside every writing transaction, as migration 5
-- did, for a Loupe that expects it.
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
