use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::cached::Cached;
use super::schema::{jobs, uploads};
use super::{Db, DbResult, Job, JobStatus, NewJob, NewUpload, Upload, UploadStatus, db_run};

/// The confirm as one statement: on PostgreSQL a transaction of three
/// statements took five round trips (with BEGIN and COMMIT), the most of
/// any step of a journey. Same effect: the upload marked, the job inserted
/// unless the upload has one, and the upload's job returned. Its SELECT sees
/// the statement's snapshot, so a job inserted by a concurrent confirm that
/// committed meanwhile is missing from it (see `confirm_upload`).
const CONFIRM_ON_POSTGRES: &str = "\
    WITH marked AS ( \
        UPDATE uploads SET status = 'UPLOADED', uploaded_at = $3, etag = $2 \
        WHERE id = $1 AND status = 'AWAITING_UPLOAD' RETURNING id \
    ), inserted AS ( \
        INSERT INTO jobs (id, upload_id, owner_id, status, max_attempts, created_at, updated_at) \
        VALUES ($4, $1, $5, $6, $7, $8, $9) ON CONFLICT (upload_id) DO NOTHING RETURNING * \
    ) \
    SELECT * FROM inserted \
    UNION ALL SELECT jobs.* FROM jobs WHERE upload_id = $1 AND NOT EXISTS (SELECT 1 FROM inserted)";

impl Db {
    pub async fn insert_upload(&self, upload: &NewUpload<'_>) -> DbResult<Upload> {
        db_run!(self, |conn| {
            Ok(Cached(diesel::insert_into(uploads::table).values(upload).returning(Upload::as_returning()))
                .get_result(conn)
                .await?)
        })
    }

    /// The upload with this id if `owner_id` owns it: another user's upload
    /// is indistinguishable from a missing one.
    pub async fn find_upload(&self, owner_id: &str, id: &str) -> DbResult<Option<Upload>> {
        db_run!(self, |conn| {
            Ok(uploads::table
                .filter(uploads::id.eq(id).and(uploads::owner_id.eq(owner_id)))
                .select(Upload::as_select())
                .get_result(conn)
                .await
                .optional()?)
        })
    }

    /// Marks the upload UPLOADED (with its object's `etag`) and enqueues its job in one transaction, so a
    /// job exists exactly when its upload was confirmed. Idempotent: a second
    /// call (or a concurrent one) returns the job the first created.
    pub async fn confirm_upload(
        &self,
        upload_id: &str,
        etag: Option<&str>,
        job: &NewJob<'_>,
        now: NaiveDateTime,
    ) -> DbResult<Job> {
        db_run!(
            self,
            postgres | conn | {
                let confirmed = Cached(
                    diesel::sql_query(CONFIRM_ON_POSTGRES)
                        .bind::<Text, _>(upload_id)
                        .bind::<Nullable<Text>, _>(etag)
                        .bind::<Timestamp, _>(now)
                        .bind::<Text, _>(job.id)
                        .bind::<Text, _>(job.owner_id)
                        .bind::<Text, _>(job.status.as_str())
                        .bind::<Integer, _>(job.max_attempts)
                        .bind::<Timestamp, _>(job.created_at)
                        .bind::<Timestamp, _>(job.updated_at),
                )
                .get_result::<Job>(conn)
                .await
                .optional()?;
                match confirmed {
                    Some(job) => Ok(job),
                    // Another confirm of this upload committed its job after
                    // the statement's snapshot was taken: a new one sees it.
                    None => Ok(jobs::table
                        .filter(jobs::upload_id.eq(upload_id))
                        .select(Job::as_select())
                        .get_result(conn)
                        .await?),
                }
            },
            sqlite | conn | {
                conn.transaction(async |conn| -> DbResult<Job> {
                    // Write first: SQLite takes its write lock here rather than
                    // upgrading a read lock later, which could fail with BUSY.
                    Cached(
                        diesel::update(uploads::table.find(upload_id))
                            .filter(uploads::status.eq(UploadStatus::AwaitingUpload))
                            .set((
                                uploads::status.eq(UploadStatus::Uploaded),
                                uploads::uploaded_at.eq(now),
                                uploads::etag.eq(etag),
                            )),
                    )
                    .execute(conn)
                    .await?;
                    Cached(diesel::insert_into(jobs::table).values(job).on_conflict(jobs::upload_id).do_nothing())
                        .execute(conn)
                        .await?;
                    Ok(jobs::table
                        .filter(jobs::upload_id.eq(upload_id))
                        .select(Job::as_select())
                        .get_result(conn)
                        .await?)
                })
                .await
            }
        )
    }

    /// Deletes the upload and, through the foreign key's cascade, its job
    /// and result; only when `owner_id` owns it and, if `status` is given,
    /// it still has that status. True when a row went.
    pub async fn delete_upload(&self, owner_id: &str, id: &str, status: Option<UploadStatus>) -> DbResult<bool> {
        db_run!(self, |conn| {
            let mut query = diesel::delete(uploads::table)
                .filter(uploads::id.eq(id).and(uploads::owner_id.eq(owner_id)))
                .into_boxed();
            if let Some(status) = status {
                query = query.filter(uploads::status.eq(status));
            }
            Ok(query.execute(conn).await? == 1)
        })
    }

    /// Uploads never confirmed whose URL expired before `before`, oldest first.
    pub async fn abandoned_uploads(&self, before: NaiveDateTime, limit: i64) -> DbResult<Vec<Upload>> {
        db_run!(self, |conn| {
            Ok(uploads::table
                .filter(uploads::status.eq(UploadStatus::AwaitingUpload))
                .filter(uploads::url_expires_at.lt(before))
                .order(uploads::url_expires_at)
                .limit(limit)
                .select(Upload::as_select())
                .load(conn)
                .await?)
        })
    }

    /// Uploads whose job ended (succeeded, failed or was cancelled) before
    /// `before`, oldest first.
    pub async fn finished_uploads(&self, before: NaiveDateTime, limit: i64) -> DbResult<Vec<Upload>> {
        db_run!(self, |conn| {
            Ok(uploads::table
                .inner_join(jobs::table)
                .filter(jobs::status.eq_any([JobStatus::Succeeded, JobStatus::Failed, JobStatus::Cancelled]))
                .filter(jobs::finished_at.lt(before))
                .order(jobs::finished_at)
                .limit(limit)
                .select(Upload::as_select())
                .load(conn)
                .await?)
        })
    }
}
