//! `--log-format json`: every line the `loupe` process writes is one JSON
//! object, and the lines of a request carry its id (the caller's
//! `X-Request-Id`, or one Loupe made and echoed), those of a job's run the
//! job's id.

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};

/// The value of `field` in any span of the line.
fn span_field<'a>(line: &'a Value, field: &str) -> Option<&'a str> {
    line["spans"].as_array()?.iter().find_map(|span| span[field].as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_carry_request_and_job_ids() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("loupe.log");
    let env = [("RUST_LOG", "info,loupe=debug")];
    let mut app = TestApp::spawn_logging(Backend::Sqlite, &["--log-format", "json"], &env, Some(&log)).await;

    let query = json!({ "query": "{ viewer { login } }" });
    let chosen = "lb-7f3a.request:42";
    let answered = app.http.post(format!("{}/graphql", app.url)).header("x-request-id", chosen).json(&query);
    let answered = answered.send().await.unwrap();
    assert_eq!(answered.headers()["x-request-id"], chosen, "a sane id is kept and echoed");
    let forged = app.http.post(format!("{}/graphql", app.url)).header("x-request-id", "a\"b c").json(&query);
    let forged = forged.send().await.unwrap();
    let made = forged.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&made).is_ok(), "an odd one is replaced by a new id: {made}");
    let job_id = app.submit("logged.csv", None, b"a\n1\n").await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED");
    let (clean, _) = app.terminate().await;
    assert!(clean);

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}")))
        .collect();
    assert!(lines.len() >= 5, "the log was captured: {text}");
    assert!(lines.iter().all(|line| line["timestamp"].is_string() && line["level"].is_string()));
    let of_request = |id: &str| lines.iter().filter(|line| span_field(line, "request_id") == Some(id)).count();
    assert!(of_request(chosen) >= 1, "a line of the request with the caller's id:\n{text}");
    assert!(of_request(&made) >= 1, "a line of the request with the id Loupe made:\n{text}");
    let answered_line = lines
        .iter()
        .find(|line| span_field(line, "request_id") == Some(chosen) && line["fields"]["message"] == "answered")
        .expect("the request's answered line");
    assert_eq!(answered_line["fields"]["status"], 200);
    assert_eq!(span_field(answered_line, "route"), Some("/graphql"));
    let of_job: Vec<&Value> = lines.iter().filter(|line| span_field(line, "job_id") == Some(job_id.as_str())).collect();
    assert!(
        of_job.iter().any(|line| line["fields"]["message"] == "job attempt ended"),
        "the job's run logs under its id:\n{text}"
    );
}
