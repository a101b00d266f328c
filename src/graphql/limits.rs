use async_graphql::{Context, Object, SimpleObject};

use super::scalars::Int64;
use crate::error::AppResult;

/// What this server accepts, so a client can check a file before uploading
/// it and tell the person why it was refused.
#[derive(SimpleObject)]
pub struct Limits {
    /// Largest file `requestUpload` accepts, in bytes; a larger one is refused
    /// with PAYLOAD_TOO_LARGE.
    max_upload_bytes: Int64,
    /// How long an upload ticket's URL stays valid, in seconds: the upload
    /// must start before `expiresAt`.
    upload_url_ttl_seconds: i32,
}

#[derive(Default)]
pub struct LimitsQuery;

#[Object]
impl LimitsQuery {
    /// The server's limits on uploads. Like every field, only for a
    /// signed-in viewer: nothing is served to anonymous callers.
    async fn limits(&self, ctx: &Context<'_>) -> AppResult<Limits> {
        super::viewer(ctx)?;
        let config = &super::app(ctx)?.config;
        Ok(Limits {
            max_upload_bytes: Int64(i64::try_from(config.max_upload_bytes).unwrap_or(i64::MAX)),
            upload_url_ttl_seconds: i32::try_from(config.upload_url_ttl_secs).unwrap_or(i32::MAX),
        })
    }
}
