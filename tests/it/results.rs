//! Results stored by earlier versions stay readable over the API, even
//! after the profile gained fields.

use serde_json::{Value, json};

use crate::harness::{Backend, JOB_QUERY, TestApp, on_both_backends};

on_both_backends!(stored_results_stay_readable);

const TABLE: &str = include_str!("../fixtures/stored-results/table-profile-2026-11.json");
const SUMMARY: &str = include_str!("../fixtures/stored-results/file-summary-2026-11.json");

/// Fields that a later profile might have added: a result stored before
/// them lacks them everywhere.
const LATER_FIELDS: [&str; 6] =
    ["distinct_exact", "top_values_error_bound", "samples", "std_dev", "quantile_rank_error", "junk_examples"];

async fn stored_results_stay_readable(backend: Backend) {
    let app = TestApp::start(backend).await;
    let job_id = app.submit("any.csv", None, b"a\n1\n").await;
    assert_eq!(app.finished_job(&job_id).await["status"], "SUCCEEDED");

    store(&app, &job_id, TABLE.trim_end()).await;
    let profile = read(&app, &job_id).await;
    assert_eq!(profile["__typename"], "TableProfile");
    assert_eq!(profile["rowCount"], 41);
    assert_eq!(profile["malformedRowCount"], 1);
    let types: Vec<&str> =
        profile["columns"].as_array().unwrap().iter().map(|c| c["inferredType"].as_str().unwrap()).collect();
    assert_eq!(types, ["INTEGER", "FLOAT", "DATE", "DATETIME", "BOOLEAN", "STRING", "EMPTY", "INTEGER"]);
    assert_eq!(profile["columns"][0]["numeric"]["min"], 1.0);

    let mut older: Value = serde_json::from_str(TABLE).unwrap();
    strip(&mut older);
    store(&app, &job_id, &older.to_string()).await;
    let profile = read(&app, &job_id).await;
    assert_eq!(profile["rowCount"], 41);
    assert_eq!(profile["columns"][7]["inferredType"], "INTEGER");

    store(&app, &job_id, SUMMARY.trim_end()).await;
    let summary = read(&app, &job_id).await;
    assert_eq!(summary["__typename"], "FileSummary");
    assert_eq!(summary["mediaType"], "image/png");
    assert_eq!(summary["size"], 67);
}

async fn store(app: &TestApp, job_id: &str, result: &str) {
    let sql = format!("UPDATE jobs SET result = '{}' WHERE id = '{job_id}'", result.replace('\'', "''"));
    app.execute_sql(&sql).await;
}

async fn read(app: &TestApp, job_id: &str) -> Value {
    let response = app.graphql(JOB_QUERY, json!({ "id": job_id })).await;
    assert!(response.get("errors").is_none(), "the stored result reads: {response:#}");
    response["data"]["job"]["result"].clone()
}

fn strip(value: &mut Value) {
    match value {
        Value::Object(map) => {
            LATER_FIELDS.iter().for_each(|field| {
                map.remove(*field);
            });
            map.values_mut().for_each(strip);
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}
