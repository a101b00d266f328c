use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::schema::{jobs, uploads};
use super::{Db, DbResult, Job, NewJob, NewUpload, Upload, UploadStatus, db_run};

impl Db {
    pub async fn insert_upload(&self, upload: &NewUpload<'_>) -> DbResult<Upload> {
        db_run!(self, |conn| {
            Ok(diesel::insert_into(uploads::table)
                .values(upload)
                .returning(Upload::as_returning())
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
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Marks the upload UPLOADED and enqueues its job in one transaction, so a
    /// job exists exactly when its upload was confirmed. Idempotent: a second
    /// call (or a concurrent one) returns the job the first created.
    pub async fn confirm_upload(&self, upload_id: &str, job: &NewJob<'_>, now: NaiveDateTime) -> DbResult<Job> {
        db_run!(self, |conn| {
            conn.transaction(async |conn| -> DbResult<Job> {
                // Write first: SQLite takes its write lock here rather than
                // upgrading a read lock later, which could fail with BUSY.
                diesel::update(uploads::table.find(upload_id))
                    .filter(uploads::status.eq(UploadStatus::AwaitingUpload))
                    .set((uploads::status.eq(UploadStatus::Uploaded), uploads::uploaded_at.eq(now)))
                    .execute(conn)
                    .await?;
                diesel::insert_into(jobs::table)
                    .values(job)
                    .on_conflict(jobs::upload_id)
                    .do_nothing()
                    .execute(conn)
                    .await?;
                Ok(jobs::table.filter(jobs::upload_id.eq(upload_id)).select(Job::as_select()).first(conn).await?)
            })
            .await
        })
    }
}
