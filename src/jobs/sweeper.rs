//! Housekeeping, every `--sweep-interval-secs`: removes uploads abandoned
//! before confirmation (their URL expired more than `--upload-grace-secs`
//! ago) and, with `--retention-days`, uploads whose job ended longer ago
//! than that; each with its object, job and result. Several instances may
//! sweep at once: every removal is idempotent.

use chrono::Utc;
use tokio::sync::watch;

use crate::app::App;
use crate::db::{DbResult, Upload, UploadStatus};
use crate::uploads;

/// Uploads looked at per query; a backlog is worked off batch by batch.
const BATCH: i64 = 100;

pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    loop {
        sweep(&app).await;
        tokio::select! {
            _ = tokio::time::sleep(app.config.sweep_interval()) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// One pass; returns how many uploads it removed.
pub async fn sweep(app: &App) -> usize {
    let now = Utc::now().naive_utc();
    let abandoned_before = now - app.config.upload_grace();
    let mut removed = sweep_kind(app, "abandoned", Some(UploadStatus::AwaitingUpload), |db| {
        db.abandoned_uploads(abandoned_before, BATCH)
    })
    .await;
    if let Some(retention) = app.config.retention() {
        let finished_before = now - retention;
        removed += sweep_kind(app, "past retention", None, |db| db.finished_uploads(finished_before, BATCH)).await;
    }
    removed
}

/// Removes batches of the uploads `find` returns until a batch comes back
/// short or nothing of it could be removed (storage down: next pass).
async fn sweep_kind<'a, F, Fut>(app: &'a App, kind: &str, status: Option<UploadStatus>, find: F) -> usize
where
    F: Fn(&'a crate::db::Db) -> Fut,
    Fut: Future<Output = DbResult<Vec<Upload>>>,
{
    let mut removed = 0;
    loop {
        let batch = match find(&app.db).await {
            Ok(batch) => batch,
            Err(err) => {
                tracing::error!(error = %err, kind, "finding uploads to sweep");
                return removed;
            }
        };
        let mut removed_now = 0;
        for upload in &batch {
            match uploads::remove_upload(app, upload, status).await {
                Ok(true) => removed_now += 1,
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, upload = %upload.id, kind, "sweeping an upload failed"),
            }
        }
        removed += removed_now;
        if removed_now > 0 {
            tracing::info!(removed = removed_now, kind, "swept uploads");
        }
        if batch.len() < BATCH as usize || removed_now == 0 {
            return removed;
        }
    }
}
