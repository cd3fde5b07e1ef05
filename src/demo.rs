//! The built-in demo: an origin with a live channel and a VOD asset, and an ad
//! server answering from `ad-templates/vast/`, served beside the proxy in one
//! process so `splicepoint demo` needs no network and no other program.
//!
//! I/O. The media are small H.264/AAC TS files made once by
//! `scripts/make-demo-media.sh` and kept in `demo/media/`.
//!
//! Live channel: the 60 s of content loop forever (a discontinuity at each wrap),
//! a sliding window of [`LIVE_WINDOW`] segments, and an ad break of
//! [`BREAK_SEGMENTS`] segments every `break_every` seconds marked with
//! `EXT-X-CUE-OUT` / `EXT-X-CUE-OUT-CONT` / `EXT-X-CUE-IN`. VOD asset: the same 60 s
//! with a pre-roll, a mid-roll at the middle and a post-roll (`EXT-X-CUE-OUT:0`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;

use crate::config::{Channel, PlaybackConfig};
use crate::hls::model::parse_media;

/// Segments in the live window.
pub const LIVE_WINDOW: u64 = 10;
/// Segments in each live ad break.
pub const BREAK_SEGMENTS: u64 = 8;
/// Content segments before the break starts within each break period.
const BREAK_OFFSET: u64 = 3;
/// Demo ADS pod of the live pre-roll of `demo-live-preroll`: one 10 s ad.
const PREROLL_POD: &str = "single";
/// Longest live pre-roll of `demo-live-preroll`, seconds: the length of its ad.
const PREROLL_SECS: f64 = 10.0;
/// How far back in time the live channel pretends to have started, so the window
/// is full at once.
const HEAD_START: Duration = Duration::from_secs(120);
/// Distinct beacons the demo ADS remembers (a memory bound; later ones are counted
/// only under `_dropped`).
const MAX_BEACON_KEYS: usize = 200_000;

/// Where the demo's files are, and how the live channel behaves.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// `demo/media`.
    pub media_dir: PathBuf,
    /// `ad-templates/vast`.
    pub vast_dir: PathBuf,
    /// Seconds between live ad breaks.
    pub break_every: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        Self {
            media_dir: root.join("demo/media"),
            vast_dir: root.join("ad-templates/vast"),
            break_every: 60,
        }
    }
}

/// The demo origin and ADS.
pub struct Demo {
    files: HashMap<String, Bytes>,
    vast: HashMap<String, String>,
    content: Vec<(String, f64, String)>, // (file, duration, EXTINF line)
    loop_duration: f64,
    segment: f64,
    period: u64,
    started: Instant,
    base: String,
    ad_segments_served: AtomicU64,
    /// Beacons received at `/demo/beacon`, by query string (bounded: [`MAX_BEACON_KEYS`]).
    beacons: std::sync::Mutex<BTreeMap<String, u64>>,
    dash: Option<DashDemo>,
}

/// The DASH side of the demo (present when `demo/media/dash` is).
struct DashDemo {
    /// The content's AdaptationSets, as XML text, ready to put in a Period.
    sets: String,
    /// Content length, seconds: one live Period per loop.
    loop_duration: f64,
    /// Wall-clock Unix time of the live channel's availabilityStartTime.
    ast: u64,
}

impl Demo {
    /// Load the media and VAST files. `base` is the demo's own URL root
    /// (`http://127.0.0.1:PORT`).
    pub fn load(options: &DemoOptions, base: &str) -> anyhow::Result<Self> {
        let mut files = HashMap::new();
        load_files(&options.media_dir, &options.media_dir, &mut files)?;
        let mut vast = HashMap::new();
        for entry in std::fs::read_dir(&options.vast_dir)
            .map_err(|e| anyhow::anyhow!("{}: {e}", options.vast_dir.display()))?
        {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "xml") {
                let name = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                vast.insert(name.to_string(), std::fs::read_to_string(&path)?);
            }
        }
        let index = files
            .get("content/v0/index.m3u8")
            .ok_or_else(|| anyhow::anyhow!("demo media missing: run scripts/make-demo-media.sh"))?;
        let pl = parse_media(std::str::from_utf8(index)?)?;
        let content: Vec<(String, f64, String)> = pl
            .segments
            .iter()
            .map(|s| {
                let extinf = s
                    .lines
                    .iter()
                    .find(|l| l.starts_with("#EXTINF"))
                    .cloned()
                    .unwrap_or_default();
                (s.uri.clone(), s.duration, extinf)
            })
            .collect();
        anyhow::ensure!(!content.is_empty(), "demo content has no segments");
        let loop_duration = content.iter().map(|c| c.1).sum();
        let segment = content[0].1.max(0.5);
        let period = ((options.break_every as f64 / segment).round() as u64)
            .max(BREAK_SEGMENTS + BREAK_OFFSET + 2);
        Ok(Self {
            files,
            vast,
            content,
            loop_duration,
            segment,
            period,
            // The channel's clock starts on a whole second of wall-clock time, so the
            // DASH availabilityStartTime (whole seconds) and this clock agree.
            started: {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs_f64();
                let ast = (now - HEAD_START.as_secs_f64()).floor();
                Instant::now() - Duration::from_secs_f64((now - ast).max(0.0))
            },
            base: base.trim_end_matches('/').to_string(),
            ad_segments_served: AtomicU64::new(0),
            beacons: std::sync::Mutex::default(),
            dash: None,
        }
        .with_dash())
    }

    fn with_dash(mut self) -> Self {
        let Some(text) = self.files.get("dash/content/manifest.mpd") else {
            return self;
        };
        let Ok(doc) = crate::dash::parse(&String::from_utf8_lossy(text)) else {
            return self;
        };
        let Some(period) = doc.root.child("Period") else {
            return self;
        };
        let mut sets = String::new();
        for set in period.children_named("AdaptationSet") {
            sets.push_str("\n    ");
            crate::dash::xml::write_element(&mut sets, set);
        }
        let loop_duration = doc
            .root
            .attr("mediaPresentationDuration")
            .and_then(|d| crate::dash::mpd::parse_duration(&d))
            .unwrap_or(60.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.dash = Some(DashDemo {
            sets,
            loop_duration,
            ast: (now as f64 - self.started.elapsed().as_secs_f64())
                .round()
                .max(0.0) as u64,
        });
        self
    }

    /// The live MPD at `elapsed` seconds since availabilityStartTime: one Period
    /// per content loop, those within the time-shift buffer and the next one (10 s
    /// ahead), each with its SCTE-35 events.
    pub fn dash_live_mpd(&self, elapsed: f64) -> Option<String> {
        let d = self.dash.as_ref()?;
        let tsb = 40.0;
        let l = d.loop_duration;
        let first = ((elapsed - tsb) / l).floor().max(0.0) as u64;
        // The next loop's Period is published 10 s ahead, so the current one never
        // promises segments past its end.
        let last = ((elapsed + 10.0) / l).floor().max(0.0) as u64;
        let now = d.ast + elapsed as u64;
        let mut s = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:scte35=\"urn:scte:scte35:2013:xml\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"dynamic\" availabilityStartTime=\"{}\" publishTime=\"{}\" minimumUpdatePeriod=\"PT2S\" minBufferTime=\"PT4S\" timeShiftBufferDepth=\"PT{tsb}S\" maxSegmentDuration=\"PT2.1S\" suggestedPresentationDelay=\"PT8S\">",
            crate::dash::mpd::format_utc(d.ast),
            crate::dash::mpd::format_utc(now),
        );
        let break_secs = BREAK_SEGMENTS as f64 * self.segment;
        let every = (self.period as f64 * self.segment).max(break_secs + 4.0);
        for k in first..=last {
            let start = k as f64 * l;
            let _ = write!(
                s,
                "\n  <Period id=\"p{k}\" start=\"{}\" duration=\"{}\">",
                crate::dash::mpd::format_duration(start),
                crate::dash::mpd::format_duration(l)
            );
            let mut events = String::new();
            let mut j = 0u64;
            let mut at = BREAK_OFFSET as f64 * self.segment;
            while at + break_secs <= l + 0.001 {
                // Announced with its Period (published 10 s ahead), so a Period
                // once published is already split where it will be: its id, start
                // and duration never change across refreshes.
                {
                    let id = k * 100 + j;
                    let _ = write!(
                        events,
                        "\n      <Event presentationTime=\"{}\" duration=\"{}\" id=\"{id}\"><scte35:SpliceInfoSection protocolVersion=\"0\" ptsAdjustment=\"0\" tier=\"4095\"><scte35:SpliceInsert spliceEventId=\"{id}\" spliceEventCancelIndicator=\"false\" outOfNetworkIndicator=\"true\" spliceImmediateFlag=\"false\" uniqueProgramId=\"1\" availNum=\"1\" availsExpected=\"1\"><scte35:Program><scte35:SpliceTime ptsTime=\"{}\"/></scte35:Program><scte35:BreakDuration autoReturn=\"true\" duration=\"{}\"/></scte35:SpliceInsert></scte35:SpliceInfoSection></Event>",
                        (at * 90_000.0) as u64,
                        (break_secs * 90_000.0) as u64,
                        ((start + at) * 90_000.0) as u64 % (1 << 33),
                        (break_secs * 90_000.0) as u64,
                    );
                }
                j += 1;
                at += every;
            }
            if !events.is_empty() {
                let _ = write!(s, "\n    <EventStream schemeIdUri=\"urn:scte:scte35:2013:xml\" timescale=\"90000\">{events}\n    </EventStream>");
            }
            s.push_str(&d.sets);
            s.push_str("\n  </Period>");
        }
        // The schema puts UTCTiming after the Periods.
        let _ = write!(
            s,
            "\n  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-xsdate:2014\" value=\"{}/demo/time\"/>\n</MPD>\n",
            self.base
        );
        Some(s)
    }

    /// The VOD MPD: the content with a pre-roll, a mid-roll at the middle and a
    /// post-roll (zero-duration SCTE-35 events).
    pub fn dash_vod_mpd(&self) -> Option<String> {
        let d = self.dash.as_ref()?;
        let l = d.loop_duration;
        let mut events = String::new();
        for (i, at) in [0.0, (l / 2.0 / self.segment).floor() * self.segment, l]
            .iter()
            .enumerate()
        {
            let _ = write!(
                events,
                "\n      <Event presentationTime=\"{}\" duration=\"0\" id=\"{i}\"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId=\"{i}\" outOfNetworkIndicator=\"true\" spliceImmediateFlag=\"true\"/></scte35:SpliceInfoSection></Event>",
                (at * 90_000.0) as u64
            );
        }
        Some(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:scte35=\"urn:scte:scte35:2013:xml\" profiles=\"urn:mpeg:dash:profile:isoff-on-demand:2011,urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" mediaPresentationDuration=\"{dur}\" minBufferTime=\"PT4S\">\n  <Period id=\"vod\" start=\"PT0S\" duration=\"{dur}\">\n    <EventStream schemeIdUri=\"urn:scte:scte35:2013:xml\" timescale=\"90000\">{events}\n    </EventStream>{}\n  </Period>\n</MPD>\n",
            d.sets,
            dur = crate::dash::mpd::format_duration(l)
        ))
    }

    /// How many ad segments (not slate) the demo has served: proof that players
    /// actually fetched the ads.
    pub fn ad_segments_served(&self) -> u64 {
        self.ad_segments_served.load(Ordering::Relaxed)
    }

    /// The playback configurations of the demo streams: `demo-live`, `demo-vod` and
    /// `demo-live-preroll` (`demo-live` with a live pre-roll of one ad, [`PREROLL_POD`],
    /// where each session joins).
    pub fn channels(&self) -> anyhow::Result<Vec<Channel>> {
        let mk = |name: &str, preroll: bool| -> anyhow::Result<Channel> {
            let cfg = PlaybackConfig {
                name: Some(name.to_string()),
                origin: format!("{}/demo/origin/", self.base),
                ads_url: format!(
                    "{}/demo/ads/vast?pod=[player_params.pod]&dur=[session.avail_duration_secs]&sid=[session.id]&ua=[session.user_agent]",
                    self.base
                ),
                slate: Some(format!("{}/demo/media/slate/master.m3u8", self.base)),
                dash_slate: self
                    .dash
                    .as_ref()
                    .map(|_| format!("{}/demo/media/dash/slate/manifest.mpd", self.base)),
                ads_timeout_ms: 1_500,
                // No transcode_profile_url: MP4 creatives are made like the
                // session's own multivariant playlist (HLS) or MPD (DASH).
                live_preroll_ads_url: preroll.then(|| {
                    format!(
                        "{}/demo/ads/vast?pod={PREROLL_POD}&dur=[session.avail_duration_secs]&sid=[session.id]&ua=[session.user_agent]",
                        self.base
                    )
                }),
                live_preroll_max_duration_secs: if preroll {
                    PREROLL_SECS
                } else {
                    PlaybackConfig::default().live_preroll_max_duration_secs
                },
                // Sessions choose: `?aws.insertionMode=GUIDED` makes a guided
                // (HLS interstitials) session, as the `*-guided` streams do.
                insertion_mode: crate::config::InsertionMode::PlayerSelect,
                ..PlaybackConfig::default()
            };
            Ok(cfg.validate("<demo>", name)?)
        };
        Ok(vec![
            mk("demo-live", false)?,
            mk("demo-vod", false)?,
            mk("demo-live-preroll", true)?,
        ])
    }

    /// `(name, url)` of each demo stream.
    pub fn streams(&self) -> Vec<(&'static str, String)> {
        let mut streams = vec![
            (
                "hls-live",
                format!("{}/v1/master/demo-live/live/master.m3u8", self.base),
            ),
            (
                "hls-vod",
                format!("{}/v1/master/demo-vod/vod/master.m3u8", self.base),
            ),
        ];
        if self.dash.is_some() {
            streams.push((
                "dash-live",
                format!("{}/v1/dash/demo-live/dash/live/manifest.mpd", self.base),
            ));
            streams.push((
                "dash-vod",
                format!("{}/v1/dash/demo-vod/dash/vod/manifest.mpd", self.base),
            ));
        }
        streams.push((
            "hls-live-guided",
            format!(
                "{}/v1/master/demo-live/live/master.m3u8?aws.insertionMode=GUIDED",
                self.base
            ),
        ));
        streams.push((
            "hls-vod-guided",
            format!(
                "{}/v1/master/demo-vod/vod/master.m3u8?aws.insertionMode=GUIDED",
                self.base
            ),
        ));
        streams.push((
            "hls-live-preroll",
            format!("{}/v1/master/demo-live-preroll/live/master.m3u8", self.base),
        ));
        if self.dash.is_some() {
            streams.push((
                "dash-live-preroll",
                format!(
                    "{}/v1/dash/demo-live-preroll/dash/live/manifest.mpd",
                    self.base
                ),
            ));
        }
        streams
    }

    /// The live media playlist at `elapsed` since the channel started.
    pub fn live_playlist(&self, elapsed: f64) -> String {
        let n = self.content.len() as u64;
        // Segment k is published once it has fully elapsed.
        let available = self.segments_before(elapsed);
        let last = available.saturating_sub(1);
        let first = (last + 1).saturating_sub(LIVE_WINDOW);
        let wraps_before = if first == 0 { 0 } else { (first - 1) / n };
        let mut s = String::with_capacity(2048);
        let _ = write!(
            s,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:{first}\n#EXT-X-DISCONTINUITY-SEQUENCE:{wraps_before}\n",
            self.segment.ceil() as u64
        );
        let break_secs = BREAK_SEGMENTS as f64 * self.segment;
        for k in first..=last {
            if k > 0 && k % n == 0 {
                s.push_str("#EXT-X-DISCONTINUITY\n");
            }
            let pos = k % self.period;
            if pos == BREAK_OFFSET {
                let _ = writeln!(s, "#EXT-X-CUE-OUT:{break_secs:.3}");
            } else if pos > BREAK_OFFSET && pos < BREAK_OFFSET + BREAK_SEGMENTS {
                let elapsed = (pos - BREAK_OFFSET) as f64 * self.segment;
                let _ = writeln!(
                    s,
                    "#EXT-X-CUE-OUT-CONT:ElapsedTime={elapsed:.3},Duration={break_secs:.3}"
                );
            } else if pos == BREAK_OFFSET + BREAK_SEGMENTS {
                s.push_str("#EXT-X-CUE-IN\n");
            }
            let (file, _, extinf) = &self.content[(k % n) as usize];
            let _ = write!(s, "{extinf}\n{file}?k={k}\n");
        }
        s
    }

    fn segments_before(&self, elapsed: f64) -> u64 {
        let n = self.content.len() as u64;
        let loops = (elapsed / self.loop_duration).floor().max(0.0) as u64;
        let mut t = loops as f64 * self.loop_duration;
        let mut k = loops * n;
        for (_, d, _) in &self.content {
            if t + d > elapsed {
                break;
            }
            t += d;
            k += 1;
        }
        k
    }

    /// The VOD media playlist: pre-roll, mid-roll at the middle, post-roll.
    pub fn vod_playlist(&self) -> String {
        let mut s = format!(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n",
            self.segment.ceil() as u64
        );
        let mid = self.content.len() / 2;
        for (i, (file, _, extinf)) in self.content.iter().enumerate() {
            if i == 0 || i == mid {
                s.push_str("#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n");
            }
            let _ = write!(s, "{extinf}\n{file}\n");
        }
        s.push_str("#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n#EXT-X-ENDLIST\n");
        s
    }

    /// Routes under `/demo`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/demo/origin/{kind}/master.m3u8", get(master))
            .route("/demo/origin/{kind}/{variant}/{file}", get(origin_file))
            .route("/demo/origin/dash/{kind}/manifest.mpd", get(dash_manifest))
            .route("/demo/origin/dash/{kind}/{rep}/{file}", get(dash_file))
            .route("/demo/media/{*path}", get(media_file))
            .route("/demo/ads/vast", get(vast))
            .route("/demo/beacon", get(beacon))
            .route("/demo/beacons", get(beacons))
            .route("/demo/time", get(demo_time))
            .layer(axum::middleware::map_response(cors))
            .with_state(self)
    }
}

fn load_files(root: &Path, dir: &Path, out: &mut HashMap<String, Bytes>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            load_files(root, &path, out)?;
        } else {
            let rel = path
                .strip_prefix(root)?
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, Bytes::from(std::fs::read(&path)?));
        }
    }
    Ok(())
}

fn file_response(demo: &Demo, key: &str) -> Response {
    let Some(bytes) = demo.files.get(key) else {
        return (StatusCode::NOT_FOUND, "no such demo file\n").into_response();
    };
    let (ctype, cache) = if key.ends_with(".m3u8") {
        ("application/vnd.apple.mpegurl", "max-age=60")
    } else if key.ends_with(".mpd") {
        ("application/dash+xml", "max-age=60")
    } else if key.ends_with(".mp4") || key.ends_with(".m4s") {
        ("video/mp4", "public, max-age=86400, immutable")
    } else {
        ("video/mp2t", "public, max-age=86400, immutable")
    };
    let mut resp = bytes.clone().into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

fn text_response(body: String, ctype: &'static str, cache: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

async fn master(State(demo): State<Arc<Demo>>, UrlPath(kind): UrlPath<String>) -> Response {
    if kind != "live" && kind != "vod" {
        return (StatusCode::NOT_FOUND, "no such stream\n").into_response();
    }
    file_response(&demo, "content/master.m3u8")
}

async fn origin_file(
    State(demo): State<Arc<Demo>>,
    UrlPath((kind, variant, file)): UrlPath<(String, String, String)>,
) -> Response {
    if !matches!(kind.as_str(), "live" | "vod") || variant.contains("..") || file.contains("..") {
        return (StatusCode::NOT_FOUND, "no such stream\n").into_response();
    }
    if !demo
        .files
        .contains_key(&format!("content/{variant}/index.m3u8"))
    {
        return (StatusCode::NOT_FOUND, "no such variant\n").into_response();
    }
    if file == "index.m3u8" {
        let body = if kind == "live" {
            demo.live_playlist(demo.started.elapsed().as_secs_f64())
        } else {
            demo.vod_playlist()
        };
        let cache = if kind == "live" {
            "max-age=1"
        } else {
            "max-age=300"
        };
        return text_response(body, "application/vnd.apple.mpegurl", cache);
    }
    file_response(&demo, &format!("content/{variant}/{file}"))
}

/// The clock for DASH players (`UTCTiming`, http-xsdate).
async fn demo_time() -> Response {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    text_response(crate::dash::mpd::format_utc(now), "text/plain", "no-store")
}

/// Every demo answer (404s too) may be read by web players on other origins.
async fn cors(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

async fn dash_manifest(State(demo): State<Arc<Demo>>, UrlPath(kind): UrlPath<String>) -> Response {
    let body = match kind.as_str() {
        "live" => demo.dash_live_mpd(demo.started.elapsed().as_secs_f64()),
        "vod" => demo.dash_vod_mpd(),
        _ => None,
    };
    match body {
        Some(b) => text_response(
            b,
            "application/dash+xml",
            if kind == "live" {
                "max-age=1"
            } else {
                "max-age=300"
            },
        ),
        None => (StatusCode::NOT_FOUND, "no such stream\n").into_response(),
    }
}

async fn dash_file(
    State(demo): State<Arc<Demo>>,
    UrlPath((kind, rep, file)): UrlPath<(String, String, String)>,
) -> Response {
    if !matches!(kind.as_str(), "live" | "vod") || rep.contains("..") || file.contains("..") {
        return (StatusCode::NOT_FOUND, "no such stream\n").into_response();
    }
    file_response(&demo, &format!("dash/content/{rep}/{file}"))
}

async fn media_file(State(demo): State<Arc<Demo>>, UrlPath(path): UrlPath<String>) -> Response {
    if path.split('/').any(|s| s == "..") {
        return (StatusCode::NOT_FOUND, "no such demo file\n").into_response();
    }
    if (path.starts_with("ads/") && path.ends_with(".ts"))
        || (path.starts_with("dash/ads/") && path.ends_with(".m4s"))
    {
        demo.ad_segments_served.fetch_add(1, Ordering::Relaxed);
    }
    file_response(&demo, &path)
}

async fn vast(
    State(demo): State<Arc<Demo>>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let pod = q
        .get("pod")
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .unwrap_or("default");
    if pod == "timeout" {
        // Slower than any sane ADS timeout: the proxy must give up and fill the break.
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let name = if pod == "timeout" { "default" } else { pod };
    let body = match demo.vast.get(name) {
        Some(t) => {
            let body = t.replace("{{AD_BASE}}", &format!("{}/demo/media/ads", demo.base));
            // Beacons name their session and avail (when the ADS request does), so
            // they can be counted per ad per session.
            let mut tag = String::new();
            for name in ["sid", "avail"] {
                if let Some(v) = q.get(name).filter(|v| !v.is_empty()) {
                    let v: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
                    let _ = write!(tag, "{name}={v}&amp;");
                }
            }
            body.replace("/beacon?", &format!("/beacon?{tag}"))
        }
        None => "<VAST version=\"4.0\"/>".to_string(),
    };
    text_response(body, "application/xml", "no-store")
}

/// `GET /demo/beacon?...`: count the beacon by its query string.
async fn beacon(State(demo): State<Arc<Demo>>, uri: axum::http::Uri) -> StatusCode {
    let key = uri.query().unwrap_or("").to_string();
    let mut b = demo
        .beacons
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = if b.len() < MAX_BEACON_KEYS || b.contains_key(&key) {
        key
    } else {
        "_dropped".to_string()
    };
    *b.entry(key).or_default() += 1;
    StatusCode::NO_CONTENT
}

/// `GET /demo/beacons`: every beacon received, `{query string: count}` (JSON).
async fn beacons(State(demo): State<Arc<Demo>>) -> Response {
    let body = {
        let b = demo
            .beacons
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        serde_json::to_string(&*b).unwrap_or_default()
    };
    text_response(body, "application/json", "no-store")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::cue::find_breaks;

    fn demo() -> Demo {
        Demo::load(&DemoOptions::default(), "http://127.0.0.1:1").unwrap()
    }

    #[test]
    fn live_window_slides_with_breaks() {
        let d = demo();
        let pl = parse_media(&d.live_playlist(300.0)).unwrap();
        assert_eq!(pl.segments.len() as u64, LIVE_WINDOW);
        assert_eq!(pl.segments.last().unwrap().msn, 149);
        let later = parse_media(&d.live_playlist(302.0)).unwrap();
        assert_eq!(later.media_sequence, pl.media_sequence + 1);
        // Over one period every break is found with its 16 s duration.
        let mut seen = 0;
        for t in (0..120).map(|s| 200.0 + s as f64) {
            let pl = parse_media(&d.live_playlist(t)).unwrap();
            for b in find_breaks(&pl) {
                if let Some(dur) = b.duration {
                    assert!((dur - 16.0).abs() < 0.01, "{dur}");
                    seen += 1;
                }
            }
        }
        assert!(seen > 0);
    }

    #[test]
    fn demo_vast_files_are_valid_vast() {
        let d = demo();
        for (name, text) in &d.vast {
            let vast = crate::vast::parse_vast(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            if name != "empty" {
                assert!(!vast.ads.is_empty(), "{name}");
            }
        }
    }

    #[test]
    fn dash_streams_are_offered() {
        let d = demo();
        assert!(d.dash.is_some());
        let names: Vec<&str> = d.streams().iter().map(|s| s.0).collect();
        assert_eq!(
            names,
            [
                "hls-live",
                "hls-vod",
                "dash-live",
                "dash-vod",
                "hls-live-guided",
                "hls-vod-guided",
                "hls-live-preroll",
                "dash-live-preroll"
            ]
        );
    }

    #[test]
    fn live_preroll_channel_is_demo_live_with_a_preroll() {
        let d = demo();
        let channels = d.channels().unwrap();
        let by_name = |n: &str| {
            channels
                .iter()
                .find(|c| c.raw.name.as_deref() == Some(n))
                .unwrap_or_else(|| panic!("{n}"))
        };
        let (live, pre) = (by_name("demo-live"), by_name("demo-live-preroll"));
        assert_eq!(live.raw.live_preroll_ads_url, None);
        let url = pre.raw.live_preroll_ads_url.as_deref().unwrap();
        assert!(url.contains("pod=single&"), "{url}");
        assert_eq!(pre.raw.live_preroll_max_duration_secs, PREROLL_SECS);
        assert_eq!(pre.raw.origin, live.raw.origin);
        assert_eq!(pre.raw.ads_url, live.raw.ads_url);
        // The pre-roll's one ad fits it exactly.
        let vast = crate::vast::parse_vast(&d.vast[PREROLL_POD]).unwrap();
        let [crate::vast::Ad {
            body: crate::vast::AdBody::InLine(ad),
            ..
        }] = vast.ads.as_slice()
        else {
            panic!("{PREROLL_POD}: not one inline ad");
        };
        let durations: Vec<Option<f64>> = ad
            .creatives
            .iter()
            .filter_map(|c| c.linear.as_ref().map(|l| l.duration))
            .collect();
        assert_eq!(durations, [Some(PREROLL_SECS)]);
    }

    #[test]
    fn vod_has_three_insertion_points() {
        let d = demo();
        let pl = parse_media(&d.vod_playlist()).unwrap();
        let b = find_breaks(&pl);
        assert_eq!(b.len(), 3);
        assert!(b.iter().all(|b| b.insert));
        assert!(pl.ended);
    }

    #[tokio::test]
    async fn beacons_name_their_session_and_are_counted() {
        use tower::ServiceExt as _;
        let app = Arc::new(demo()).router();
        let get = |uri: &str| {
            let app = app.clone();
            let req = axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .unwrap();
            async move {
                let r = app.oneshot(req).await.unwrap();
                let status = r.status();
                let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
                (status, String::from_utf8(body.to_vec()).unwrap())
            }
        };
        let (_, vast) = get("/demo/ads/vast?pod=single&sid=s%201&avail=2").await;
        assert!(
            vast.contains("/beacon?sid=s+1&amp;avail=2&amp;e=impression&amp;ad=1"),
            "{vast}"
        );
        let (_, vast) = get("/demo/ads/vast?pod=single").await;
        assert!(vast.contains("/beacon?e=impression&amp;ad=1"), "{vast}");
        assert_eq!(get("/demo/beacon?sid=s+1&e=impression&ad=1").await.0, 204);
        assert_eq!(get("/demo/beacon?sid=s+1&e=impression&ad=1").await.0, 204);
        assert_eq!(get("/demo/beacon?sid=s+2&e=start&ad=1").await.0, 204);
        let (_, counts) = get("/demo/beacons").await;
        let counts: BTreeMap<String, u64> = serde_json::from_str(&counts).unwrap();
        assert_eq!(counts["sid=s+1&e=impression&ad=1"], 2);
        assert_eq!(counts["sid=s+2&e=start&ad=1"], 1);
        assert_eq!(counts.len(), 2);
    }
}
