//! Rows as diesel reads and writes them. Times are UTC.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::{FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::serialize::{Output, ToSql};
use diesel::sql_types::Text;

use super::schema::{api_tokens, jobs, login_attempts, sessions, uploads, users};

/// A person, as one identity at one provider (`provider` + `subject`, the
/// provider's stable id for them); the rest is what the provider last said.
#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub login: String,
    pub name: Option<String>,
    pub created_at: NaiveDateTime,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
}

/// A signed-in browser. `id` is the SHA-256 of the cookie's secret.
#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// A sign-in between the redirect to the provider and its callback; `id`
/// is the SHA-256 of its `state`.
#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_attempts)]
pub struct LoginAttempt {
    pub id: String,
    pub provider: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub return_to: String,
    pub created_at: NaiveDateTime,
}

/// A script's credential; `secret_hash` is the SHA-256 of its secret.
#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = uploads)]
pub struct Upload {
    pub id: String,
    pub owner_id: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub size: i64,
    pub object_key: String,
    pub status: UploadStatus,
    /// Overrides format detection: `csv`, `tsv` or `json_lines`.
    pub format: Option<String>,
    /// Overrides delimiter detection: one ASCII character.
    pub delimiter: Option<String>,
    pub created_at: NaiveDateTime,
    pub url_expires_at: NaiveDateTime,
    pub uploaded_at: Option<NaiveDateTime>,
    /// The object's ETag when the upload was confirmed.
    pub etag: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = uploads)]
pub struct NewUpload<'a> {
    pub id: &'a str,
    pub owner_id: &'a str,
    pub filename: &'a str,
    pub content_type: Option<&'a str>,
    pub size: i64,
    pub object_key: &'a str,
    pub status: UploadStatus,
    pub format: Option<&'a str>,
    pub delimiter: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub url_expires_at: NaiveDateTime,
}

/// A job's row without its `result` (the processor's output as JSON, set
/// once the job has SUCCEEDED): that can be megabytes, so it is read only
/// when asked for ([`Db::find_job_result`](super::Db::find_job_result)).
#[derive(Clone, Debug, PartialEq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: String,
    pub upload_id: String,
    pub owner_id: String,
    pub status: JobStatus,
    pub progress: f64,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    /// One more after every write to the row: orders a job's events
    /// whichever instance made or relays them (their clocks disagree).
    pub version: i64,
}

#[cfg(test)]
impl Job {
    /// A running job at version 1, for tests of what handles job rows.
    pub fn sample(id: &str) -> Job {
        let now = chrono::Utc::now().naive_utc();
        Job {
            id: id.to_owned(),
            owner_id: "owner".to_owned(),
            upload_id: format!("upload-{id}"),
            status: JobStatus::Running,
            progress: 0.5,
            attempts: 1,
            max_attempts: 3,
            lease_owner: None,
            lease_expires_at: None,
            error_code: None,
            error_message: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            updated_at: now,
            version: 1,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob<'a> {
    pub id: &'a str,
    pub upload_id: &'a str,
    pub owner_id: &'a str,
    pub status: JobStatus,
    pub max_attempts: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Implements diesel's Text mapping for a status enum on any backend, so the
/// database holds readable names and the code holds a closed set.
macro_rules! text_enum {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl<DB: Backend> ToSql<Text, DB> for $name
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $name
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                Self::parse(&text).ok_or_else(|| format!("unknown {} {text:?}", stringify!($name)).into())
            }
        }
    };
}

text_enum!(UploadStatus {
    AwaitingUpload = "AWAITING_UPLOAD",
    Uploaded = "UPLOADED",
});

text_enum!(JobStatus {
    Pending = "PENDING",
    Running = "RUNNING",
    Succeeded = "SUCCEEDED",
    Failed = "FAILED",
    Cancelled = "CANCELLED",
});

impl JobStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}
