//! Ad transcoding: any creative made to match the content's renditions, stored,
//! and ready at decision time when possible.
//!
//! I/O. An ad whose VAST offers no HLS or DASH rendition is turned, by ffmpeg run
//! as a child process, into the content's ladder ([`profile`]): HLS (TS or fMP4,
//! like the content) under a multivariant playlist whose variants carry the
//! content's `BANDWIDTH`/`RESOLUTION`/`CODECS`, so variant selection finds each
//! content variant's twin, and DASH (CMAF) under an MPD. Outputs go to the segment
//! store ([`store`]) and are served by splicepoint under [`AD_PATH`].
//!
//! The decision for a (session, break) is made once, so whether a transcoded ad
//! plays is settled then ([`Transcoder::prepare`]): stored → its URLs; otherwise a
//! job is started (one per creative and profile however many sessions ask) and the
//! ad is skipped with a reason, unless the channel waits for it
//! ([`FirstSighting`](crate::config::FirstSighting)). Jobs run in a bounded pool;
//! the fast path (remux when the source already matches a rendition) runs beside
//! it and is published first. Failures are remembered for a while and not retried
//! in a loop.
//!
//! - [`ffmpeg`]: running ffmpeg/ffprobe with a deadline.
//! - [`probe`]: what a file holds; loudness.
//! - [`profile`]: the target profile from the content.
//! - [`dash_profile`]: the same from a content MPD.
//! - [`plan`]: pure decisions and ffmpeg command lines.
//! - [`job`]: one job end to end.
//! - [`store`]: the segment store.

pub mod dash_profile;
pub mod ffmpeg;
pub mod input;
pub mod job;
pub mod plan;
pub mod probe;
pub mod profile;
pub mod store;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use moka::future::Cache;
use tokio::sync::{watch, Semaphore};
use tracing::{info, warn};

use crate::ads::ResolvedAd;
use crate::config::{Channel, FirstSighting, TranscodeSettings};
use crate::events::Metrics;
use crate::session::Session;
pub use job::{JobSpec, Progress, Tools};
use profile::{ProfileError, TargetProfile};
pub use store::{AdStore, Outputs};

/// Where stored ad renditions are served: `{public url}{AD_PATH}{store key}`.
pub const AD_PATH: &str = "/v1/ads/";
pub use crate::events::TRANSCODE_JOBS;

/// Skip reason: first sighting, not ready.
pub const NEW_CREATIVE: &str = "NEW_CREATIVE";
/// Skip reason: a job for it is running.
pub const TRANSCODE_IN_PROGRESS: &str = "TRANSCODE_IN_PROGRESS";
/// Skip reason: its job failed (recently).
pub const TRANSCODE_FAILED: &str = "TRANSCODE_FAILED";
/// Skip reason: the ad has no file to transcode (no mezzanine, no progressive video).
pub const NO_VARIANT_MATCH: &str = "NO_VARIANT_MATCH";
/// The skip reason of a failed job: [`CREATIVE_REFUSED`] or [`TRANSCODE_FAILED`].
fn failure(reason: &str) -> &'static str {
    if input::is_refusal(reason) {
        CREATIVE_REFUSED
    } else {
        TRANSCODE_FAILED
    }
}

/// The creative is not a media file we accept (an HLS playlist served as
/// `video/mp4`, ...): refused before any tool reads it (see [`input`]).
pub const CREATIVE_REFUSED: &str = "CREATIVE_REFUSED";

/// Bumped when the outputs change for the same inputs (part of the profile hash).
/// 2: the MPD's SegmentTemplates name the `dash/` folder (version 1 MPDs pointed
/// beside it, where no segment is); 3: encoded video has no B-frames.
const OUTPUT_VERSION: u32 = 3;
/// How long a content profile is reused.
const PROFILE_TTL: Duration = Duration::from_secs(600);
/// How long a failure to build a profile is remembered.
const PROFILE_FAILURE_TTL: Duration = Duration::from_secs(30);

/// A creative to transcode: where it is and who it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Creative {
    /// UniversalAdId (`registry:value`), else Creative@id.
    pub identity: Option<String>,
    /// The file: the VAST 4 Mezzanine, else the best progressive video file.
    pub source: String,
}

/// The creative of a resolved ad: mezzanine first, else the video file (progressive
/// first) with the largest picture and bit rate. `None` when there is neither.
pub fn select_creative(ad: &ResolvedAd) -> Option<Creative> {
    let progressive = ad
        .media_files
        .iter()
        .filter(|m| {
            !m.is_hls()
                && !m
                    .url
                    .split(['?', '#'])
                    .next()
                    .unwrap_or("")
                    .ends_with(".mpd")
        })
        .filter(|m| {
            m.mime_type.as_deref().is_none_or(|t| {
                let t = t.to_ascii_lowercase();
                t.starts_with("video/") && !t.contains("mpd")
            })
        })
        .max_by_key(|m| {
            (
                // A file delivered progressively first (a "streaming" MP4 is one too).
                m.delivery
                    .as_deref()
                    .is_none_or(|d| d.eq_ignore_ascii_case("progressive")),
                u64::from(m.width.unwrap_or(0)) * u64::from(m.height.unwrap_or(0)),
                m.bitrate.unwrap_or(0),
            )
        })
        .map(|m| m.url.clone());
    let source = ad.mezzanines.first().cloned().or(progressive)?;
    Some(Creative {
        identity: ad
            .universal_ad_id
            .clone()
            .or_else(|| ad.creative_id.clone())
            .filter(|s| !s.trim().is_empty()),
        source,
    })
}

/// 64-bit FNV-1a, hex: a stable name, not a security measure.
pub fn fnv64(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The store folder name of a creative: its identity made path-safe plus a hash
/// of it, or `u-` and a hash of the media URL when it has none.
pub fn creative_key(c: &Creative) -> String {
    match &c.identity {
        Some(id) => {
            let safe: String = id
                .chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                        ch
                    } else {
                        '_'
                    }
                })
                .take(48)
                .collect();
            format!("{safe}-{}", &fnv64(id.as_bytes())[..8])
        }
        None => format!("u-{}", fnv64(c.source.as_bytes())),
    }
}

/// The profile folder name: a hash of everything that shapes the outputs.
pub fn profile_key(profile: &TargetProfile, loudness: Option<f64>, preset: &str) -> String {
    let canonical = serde_json::json!({
        "v": OUTPUT_VERSION,
        "profile": profile,
        "loudness": loudness,
        "preset": preset,
    });
    fnv64(canonical.to_string().as_bytes())
}

/// The ad's renditions, where a decision may point.
#[derive(Debug, Clone, PartialEq)]
pub struct AdUrls {
    /// HLS multivariant playlist.
    pub hls: String,
    /// DASH MPD.
    pub dash: String,
    /// Only the fast-path renditions so far.
    pub partial: bool,
}

struct Inner {
    settings: TranscodeSettings,
    tools: Tools,
    http: reqwest::Client,
    metrics: Arc<Metrics>,
    store: Result<AdStore, String>,
    public_url: RwLock<Option<String>>,
    light: Semaphore,
    heavy: Semaphore,
    running: Mutex<HashMap<String, watch::Receiver<Progress>>>,
    ready: Cache<String, Arc<Outputs>>,
    failed: Cache<String, Arc<str>>,
    profiles: Cache<String, Arc<TargetProfile>>,
    profile_failures: Cache<String, Arc<ProfileError>>,
    jobs_started: AtomicU64,
    work_root: PathBuf,
}

/// The transcoder: job pool, de-duplication, index of finished outputs. Cheap to
/// clone: clones share everything.
#[derive(Clone)]
pub struct Transcoder {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Transcoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcoder")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl Transcoder {
    /// A transcoder over `settings`. A store that cannot be opened is logged and
    /// makes every job fail (decisions then skip with TRANSCODE_FAILED).
    pub fn new(settings: TranscodeSettings, http: reqwest::Client, metrics: Arc<Metrics>) -> Self {
        let store = AdStore::open(&settings.store).map_err(|e| {
            warn!(error = %e, "Segment store unavailable; ads that need transcoding will be skipped.");
            e.to_string()
        });
        let tools = Tools {
            ffmpeg: settings.ffmpeg.clone(),
            ffprobe: settings.ffprobe.clone(),
            preset: settings.preset.clone(),
            max_source_bytes: settings.max_source_bytes,
        };
        let work_root = std::env::temp_dir().join(format!(
            "splicepoint-transcode-{}-{}",
            std::process::id(),
            fnv64(format!("{:?}", Instant::now()).as_bytes())
        ));
        Self {
            inner: Arc::new(Inner {
                public_url: RwLock::new(settings.public_url.clone()),
                light: Semaphore::new(settings.fast_concurrency),
                heavy: Semaphore::new(settings.concurrency),
                running: Mutex::new(HashMap::new()),
                ready: Cache::builder().max_capacity(100_000).build(),
                failed: Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(settings.failure_ttl)
                    .build(),
                profiles: Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(PROFILE_TTL)
                    .build(),
                profile_failures: Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(PROFILE_FAILURE_TTL)
                    .build(),
                jobs_started: AtomicU64::new(0),
                work_root,
                tools,
                http,
                metrics,
                store,
                settings,
            }),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &TranscodeSettings {
        &self.inner.settings
    }

    /// The segment store, if it opened.
    pub fn store(&self) -> Option<&AdStore> {
        self.inner.store.as_ref().ok()
    }

    /// Set the URL under which this instance (or its load balancer) serves
    /// [`AD_PATH`], unless configured.
    pub fn set_default_public_url(&self, url: &str) {
        let mut p = self
            .inner
            .public_url
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if p.is_none() {
            *p = Some(url.trim_end_matches('/').to_string());
        }
    }

    /// The URL under which [`AD_PATH`] is served.
    pub fn public_url(&self) -> Option<String> {
        self.inner
            .public_url
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Jobs started since boot.
    pub fn jobs_started(&self) -> u64 {
        self.inner.jobs_started.load(Ordering::Relaxed)
    }

    /// The ad's stored renditions for this channel and session, or why it must be
    /// skipped for now (a reason of `events::ADS_SKIPPED`). Starts the job when
    /// needed and waits for it as the channel's first-sighting policy says.
    pub async fn prepare(
        &self,
        channel: &Channel,
        session: &Session,
        creative: &Creative,
    ) -> Result<AdUrls, &'static str> {
        if !channel.raw.transcode {
            return Err(NEW_CREATIVE);
        }
        // Without a public URL or a target profile no job can start: the creative
        // stays new (NEW_CREATIVE), and the log says why.
        let Some(public) = self.public_url() else {
            warn!(config = %channel.name, "No public URL for stored ads; transcoded ads are skipped.");
            return Err(NEW_CREATIVE);
        };
        if !(creative.source.starts_with("http://") || creative.source.starts_with("https://")) {
            return Err(NO_VARIANT_MATCH);
        }
        let profile = match self.profile_for(channel, session).await {
            Ok(p) => p,
            Err(e) => {
                info!(session_id = %session.id, config = %channel.name, reason = %e, "No target profile for transcoding; ad skipped.");
                return Err(NEW_CREATIVE);
            }
        };
        let loudness = channel
            .raw
            .ad_loudness_normalize
            .then_some(channel.raw.ad_loudness_lkfs);
        let key = store::join(&[
            &creative_key(creative),
            &profile_key(&profile, loudness, &self.inner.settings.preset),
        ]);
        let urls = |o: &Outputs| AdUrls {
            hls: format!("{public}{AD_PATH}{}", o.hls),
            dash: format!("{public}{AD_PATH}{}", o.dash),
            partial: o.partial,
        };
        if let Some(o) = self.inner.ready.get(&key).await {
            return Ok(urls(&o));
        }
        if let Some(e) = self.inner.failed.get(&key).await {
            return Err(failure(&e));
        }
        let (mut rx, started) = match self.running(&key) {
            Some(rx) => (rx, false),
            None => {
                if let Some(store) = self.store() {
                    if let Ok(Some(o)) = store.get_index(&key).await {
                        let o = Arc::new(o);
                        self.inner.ready.insert(key.clone(), o.clone()).await;
                        return Ok(urls(&o));
                    }
                }
                let spec = JobSpec {
                    source: creative.source.clone(),
                    profile,
                    loudness_target: loudness,
                    key: key.clone(),
                };
                self.start(spec)
            }
        };
        let wait = match channel.raw.first_sighting {
            FirstSighting::Skip => None,
            FirstSighting::Auto | FirstSighting::Wait => {
                Some(Duration::from_millis(channel.raw.transcode_wait_ms))
            }
        };
        if let Some(bound) = wait {
            let any = channel.raw.first_sighting == FirstSighting::Wait;
            let _ = tokio::time::timeout(bound, async {
                loop {
                    let settled = match &*rx.borrow_and_update() {
                        Progress::FastReady(_) | Progress::Ready(_) | Progress::Failed(_) => true,
                        Progress::Encoding { fast_path: false } => !any,
                        _ => false,
                    };
                    if settled || rx.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await;
        }
        let state = rx.borrow().clone();
        match state {
            Progress::Ready(o) | Progress::FastReady(o) => Ok(urls(&o)),
            // A refusal is known at once and for good: say so now, even to the
            // decision that started the job, so its Error URL is called.
            Progress::Failed(e) if !started || input::is_refusal(&e) => Err(failure(&e)),
            _ if started => Err(NEW_CREATIVE),
            _ => Err(TRANSCODE_IN_PROGRESS),
        }
    }

    fn running(&self, key: &str) -> Option<watch::Receiver<Progress>> {
        let running = self.inner.running.lock().unwrap_or_else(|e| e.into_inner());
        running.get(key).cloned()
    }

    /// Start the job for `spec` unless one is running for its key; returns its
    /// progress and whether this call started it.
    pub fn start(&self, spec: JobSpec) -> (watch::Receiver<Progress>, bool) {
        let (tx, rx) = {
            let mut running = self.inner.running.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(rx) = running.get(&spec.key) {
                return (rx.clone(), false);
            }
            let (tx, rx) = watch::channel(Progress::Queued);
            running.insert(spec.key.clone(), rx.clone());
            (tx, rx)
        };
        self.inner.jobs_started.fetch_add(1, Ordering::Relaxed);
        self.inner.metrics.transcode_job("started", None);
        let this = self.clone();
        tokio::spawn(async move { this.run(spec, tx).await });
        (rx, true)
    }

    async fn run(self, spec: JobSpec, tx: watch::Sender<Progress>) {
        let inner = &self.inner;
        let started = Instant::now();
        let work = inner.work_root.join(spec.key.replace('/', "-"));
        let result = match &inner.store {
            Err(e) => Err(e.clone()),
            Ok(store) => {
                let ctx = job::JobCtx {
                    tools: &inner.tools,
                    http: &inner.http,
                    store,
                    light: &inner.light,
                    heavy: &inner.heavy,
                    deadline: Instant::now() + inner.settings.job_timeout,
                    work: work.clone(),
                    progress: &tx,
                };
                job::run_job(&spec, &ctx).await
            }
        };
        let _ = tokio::fs::remove_dir_all(&work).await;
        match result {
            Ok(o) => {
                info!(key = %spec.key, source = %spec.source, renditions = o.renditions.len(), remuxed = o.remuxed.len(), secs = started.elapsed().as_secs_f64(), "Creative transcoded.");
                inner
                    .metrics
                    .transcode_job("succeeded", Some(started.elapsed().as_secs_f64()));
                let o = Arc::new(o);
                inner.ready.insert(spec.key.clone(), o.clone()).await;
                tx.send_replace(Progress::Ready(o));
            }
            Err(e) => {
                warn!(key = %spec.key, source = %spec.source, error = %e, "Transcode failed; the creative is skipped until the failure expires.");
                inner
                    .metrics
                    .transcode_job("failed", Some(started.elapsed().as_secs_f64()));
                let e: Arc<str> = Arc::from(e);
                inner.failed.insert(spec.key.clone(), e.clone()).await;
                tx.send_replace(Progress::Failed(e));
            }
        }
        let mut running = inner.running.lock().unwrap_or_else(|e| e.into_inner());
        running.remove(&spec.key);
    }

    /// The target profile for a session of a channel: from the manifest the
    /// session started from (a multivariant playlist or an MPD), else the channel's
    /// `transcode_profile_url`. Cached per channel and URL.
    pub async fn profile_for(
        &self,
        channel: &Channel,
        session: &Session,
    ) -> Result<Arc<TargetProfile>, ProfileError> {
        let url = session
            .master_url
            .as_deref()
            .or(channel.raw.transcode_profile_url.as_deref())
            .ok_or_else(|| {
                ProfileError(
                    "no multivariant playlist or MPD for the session and no transcode_profile_url"
                        .into(),
                )
            })?;
        let url = crate::urls::parse(url).map_err(|e| ProfileError(format!("{url}: {e}")))?;
        let key = format!("{}\n{}", channel.name, url);
        if let Some(e) = self.inner.profile_failures.get(&key).await {
            return Err((*e).clone());
        }
        let inner = &self.inner;
        let work = inner
            .work_root
            .join(format!("profile-{}", fnv64(key.as_bytes())));
        let timeout = channel.origin_timeout();
        let result = inner
            .profiles
            .try_get_with(key.clone(), async {
                let p =
                    profile::fetch_profile(&inner.http, &inner.tools.ffprobe, &url, timeout, &work)
                        .await;
                let _ = tokio::fs::remove_dir_all(&work).await;
                p.map(Arc::new)
            })
            .await;
        match result {
            Ok(p) => Ok(p),
            Err(e) => {
                let e = Arc::new((*e).clone());
                inner.profile_failures.insert(key, e.clone()).await;
                Err((*e).clone())
            }
        }
    }
}

/// `splicepoint transcode --creative FILE_OR_URL --like MULTIVARIANT_URL --out DIR`:
/// make the creative like the content's renditions into `dir` (same layout as the
/// store, at its root) and return a report of what was made. Settings (ffmpeg,
/// preset, time limit) come from the environment; loudness is normalised to
/// `loudness_lkfs` unless `None`.
pub async fn run_cli(
    creative: &str,
    like: &str,
    dir: &std::path::Path,
    loudness_lkfs: Option<f64>,
) -> Result<String, String> {
    use std::fmt::Write as _;
    let settings = TranscodeSettings::from_env().map_err(|e| e.to_string())?;
    let http = crate::origin::client::http_client();
    let url = crate::urls::parse(like).map_err(|e| format!("--like {like}: {e}"))?;
    let work = std::env::temp_dir().join(format!("splicepoint-cli-{}", std::process::id()));
    let profile = profile::fetch_profile(
        &http,
        &settings.ffprobe,
        &url,
        Duration::from_secs(20),
        &work.join("profile"),
    )
    .await
    .map_err(|e| e.to_string())?;
    let store = AdStore::local(dir).map_err(|e| e.to_string())?;
    let tools = Tools {
        ffmpeg: settings.ffmpeg.clone(),
        ffprobe: settings.ffprobe.clone(),
        preset: settings.preset.clone(),
        max_source_bytes: settings.max_source_bytes,
    };
    let (tx, _rx) = watch::channel(Progress::Queued);
    let (light, heavy) = (Semaphore::new(1), Semaphore::new(1));
    let started = Instant::now();
    let spec = JobSpec {
        source: creative.to_string(),
        profile: Arc::new(profile.clone()),
        loudness_target: loudness_lkfs,
        key: String::new(),
    };
    let ctx = job::JobCtx {
        tools: &tools,
        http: &http,
        store: &store,
        light: &light,
        heavy: &heavy,
        deadline: Instant::now() + settings.job_timeout,
        work: work.join("job"),
        progress: &tx,
    };
    let result = job::run_job(&spec, &ctx).await;
    let _ = std::fs::remove_dir_all(&work);
    let outputs = result?;
    let mut out = String::new();
    for r in &profile.renditions {
        let how = if outputs.remuxed.contains(&r.name) {
            "remux"
        } else {
            "encode"
        };
        let _ = writeln!(
            out,
            "{} {}x{} {:.3} fps {} {} bit/s {how} {}",
            r.name,
            r.width,
            r.height,
            r.fps,
            r.codecs,
            r.bandwidth,
            dir.join(plan::hls_playlist_path(&r.name)).display()
        );
    }
    if let Some(a) = &profile.audio {
        let _ = writeln!(
            out,
            "audio {} {} Hz {} ch {} bit/s, loudness {}",
            a.codec.codecs(),
            a.sample_rate,
            a.channels,
            a.bitrate,
            loudness_lkfs.map_or("as is".to_string(), |l| format!("{l} LKFS"))
        );
    }
    let _ = writeln!(out, "hls {}", dir.join("master.m3u8").display());
    let _ = writeln!(out, "dash {}", dir.join("manifest.mpd").display());
    let _ = writeln!(
        out,
        "duration {:.3} s, made in {:.2} s",
        outputs.duration,
        started.elapsed().as_secs_f64()
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creative_keys_are_path_safe_and_distinct() {
        let a = Creative {
            identity: Some("ad-id.org:ABCD 1234/x".into()),
            source: "http://a/x.mp4".into(),
        };
        let k = creative_key(&a);
        assert!(k.starts_with("ad-id_org_ABCD_1234_x-"), "{k}");
        assert!(store::is_safe_key(&k));
        let b = Creative {
            identity: Some("ad-id.org:ABCD 1234.x".into()),
            ..a.clone()
        };
        assert_ne!(creative_key(&b), k);
        let anon = Creative {
            identity: None,
            source: "http://a/x.mp4".into(),
        };
        assert!(creative_key(&anon).starts_with("u-"));
        assert_eq!(fnv64(b""), "cbf29ce484222325");
    }
}
