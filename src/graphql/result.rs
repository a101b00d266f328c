//! The outputs of the processors, one union member each.

use async_graphql::{Object, Union};

use super::profile::TableProfile;
use super::scalars::Int64;
use crate::jobs::JobOutput;
use crate::profile;

#[derive(Union)]
pub enum JobResult {
    TableProfile(TableProfile),
    FileSummary(FileSummary),
}

impl From<JobOutput> for JobResult {
    fn from(output: JobOutput) -> JobResult {
        match output {
            JobOutput::TableProfile(profile) => JobResult::TableProfile(profile.into()),
            JobOutput::FileSummary(summary) => JobResult::FileSummary(FileSummary(summary)),
        }
    }
}

/// What Loupe knows of a file that is not a table.
pub struct FileSummary(profile::FileSummary);

#[Object]
impl FileSummary {
    /// Bytes stored.
    async fn size(&self) -> Int64 {
        Int64(self.0.size as i64)
    }

    /// Lower-case hex SHA-256 of the content.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }

    /// Detected from the content, not the name; `application/octet-stream` when unknown.
    async fn media_type(&self) -> &str {
        &self.0.media_type
    }
}
