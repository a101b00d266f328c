use chrono::{DateTime, Utc};

use crate::app::App;
use crate::auth::Viewer;
use crate::db::{NewUpload, Upload, UploadStatus};
use crate::error::{AppError, AppResult, echo};
use crate::profile::Format;
use crate::storage::PresignedRequest;

/// Longest accepted file name, in bytes.
const MAX_FILENAME_BYTES: usize = 255;

/// Longest accepted media type, in bytes: RFC 6838 allows 127 for each of
/// type and subtype; parameters fit in the rest. It is stored and signed
/// into the upload's headers.
const MAX_CONTENT_TYPE_BYTES: usize = 255;

pub struct UploadRequest {
    pub filename: String,
    pub content_type: Option<String>,
    pub size: i64,
    /// Profile the file as this format, whatever detection says.
    pub format: Option<Format>,
    /// Split CSV fields at this character, whatever detection says.
    pub delimiter: Option<String>,
}

pub struct UploadTicket {
    pub upload: Upload,
    pub request: PresignedRequest,
    pub expires_at: DateTime<Utc>,
}

/// Records an upload awaiting its bytes and presigns the PUT that delivers
/// them. The object key is Loupe's choice, never the client's.
pub async fn request_upload(app: &App, viewer: &Viewer, request: UploadRequest) -> AppResult<UploadTicket> {
    let filename = clean_filename(&request.filename)?;
    let content_type = match request.content_type.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(ct) if ct.len() > MAX_CONTENT_TYPE_BYTES => {
            return Err(AppError::BadUserInput(format!("content type is longer than {MAX_CONTENT_TYPE_BYTES} bytes")));
        }
        Some(ct) if is_media_type(ct) => Some(ct.to_owned()),
        Some(ct) => return Err(AppError::BadUserInput(format!("content type {} is not a media type", echo(ct)))),
    };
    let delimiter = request.delimiter.as_deref().map(|d| check_delimiter(d, request.format)).transpose()?;
    let size = u64::try_from(request.size)
        .map_err(|_| AppError::BadUserInput(format!("size {} is negative", request.size)))?;
    let max = app.config.max_upload_bytes;
    if size > max {
        return Err(AppError::PayloadTooLarge(format!("{size} bytes is more than the {max}-byte upload limit")));
    }

    let id = uuid::Uuid::now_v7().to_string();
    let object_key = format!("uploads/{id}");
    let ttl = app.config.upload_url_ttl();
    let now = Utc::now();
    let expires_at = now + ttl;
    let presigned = app.storage.presign_put(&object_key, content_type.as_deref(), size, ttl).await?;
    let upload = app
        .db
        .insert_upload(&NewUpload {
            id: &id,
            owner_id: &viewer.user_id,
            filename: &filename,
            content_type: content_type.as_deref(),
            size: request.size,
            object_key: &object_key,
            status: UploadStatus::AwaitingUpload,
            format: request.format.map(super::format_name),
            delimiter: delimiter.as_deref(),
            created_at: now.naive_utc(),
            url_expires_at: expires_at.naive_utc(),
        })
        .await?;
    Ok(UploadTicket { upload, request: presigned, expires_at })
}

/// The file name as shown to the user: its last path component, without
/// control characters or bidirectional controls (U+202E would show
/// `invoice\u{202E}gpj.exe` as `invoiceexe.jpg`).
fn clean_filename(raw: &str) -> AppResult<String> {
    let name = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = name.chars().filter(|c| !c.is_control() && !is_bidi_control(*c)).collect();
    let name = name.trim();
    if name.is_empty() || name == "." || name == ".." {
        return Err(AppError::BadUserInput("filename must not be empty".into()));
    }
    if name.len() > MAX_FILENAME_BYTES {
        return Err(AppError::BadUserInput(format!("filename is longer than {MAX_FILENAME_BYTES} bytes")));
    }
    Ok(name.to_owned())
}

/// Marks and embeddings, overrides and isolates: they reorder how the
/// rest of a name is displayed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One ASCII character that can separate fields: not a quote, not a line break.
fn check_delimiter(delimiter: &str, format: Option<Format>) -> AppResult<String> {
    if format == Some(Format::JsonLines) {
        return Err(AppError::BadUserInput("JSON Lines has no delimiter".into()));
    }
    let usable = |c: char| c == '\t' || (c.is_ascii() && !c.is_ascii_control() && !c.is_ascii_alphanumeric());
    match delimiter.chars().collect::<Vec<_>>()[..] {
        [c] if usable(c) && c != '"' && c != '\'' => Ok(c.to_string()),
        _ => Err(AppError::BadUserInput(format!(
            "delimiter {} must be one punctuation character or a tab",
            echo(delimiter)
        ))),
    }
}

/// `type/subtype`, optionally with parameters; enough to keep junk out of a
/// signed header.
fn is_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    value.is_ascii()
        && !value.chars().any(|c| c.is_control())
        && essence.split_once('/').is_some_and(|(t, s)| token(t) && token(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_their_path_and_control_characters() {
        assert_eq!(clean_filename("C:\\data\\sales.csv").unwrap(), "sales.csv");
        assert_eq!(clean_filename("../../etc/pass\u{0}wd").unwrap(), "passwd");
        assert!(clean_filename("dir/").is_err());
        assert!(clean_filename(&"x".repeat(256)).is_err());
        assert_eq!(clean_filename("invoice\u{202E}gpj.exe").unwrap(), "invoicegpj.exe");
        assert_eq!(clean_filename("a\u{2066}b\u{2069}\u{200F}.csv").unwrap(), "ab.csv");
        assert!(clean_filename("\u{202E}").is_err());
    }

    #[test]
    fn media_types_are_checked() {
        assert!(is_media_type("text/csv"));
        assert!(is_media_type("text/csv; charset=utf-8"));
        assert!(!is_media_type("csv"));
        assert!(!is_media_type("text/csv\r\nX-Evil: 1"));
    }

    #[test]
    fn delimiters_are_one_separator_character() {
        assert_eq!(check_delimiter(";", None).unwrap(), ";");
        assert_eq!(check_delimiter("\t", Some(Format::Tsv)).unwrap(), "\t");
        for bad in ["", ";;", "a", "\"", "\n", "é"] {
            assert!(check_delimiter(bad, None).is_err(), "{bad:?}");
        }
        assert!(check_delimiter(",", Some(Format::JsonLines)).is_err());
    }
}
