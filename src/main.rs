use std::io::Read;
use std::path::Path;

use anyhow::Context;
use clap::Parser;
use loupe::config::{Cli, Command, Config, LogFormat, Providers};
use loupe::profile::{Format, ProfileOptions, Profiler, TableProfile};
use tracing_subscriber::EnvFilter;

/// jemalloc rather than the system's: see its entry in Cargo.toml.
#[cfg(unix)]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,s3s=warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match cli.config.log_format {
        LogFormat::Text => logs.init(),
        // One object per line; its spans (request, job) carry the ids.
        LogFormat::Json => logs.json().with_current_span(false).with_span_list(true).init(),
    }
    cli.config.providers = Providers::from_env(std::env::vars()).map_err(anyhow::Error::msg)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            runtime(&cli.config)?.block_on(async { loupe::app::start(cli.config).await?.run_until_signal().await })
        }
        Command::Migrate => runtime(&cli.config)?.block_on(async {
            loupe::app::open_database(&cli.config).await?;
            Ok(())
        }),
        Command::Profile { path, format, delimiter, threads, compact } => {
            let profile = profile_file(&path, format.as_deref(), delimiter.as_deref(), threads)?;
            let stdout = std::io::stdout().lock();
            if compact {
                serde_json::to_writer(stdout, &profile)?;
            } else {
                serde_json::to_writer_pretty(stdout, &profile)?;
            }
            println!();
            Ok(())
        }
    }
}

/// The async runtime the server runs on; `loupe profile` needs none.
fn runtime(config: &Config) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(config.runtime_threads()).enable_all().build()
}

/// Streams a local file through the profiler, as the worker does with an object.
fn profile_file(
    path: &Path,
    format: Option<&str>,
    delimiter: Option<&str>,
    threads: usize,
) -> anyhow::Result<TableProfile> {
    let options = ProfileOptions {
        format: format.map(|f| match f {
            "tsv" => Format::Tsv,
            "json-lines" => Format::JsonLines,
            _ => Format::Csv,
        }),
        delimiter: match delimiter {
            Some("\\t") => Some(b'\t'),
            Some(d) if d.len() == 1 => d.bytes().next(),
            Some(d) => anyhow::bail!("--delimiter {d:?} must be one character"),
            None => None,
        },
        filename: Some(path.to_string_lossy().into_owned()),
        threads,
        ..ProfileOptions::default()
    };
    let mut file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut profiler = Profiler::new(options);
    let mut buffer = vec![0; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        profiler.feed(&buffer[..n])?;
    }
    Ok(profiler.finish()?)
}
