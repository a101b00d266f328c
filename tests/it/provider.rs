//! A real OpenID Connect provider for sign-in tests: `tests/oidc/provider.mjs`
//! (the `oidc-provider` package) run with Node on a loopback port, and a
//! stand-in browser (cookie jar, redirects followed one by one) that signs
//! in through its login and consent pages.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use loupe::config::{ProviderConfig, ProviderKind};
use reqwest::redirect::Policy;

pub const CLIENT_ID: &str = "loupe-test";

/// One `npm ci` at a time, and only when the lockfile is newer than the install.
static INSTALL: Mutex<()> = Mutex::new(());

fn ensure_installed() {
    let _once = INSTALL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let installed = modified(&dir.join("node_modules/.package-lock.json"));
    if installed.is_some() && installed >= modified(&dir.join("package-lock.json")) {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm runs (Node.js 20.19+ is needed for the sign-in tests)");
    assert!(status.success(), "npm ci in tests/oidc failed");
}

/// The running provider; stopped when dropped.
pub struct TestProvider {
    pub issuer: String,
    pub client_secret: String,
    child: Child,
}

impl TestProvider {
    pub fn start() -> TestProvider {
        ensure_installed();
        let client_secret = format!("client-secret-{}", uuid::Uuid::new_v4().simple());
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc"))
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", &client_secret)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts the test provider");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).expect("the provider says where it listens");
        // Its development pages print to stdout; a closed pipe would kill it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let started: serde_json::Value = serde_json::from_str(&line).expect("the provider's first line is JSON");
        TestProvider { issuer: started["issuer"].as_str().unwrap().to_owned(), client_secret, child }
    }

    /// The provider as Loupe's configuration names it (`test`).
    pub fn config(&self) -> ProviderConfig {
        ProviderConfig {
            name: "test".into(),
            kind: ProviderKind::Oidc { issuer: self.issuer.clone() },
            client_id: CLIENT_ID.into(),
            client_secret: self.client_secret.clone(),
        }
    }

    /// Makes the provider's next ID token `wrong-audience`, `expired` or `wrong-key`.
    pub async fn tamper(&self, mode: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/__test/tamper", self.issuer))
            .query(&[("mode", mode)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser stand-in: keeps cookies, follows redirects one at a time.
pub struct Browser {
    pub http: reqwest::Client,
}

impl Browser {
    pub fn new() -> Browser {
        let http = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        Browser { http }
    }

    /// Starts signing in at Loupe (`app_url`) and returns the provider's
    /// authorization URL Loupe redirected to.
    pub async fn start_sign_in(&self, app_url: &str, return_to: &str) -> String {
        let response = self
            .http
            .get(format!("{app_url}/auth/login/test"))
            .query(&[("return_to", return_to)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "login redirects to the provider");
        location(&response, app_url)
    }

    /// Goes through the provider's login and consent pages as `login`
    /// from its authorization URL; returns the callback URL on Loupe the
    /// provider redirected to (not yet visited).
    pub async fn through_provider(&self, authorization_url: &str, login: &str) -> String {
        let mut url = authorization_url.to_owned();
        loop {
            let response = self.http.get(&url).send().await.unwrap();
            if response.status().is_redirection() {
                url = location(&response, &url);
                if url.contains("/auth/callback/") {
                    return url;
                }
                continue;
            }
            assert_eq!(response.status(), 200, "the provider shows a page at {url}");
            let page = response.text().await.unwrap();
            let action = page.split("action=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("a form");
            let action = absolute(action, &url);
            let form: Vec<(&str, &str)> = if page.contains("name=\"login\"") {
                vec![("prompt", "login"), ("login", login), ("password", "any password")]
            } else {
                assert!(page.contains("value=\"consent\""), "a login or consent page: {page}");
                vec![("prompt", "consent")]
            };
            let submitted = self.http.post(&action).form(&form).send().await.unwrap();
            assert!(submitted.status().is_redirection(), "{} after submitting {action}", submitted.status());
            url = location(&submitted, &action);
        }
    }

    /// Visits Loupe's callback URL.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }
}

/// The `Location` of a redirect, made absolute against `base`.
pub fn location(response: &reqwest::Response, base: &str) -> String {
    let location = response.headers()["location"].to_str().unwrap();
    absolute(location, base)
}

fn absolute(url: &str, base: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        return url.to_owned();
    }
    let origin: String = base.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    format!("{origin}{url}")
}

/// The session cookie (`name=secret`) a callback response set.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("loupe-session=") && !value.starts_with("loupe-session=;"))
        .map(|value| value.split(';').next().unwrap().to_owned())
}
