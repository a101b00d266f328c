//! The web app's own checks, run by `cargo test` so one command tests
//! everything: generated GraphQL types are current and every operation
//! matches `schema.graphql`, TypeScript type-checks, the Vitest unit tests
//! pass, and the end-to-end tests drive the real `loupe` binary (with the
//! app embedded) from Debian's headless Chromium.
#![cfg(feature = "web")]

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// One at a time: both suites are CPU-heavy, and the machine has two cores.
static SERIAL: Mutex<()> = Mutex::new(());

fn npm(args: &[&str], envs: &[(&str, &str)]) {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    // Inherited output: cargo's capture does not reach a child process, so
    // the suites' own reports (and the e2e timings) show in every run.
    let status = Command::new("npm")
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(&web)
        .status()
        .expect("npm runs (Node.js 20+ is needed to build and test the web app)");
    assert!(status.success(), "`npm {}` in web/ failed: {status}", args.join(" "));
}

#[test]
fn web_types_and_unit_tests() {
    npm(&["run", "--silent", "check"], &[]);
}

#[test]
fn web_end_to_end_in_chromium() {
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the end-to-end tests need Debian's Chromium at {chromium} (`apt-get install chromium`; .ci/run installs it)"
    );
    npm(&["run", "--silent", "e2e"], &[("LOUPE_BIN", env!("CARGO_BIN_EXE_loupe")), ("CHROMIUM_PATH", &chromium)]);
}
