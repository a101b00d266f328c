//! Uploads: a ticket to put a file in object storage, then the confirmation
//! that turns the stored file into a job; and their removal.

mod confirm;
mod delete;
mod request;

pub use confirm::confirm_upload;
pub use delete::{delete_upload, remove_upload};
pub use request::{UploadRequest, UploadTicket, request_upload};

use crate::app::App;
use crate::auth::Viewer;
use crate::config::Config;
use crate::db::Upload;
use crate::error::{AppError, AppResult};
use crate::profile::{Format, ProfileOptions};

/// How the upload's file is to be profiled: the user's overrides, if any,
/// on top of detection, within the configured limits.
pub fn profile_options(upload: &Upload, config: &Config) -> ProfileOptions {
    ProfileOptions {
        format: upload.format.as_deref().and_then(parse_format),
        delimiter: upload.delimiter.as_deref().and_then(|d| d.bytes().next()),
        filename: Some(upload.filename.clone()),
        max_line_bytes: config.max_line_bytes,
        max_decompressed_bytes: config.max_decompressed_bytes,
        ..ProfileOptions::default()
    }
}

/// The format the user chose for the upload, if any.
pub fn chosen_format(upload: &Upload) -> Option<Format> {
    upload.format.as_deref().and_then(parse_format)
}

/// Formats as stored in the database.
const FORMATS: [(Format, &str); 3] = [(Format::Csv, "csv"), (Format::Tsv, "tsv"), (Format::JsonLines, "json_lines")];

fn format_name(format: Format) -> &'static str {
    FORMATS.iter().find(|(f, _)| *f == format).map(|(_, name)| *name).unwrap_or("csv")
}

fn parse_format(name: &str) -> Option<Format> {
    FORMATS.iter().find(|(_, n)| *n == name).map(|(format, _)| *format)
}

pub async fn get_upload(app: &App, viewer: &Viewer, id: &str) -> AppResult<Upload> {
    app.db.find_upload(&viewer.user_id, id).await?.ok_or(AppError::NotFound("upload"))
}
