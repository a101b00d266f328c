-- The stored object's ETag, recorded when the upload is confirmed: the job
-- reads the object only while it still has it, so it profiles exactly the
-- bytes that were confirmed.
ALTER TABLE uploads ADD COLUMN etag TEXT;
