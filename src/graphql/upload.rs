use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::job::Job;
use super::profile::TableFormat;
use super::scalars::Int64;
use crate::db;
use crate::error::AppResult;
use crate::uploads::{self, UploadRequest};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::db::UploadStatus")]
pub enum UploadStatus {
    /// Waiting for the client to PUT the file and confirm.
    AwaitingUpload,
    /// Stored and confirmed; its job processes it.
    Uploaded,
}

/// A file a user uploads (or is about to).
pub struct Upload(pub db::Upload);

#[Object]
impl Upload {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The file's name as the user gave it (without any directory).
    async fn filename(&self) -> &str {
        &self.0.filename
    }

    async fn content_type(&self) -> Option<&str> {
        self.0.content_type.as_deref()
    }

    /// Declared size in bytes; confirmation checks the stored file has it.
    async fn size(&self) -> Int64 {
        Int64(self.0.size)
    }

    async fn status(&self) -> UploadStatus {
        self.0.status.into()
    }

    /// The format the user chose in `requestUpload`, if any.
    async fn format(&self) -> Option<TableFormat> {
        uploads::chosen_format(&self.0).map(Into::into)
    }

    /// The delimiter the user chose in `requestUpload`, if any.
    async fn delimiter(&self) -> Option<&str> {
        self.0.delimiter.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }

    /// The job processing this upload, once it is confirmed.
    async fn job(&self, ctx: &Context<'_>) -> AppResult<Option<Job>> {
        let app = super::app(ctx)?;
        Ok(app.db.find_job_for_upload(&self.0.id).await?.map(Job::from))
    }
}

#[derive(InputObject)]
pub struct RequestUploadInput {
    /// The file's name; only its last path component is kept.
    filename: String,
    /// The media type the client will send in `Content-Type`, if any.
    content_type: Option<String>,
    /// Exact size in bytes.
    size: Int64,
    /// Profile the file as this format, whatever its content suggests.
    format: Option<TableFormat>,
    /// Split fields at this character (CSV/TSV), whatever detection finds.
    delimiter: Option<String>,
}

/// A header to send with the presigned request, exactly as given.
#[derive(SimpleObject)]
pub struct HttpHeader {
    name: String,
    value: String,
}

/// Where and how to upload the file: send `method` to `url` with `headers`
/// and the file as the body, before `expiresAt`, then `confirmUpload`.
pub struct UploadTicket(uploads::UploadTicket);

#[Object]
impl UploadTicket {
    async fn upload(&self) -> Upload {
        Upload(self.0.upload.clone())
    }

    async fn url(&self) -> &str {
        &self.0.request.url
    }

    async fn method(&self) -> &str {
        &self.0.request.method
    }

    async fn headers(&self) -> Vec<HttpHeader> {
        self.0
            .request
            .headers
            .iter()
            .map(|(name, value)| HttpHeader { name: name.clone(), value: value.clone() })
            .collect()
    }

    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
}

#[derive(Default)]
pub struct UploadQuery;

#[Object]
impl UploadQuery {
    /// One of the viewer's uploads.
    async fn upload(&self, ctx: &Context<'_>, id: ID) -> AppResult<Option<Upload>> {
        let id = super::parse_id(&id, "upload")?;
        Ok(Some(Upload(uploads::get_upload(super::app(ctx)?, super::viewer(ctx)?, &id).await?)))
    }
}

#[derive(Default)]
pub struct UploadMutation;

#[Object]
impl UploadMutation {
    /// Starts an upload: records it and returns a presigned URL to PUT the file to.
    async fn request_upload(&self, ctx: &Context<'_>, input: RequestUploadInput) -> AppResult<UploadTicket> {
        let request = UploadRequest {
            filename: input.filename,
            content_type: input.content_type,
            size: input.size.0,
            format: input.format.map(Into::into),
            delimiter: input.delimiter,
        };
        let ticket = uploads::request_upload(super::app(ctx)?, super::viewer(ctx)?, request).await?;
        Ok(UploadTicket(ticket))
    }

    /// Deletes the upload with its file, job and result; a job still
    /// pending or running is cancelled first. Idempotent: deleting an upload
    /// that is already gone returns its id too.
    async fn delete_upload(&self, ctx: &Context<'_>, id: ID) -> AppResult<ID> {
        let upload_id = super::parse_id(&id, "upload")?;
        uploads::delete_upload(super::app(ctx)?, super::viewer(ctx)?, &upload_id).await?;
        Ok(ID(upload_id))
    }

    /// Confirms the file is uploaded and starts processing it. Idempotent:
    /// confirming again returns the same job.
    async fn confirm_upload(&self, ctx: &Context<'_>, upload_id: ID) -> AppResult<Job> {
        let upload_id = super::parse_id(&upload_id, "upload")?;
        let job = uploads::confirm_upload(super::app(ctx)?, super::viewer(ctx)?, &upload_id).await?;
        Ok(job.into())
    }
}
