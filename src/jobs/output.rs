//! What a job produces: one variant per processor, stored as JSON in the
//! job's row and exposed as the GraphQL `JobResult` union.

use serde::{Deserialize, Serialize};

use crate::profile::{FileSummary, TableProfile};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum JobOutput {
    TableProfile(TableProfile),
    FileSummary(FileSummary),
}
