//! Builds the web app in `web/` (TypeScript, Vite) and embeds it in the
//! binary, so the release binary alone serves it. Writes
//! `$OUT_DIR/web_assets.rs`: the table `src/http/web.rs` serves from, one
//! row per built file with its bytes and, where gzip makes it smaller, a
//! copy compressed here once rather than on every request. Without the
//! default `web` feature the table is empty and no Node.js is needed.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hasher};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

/// What the Vite build reads. Watching `web/` as a whole would rerun this
/// script on every change to node_modules, test output or screenshots.
const SOURCES: [&str; 7] =
    ["src", "public", "index.html", "graphiql.html", "package.json", "package-lock.json", "vite.config.ts"];

/// Types stored compressed already; gzip would only cost time.
const INCOMPRESSIBLE: [&str; 10] = ["png", "jpg", "jpeg", "gif", "webp", "avif", "woff", "woff2", "gz", "br"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let table = out_dir.join("web_assets.rs");
    if std::env::var_os("CARGO_FEATURE_WEB").is_none() {
        write(&table, "[]");
        return;
    }
    let web = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("web");
    watch_sources(&web);
    if !web.join("package.json").is_file() {
        fail(&format!(
            "{} has no package.json: the web app's sources are missing.\n\
             Build the API only with `cargo build --no-default-features`.",
            web.display()
        ));
    }

    let dist = out_dir.join("web-dist");
    {
        // `cargo test` and `cargo build --release` may run this script at
        // once, and `npm ci` deletes node_modules while it works.
        let lock = File::create(web.join(".build.lock")).unwrap_or_else(|e| fail(&format!("web/.build.lock: {e}")));
        lock.lock().unwrap_or_else(|e| fail(&format!("locking web/.build.lock: {e}")));
        check_node(&web);
        // The installed Vite itself: `npx` would look a missing one up online.
        let vite = web.join("node_modules/.bin/vite");
        if !dependencies_current(&web) || !vite.is_file() {
            run(&web, Path::new("npm"), &["ci", "--no-audit", "--no-fund"]);
        }
        let dist_arg = dist.to_str().unwrap_or_else(|| fail("OUT_DIR is not valid UTF-8"));
        let built = run(&web, &vite, &["build", "--outDir", dist_arg, "--emptyOutDir"]);
        // Cargo hides a build script's output; the bundle budget is worth
        // seeing whenever the app is rebuilt.
        for line in String::from_utf8_lossy(&built.stdout).lines().filter(|l| l.starts_with("initial JS of")) {
            println!("cargo:warning=web app: {line}");
        }
    }
    if !dist.join("index.html").is_file() {
        fail(&format!("the web build wrote no index.html to {}", dist.display()));
    }
    write(&table, &asset_table(&dist, &out_dir.join("web-gzip")));
}

fn watch_sources(web: &Path) {
    for source in SOURCES {
        let path = web.join(source);
        // A missing path would rerun this script on every build.
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    if let Ok(entries) = fs::read_dir(web) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("tsconfig") && name.ends_with(".json") {
                println!("cargo:rerun-if-changed={}", entry.path().display());
            }
        }
    }
}

/// node_modules matches package-lock.json when npm's own record of what it
/// installed is at least as new as the lock file.
fn dependencies_current(web: &Path) -> bool {
    let modified = |path: PathBuf| fs::metadata(path).and_then(|m| m.modified()).ok();
    let installed = modified(web.join("node_modules/.package-lock.json"));
    let locked = modified(web.join("package-lock.json")).unwrap_or(SystemTime::UNIX_EPOCH);
    installed.is_some_and(|installed| installed >= locked)
}

const NEEDS_NODE: &str = "The web app needs Node.js 20.19 or later with npm;\n\
                          or build the API only with `cargo build --no-default-features`.";

/// The oldest Node.js Vite 8 runs on.
const MIN_NODE: (u32, u32) = (20, 19);

fn check_node(web: &Path) {
    let output = run(web, Path::new("node"), &["--version"]);
    let version = String::from_utf8_lossy(&output.stdout);
    let mut parts = version.trim().trim_start_matches('v').split('.').map(|part| part.parse::<u32>().ok());
    let found = (parts.next().flatten(), parts.next().flatten());
    if !matches!(found, (Some(major), Some(minor)) if (major, minor) >= MIN_NODE) {
        fail(&format!("found Node.js {}. {NEEDS_NODE}", version.trim()));
    }
}

/// Runs a tool in `web/`; on failure, shows what it said and stops the build.
fn run(web: &Path, program: &Path, args: &[&str]) -> Output {
    let name = program.file_name().unwrap_or_default().to_string_lossy();
    let output = match Command::new(program).args(args).current_dir(web).output() {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => fail(&format!("{name} was not found. {NEEDS_NODE}")),
        Err(e) => fail(&format!("running {name}: {e}")),
    };
    if !output.status.success() {
        report(&output);
        fail(&format!("`{name} {}` in {} failed ({})", args.join(" "), web.display(), output.status));
    }
    output
}

fn report(output: &Output) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(&output.stdout);
    let _ = stderr.write_all(&output.stderr);
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

fn write(path: &Path, contents: &str) {
    fs::write(path, contents).unwrap_or_else(|e| fail(&format!("writing {}: {e}", path.display())));
}

/// The table as a Rust array expression of `Asset`s (see `src/http/web.rs`),
/// sorted by URL path so lookups can binary-search it.
fn asset_table(dist: &Path, gzip_dir: &Path) -> String {
    let mut files = Vec::new();
    collect_files(dist, &mut files);
    let mut rows: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(dist).expect("found under dist");
            let parts: Vec<_> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            (format!("/{}", parts.join("/")), file)
        })
        .collect();
    rows.sort();

    let _ = fs::remove_dir_all(gzip_dir);
    let mut table = String::from("[\n");
    for (url_path, file) in rows {
        let bytes = fs::read(&file).unwrap_or_else(|e| fail(&format!("reading {}: {e}", file.display())));
        let extension = file.extension().and_then(OsStr::to_str).unwrap_or_default().to_ascii_lowercase();
        let gzip =
            if INCOMPRESSIBLE.contains(&extension.as_str()) { None } else { gzip_copy(&bytes, gzip_dir, &url_path) };
        let mut hasher = DefaultHasher::new();
        hasher.write(&bytes);
        let _ = writeln!(
            table,
            "    Asset {{ path: {url_path:?}, content_type: {:?}, immutable: {}, etag: \"{:016x}\", \
             body: include_bytes!({:?}), gzip: {} }},",
            content_type(&extension),
            url_path.starts_with("/assets/"),
            hasher.finish(),
            file.display().to_string(),
            match gzip {
                Some(path) => format!("Some(include_bytes!({:?}))", path.display().to_string()),
                None => "None".to_owned(),
            },
        );
    }
    table.push(']');
    table
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| fail(&format!("reading {}: {e}", dir.display())));
    for entry in entries {
        let path = entry.unwrap_or_else(|e| fail(&format!("reading {}: {e}", dir.display()))).path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// Writes the gzip form of `bytes` when it is smaller; returns its path.
fn gzip_copy(bytes: &[u8], gzip_dir: &Path, url_path: &str) -> Option<PathBuf> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let compressed = encoder.write_all(bytes).and_then(|()| encoder.finish()).expect("gzip into memory");
    if compressed.len() >= bytes.len() {
        return None;
    }
    let path = gzip_dir.join(format!("{}.gz", url_path.trim_start_matches('/')));
    let parent = path.parent().expect("a file in gzip_dir");
    fs::create_dir_all(parent).unwrap_or_else(|e| fail(&format!("creating {}: {e}", parent.display())));
    fs::write(&path, compressed).unwrap_or_else(|e| fail(&format!("writing {}: {e}", path.display())));
    Some(path)
}

/// The media type browsers need for each kind of file Vite emits.
fn content_type(extension: &str) -> &'static str {
    match extension {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}
