use crate::app::App;
use crate::auth::Viewer;
use crate::db::{Upload, UploadStatus};
use crate::error::AppResult;

/// Removes the viewer's upload: its job is cancelled first if it has not
/// ended (its worker stops, subscribers see CANCELLED), then the object, the
/// job and its result go. Idempotent: an upload that is already gone (or
/// never was the viewer's) answers the same, and nothing happens.
pub async fn delete_upload(app: &App, viewer: &Viewer, id: &str) -> AppResult<()> {
    let Some(upload) = app.db.find_upload(&viewer.user_id, id).await? else { return Ok(()) };
    if let Some(job) = app.db.find_job_for_upload(&upload.id).await?
        && let Some(cancelled) = app.db.cancel_job(&viewer.user_id, &job.id, chrono::Utc::now().naive_utc()).await?
    {
        app.hub.publish(cancelled);
    }
    remove_upload(app, &upload, None).await?;
    Ok(())
}

/// Removes the upload's object, then its row (with its job and result), the
/// row only if it still has `status` when one is given. The object goes
/// first: should that fail, the row stays and removal can be tried again,
/// rather than an object nobody knows of staying behind. True when the row
/// went.
pub async fn remove_upload(app: &App, upload: &Upload, status: Option<UploadStatus>) -> AppResult<bool> {
    app.storage.delete(&upload.object_key).await?;
    Ok(app.db.delete_upload(&upload.owner_id, &upload.id, status).await?)
}
