//! The embedded object store as an S3 client and a crash see it: objects
//! appear whole with their ETag or not at all, digests are checked, a full
//! disk or a read-only folder answers clearly, and nothing half-written is
//! left behind. The store keeps no database state, so these run on SQLite.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use tokio::io::AsyncWriteExt;

use crate::harness::{Backend, TestApp, is_terminal};

fn etag_of(bytes: &[u8]) -> String {
    format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(bytes))
}

fn temp_files(app: &TestApp) -> Vec<PathBuf> {
    let folder = app.data_dir.join("objects/.tmp");
    std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().path()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_round_trip_with_their_etag() {
    let app = TestApp::start(Backend::Sqlite).await;
    let s3 = app.s3();
    let body = b"name,n\nada,1\ngrace,2\n".to_vec();
    // The SDK sends a CRC checksum by default, in a trailer the store checks.
    let put = s3.put_object().bucket("loupe").key("round/trip.csv").content_type("text/csv");
    let put = put.body(ByteStream::from(body.clone())).send().await.unwrap();
    assert_eq!(put.e_tag(), Some(etag_of(&body).as_str()), "computed while writing");

    let head = s3.head_object().bucket("loupe").key("round/trip.csv").send().await.unwrap();
    assert_eq!(head.e_tag(), put.e_tag());
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.content_type(), Some("text/csv"));

    let whole = s3.get_object().bucket("loupe").key("round/trip.csv").if_match(etag_of(&body)).send().await.unwrap();
    assert_eq!(whole.e_tag(), put.e_tag());
    assert_eq!(whole.body.collect().await.unwrap().into_bytes().as_ref(), &body[..]);

    let part = s3.get_object().bucket("loupe").key("round/trip.csv").range("bytes=7-11").send().await.unwrap();
    assert_eq!(part.content_range(), Some("bytes 7-11/21"));
    assert_eq!(part.body.collect().await.unwrap().into_bytes().as_ref(), b"ada,1");

    let stale = s3.get_object().bucket("loupe").key("round/trip.csv").if_match("\"0\"").send().await;
    assert_eq!(stale.unwrap_err().raw_response().unwrap().status().as_u16(), 412);
    let unchanged = s3.get_object().bucket("loupe").key("round/trip.csv").if_none_match(etag_of(&body)).send().await;
    assert_eq!(unchanged.unwrap_err().raw_response().unwrap().status().as_u16(), 304);

    // Replacing is allowed to the store's own keys, and only when the ETag still matches.
    let replaced = s3.put_object().bucket("loupe").key("round/trip.csv").if_match("\"0\"").body(b"x".to_vec().into());
    assert_eq!(replaced.send().await.unwrap_err().raw_response().unwrap().status().as_u16(), 412);
    let replaced = s3.put_object().bucket("loupe").key("round/trip.csv").if_match(etag_of(&body));
    let replaced = replaced.body(b"new".to_vec().into()).send().await.unwrap();
    assert_eq!(replaced.e_tag(), Some(etag_of(b"new").as_str()));
    let created = s3.put_object().bucket("loupe").key("round/trip.csv").if_none_match("*");
    let created = created.body(b"again".to_vec().into()).send().await;
    assert_eq!(created.unwrap_err().raw_response().unwrap().status().as_u16(), 412);

    s3.delete_object().bucket("loupe").key("round/trip.csv").send().await.unwrap();
    let gone = s3.head_object().bucket("loupe").key("round/trip.csv").send().await;
    assert!(gone.unwrap_err().into_service_error().is_not_found());
    s3.delete_object().bucket("loupe").key("round/trip.csv").send().await.expect("deleting twice succeeds, as on S3");
    let other = s3.head_bucket().bucket("elsewhere").send().await;
    assert!(other.unwrap_err().into_service_error().is_not_found(), "one bucket only");
    assert!(temp_files(&app).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_match_its_digest_is_not_stored() {
    let app = TestApp::start(Backend::Sqlite).await;
    let s3 = app.s3();
    // The MD5 of "other", base64.
    let put = s3.put_object().bucket("loupe").key("digest.csv").content_md5("eV+oRtMkuETOGIVnh3ftTA==");
    let error = put.body(b"a\n1\n".to_vec().into()).send().await.unwrap_err();
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 400);
    assert_eq!(aws_sdk_s3::error::ProvideErrorMetadata::code(&error), Some("BadDigest"));
    let head = s3.head_object().bucket("loupe").key("digest.csv").send().await;
    assert!(head.unwrap_err().into_service_error().is_not_found());
    assert!(temp_files(&app).is_empty());
}

/// A browser that loses its connection mid-PUT leaves no object, no
/// temporary file and no lock: the same URL then works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_put_leaves_nothing_behind() {
    let app = TestApp::start(Backend::Sqlite).await;
    let body: Vec<u8> =
        b"n\n".iter().copied().chain((0..400_000).flat_map(|i| format!("{i}\n").into_bytes())).collect();
    let ticket = app.request_upload("cut.csv", None, body.len() as u64).await;
    let url = reqwest::Url::parse(&ticket.url).unwrap();
    let mut stream = tokio::net::TcpStream::connect(url.socket_addrs(|| None).unwrap()[0]).await.unwrap();
    let mut head = format!(
        "PUT {}?{} HTTP/1.1\r\nhost: {}:{}\r\ncontent-length: {}\r\n",
        url.path(),
        url.query().unwrap(),
        url.host_str().unwrap(),
        url.port().unwrap(),
        body.len()
    );
    for (name, value) in &ticket.headers {
        if !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("host") {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    // More than a block, so the store has begun writing its temporary file.
    stream.write_all(&body[..body.len() / 2]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(stream);

    let key = format!("uploads/{}", ticket.upload_id);
    let object = app.data_dir.join("objects/loupe").join(&key);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !temp_files(&app).is_empty() {
        assert!(std::time::Instant::now() < deadline, "temporary files stayed: {:?}", temp_files(&app));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!object.exists(), "no partial object");
    // Drafts without a name leave no file to watch: the cut PUT has ended
    // once the store stops answering 409 (another write under way).
    let status = loop {
        let status = app.put(&ticket, &ticket.url, body.clone()).await;
        if status != 409 || std::time::Instant::now() >= deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 200, "the URL still works");
    assert!(temp_files(&app).is_empty());
    let confirmed = app.confirm(&ticket.upload_id).await;
    let job_id = confirmed["data"]["confirmUpload"]["id"].as_str().expect("confirmed").to_owned();
    let job = app.wait_for_job(&job_id, is_terminal).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_crash_left_half_written_is_removed_at_start() {
    let mut app = TestApp::start(Backend::Sqlite).await;
    let leftover = app.data_dir.join("objects/.tmp/0123456789abcdef");
    std::fs::write(&leftover, b"half of an upl").unwrap();
    app.restart_with(&[]).await;
    assert!(!leftover.exists());
}

/// A file put in place by a tool that drops extended attributes (a restore
/// from a backup, say) gets its ETag computed once, and is profiled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_without_a_recorded_etag_gets_one() {
    let app = TestApp::start_with(Backend::Sqlite, &["--worker-concurrency", "0"]).await;
    let body = b"n\n1\n2\n3\n".to_vec();
    let ticket = app.request_upload("restored.csv", None, body.len() as u64).await;
    assert_eq!(app.put(&ticket, &ticket.url, body.clone()).await, 200);
    let path = app.data_dir.join("objects/loupe/uploads").join(&ticket.upload_id);
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &body).unwrap();

    let head = app.s3().head_object().bucket("loupe").key(format!("uploads/{}", ticket.upload_id)).send().await;
    assert_eq!(head.unwrap().e_tag(), Some(etag_of(&body).as_str()));
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &body).unwrap();
    let confirmed = app.confirm(&ticket.upload_id).await;
    let job_id = confirmed["data"]["confirmUpload"]["id"].as_str().expect("confirmed").to_owned();
    let mut app = app;
    app.restart_with(&[]).await;
    let job = app.wait_for_job(&job_id, is_terminal).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert_eq!(job["result"]["rowCount"], 3);
}

/// A small tmpfs mounted as the store's folder, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// None when this process may not mount (not root): the test says so
    /// and, under CI, fails rather than pass without checking anything.
    fn mount(path: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(std::env::var_os("CI").is_none(), "CI runs as root and must mount a tmpfs for this test");
            eprintln!("SKIPPED: mounting a tmpfs needs root");
            return None;
        }
        Some(SmallDisk { path: path.to_owned() })
    }

    fn read_only(&self) {
        let status = std::process::Command::new("mount").args(["-o", "remount,ro"]).arg(&self.path).status();
        assert!(status.unwrap().success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

async fn put_status_and_code(app: &TestApp, body: Vec<u8>) -> (u16, String) {
    let ticket = app.request_upload("big.csv", None, body.len() as u64).await;
    let mut request = app.http.put(&ticket.url).header("content-length", body.len()).body(body);
    for (name, value) in &ticket.headers {
        if !name.eq_ignore_ascii_case("content-length") {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let code = text.split("<Code>").nth(1).and_then(|rest| rest.split("</Code>").next()).unwrap_or("").to_owned();
    (status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_or_a_read_only_folder_answers_clearly() {
    let mut disk = None;
    let app = TestApp::start_after(Backend::Sqlite, &[], |data_dir| {
        disk = SmallDisk::mount(&data_dir.join("objects"), "2m");
    })
    .await;
    let Some(disk) = disk else { return };

    let (status, code) = put_status_and_code(&app, vec![b'1'; 3 << 20]).await;
    assert_eq!((status, code.as_str()), (507, "InsufficientStorage"));
    assert!(temp_files(&app).is_empty(), "the partial file was removed, its space freed");
    let job_id = app.submit("small.csv", None, b"n\n1\n").await;
    let job = app.wait_for_job(&job_id, is_terminal).await;
    assert_eq!(job["status"], "SUCCEEDED", "the store kept serving: {job:#}");

    disk.read_only();
    let (status, code) = put_status_and_code(&app, b"n\n1\n".to_vec()).await;
    assert_eq!((status, code.as_str()), (503, "ServiceUnavailable"));
    let (status, _) = put_status_and_code(&app, b"n\n2\n".to_vec()).await;
    assert_eq!(status, 503, "and keeps answering");
}
