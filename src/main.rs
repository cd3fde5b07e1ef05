//! The `splicepoint` binary: `serve` (the proxy over a config directory) and `demo`
//! (the proxy plus a built-in origin and ad server on embedded defaults).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use splicepoint::demo::{Demo, DemoOptions};
use splicepoint::server::{router, shutdown, AppState};

#[derive(Parser)]
#[command(
    name = "splicepoint",
    version,
    about = "Server-side ad insertion manifest proxy"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the playback configurations in a directory.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, default_value = "./ad-templates")]
        config_dir: PathBuf,
        /// Share sessions through Redis (`redis://host:port/db`), so that several
        /// instances serve the same sessions; default: `SPLICEPOINT_REDIS_URL`, else
        /// sessions live in this process's memory.
        #[arg(long)]
        redis: Option<String>,
        /// On SIGTERM: seconds unready (`/readyz` 503) but serving, before the
        /// listener closes.
        #[arg(long, default_value_t = 5.0)]
        drain_secs: f64,
        /// Then: longest wait, seconds, for the requests in flight.
        #[arg(long, default_value_t = 20.0)]
        grace_secs: f64,
    },
    /// Run the proxy with a built-in demo origin and ad server.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seconds between live ad breaks.
        #[arg(long, default_value_t = 60)]
        break_every: u64,
        /// The demo's own URL as others reach it (its channels, VAST and printed
        /// URLs use it); default: `http://` + the listen address.
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Decode SCTE-35 cues and list the ad breaks of a manifest.
    Inspect {
        #[command(subcommand)]
        what: splicepoint::inspect::InspectCommand,
    },
    /// Check a playlist or MPD and its renditions against the HLS and MPD rules
    /// (exit status 1 when a problem is found).
    Validate(splicepoint::validate::ValidateArgs),
    /// Transcode a creative like a content's renditions (HLS + DASH into a folder).
    Transcode {
        /// The creative: a file or an http(s) URL.
        #[arg(long)]
        creative: String,
        /// The content's multivariant playlist URL.
        #[arg(long)]
        like: String,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Loudness target, LKFS.
        #[arg(long, default_value_t = -24.0, allow_negative_numbers = true)]
        loudness_lkfs: f64,
        /// Keep the creative's loudness.
        #[arg(long)]
        no_loudness: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SPLICEPOINT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let (listener, app, timings, limits) = match Cli::parse().command {
        Command::Inspect { what } => {
            let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
            return Ok(splicepoint::inspect::run(what, &mut out, &mut err).await?);
        }
        Command::Validate(args) => {
            let clean = splicepoint::validate::run(args, &mut std::io::stdout().lock()).await?;
            if !clean {
                std::process::exit(1);
            }
            return Ok(());
        }
        Command::Transcode {
            creative,
            like,
            out,
            loudness_lkfs,
            no_loudness,
        } => {
            let loudness = (!no_loudness).then_some(loudness_lkfs);
            let report = splicepoint::transcode::run_cli(&creative, &like, &out, loudness)
                .await
                .map_err(|e| anyhow::anyhow!("transcode failed: {e}"))?;
            write!(std::io::stdout().lock(), "{report}")?;
            return Ok(());
        }
        Command::Serve {
            listen,
            config_dir,
            redis,
            drain_secs,
            grace_secs,
        } => {
            let timings = shutdown::Timings {
                drain: Duration::try_from_secs_f64(drain_secs).context("--drain-secs")?,
                grace: Duration::try_from_secs_f64(grace_secs).context("--grace-secs")?,
            };
            let limits = splicepoint::config::Limits::from_env()?;
            let channels = splicepoint::config::load_dir(&config_dir)?;
            tracing::info!(count = channels.len(), dir = %config_dir.display(), "Configurations loaded.");
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("bind {listen}"))?;
            let redis = redis.or_else(|| {
                std::env::var("SPLICEPOINT_REDIS_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
            });
            let mut state = match redis {
                Some(url) => {
                    let shown = redacted(&url);
                    let store = splicepoint::session::RedisStore::connect(
                        &url,
                        splicepoint::session::redis_store::DEFAULT_PREFIX,
                    )
                    .await
                    .with_context(|| format!("session store {shown}"))?;
                    tracing::info!(url = %shown, "Sessions shared through Redis.");
                    AppState::with_limits(Arc::new(channels), Some(Arc::new(store)), limits.clone())
                }
                None => AppState::with_limits(Arc::new(channels), None, limits.clone()),
            };
            state.config_dir = Some(config_dir.clone());
            state.admin_token = std::env::var(splicepoint::server::admin::ENV_ADMIN_TOKEN)
                .ok()
                .filter(|t| !t.is_empty())
                .map(Into::into);
            splicepoint::server::admin::spawn_reloader(state.clone(), config_dir);
            let public = format!("http://{}", listener.local_addr()?);
            state.transcoder.set_default_public_url(&public);
            (listener, router(state), timings, limits)
        }
        Command::Demo {
            listen,
            break_every,
            public_url,
        } => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("bind {listen}"))?;
            let base = match public_url {
                Some(u) => u.trim_end_matches('/').to_string(),
                None => format!("http://{}", listener.local_addr()?),
            };
            let options = DemoOptions {
                break_every,
                ..DemoOptions::default()
            };
            let demo = Arc::new(Demo::load(&options, &base)?);
            let channels = demo
                .channels()?
                .into_iter()
                .map(|c| (c.name.clone(), Arc::new(c)))
                .collect();
            let mut out = std::io::stdout().lock();
            for (name, url) in demo.streams() {
                writeln!(out, "{name} {url}")?;
            }
            out.flush()?;
            let limits = splicepoint::config::Limits::from_env()?;
            let state = AppState::with_limits(Arc::new(channels), None, limits.clone());
            state.transcoder.set_default_public_url(&base);
            let timings = shutdown::Timings {
                drain: Duration::ZERO,
                grace: Duration::from_secs(5),
            };
            (
                listener,
                router(state).merge(demo.router()),
                timings,
                limits,
            )
        }
    };
    tracing::info!(addr = %listener.local_addr()?, "Listening.");
    let drain = shutdown::Drain::default();
    let app = drain.layer(app);
    let conn = shutdown::ConnLimits::from_limits(&limits);
    shutdown::serve_with(
        listener,
        app,
        drain,
        timings,
        conn,
        shutdown::terminate_signal(),
    )
    .await?;
    Ok(())
}

/// A store URL without its password, for logs.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(unparsable URL)".into(),
    }
}
