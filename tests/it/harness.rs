//! Starts a real Loupe per test (own data directory, own database, an
//! ephemeral port) and talks to it over real HTTP and websockets.

use std::path::PathBuf;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::{SinkExt, StreamExt};
use loupe::app::Server;
use loupe::config::{Config, ProviderConfig, ProviderKind};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Emits `#[tokio::test]`s named `sqlite` and `postgres` in a module named
/// after an `async fn(Backend)`, so each database test runs on both.
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test($crate::harness::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$test($crate::harness::Backend::Postgres).await
            }
        }
    )+};
}
pub(crate) use on_both_backends;

/// An S3 service other than Loupe's embedded store (Garage, in
/// `crate::garage`), and how to reach it.
#[derive(Clone, Debug)]
pub struct ExternalStore {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub bucket: String,
}

impl ExternalStore {
    /// Loupe's settings for this store.
    pub fn args(&self) -> Vec<String> {
        [
            "--s3-endpoint",
            &self.endpoint,
            "--s3-bucket",
            &self.bucket,
            "--s3-access-key-id",
            &self.access_key_id,
            "--s3-secret-access-key",
            &self.secret_access_key,
            "--s3-path-style",
        ]
        .iter()
        .map(|arg| arg.to_string())
        .collect()
    }

    /// An S3 client with the store's keys.
    pub fn client(&self) -> aws_sdk_s3::Client {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(&self.access_key_id, &self.secret_access_key, None, None, "test"))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

tokio::task_local! {
    /// Set around a test (see `garage::on_garage!`): every [`TestApp`] it
    /// starts keeps its files in this store instead of its embedded one,
    /// so the same test bodies run against both.
    pub static EXTERNAL_STORE: ExternalStore;
}

/// The PostgreSQL server tests create their databases on.
fn admin_url() -> String {
    std::env::var("LOUPE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of one test: a SQLite file in the test's folder, or a fresh
/// PostgreSQL database dropped when the test ends, pass or fail.
pub struct TestDatabase {
    pub url: String,
    pg_name: Option<String>,
}

impl TestDatabase {
    pub async fn create(backend: Backend, dir: &std::path::Path) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                TestDatabase { url: dir.join("test.sqlite3").to_string_lossy().into_owned(), pg_name: None }
            }
            Backend::Postgres => {
                let name = format!("loupe_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = AsyncPgConnection::establish(&admin_url()).await.expect("PostgreSQL is reachable");
                admin.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                let base = admin_url();
                let server = base.rsplit_once('/').map(|(server, _)| server).unwrap_or(&base);
                TestDatabase { url: format!("{server}/{name}"), pg_name: Some(name) }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        // Drop runs outside async context (maybe while unwinding): use a
        // thread with its own runtime.
        let result = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = AsyncPgConnection::establish(&admin_url()).await?;
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(result, Ok(Ok(()))) {
            eprintln!("could not drop a test database");
        }
    }
}

/// A Loupe process started by [`TestApp::spawn_sibling`]; killed when dropped.
pub struct Sibling {
    pub child: std::process::Child,
    pub url: String,
}

impl Sibling {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process gets no chance to hand anything back.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sibling {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct TestApp {
    pub server: Option<Server>,
    pub url: String,
    pub data_dir: PathBuf,
    pub http: reqwest::Client,
    pub database: TestDatabase,
    /// Kept for its Drop: removes the data directory.
    _dir: tempfile::TempDir,
    extra_args: Vec<String>,
    /// Loupe as a process of its own, when started with [`TestApp::spawn`].
    process: Option<std::process::Child>,
    /// Sign-in providers the server is configured with (none: single-user mode).
    providers: Vec<ProviderConfig>,
    /// Who [`TestApp::graphql`] and the websocket helpers act as.
    pub caller: Caller,
    /// Where the files go when not to the embedded store.
    pub store: Option<ExternalStore>,
}

/// The credential a test request carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Caller {
    Anonymous,
    /// A session cookie, as `name=secret`.
    Cookie(String),
    /// An API token's secret.
    Bearer(String),
}

impl Caller {
    pub fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Caller::Anonymous => request,
            Caller::Cookie(cookie) => request.header("cookie", cookie),
            Caller::Bearer(secret) => request.bearer_auth(secret),
        }
    }

    /// Handshake headers of a websocket acting as this caller.
    fn socket_headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Caller::Anonymous => vec![],
            Caller::Cookie(cookie) => vec![("cookie", cookie.clone())],
            Caller::Bearer(secret) => vec![("authorization", format!("Bearer {secret}"))],
        }
    }
}

/// A sign-in provider that makes a test server require sign-in; it is
/// never contacted (sessions are staged with [`TestApp::sign_in`]).
pub fn unreachable_github() -> ProviderConfig {
    ProviderConfig {
        name: "github".into(),
        kind: ProviderKind::GitHub,
        client_id: "test-client".into(),
        client_secret: "test-secret".into(),
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        TestApp::start_with(backend, &[]).await
    }

    /// Starts with extra command-line settings, e.g. `["--upload-url-ttl-secs", "1"]`.
    pub async fn start_with(backend: Backend, extra_args: &[&str]) -> TestApp {
        TestApp::start_after(backend, extra_args, |_| {}).await
    }

    /// Like [`TestApp::start_with`], with `setup` run on the data directory
    /// (which does not exist yet) before Loupe starts.
    pub async fn start_after(backend: Backend, extra_args: &[&str], setup: impl FnOnce(&std::path::Path)) -> TestApp {
        TestApp::start_configured(backend, extra_args, vec![], setup).await
    }

    /// Starts requiring sign-in (a provider configured), with extra settings.
    pub async fn start_signed_in(backend: Backend, extra_args: &[&str]) -> TestApp {
        TestApp::start_with_providers(backend, extra_args, vec![unreachable_github()]).await
    }

    pub async fn start_with_providers(
        backend: Backend,
        extra_args: &[&str],
        providers: Vec<ProviderConfig>,
    ) -> TestApp {
        TestApp::start_configured(backend, extra_args, providers, |_| {}).await
    }

    async fn start_configured(
        backend: Backend,
        extra_args: &[&str],
        providers: Vec<ProviderConfig>,
        setup: impl FnOnce(&std::path::Path),
    ) -> TestApp {
        // Server logs show with a failing test's output; RUST_LOG=debug for more.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,loupe=info".into()),
            )
            .with_test_writer()
            .try_init();
        let mut app = TestApp::prepare(backend, extra_args, String::new()).await;
        app.providers = providers;
        setup(&app.data_dir);
        app.boot().await;
        app
    }

    /// Stages a sign-in as `login` (at the test provider, subject = login),
    /// as the provider's callback does once the provider vouched for them;
    /// returns the session cookie.
    pub async fn sign_in(&self, login: &str) -> Caller {
        let user = loupe::db::User {
            id: uuid::Uuid::now_v7().to_string(),
            login: login.to_owned(),
            name: Some(format!("{login} (test)")),
            created_at: chrono::Utc::now().naive_utc(),
            provider: "github".into(),
            subject: login.to_owned(),
            email: Some(format!("{login}@example.com")),
            avatar_url: None,
        };
        let user = self.app().db.upsert_identity(&user).await.unwrap();
        let set_cookie = self.app().auth.start_session(&user).await.unwrap();
        let cookie = set_cookie.to_str().unwrap().split(';').next().unwrap().to_owned();
        Caller::Cookie(cookie)
    }

    /// Starts on a PostgreSQL database the test made itself (on a server of
    /// its own, say), which the test also removes.
    pub async fn start_on_postgres(url: &str, extra_args: &[&str]) -> TestApp {
        let mut app = TestApp::prepare_with(
            TestDatabase { url: url.to_owned(), pg_name: None },
            tempfile::tempdir().expect("temp dir"),
            extra_args,
            String::new(),
        );
        app.boot().await;
        app
    }

    /// A test's own folder and database, not yet running.
    async fn prepare(backend: Backend, extra_args: &[&str], url: String) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::create(backend, dir.path()).await;
        TestApp::prepare_with(database, dir, extra_args, url)
    }

    fn prepare_with(database: TestDatabase, dir: tempfile::TempDir, extra_args: &[&str], url: String) -> TestApp {
        TestApp {
            server: None,
            url,
            data_dir: dir.path().join("data"),
            // A server that stops answering fails the test instead of hanging it.
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap(),
            database,
            _dir: dir,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            process: None,
            providers: vec![],
            caller: Caller::Anonymous,
            store: EXTERNAL_STORE.try_with(ExternalStore::clone).ok(),
        }
    }

    /// Starts Loupe as a process of its own (the `loupe` binary), so its
    /// memory can be measured apart from the tests'; waits until it is ready.
    pub async fn spawn(backend: Backend, extra_args: &[&str]) -> TestApp {
        TestApp::spawn_logging(backend, extra_args, &[], None).await
    }

    /// [`TestApp::spawn`] with more environment (`RUST_LOG` among it) and,
    /// with `log`, its whole output (stdout and stderr) in that file.
    pub async fn spawn_logging(
        backend: Backend,
        extra_args: &[&str],
        env: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> TestApp {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut app = TestApp::prepare(backend, extra_args, format!("http://127.0.0.1:{port}")).await;
        let mut args = app.args(app.extra_args.iter().cloned());
        args[1] = format!("127.0.0.1:{port}");
        let (stdout, stderr) = match log {
            Some(path) => {
                let file = std::fs::File::create(path).unwrap();
                (std::process::Stdio::from(file.try_clone().unwrap()), std::process::Stdio::from(file))
            }
            None => (std::process::Stdio::null(), std::process::Stdio::inherit()),
        };
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_loupe"))
            .args(&args)
            .env("RUST_LOG", "error")
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("loupe starts");
        app.process = Some(child);
        for _ in 0..300 {
            if let Ok(response) = app.http.get(format!("{}/readyz", app.url)).send().await
                && response.status() == 200
            {
                return app;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the loupe process never got ready");
    }

    /// Sends SIGTERM to the process started with [`TestApp::spawn`] and
    /// waits for it to exit; returns whether it exited cleanly, and when.
    pub async fn terminate(&mut self) -> (bool, Duration) {
        let mut process = self.process.take().expect("a spawned process");
        let pid = rustix::process::Pid::from_raw(process.id() as i32).unwrap();
        let started = std::time::Instant::now();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let status = tokio::task::spawn_blocking(move || process.wait()).await.unwrap().unwrap();
        (status.success(), started.elapsed())
    }

    /// Resident memory of the process started with [`TestApp::spawn`].
    pub fn rss_bytes(&self) -> u64 {
        let pid = self.process.as_ref().expect("a spawned process").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process runs");
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("VmRSS");
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
    }

    pub fn config(&self) -> Config {
        let mut config = Config::from_args(self.args(self.extra_args.iter().cloned())).expect("valid test config");
        config.providers = self.providers.clone();
        config
    }

    fn args(&self, extra_args: impl Iterator<Item = String>) -> Vec<String> {
        let mut args = vec![
            "--listen".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--data-dir".to_owned(),
            self.data_dir.to_string_lossy().into_owned(),
            "--database-url".to_owned(),
            self.database.url.clone(),
            "--job-poll-ms".to_owned(),
            "200".to_owned(),
        ];
        args.extend(self.store.iter().flat_map(ExternalStore::args));
        args.extend(extra_args);
        args
    }

    async fn boot(&mut self) {
        let server = loupe::app::start(self.config()).await.expect("Loupe starts");
        self.url = format!("http://{}", server.local_addr);
        self.server = Some(server);
    }

    /// Stops the server gracefully and starts it again on the same database
    /// and data directory (on a new port), with new extra settings.
    pub async fn restart_with(&mut self, extra_args: &[&str]) {
        self.stop().await;
        self.extra_args = extra_args.iter().map(|s| s.to_string()).collect();
        self.boot().await;
    }

    /// Another instance on the same database and data directory, as when a
    /// team runs several side by side; with its own extra settings.
    /// This instance (started with `args`, no worker of its own unless
    /// asked) and a sibling that reaches its embedded store as external S3
    /// through a [`TcpSwitch`], so a test can cut the store off.
    pub async fn with_external_sibling(
        backend: Backend,
        args: &[&str],
        sibling_args: &[&str],
    ) -> (TestApp, TcpSwitch, Server) {
        let switch = TcpSwitch::start().await;
        let allowed = switch.addr.to_string();
        let args: Vec<&str> = args.iter().copied().chain(["--allowed-hosts", allowed.as_str()]).collect();
        let app = TestApp::start_with(backend, &args).await;
        switch.connect_to(app.server.as_ref().unwrap().local_addr);
        let (id, secret) = app.s3_credentials();
        let endpoint = format!("http://{}", switch.addr);
        let external = [
            "--s3-endpoint",
            endpoint.as_str(),
            "--s3-access-key-id",
            id.as_str(),
            "--s3-secret-access-key",
            secret.as_str(),
            "--s3-path-style",
        ];
        let sibling_args: Vec<&str> = sibling_args.iter().copied().chain(external).collect();
        let sibling = app.start_sibling(&sibling_args).await;
        (app, switch, sibling)
    }

    /// Another instance on the same database and data directory as a
    /// process of its own, which a test can kill; waits until it is ready.
    pub async fn spawn_sibling(&self, extra_args: &[&str]) -> Sibling {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut args = self.args(extra_args.iter().map(|s| s.to_string()));
        args[1] = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_loupe"))
            .args(&args)
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("loupe starts");
        let sibling = Sibling { child, url: format!("http://127.0.0.1:{port}") };
        for _ in 0..300 {
            if let Ok(response) = self.http.get(format!("{}/readyz", sibling.url)).send().await
                && response.status() == 200
            {
                return sibling;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the sibling process never got ready");
    }

    pub async fn start_sibling(&self, extra_args: &[&str]) -> Server {
        let mut config = Config::from_args(self.args(extra_args.iter().map(|s| s.to_string()))).expect("valid config");
        config.providers = self.providers.clone();
        loupe::app::start(config).await.expect("another instance starts")
    }

    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
    }

    pub fn app(&self) -> &loupe::app::App {
        &self.server.as_ref().expect("server running").app
    }

    /// Runs SQL straight on the test's database, to stage what the API
    /// cannot (a crashed worker's job, another user's rows).
    pub async fn execute_sql(&self, sql: &str) {
        if self.database.url.starts_with("postgres") {
            let mut conn = AsyncPgConnection::establish(&self.database.url).await.unwrap();
            conn.batch_execute(sql).await.unwrap();
        } else {
            use diesel::connection::{Connection, SimpleConnection};
            let mut conn = diesel::SqliteConnection::establish(&self.database.url).unwrap();
            conn.batch_execute(sql).unwrap();
        }
    }

    pub async fn count_rows(&self, table: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let query = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"));
        if self.database.url.starts_with("postgres") {
            use diesel_async::RunQueryDsl;
            let mut conn = AsyncPgConnection::establish(&self.database.url).await.unwrap();
            query.get_result::<Count>(&mut conn).await.unwrap().n
        } else {
            use diesel::{Connection, RunQueryDsl};
            let mut conn = diesel::SqliteConnection::establish(&self.database.url).unwrap();
            query.get_result::<Count>(&mut conn).unwrap().n
        }
    }

    /// The store's keys: the external one's, or the embedded store's, from
    /// the data directory.
    pub fn s3_credentials(&self) -> (String, String) {
        if let Some(store) = &self.store {
            return (store.access_key_id.clone(), store.secret_access_key.clone());
        }
        let text = std::fs::read_to_string(self.data_dir.join("embedded-s3.credentials")).unwrap();
        let (id, secret) = text.trim().split_once(':').unwrap();
        (id.to_owned(), secret.to_owned())
    }

    /// An S3 client of the test's store with its own keys, to do what a
    /// client with the keys could (write, delete) behind Loupe's back.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        if let Some(store) = &self.store {
            return store.client();
        }
        let (id, secret) = self.s3_credentials();
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .credentials_provider(Credentials::new(id, secret, None, None, "test"))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Polls the job until `done` holds for it; returns it. Fails after 30 s.
    pub async fn wait_for_job(&self, job_id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let job = self.ok(JOB_QUERY, json!({ "id": job_id })).await["job"].clone();
            if done(&job) {
                return job;
            }
            assert!(std::time::Instant::now() < deadline, "job never got there: {job:#}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs a GraphQL operation; returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(&self.caller, query, variables).await
    }

    /// Runs a GraphQL operation as `caller`; returns the whole response body.
    pub async fn graphql_as(&self, caller: &Caller, query: &str, variables: Value) -> Value {
        caller
            .apply(self.http.post(format!("{}/graphql", self.url)))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql")
            .json()
            .await
            .expect("JSON response")
    }

    /// Runs an operation that must succeed; returns its `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables).await;
        assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
        response["data"].clone()
    }

    /// Asks for an upload ticket for `size` bytes.
    pub async fn request_upload(&self, filename: &str, content_type: Option<&str>, size: u64) -> Ticket {
        let data = self
            .ok(
                "mutation($input: RequestUploadInput!) { requestUpload(input: $input) {
                    upload { id status size } url method headers { name value } expiresAt } }",
                json!({ "input": { "filename": filename, "contentType": content_type, "size": size } }),
            )
            .await;
        let ticket = &data["requestUpload"];
        Ticket {
            upload_id: ticket["upload"]["id"].as_str().unwrap().to_owned(),
            url: ticket["url"].as_str().unwrap().to_owned(),
            method: ticket["method"].as_str().unwrap().to_owned(),
            headers: ticket["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h["name"].as_str().unwrap().to_owned(), h["value"].as_str().unwrap().to_owned()))
                .collect(),
        }
    }

    /// Sends `body` as the ticket says, like a browser would; returns the HTTP status.
    pub async fn put(&self, ticket: &Ticket, url: &str, body: Vec<u8>) -> u16 {
        let method = reqwest::Method::from_bytes(ticket.method.as_bytes()).unwrap();
        // Like fetch(), Content-Length is always sent, from the body itself.
        let mut request = self.http.request(method, url).header("content-length", body.len()).body(body);
        for (name, value) in &ticket.headers {
            if !name.eq_ignore_ascii_case("content-length") {
                request = request.header(name, value);
            }
        }
        request.send().await.expect("PUT to the store").status().as_u16()
    }

    /// A store refuses a presigned request that does not hold with 403, as
    /// Loupe's embedded store and AWS S3 do; Garage calls some of them
    /// (expired, mis-signed) a bad request, 400.
    pub fn assert_refused(&self, status: u16, what: &str) {
        let refusals: &[u16] = if self.store.is_some() { &[400, 403] } else { &[403] };
        assert!(refusals.contains(&status), "{what} was answered {status}, not refused ({refusals:?})");
    }

    pub async fn confirm(&self, upload_id: &str) -> Value {
        self.graphql(
            "mutation($id: ID!) { confirmUpload(uploadId: $id) { id status upload { id status } } }",
            json!({ "id": upload_id }),
        )
        .await
    }

    /// Request, upload and confirm a file; returns the job id.
    pub async fn submit(&self, filename: &str, content_type: Option<&str>, body: &[u8]) -> String {
        let ticket = self.request_upload(filename, content_type, body.len() as u64).await;
        assert_eq!(self.put(&ticket, &ticket.url, body.to_vec()).await, 200, "upload accepted");
        let confirmed = self.confirm(&ticket.upload_id).await;
        assert!(confirmed.get("errors").is_none(), "confirm failed: {confirmed:#}");
        confirmed["data"]["confirmUpload"]["id"].as_str().unwrap().to_owned()
    }

    /// Waits (over the subscription) for the job to end; returns the job with its result.
    pub async fn finished_job(&self, job_id: &str) -> Value {
        let updates = self.subscribe_job(job_id).await;
        let last = updates.last().expect("at least one update");
        assert!(is_terminal(last), "subscription ended on a terminal state: {updates:#?}");
        self.ok(JOB_QUERY, json!({ "id": job_id })).await["job"].clone()
    }

    /// Follows `jobUpdates` over graphql-transport-ws until the server
    /// completes it; returns every update.
    pub async fn subscribe_job(&self, job_id: &str) -> Vec<Value> {
        let messages = self.subscribe(Protocol::TransportWs, JOB_UPDATES, json!({ "jobId": job_id })).await;
        messages
            .into_iter()
            .map(|payload| {
                assert!(payload.get("errors").is_none(), "subscription error: {payload:#}");
                payload["data"]["jobUpdates"].clone()
            })
            .collect()
    }

    /// Runs one subscription to completion over a real websocket; returns
    /// the payload of every result message. Fails the test after 30 s.
    pub async fn subscribe(&self, protocol: Protocol, query: &str, variables: Value) -> Vec<Value> {
        tokio::time::timeout(Duration::from_secs(30), self.subscribe_inner(protocol, query, variables))
            .await
            .expect("subscription completes in time")
    }

    async fn subscribe_inner(&self, protocol: Protocol, query: &str, variables: Value) -> Vec<Value> {
        let mut socket = self.open_socket(protocol, &[]).await.expect("websocket connects");
        let payloads = operate(&mut socket, protocol, query, variables).await;
        let _ = socket.close(None).await;
        payloads
    }

    /// Opens a websocket to `/graphql/ws` with extra request headers (an
    /// `Origin`, a `Host`); a refused handshake is the error.
    pub async fn open_socket(&self, protocol: Protocol, headers: &[(&str, &str)]) -> Result<Socket, WsError> {
        self.open_socket_as(&self.caller, protocol, headers).await
    }

    /// [`TestApp::open_socket`] as `caller` (its cookie or bearer header).
    pub async fn open_socket_as(
        &self,
        caller: &Caller,
        protocol: Protocol,
        headers: &[(&str, &str)],
    ) -> Result<Socket, WsError> {
        let ws_url = format!("{}/graphql/ws", self.url.replacen("http", "ws", 1));
        let mut request = ws_url.into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", protocol.name().parse().unwrap());
        let caller_headers = caller.socket_headers();
        let caller_headers = caller_headers.iter().map(|(name, value)| (*name, value.as_str()));
        for (name, value) in headers.iter().copied().chain(caller_headers) {
            let name: tokio_tungstenite::tungstenite::http::HeaderName = name.parse().unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        let (socket, response) = tokio_tungstenite::connect_async(request).await?;
        assert_eq!(response.headers()["sec-websocket-protocol"], protocol.name());
        Ok(socket)
    }
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
pub type WsError = tokio_tungstenite::tungstenite::Error;

/// Initialises the connection and runs one operation until the server
/// completes it; returns the payload of every result message (an error
/// message as `{"errors": …}`).
pub async fn operate(socket: &mut Socket, protocol: Protocol, query: &str, variables: Value) -> Vec<Value> {
    let send = |value: Value| Message::text(value.to_string());
    socket.send(send(json!({ "type": "connection_init", "payload": {} }))).await.unwrap();
    let (start, next, done) = match protocol {
        Protocol::TransportWs => ("subscribe", "next", "complete"),
        Protocol::Legacy => ("start", "data", "complete"),
    };
    let mut acked = false;
    let mut payloads = Vec::new();
    while let Some(message) = socket.next().await {
        let message = message.expect("websocket message");
        let Message::Text(text) = message else { continue };
        let value: Value = serde_json::from_str(&text).unwrap();
        match value["type"].as_str().unwrap_or_default() {
            "connection_ack" if !acked => {
                acked = true;
                let payload = json!({ "query": query, "variables": variables });
                socket.send(send(json!({ "id": "1", "type": start, "payload": payload }))).await.unwrap();
            }
            t if t == next => payloads.push(value["payload"].clone()),
            "error" => {
                payloads.push(json!({ "errors": value["payload"] }));
                break;
            }
            t if t == done => break,
            "ka" | "ping" | "pong" => {}
            other => panic!("unexpected {other} message: {value}"),
        }
    }
    payloads
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // A test that panicked may leave the server running; its runtime ends
        // with the test, and the database is dropped after this.
        self.server.take();
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

/// A TCP proxy that can be switched off, to stage an outage of the service
/// behind it: switching off cuts open connections, and while off it accepts
/// connections and drops them at once.
pub struct TcpSwitch {
    pub addr: std::net::SocketAddr,
    on: tokio::sync::watch::Sender<bool>,
    target: std::sync::Arc<std::sync::Mutex<Option<std::net::SocketAddr>>>,
}

impl TcpSwitch {
    pub async fn start() -> TcpSwitch {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let switch = TcpSwitch {
            addr: listener.local_addr().unwrap(),
            on: tokio::sync::watch::Sender::new(false),
            target: Default::default(),
        };
        let (on, target) = (switch.on.clone(), switch.target.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = *target.lock().unwrap();
                let (true, Some(target)) = (*on.borrow(), target) else { continue };
                let mut on = on.subscribe();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = on.wait_for(|on| !on) => {}
                        }
                    }
                });
            }
        });
        switch
    }

    pub fn connect_to(&self, target: std::net::SocketAddr) {
        *self.target.lock().unwrap() = Some(target);
        self.set(true);
    }

    pub fn set(&self, on: bool) {
        self.on.send_replace(on);
    }
}

#[derive(Clone)]
pub struct Ticket {
    pub upload_id: String,
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Clone, Copy)]
pub enum Protocol {
    /// graphql-ws (the library): `graphql-transport-ws`.
    TransportWs,
    /// subscriptions-transport-ws: `graphql-ws`.
    Legacy,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::TransportWs => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }
}

pub const JOB_UPDATES: &str =
    "subscription($jobId: ID!) { jobUpdates(jobId: $jobId) { id status progress attempts error { code message } } }";

pub const JOB_QUERY: &str = "query($id: ID!) { job(id: $id) {
    id status progress attempts createdAt startedAt finishedAt
    error { code message }
    lastFailure { code message }
    upload { id filename size status }
    result {
        __typename
        ... on FileSummary { size sha256 mediaType }
        ... on TableProfile {
            format delimiter hasHeader rowCount columnCount malformedRowCount
            columns { name inferredType typeShare count nullCount distinctCount numeric { min max mean } }
        }
    }
} }";

pub fn is_terminal(job: &Value) -> bool {
    matches!(job["status"].as_str(), Some("SUCCEEDED" | "FAILED" | "CANCELLED"))
}

/// The `extensions.code` of the first error of a response.
pub fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("an error with a code: {response:#}"))
}
