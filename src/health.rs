//! Readiness: whether this instance can take work right now. `GET /readyz`
//! asks on every call, so a load balancer stops sending work while the
//! database or the object store is unreachable or the data disk is full, and
//! sends it again once they recover. Reasons are short and fixed; the
//! details go to the log.

use std::path::Path;
use std::sync::atomic::Ordering;

use crate::app::App;
use crate::db::Backend;

/// Ok when ready; otherwise why not, for the probe's response body.
pub async fn check(app: &App) -> Result<(), String> {
    if !app.ready.load(Ordering::Acquire) {
        return Err("starting or shutting down".into());
    }
    if let Err(err) = app.db.ping().await {
        tracing::warn!(error = %err, "not ready: database");
        return Err("the database is unreachable".into());
    }
    if let Err(err) = app.storage.check().await {
        tracing::warn!(error = %err, "not ready: object storage");
        return Err("the object storage is unreachable".into());
    }
    let config = &app.config;
    let uses_disk = app.db.backend() == Backend::Sqlite || config.s3_endpoint.is_none();
    if uses_disk && let Some(free) = free_bytes(&config.data_dir) {
        let min = config.min_free_disk_bytes;
        if free < min {
            tracing::warn!(free, min, "not ready: data disk");
            return Err(format!("the data disk has {free} bytes free, fewer than --min-free-disk-bytes ({min})"));
        }
    }
    Ok(())
}

/// Bytes an unprivileged process can still write on the disk holding `dir`.
#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    match rustix::fs::statvfs(dir) {
        Ok(stat) => Some(stat.f_bavail.saturating_mul(stat.f_frsize)),
        Err(err) => {
            tracing::warn!(error = %err, dir = %dir.display(), "reading free disk space");
            None
        }
    }
}

#[cfg(not(unix))]
fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}
