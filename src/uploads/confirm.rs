use chrono::Utc;

use crate::app::App;
use crate::auth::Viewer;
use crate::db::{Job, JobStatus, NewJob, UploadStatus};
use crate::error::{AppError, AppResult};

/// Checks the object is really in storage with the declared size, marks the
/// upload UPLOADED with the object's ETag (the job reads only that version)
/// and enqueues its job, then wakes the worker. Confirming
/// again returns the same job.
pub async fn confirm_upload(app: &App, viewer: &Viewer, upload_id: &str) -> AppResult<Job> {
    let upload = super::get_upload(app, viewer, upload_id).await?;
    if upload.status == UploadStatus::Uploaded
        && let Some(job) = app.db.find_job_for_upload(&upload.id).await?
    {
        return Ok(job);
    }
    let head = app.storage.head(&upload.object_key).await?;
    let Some(head) = head else {
        return Err(AppError::UploadMissing(format!(
            "nothing has been uploaded for {}: PUT the file to the ticket's URL first",
            upload.filename
        )));
    };
    let stored = head.size;
    if i64::try_from(stored).ok() != Some(upload.size) {
        // The object is not what was declared; remove it so a retry starts clean.
        if let Err(err) = app.storage.delete(&upload.object_key).await {
            tracing::warn!(error = %err, upload = %upload.id, "deleting a mismatched object");
        }
        return Err(AppError::BadUserInput(format!(
            "the uploaded file has {stored} bytes but {} were declared; request a new upload",
            upload.size
        )));
    }
    let now = Utc::now().naive_utc();
    let job_id = uuid::Uuid::now_v7().to_string();
    let job = app
        .db
        .confirm_upload(
            &upload.id,
            head.etag.as_deref(),
            &NewJob {
                id: &job_id,
                upload_id: &upload.id,
                owner_id: &upload.owner_id,
                status: JobStatus::Pending,
                max_attempts: app.config.job_max_attempts as i32,
                created_at: now,
                updated_at: now,
            },
            now,
        )
        .await?;
    // Other instances' idle workers hear of it too (see `jobs::events`).
    app.hub.publish(job.clone());
    app.wake.notify_one();
    Ok(job)
}
