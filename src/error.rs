//! The error policy, in one place.
//!
//! - `db`, `storage` and `profile` each have their own error type and know
//!   nothing of users.
//! - Domain code (`uploads`, `jobs`) returns [`AppError`], whose variants are
//!   what a caller can act on. Database and storage failures become
//!   `Internal`: they are logged in full and reach the caller only as
//!   "internal error".
//! - The GraphQL layer maps each variant once to a stable `extensions.code`
//!   (see `graphql::errors`).

use crate::db::DbError;
use crate::storage::StorageError;

#[derive(Clone, Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign in required")]
    Unauthenticated,
    /// Also what another user's object answers, so ids cannot be probed.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    BadUserInput(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UploadMissing(String),
    #[error("{0}")]
    Conflict(String),
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "UNAUTHENTICATED",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput(_) => "BAD_USER_INPUT",
            AppError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            AppError::UploadMissing(_) => "UPLOAD_MISSING",
            AppError::Conflict(_) => "CONFLICT",
            AppError::Internal(_) => "INTERNAL",
        }
    }
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> AppError {
        tracing::error!(error = %err, "database error");
        AppError::Internal(err.to_string())
    }
}

impl From<StorageError> for AppError {
    fn from(err: StorageError) -> AppError {
        tracing::error!(error = %err, "object storage error");
        AppError::Internal(err.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Longest piece of a caller's input echoed back in an error message.
const MAX_ECHO_CHARS: usize = 64;

/// The caller's input, quoted, for an error message: cut short when long, so
/// a megabyte id does not come back as a megabyte error.
pub fn echo(input: &str) -> String {
    match input.char_indices().nth(MAX_ECHO_CHARS) {
        Some((at, _)) => format!("{:?}… ({} bytes)", &input[..at], input.len()),
        None => format!("{input:?}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_input_is_echoed_short() {
        assert_eq!(super::echo("abc"), "\"abc\"");
        let echoed = super::echo(&"x".repeat(1_000_000));
        assert!(echoed.len() < 100 && echoed.ends_with("(1000000 bytes)"), "{echoed}");
    }
}
