//! Every setting, from flags or environment variables, with the embedded
//! defaults: with nothing set, Loupe keeps a SQLite database and an
//! S3-compatible object store under `./data` and listens on 127.0.0.1:8080.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// How people sign in, shown at the end of `--help`.
const SIGN_IN_HELP: &str = "\
Sign-in providers (environment only; any number at once):
  LOUPE_OIDC_<NAME>_ISSUER, LOUPE_OIDC_<NAME>_CLIENT_ID, LOUPE_OIDC_<NAME>_CLIENT_SECRET
      an OpenID Connect provider (Google, Keycloak, Authentik, Entra ID…) by its issuer URL;
      sign-in starts at /auth/login/<name> (lower case)
  LOUPE_GITHUB_CLIENT_ID, LOUPE_GITHUB_CLIENT_SECRET
      GitHub; sign-in starts at /auth/login/github
  Register <public URL>/auth/callback/<name> as the redirect URL at the provider.
  With no provider, Loupe serves one local user, and only on a loopback address
  (--insecure-single-user overrides that).";

#[derive(Debug, Parser)]
#[command(
    name = "loupe",
    version,
    // A flag given twice takes its last value, so a wrapper's defaults can be overridden.
    args_override_self = true,
    about = "Turns uploaded data files into live, visual profiles.",
    after_help = SIGN_IN_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, the object store (unless external) and the worker (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Profile a local file and print the profile as JSON (no server needed).
    Profile {
        /// CSV, TSV or JSON Lines, plain or gzip.
        path: PathBuf,
        /// Override format detection: csv, tsv or json-lines.
        #[arg(long, value_parser = ["csv", "tsv", "json-lines"])]
        format: Option<String>,
        /// Override delimiter detection (one character; `\t` for tab).
        #[arg(long)]
        delimiter: Option<String>,
        /// Worker threads; 0 uses every core. 1 makes sketch results repeatable.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Print the JSON on one line.
        #[arg(long)]
        compact: bool,
    },
}

#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LOUPE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Base URL browsers use to reach this server; presigned upload URLs of the
    /// embedded store point here. Default: http://<listen address>.
    #[arg(long, env = "LOUPE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// More names this server answers to in the Host header (a proxy's
    /// public name, an internal name), comma-separated; a name without a
    /// port matches any port. The public URL's host and the listen address
    /// (with localhost and 127.0.0.1 when listening on loopback) always are.
    #[arg(long, env = "LOUPE_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,

    /// More origins (scheme://host[:port]) whose pages may open websockets and
    /// send state-changing requests, comma-separated, e.g. a web app served
    /// from a CDN. The public URL's origin always may.
    #[arg(long, env = "LOUPE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Directory for the SQLite database and the embedded object store.
    #[arg(long, env = "LOUPE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// postgres://… to use PostgreSQL; a file path for SQLite. Default: <data-dir>/loupe.sqlite3.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Maximum PostgreSQL connections in the pool. SQLite always uses one.
    #[arg(long, env = "LOUPE_DB_POOL_SIZE", default_value_t = 10)]
    pub db_pool_size: usize,

    /// S3 API endpoint, e.g. https://s3.eu-west-1.amazonaws.com. Unset: the embedded store.
    #[arg(long, env = "LOUPE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// Bucket for uploaded files (created if missing).
    #[arg(long, env = "LOUPE_S3_BUCKET", default_value = "loupe")]
    pub s3_bucket: String,

    /// Region to sign requests for.
    #[arg(long, env = "LOUPE_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// Access key id for the external S3 API.
    #[arg(long, env = "LOUPE_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,

    /// Secret access key for the external S3 API.
    #[arg(long, env = "LOUPE_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,

    /// Address buckets as https://host/bucket (MinIO, Garage, most self-hosted S3).
    #[arg(long, env = "LOUPE_S3_PATH_STYLE", default_value_t = false)]
    pub s3_path_style: bool,

    /// How long a presigned upload URL stays valid, in seconds.
    #[arg(long, env = "LOUPE_UPLOAD_URL_TTL_SECS", default_value_t = 900)]
    pub upload_url_ttl_secs: u64,

    /// Largest accepted upload, in bytes. The default is S3's limit for a
    /// single PUT (uploads are one presigned PUT).
    #[arg(long, env = "LOUPE_MAX_UPLOAD_BYTES", default_value_t = 5 * 1024 * 1024 * 1024)]
    pub max_upload_bytes: u64,

    /// Longest CSV record or JSON line the profiler accepts, in bytes; longer
    /// ones are counted as malformed and skipped.
    #[arg(long, env = "LOUPE_MAX_LINE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_line_bytes: usize,

    /// Largest decompressed size of a gzip upload, in bytes; past it the job
    /// fails (a guard against gzip bombs).
    #[arg(long, env = "LOUPE_MAX_DECOMPRESSED_BYTES", default_value_t = 64 * 1024 * 1024 * 1024)]
    pub max_decompressed_bytes: u64,

    /// Below this many free bytes on the data directory's disk (SQLite, the
    /// embedded store), /readyz answers 503.
    #[arg(long, env = "LOUPE_MIN_FREE_DISK_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub min_free_disk_bytes: u64,

    /// Largest accepted body of a POST /graphql, in bytes (413 past it).
    #[arg(long, env = "LOUPE_MAX_REQUEST_BYTES", default_value_t = 256 * 1024)]
    pub max_request_bytes: usize,

    /// Most operations in one batched POST /graphql (a JSON array).
    #[arg(long, env = "LOUPE_MAX_BATCH_OPERATIONS", default_value_t = 10)]
    pub max_batch_operations: usize,

    /// Most websockets open at once on this instance; more are refused (503)
    /// until some close. Each costs about 22 KiB idle.
    #[arg(long, env = "LOUPE_MAX_WEBSOCKETS", default_value_t = 10_000)]
    pub max_websockets: usize,

    /// Most subscriptions open at once on one websocket.
    #[arg(long, env = "LOUPE_MAX_SUBSCRIPTIONS_PER_CONNECTION", default_value_t = 100)]
    pub max_subscriptions_per_connection: usize,

    /// Seconds a new websocket may take to send `connection_init`; past it
    /// the socket is closed with 4408.
    #[arg(long, env = "LOUPE_WS_INIT_TIMEOUT_SECS", default_value_t = 10)]
    pub ws_init_timeout_secs: u64,

    /// Jobs this instance runs at once; 0 serves the API without a worker.
    #[arg(long, env = "LOUPE_WORKER_CONCURRENCY", default_value_t = 2)]
    pub worker_concurrency: usize,

    /// Threads that serve requests and sockets (the async runtime's).
    /// Unset: half the cores, at least one (see [`Config::runtime_threads`]).
    #[arg(long, env = "LOUPE_RUNTIME_THREADS")]
    pub runtime_threads: Option<NonZeroUsize>,

    /// How long a worker's claim on a job lasts without a heartbeat, in
    /// seconds; a crashed worker's job is taken over after this.
    #[arg(long, env = "LOUPE_JOB_LEASE_SECS", default_value_t = 30)]
    pub job_lease_secs: u64,

    /// Attempts at a job before it is failed.
    #[arg(long, env = "LOUPE_JOB_MAX_ATTEMPTS", default_value_t = 3)]
    pub job_max_attempts: u32,

    /// Wait before the second attempt of a job whose storage failed, in
    /// milliseconds; each further attempt waits twice as long (plus up to
    /// 50% jitter, at most an hour). With 3 attempts the default outlasts a
    /// 45-second outage.
    #[arg(long, env = "LOUPE_JOB_RETRY_DELAY_MS", default_value_t = 15_000)]
    pub job_retry_delay_ms: u64,

    /// How long after its URL expired an upload that was never confirmed is
    /// removed (row and object), in seconds.
    #[arg(long, env = "LOUPE_UPLOAD_GRACE_SECS", default_value_t = 3600)]
    pub upload_grace_secs: u64,

    /// Remove uploads (file, job and result) this many days after their job
    /// ended. Unset: keep them until the user deletes them.
    #[arg(long, env = "LOUPE_RETENTION_DAYS")]
    pub retention_days: Option<u32>,

    /// How often abandoned and expired uploads are looked for, in seconds.
    #[arg(long, env = "LOUPE_SWEEP_INTERVAL_SECS", default_value_t = 300)]
    pub sweep_interval_secs: u64,

    /// On SIGTERM or Ctrl-C, how long running jobs may take to finish, in
    /// seconds; those still running then go back to the queue (the attempt
    /// not counted) for another instance.
    #[arg(long, env = "LOUPE_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,

    /// How often an idle worker looks for jobs it was not woken for (other
    /// instances' jobs, expired leases), in milliseconds.
    #[arg(long, env = "LOUPE_JOB_POLL_MS", default_value_t = 2000)]
    pub job_poll_ms: u64,

    /// With no sign-in provider configured, serve every request as the one
    /// local user even on a non-loopback address: anyone who can reach the
    /// server can read and delete every file. For a trusted network only.
    #[arg(long, env = "LOUPE_INSECURE_SINGLE_USER", default_value_t = false)]
    pub insecure_single_user: bool,

    /// A session ends after this many seconds without a request.
    #[arg(long, env = "LOUPE_SESSION_IDLE_SECS", default_value_t = 7 * 86_400)]
    pub session_idle_secs: u64,

    /// A session ends this many seconds after sign-in, however active.
    #[arg(long, env = "LOUPE_SESSION_MAX_SECS", default_value_t = 30 * 86_400)]
    pub session_max_secs: u64,

    /// How often an open websocket checks that its session or token still
    /// holds, in seconds: the longest a revocation on another instance (or an
    /// expiry) takes to close it. Revocations on the same instance close it
    /// at once.
    #[arg(long, env = "LOUPE_AUTH_RECHECK_SECS", default_value_t = 30)]
    pub auth_recheck_secs: u64,

    /// Bearer token that `GET /metrics` (Prometheus) requires, at least 16
    /// characters. Unset: /metrics answers 404, since its figures (jobs,
    /// requests, connections) tell anyone who can reach it how Loupe is used.
    #[arg(long, env = "LOUPE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Log lines as `text` (for people) or `json` (one object per line, for
    /// log collectors); either way every line of a request carries its
    /// `request_id` and every line of a job's run its `job_id`.
    #[arg(long, env = "LOUPE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Sign-in providers, from `LOUPE_OIDC_*` and `LOUPE_GITHUB_*` (see
    /// [`Providers::from_env`]); there are any number of them, which flags
    /// cannot express.
    #[arg(skip)]
    pub providers: Vec<ProviderConfig>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// One configured sign-in provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderConfig {
    /// Lower case; names the provider in `/auth/login/<name>` and `/auth/callback/<name>`.
    pub name: String,
    pub kind: ProviderKind,
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenID Connect, discovered from the issuer URL.
    Oidc {
        issuer: String,
    },
    GitHub,
}

/// Reads the sign-in providers from environment variables.
pub struct Providers;

impl Providers {
    /// `LOUPE_OIDC_<NAME>_ISSUER`/`_CLIENT_ID`/`_CLIENT_SECRET` per OpenID
    /// Connect provider, `LOUPE_GITHUB_CLIENT_ID`/`_CLIENT_SECRET` for
    /// GitHub. A provider with a missing part is an error, not silently
    /// left out.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Vec<ProviderConfig>, String> {
        let vars: std::collections::BTreeMap<String, String> = vars.into_iter().collect();
        let get = |name: &str| vars.get(name).filter(|v| !v.is_empty()).cloned();
        let mut providers = Vec::new();
        let oidc_names: std::collections::BTreeSet<&str> = vars
            .keys()
            .filter_map(|key| key.strip_prefix("LOUPE_OIDC_"))
            .filter_map(|rest| {
                ["_ISSUER", "_CLIENT_ID", "_CLIENT_SECRET"].iter().find_map(|suffix| rest.strip_suffix(suffix))
            })
            .collect();
        for upper in oidc_names {
            let name = upper.to_ascii_lowercase();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                return Err(format!("LOUPE_OIDC_{upper}_…: a provider's name is letters, digits, - and _"));
            }
            let part = |suffix: &str| {
                get(&format!("LOUPE_OIDC_{upper}_{suffix}"))
                    .ok_or_else(|| format!("LOUPE_OIDC_{upper}_{suffix} is missing (provider {name:?})"))
            };
            let (issuer, client_id, client_secret) = (part("ISSUER")?, part("CLIENT_ID")?, part("CLIENT_SECRET")?);
            providers.push(ProviderConfig { name, kind: ProviderKind::Oidc { issuer }, client_id, client_secret });
        }
        match (get("LOUPE_GITHUB_CLIENT_ID"), get("LOUPE_GITHUB_CLIENT_SECRET")) {
            (Some(client_id), Some(client_secret)) => {
                if providers.iter().any(|p| p.name == "github") {
                    return Err("LOUPE_OIDC_GITHUB_… and LOUPE_GITHUB_… both name a provider \"github\"".into());
                }
                providers.push(ProviderConfig {
                    name: "github".into(),
                    kind: ProviderKind::GitHub,
                    client_id,
                    client_secret,
                })
            }
            (None, None) => {}
            _ => return Err("GitHub sign-in needs both LOUPE_GITHUB_CLIENT_ID and LOUPE_GITHUB_CLIENT_SECRET".into()),
        }
        Ok(providers)
    }
}

impl Config {
    /// Parses a configuration from explicit arguments, ignoring the
    /// environment's own command line; used by tests and embedders.
    pub fn from_args<I, T>(args: I) -> Result<Config, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::try_parse_from(std::iter::once("loupe".into()).chain(args.into_iter().map(Into::into)))
            .map(|cli| cli.config)
    }

    /// Half the cores by default, not one thread per core as tokio would:
    /// a request's own work is short, and what holds a core for long
    /// (profiling a file, an object's fsyncs, SQLite's checkpoints) runs on
    /// threads of its own, which then have the other cores. With a thread
    /// per core, threads that find no work park and are woken again all the
    /// time: on 2 cores, 16 clients walking small-file journeys cost the
    /// server 7% more CPU per journey that way, and doubled p99 latency.
    pub fn runtime_threads(&self) -> usize {
        self.runtime_threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |cores| (cores.get() / 2).max(1)),
            NonZeroUsize::get,
        )
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => self.data_dir.join("loupe.sqlite3").to_string_lossy().into_owned(),
        }
    }

    pub fn upload_url_ttl(&self) -> Duration {
        Duration::from_secs(self.upload_url_ttl_secs)
    }

    pub fn job_lease(&self) -> Duration {
        Duration::from_secs(self.job_lease_secs.max(1))
    }

    pub fn job_retry_delay(&self) -> Duration {
        Duration::from_millis(self.job_retry_delay_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    pub fn upload_grace(&self) -> Duration {
        Duration::from_secs(self.upload_grace_secs)
    }

    pub fn retention(&self) -> Option<Duration> {
        self.retention_days.map(|days| Duration::from_secs(u64::from(days) * 86_400))
    }

    pub fn sweep_interval(&self) -> Duration {
        Duration::from_secs(self.sweep_interval_secs.max(1))
    }

    pub fn session_idle(&self) -> Duration {
        Duration::from_secs(self.session_idle_secs)
    }

    pub fn session_max(&self) -> Duration {
        Duration::from_secs(self.session_max_secs)
    }

    pub fn auth_recheck(&self) -> Duration {
        Duration::from_secs(self.auth_recheck_secs.max(1))
    }

    /// Whether requests act as the one local user: no provider is configured.
    /// [`Config::validate`] allows that only on loopback, unless forced.
    pub fn single_user(&self) -> bool {
        self.providers.is_empty()
    }

    pub fn job_poll_interval(&self) -> Duration {
        Duration::from_millis(self.job_poll_ms.max(10))
    }

    /// Checks what clap cannot: combinations, and values that would make a
    /// broken server rather than an error at start.
    pub fn validate(&self) -> Result<(), String> {
        if self.s3_endpoint.is_some() && (self.s3_access_key_id.is_none() || self.s3_secret_access_key.is_none()) {
            return Err("LOUPE_S3_ENDPOINT needs LOUPE_S3_ACCESS_KEY_ID and LOUPE_S3_SECRET_ACCESS_KEY".into());
        }
        if ["graphql", "auth", "healthz", "readyz", "metrics", "assets"].contains(&self.s3_bucket.as_str()) {
            return Err(format!("bucket name {:?} is reserved for one of Loupe's own routes", self.s3_bucket));
        }
        if !(1..=604_800).contains(&self.upload_url_ttl_secs) {
            return Err("LOUPE_UPLOAD_URL_TTL_SECS must be between 1 and 604800 (7 days, S3's limit)".into());
        }
        if self.job_max_attempts == 0 {
            return Err("LOUPE_JOB_MAX_ATTEMPTS must be at least 1".into());
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!("LOUPE_PUBLIC_URL {url:?} must start with http:// or https://"));
        }
        let at_least_one = [
            ("LOUPE_MAX_REQUEST_BYTES", self.max_request_bytes as u64),
            ("LOUPE_MAX_BATCH_OPERATIONS", self.max_batch_operations as u64),
            ("LOUPE_MAX_WEBSOCKETS", self.max_websockets as u64),
            ("LOUPE_MAX_SUBSCRIPTIONS_PER_CONNECTION", self.max_subscriptions_per_connection as u64),
            ("LOUPE_WS_INIT_TIMEOUT_SECS", self.ws_init_timeout_secs),
        ];
        if let Some((name, _)) = at_least_one.iter().find(|(_, value)| *value == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        if self.single_user() && !self.listen.ip().is_loopback() && !self.insecure_single_user {
            return Err(format!(
                "Loupe listens on {}, beyond this machine, and no sign-in provider is configured, so anyone \
                 who reaches it would act as one user with every file. Configure a provider \
                 (LOUPE_OIDC_<NAME>_ISSUER, _CLIENT_ID and _CLIENT_SECRET, or LOUPE_GITHUB_CLIENT_ID and \
                 _CLIENT_SECRET), listen on 127.0.0.1, or pass --insecure-single-user on a trusted network",
                self.listen
            ));
        }
        if self.metrics_token.as_ref().is_some_and(|token| token.len() < 16) {
            return Err("LOUPE_METRICS_TOKEN must be at least 16 characters (it guards /metrics)".into());
        }
        if self.session_idle_secs == 0 || self.session_max_secs == 0 {
            return Err("LOUPE_SESSION_IDLE_SECS and LOUPE_SESSION_MAX_SECS must be at least 1".into());
        }
        // 0 would remove every result the moment its job ends.
        if self.retention_days == Some(0) {
            return Err("LOUPE_RETENTION_DAYS must be at least 1 (unset it to keep uploads)".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, ProviderKind, Providers};

    #[test]
    fn limits_that_would_refuse_everything_are_refused() {
        assert!(Config::from_args(Vec::<String>::new()).unwrap().validate().is_ok());
        for (flag, value) in [
            ("--max-batch-operations", "0"),
            ("--max-websockets", "0"),
            ("--ws-init-timeout-secs", "0"),
            ("--retention-days", "0"),
        ] {
            let config = Config::from_args([flag, value]).unwrap();
            assert!(config.validate().is_err(), "{flag} {value}");
        }
        assert!(Config::from_args(["--retention-days", "1"]).unwrap().validate().is_ok());
    }

    #[test]
    fn single_user_only_on_loopback_unless_forced() {
        assert!(Config::from_args(["--listen", "127.0.0.1:9"]).unwrap().validate().is_ok());
        assert!(Config::from_args(["--listen", "[::1]:9"]).unwrap().validate().is_ok());
        let open = Config::from_args(["--listen", "0.0.0.0:9"]).unwrap();
        assert!(open.validate().unwrap_err().contains("LOUPE_OIDC_<NAME>_ISSUER"));
        assert!(Config::from_args(["--listen", "0.0.0.0:9", "--insecure-single-user"]).unwrap().validate().is_ok());
        let mut with_provider = open;
        with_provider.providers =
            Providers::from_env(vars(&[("LOUPE_GITHUB_CLIENT_ID", "i"), ("LOUPE_GITHUB_CLIENT_SECRET", "s")])).unwrap();
        assert!(with_provider.validate().is_ok());
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn providers_from_the_environment() {
        let providers = Providers::from_env(vars(&[
            ("LOUPE_OIDC_CORP_SSO_ISSUER", "https://sso.example.com"),
            ("LOUPE_OIDC_CORP_SSO_CLIENT_ID", "loupe"),
            ("LOUPE_OIDC_CORP_SSO_CLIENT_SECRET", "s3cret"),
            ("LOUPE_GITHUB_CLIENT_ID", "gh"),
            ("LOUPE_GITHUB_CLIENT_SECRET", "gh-secret"),
            ("PATH", "/bin"),
        ]))
        .unwrap();
        assert_eq!(providers.len(), 2);
        assert_eq!(providers[0].name, "corp_sso");
        assert_eq!(providers[0].kind, ProviderKind::Oidc { issuer: "https://sso.example.com".into() });
        assert_eq!(providers[1].name, "github");
        let missing = Providers::from_env(vars(&[("LOUPE_OIDC_X_ISSUER", "https://x")])).unwrap_err();
        assert!(missing.contains("LOUPE_OIDC_X_CLIENT_ID"), "{missing}");
        assert!(Providers::from_env(vars(&[("LOUPE_GITHUB_CLIENT_ID", "gh")])).is_err());
    }
}
