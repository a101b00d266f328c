//! Garage (a distributed S3 service, the `garage` crate's binary) on
//! loopback for the tests: one node with its bucket and key, or a cluster
//! of three nodes with every object on all three. Each node is a process
//! of its own in a temporary folder, on free ports, killed when dropped.
//!
//! `.ci/run` installs the pinned version; a machine without it skips these
//! tests loudly, and under CI (`CI` set) fails them instead.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::ExternalStore;

/// The version `.ci/run` installs; another one is used, with a warning.
pub const VERSION: &str = "2.5.0";
pub const BUCKET: &str = "loupe";
/// Garage signs for any region it is configured with; Loupe's default.
const REGION: &str = "us-east-1";
const KEY_ID: &str = "GK0123456789abcdef01234567";
const SECRET: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";
/// Shared by a cluster's nodes: it admits a node to the cluster.
const RPC_SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const ADMIN_TOKEN: &str = "loupe-tests-admin-token";
/// Longest a node or a cluster may take to start and answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The `garage` binary: `GARAGE_BIN`, then `PATH`, then cargo's bin folder.
/// None (after saying so, loudly) when there is none and this is not CI.
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::var_os("GARAGE_BIN")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::split_paths(&path).map(|dir| dir.join("garage")))
        .chain(std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo/bin/garage")))
        .find(|path| path.is_file());
    match found {
        Some(path) => Some(path),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "garage is not installed; .ci/run installs it (cargo install garage --version {VERSION} --locked)"
            );
            eprintln!(
                "SKIPPED: garage is not installed, so this test checks nothing here. \
                 Install it with `cargo install garage --version {VERSION} --locked` (or set GARAGE_BIN)."
            );
            None
        }
    }
}

/// One Garage process.
pub struct Node {
    dir: PathBuf,
    config: PathBuf,
    pub s3: SocketAddr,
    admin: SocketAddr,
    process: Option<Child>,
    binary: PathBuf,
}

impl Node {
    fn new(binary: &Path, root: &Path, index: usize, replication: usize) -> Node {
        let dir = root.join(format!("node{index}"));
        std::fs::create_dir_all(&dir).unwrap();
        let (s3, rpc, admin) = (free_port(), free_port(), free_port());
        let config = dir.join("garage.toml");
        std::fs::write(
            &config,
            format!(
                r#"metadata_dir = "{dir}/meta"
data_dir = "{dir}/data"
db_engine = "sqlite"
replication_factor = {replication}
rpc_bind_addr = "{rpc}"
rpc_public_addr = "{rpc}"
rpc_secret = "{RPC_SECRET}"
# Short timeouts, so a killed peer is noticed within the tests' bounds.
rpc_ping_timeout_msec = 2000
rpc_timeout_msec = 10000

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "{s3}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "{admin}"
admin_token = "{ADMIN_TOKEN}"
"#,
                dir = dir.display(),
            ),
        )
        .unwrap();
        Node { dir, config, s3, admin, process: None, binary: binary.to_owned() }
    }

    /// Starts the process (again, after [`Node::kill`], on the same folder
    /// and ports) with `args` after `server`.
    fn start(&mut self, args: &[&str], env: &[(&str, &str)]) {
        assert!(self.process.is_none(), "already running");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("garage.log")).unwrap();
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.config)
            .arg("server")
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("garage starts");
        self.process = Some(child);
    }

    /// Starts a node killed before, as its operator would.
    pub fn restart(&mut self) {
        self.start(&[], &[]);
    }

    /// kill -9: no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Runs the `garage` command-line tool against this node; its stdout.
    fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("garage runs");
        assert!(
            output.status.success(),
            "garage {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.log_tail()
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs the tool until it succeeds (the node may still be starting).
    async fn cli_eventually(&self, args: &[&str]) -> String {
        self.cli_until(args, None).await
    }

    /// Runs the tool until it succeeds, or until `done` (a query) does: a
    /// creation that timed out may still have happened, and is then refused
    /// as a duplicate however often it is tried again.
    async fn cli_until(&self, args: &[&str], done: Option<&[&str]>) -> String {
        let run = |args: &[&str]| {
            Command::new(&self.binary)
                .arg("-c")
                .arg(&self.config)
                .args(args)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .output()
                .expect("garage runs")
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let output = run(args);
            if output.status.success() {
                return String::from_utf8(output.stdout).unwrap();
            }
            if let Some(done) = done
                && run(done).status.success()
            {
                return String::new();
            }
            assert!(
                Instant::now() < deadline,
                "garage {args:?} kept failing: {}\n{}",
                String::from_utf8_lossy(&output.stderr),
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("garage.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!("garage's log ends:\n{}", lines[lines.len().saturating_sub(20)..].join("\n"))
    }

    /// Waits until the node says the cluster can serve requests.
    pub async fn healthy(&self) {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(response) = http.get(format!("http://{}/health", self.admin)).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "garage never got healthy\n{}", self.log_tail());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A running Garage: one node, or a cluster whose first node serves the
/// S3 API that Loupe and the tests use.
pub struct Garage {
    pub nodes: Vec<Node>,
    /// Kept for its Drop, after the nodes': removes every node's folder.
    _root: tempfile::TempDir,
}

impl Garage {
    /// One node (`--single-node --default-bucket`: its layout, key and
    /// bucket made at start). None when garage is not installed here.
    pub async fn single() -> Option<Garage> {
        let binary = binary()?;
        let root = tempfile::tempdir().unwrap();
        let mut node = Node::new(&binary, root.path(), 0, 1);
        let env = [
            ("GARAGE_DEFAULT_ACCESS_KEY", KEY_ID),
            ("GARAGE_DEFAULT_SECRET_KEY", SECRET),
            ("GARAGE_DEFAULT_BUCKET", BUCKET),
        ];
        node.start(&["--single-node", "--default-bucket"], &env);
        let garage = Garage { nodes: vec![node], _root: root };
        garage.nodes[0].healthy().await;
        garage.bucket_ready().await;
        Some(garage)
    }

    /// Three nodes, each holding a copy of every object (replication 3,
    /// so reads and writes need two of them). None when garage is not
    /// installed here.
    pub async fn cluster() -> Option<Garage> {
        let binary = binary()?;
        let root = tempfile::tempdir().unwrap();
        let mut nodes: Vec<Node> = (0..3).map(|i| Node::new(&binary, root.path(), i, 3)).collect();
        for node in &mut nodes {
            node.start(&[], &[]);
        }
        let mut ids = Vec::new();
        for node in &nodes {
            let id = node.cli_eventually(&["node", "id", "-q"]).await;
            ids.push(id.trim().to_owned());
        }
        let first = &nodes[0];
        for id in &ids[1..] {
            first.cli_eventually(&["node", "connect", id]).await;
        }
        for id in &ids {
            let short = id.split('@').next().unwrap();
            first.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", short]);
        }
        first.cli(&["layout", "apply", "--version", "1"]);
        first.healthy().await;
        first
            .cli_until(&["key", "import", "--yes", "-n", "loupe", KEY_ID, SECRET], Some(&["key", "info", KEY_ID]))
            .await;
        first.cli_until(&["bucket", "create", BUCKET], Some(&["bucket", "info", BUCKET])).await;
        first.cli(&["bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", KEY_ID]);
        let garage = Garage { nodes, _root: root };
        garage.bucket_ready().await;
        Some(garage)
    }

    /// How Loupe and the tests reach the S3 API of node `index`.
    pub fn store_of(&self, index: usize) -> ExternalStore {
        ExternalStore {
            endpoint: format!("http://{}", self.nodes[index].s3),
            access_key_id: KEY_ID.into(),
            secret_access_key: SECRET.into(),
            bucket: BUCKET.into(),
        }
    }

    pub fn store(&self) -> ExternalStore {
        self.store_of(0)
    }

    /// Waits until the bucket answers through the S3 API: a new node takes
    /// a moment to know its own layout.
    async fn bucket_ready(&self) {
        let s3 = self.store().client();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match s3.head_bucket().bucket(BUCKET).send().await {
                Ok(_) => return,
                Err(err) => assert!(
                    Instant::now() < deadline,
                    "the bucket never answered: {err:?}\n{}",
                    self.nodes[0].log_tail()
                ),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A port free now, below the kernel's ephemeral range (32768 and up): a
/// port-0 bind or an outgoing connection elsewhere in the tests cannot take
/// it before Garage binds it, as happened with ports from that range.
fn free_port() -> SocketAddr {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    // Processes start apart from each other, so two test runs rarely meet.
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % SPAN,
        Ordering::AcqRel,
        Ordering::Acquire,
    );
    for _ in 0..SPAN {
        let port = FIRST + NEXT.fetch_add(1, Ordering::AcqRel) % SPAN;
        let addr = SocketAddr::from(([127, 0, 0, 1], port as u16));
        if std::net::TcpListener::bind(addr).is_ok() {
            return addr;
        }
    }
    panic!("no free port between {FIRST} and {}", FIRST + SPAN);
}

/// Emits, in a module `on_garage`, one `#[tokio::test]` per named
/// `async fn(Backend)` that runs it on SQLite with its files in a
/// single-node Garage (see [`run_on_garage`]): the same test bodies as against
/// the embedded store.
macro_rules! on_garage {
    ($($test:ident),+ $(,)?) => {
        mod on_garage {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                $crate::garage::run_on_garage(super::$test).await
            }
        )+}
    };
}
pub(crate) use on_garage;

/// Runs `test` with every Loupe it starts on a fresh single-node Garage.
pub async fn run_on_garage<F: std::future::Future<Output = ()>>(test: impl FnOnce(crate::harness::Backend) -> F) {
    let Some(garage) = Garage::single().await else { return };
    let store = garage.store();
    crate::harness::EXTERNAL_STORE.scope(store, test(crate::harness::Backend::Sqlite)).await;
    drop(garage);
}
