//! Fixtures and servers for `tests/transcode.rs`: media made with ffmpeg (cached
//! between runs), an in-process origin + ADS, the proxy, ffprobe readings, and a
//! `moto` S3 server in a venv under `tests/transcode/.venv`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::config::{Channel, PlaybackConfig, TranscodeSettings};
use splicepoint::server::{router, AppState};
use splicepoint::session::Session;
use splicepoint::transcode::Transcoder;

use super::LADDER;

/// Bump when the fixtures change.
const FIXTURES_VERSION: u32 = 1;

pub struct Fixtures {
    pub dir: PathBuf,
}

fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", args[0]));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The shared fixtures, made once (and kept in the temp dir between runs).
pub fn fixtures() -> Option<&'static Fixtures> {
    static F: OnceLock<Option<Fixtures>> = OnceLock::new();
    F.get_or_init(|| {
        if !have("ffmpeg") || !have("ffprobe") {
            eprintln!("SKIPPED: ffmpeg/ffprobe not installed (scripts/test installs them)");
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "splicepoint-transcode-fixtures-v{FIXTURES_VERSION}"
        ));
        if !dir.join("done").is_file() {
            let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            make_fixtures(&tmp);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::rename(&tmp, &dir).unwrap();
            std::fs::write(dir.join("done"), b"").unwrap();
        }
        Some(Fixtures { dir })
    })
    .as_ref()
}

/// Content ladder under `{dir}/origin/` (4 s, TS segments of 2 s, AAC-LC 48 kHz
/// stereo) with its multivariant playlist.
fn make_ladder(dir: &Path, ladder: &[(&str, u32, u32, &str, &str, u64)], secs: u32) {
    let origin = dir.join("origin");
    let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
    for (name, w, h, profile, codecs, bw) in ladder {
        let d = origin.join(name);
        std::fs::create_dir_all(&d).unwrap();
        let kbps = format!("{}k", bw / 1000 * 7 / 10);
        sh(&[
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size={w}x{h}:rate=30"),
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            &secs.to_string(),
            "-ac",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-profile:v",
            profile,
            "-level:v",
            "3.0",
            "-b:v",
            &kbps,
            "-g",
            "60",
            "-keyint_min",
            "60",
            "-sc_threshold",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-f",
            "hls",
            "-hls_time",
            "2",
            "-hls_playlist_type",
            "vod",
            "-hls_segment_filename",
            &d.join("seg%02d.ts").to_string_lossy(),
            &d.join("index.m3u8").to_string_lossy(),
        ]);
        master.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={bw},RESOLUTION={w}x{h},CODECS=\"{codecs},mp4a.40.2\",FRAME-RATE=30.000\n{name}/index.m3u8\n"
        ));
    }
    std::fs::write(origin.join("master.m3u8"), master).unwrap();
}

/// A creative: `secs` of testsrc at WxH@fps (x264 veryfast, High, keyframes
/// every 2 s) with a tone, AAC at `audio_rate`, `gain` dB.
fn make_creative(out: &Path, w: u32, h: u32, fps: u32, secs: u32, audio_rate: u32, gain: i32) {
    sh(&[
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc=size={w}x{h}:rate={fps}"),
        "-f",
        "lavfi",
        "-i",
        &format!("sine=frequency=660:sample_rate={audio_rate},volume={gain}dB"),
        "-t",
        &secs.to_string(),
        "-ac",
        "2",
        "-ar",
        &audio_rate.to_string(),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-profile:v",
        "high",
        "-level:v",
        match h {
            0..=360 => "3.0",
            361..=720 => "3.1",
            _ => "4.0",
        },
        "-pix_fmt",
        "yuv420p",
        "-g",
        &(2 * fps).to_string(),
        "-keyint_min",
        &(2 * fps).to_string(),
        "-sc_threshold",
        "0",
        "-b:v",
        &format!("{}k", w * h / 600),
        "-c:a",
        "aac",
        "-b:a",
        "96k",
        &out.to_string_lossy(),
    ]);
}

fn make_fixtures(dir: &Path) {
    let creatives = dir.join("creatives");
    std::fs::create_dir_all(&creatives).unwrap();
    make_ladder(dir, LADDER, 4);
    // 1080p30 H.264 + 48 kHz stereo AAC, loud.
    make_creative(&creatives.join("c1080p30.mp4"), 1920, 1080, 30, 4, 48000, 8);
    // 720p25 with HE-AAC (48 kHz, SBR over a 24 kHz core), quiet.
    let lc = creatives.join("c720p25-lc24k.mp4");
    make_creative(&lc, 1280, 720, 25, 4, 24000, -10);
    let patched = signal_he_aac(&std::fs::read(&lc).unwrap());
    std::fs::write(creatives.join("c720p25-heaac.mp4"), patched).unwrap();
    std::fs::remove_file(&lc).unwrap();
    // Matches the top rendition (640x360 30 fps High, keyframes on the 2 s grid).
    make_creative(
        &creatives.join("c360p30-match.mp4"),
        640,
        360,
        30,
        4,
        44100,
        0,
    );
}

/// 30 s creatives and a 720p/480p/360p ladder for the benchmark.
pub fn bench_fixtures(base: &Path) -> PathBuf {
    let dir = base.join("bench-v2");
    if dir.join("done").is_file() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("creatives")).unwrap();
    make_ladder(
        &dir,
        &[
            ("hi", 1280, 720, "high", "avc1.64001f", 3_000_000),
            ("mid", 854, 480, "main", "avc1.4d401e", 1_200_000),
            ("lo", 640, 360, "baseline", "avc1.42c01e", 600_000),
        ],
        4,
    );
    make_creative(
        &dir.join("creatives/b720p30-match.mp4"),
        1280,
        720,
        30,
        30,
        48000,
        0,
    );
    make_creative(
        &dir.join("creatives/b1080p30.mp4"),
        1920,
        1080,
        30,
        30,
        48000,
        0,
    );
    std::fs::write(dir.join("done"), b"").unwrap();
    dir
}

// ---------------------------------------------------------------- HE-AAC

/// Rewrite the AudioSpecificConfig of an MP4 whose AAC-LC track is at 24 kHz to
/// explicit hierarchical SBR signalling (ISO/IEC 14496-3 §1.6.5.2): HE-AAC v1 at
/// 48 kHz over the 24 kHz core. Debian's ffmpeg has no HE-AAC encoder; decoders
/// (ffmpeg's included) play this as HE-AAC, upsampling the core with SBR. `moov`
/// must follow `mdat` (ffmpeg's default), so no chunk offset moves.
pub fn signal_he_aac(mp4: &[u8]) -> Vec<u8> {
    // AOT 5 (SBR), core 24 kHz (index 6), stereo, extension 48 kHz (index 3),
    // AOT 2 (LC), GASpecificConfig 000.
    const ASC: [u8; 4] = [0x2B, 0x11, 0x88, 0x00];
    fn boxes(data: &[u8]) -> Vec<(&[u8; 4], &[u8])> {
        let mut out = Vec::new();
        let mut off = 0;
        while off + 8 <= data.len() {
            let size = u32::from_be_bytes(data[off..off + 4].try_into().unwrap()) as usize;
            let kind: &[u8; 4] = data[off + 4..off + 8].try_into().unwrap();
            out.push((kind, &data[off + 8..off + size]));
            off += size;
        }
        out
    }
    fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }
    fn read_desc(b: &[u8]) -> (u8, &[u8], usize) {
        let tag = b[0];
        let (mut len, mut i) = (0usize, 1);
        loop {
            let x = b[i];
            len = (len << 7) | (x & 0x7f) as usize;
            i += 1;
            if x & 0x80 == 0 {
                break;
            }
        }
        (tag, &b[i..i + len], i + len)
    }
    fn desc(tag: u8, body: &[u8]) -> Vec<u8> {
        let n = body.len();
        let mut v = vec![
            tag,
            0x80 | (n >> 21) as u8 & 0x7f,
            0x80 | (n >> 14) as u8 & 0x7f,
            0x80 | (n >> 7) as u8 & 0x7f,
            n as u8 & 0x7f,
        ];
        v.extend_from_slice(body);
        v
    }
    fn descs(mut b: &[u8], f: &mut dyn FnMut(u8, &[u8]) -> Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let (tag, body, used) = read_desc(b);
            out.extend(f(tag, body));
            b = &b[used..];
        }
        out
    }
    fn esds(payload: &[u8]) -> Vec<u8> {
        let mut out = payload[..4].to_vec();
        out.extend(descs(&payload[4..], &mut |tag, body| {
            if tag != 3 {
                return desc(tag, body);
            }
            let mut es = body[..3].to_vec();
            es.extend(descs(&body[3..], &mut |tag, body| {
                if tag != 4 {
                    return desc(tag, body);
                }
                let mut dc = body[..13].to_vec();
                dc.extend(descs(&body[13..], &mut |tag, body| {
                    if tag == 5 {
                        desc(5, &ASC)
                    } else {
                        desc(tag, body)
                    }
                }));
                desc(4, &dc)
            }));
            desc(3, &es)
        }));
        out
    }
    fn walk(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (kind, payload) in boxes(data) {
            let new = match kind {
                b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" => walk(payload),
                b"stsd" => [&payload[..8], &walk(&payload[8..])[..]].concat(),
                b"mp4a" => [&payload[..28], &walk(&payload[28..])[..]].concat(),
                b"esds" => esds(payload),
                _ => payload.to_vec(),
            };
            out.extend(boxed(kind, &new));
        }
        out
    }
    let top = boxes(mp4);
    let moov_last = top.last().is_some_and(|(k, _)| *k == b"moov");
    assert!(moov_last, "moov must be the last box");
    walk(mp4)
}

// ---------------------------------------------------------------- probes

#[derive(Debug, Default)]
pub struct Probe {
    pub video_codec: String,
    pub video_profile: String,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub audio_codec: String,
    pub audio_profile: String,
    pub sample_rate: u32,
    pub channels: u32,
    pub duration: f64,
}

pub fn ffprobe(path: &Path) -> Probe {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut p = Probe {
        duration: v["format"]["duration"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0.0),
        ..Probe::default()
    };
    for s in v["streams"].as_array().unwrap() {
        let text = |k: &str| s[k].as_str().unwrap_or_default().to_string();
        match s["codec_type"].as_str() {
            Some("video") if p.video_codec.is_empty() => {
                p.video_codec = text("codec_name");
                p.video_profile = text("profile");
                p.width = s["width"].as_u64().unwrap_or(0) as u32;
                p.height = s["height"].as_u64().unwrap_or(0) as u32;
                p.fps = splicepoint::transcode::probe::parse_rate(&text("avg_frame_rate"))
                    .or_else(|| splicepoint::transcode::probe::parse_rate(&text("r_frame_rate")))
                    .unwrap_or(0.0);
            }
            Some("audio") if p.audio_codec.is_empty() => {
                p.audio_codec = text("codec_name");
                p.audio_profile = text("profile");
                p.sample_rate = text("sample_rate").parse().unwrap_or(0);
                p.channels = s["channels"].as_u64().unwrap_or(0) as u32;
            }
            _ => {}
        }
    }
    p
}

/// The audio object type of the first audio stream's AudioSpecificConfig (5: SBR).
pub fn audio_object_type(path: &Path) -> u8 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=extradata",
            "-show_data",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dump = v["streams"][0]["extradata"].as_str().unwrap_or_default();
    // "\n00000000: 2b11 8800 ..." → the first byte.
    let hex = dump.trim().split(": ").nth(1).unwrap_or_default();
    u8::from_str_radix(&hex[..2], 16).unwrap_or(0) >> 3
}

/// Integrated loudness, LUFS.
pub fn loudness(path: &Path) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args([
            "-map",
            "0:a:0",
            "-af",
            "loudnorm=print_format=json",
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    splicepoint::transcode::probe::parse_loudnorm(&String::from_utf8_lossy(&out.stderr))
        .expect("loudnorm report")
        .0
}

/// Every `seg*.ts` in `dir` starts with a keyframe.
pub fn keyframes_start_segments(dir: &Path) -> bool {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "ts") {
            n += 1;
            let out = Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-select_streams",
                    "v:0",
                    "-read_intervals",
                    "%+#1",
                    "-show_entries",
                    "packet=flags",
                    "-of",
                    "csv=p=0",
                ])
                .arg(&p)
                .output()
                .unwrap();
            if !String::from_utf8_lossy(&out.stdout).starts_with('K') {
                return false;
            }
        }
    }
    n > 0
}

// ---------------------------------------------------------------- servers

/// A VOD session with `pod=creative` on channel `t`: the first variant's playlist.
#[allow(dead_code)] // tests/transcode.rs uses the Proxy
pub async fn first_preroll(base: &str, creative: &str) -> String {
    preroll(reqwest::Client::new(), base.into(), creative.into(), 0).await
}

/// The value of counter `name` with `reason="..."`, summed over its other labels
/// (the configuration).
pub fn metric(text: &str, name: &str, reason: &str) -> u64 {
    let want = format!("reason=\"{reason}\"");
    text.lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix('{')?.split_once("} "))
        .filter(|(labels, _)| labels.split(',').any(|kv| kv == want))
        .filter_map(|(_, v)| v.trim().parse::<u64>().ok())
        .sum()
}

pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Origin (`/origin/...`), creatives (`/creatives/...`), ADS (`/ads/vast?pod=FILE`)
/// and the ads' VAST Error URL (`/err/[ERRORCODE]`, recorded in `errors`).
pub struct Upstream {
    pub base: String,
    pub errors: Arc<std::sync::Mutex<Vec<String>>>,
}

struct UpState {
    dir: PathBuf,
    base: std::sync::Mutex<String>,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
}

async fn vast_error(State(st): State<Arc<UpState>>, UrlPath(code): UrlPath<String>) -> Response {
    st.errors.lock().unwrap().push(code);
    StatusCode::NO_CONTENT.into_response()
}

async fn file(State(st): State<Arc<UpState>>, UrlPath(path): UrlPath<String>) -> Response {
    if path.split('/').any(|s| s == "..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(st.dir.join(&path)).await {
        Ok(b) => b.into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn vast(
    State(st): State<Arc<UpState>>,
    Query(q): Query<std::collections::BTreeMap<String, String>>,
) -> Response {
    let base = st.base.lock().unwrap().clone();
    let pod = q.get("pod").cloned().unwrap_or_default();
    format!(
        "<VAST version=\"4.0\"><Ad id=\"ad-{pod}\"><InLine><AdSystem>t</AdSystem><AdTitle>{pod}</AdTitle><Error>{base}/err/[ERRORCODE]</Error><Impression>http://127.0.0.1:1/i</Impression><Creatives><Creative id=\"cr-{pod}\"><UniversalAdId idRegistry=\"test\">{pod}</UniversalAdId><Linear><Duration>00:00:04</Duration><MediaFiles><MediaFile delivery=\"progressive\" type=\"video/mp4\" width=\"1920\" height=\"1080\">{base}/creatives/{pod}</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>"
    )
    .into_response()
}

impl Upstream {
    pub async fn start(dir: &Path) -> Self {
        let errors = Arc::default();
        let st = Arc::new(UpState {
            dir: dir.to_path_buf(),
            base: std::sync::Mutex::new(String::new()),
            errors: Arc::clone(&errors),
        });
        let app = Router::new()
            .route("/ads/vast", get(vast))
            .route("/err/{code}", get(vast_error))
            .route("/{*path}", get(file))
            .with_state(st.clone());
        let base = serve(app).await;
        *st.base.lock().unwrap() = base.clone();
        Self { base, errors }
    }

    pub fn channel(&self, policy: &str) -> Channel {
        let raw: PlaybackConfig = toml::from_str(&format!(
            "name = \"t\"\norigin = \"{b}/origin/\"\nads_url = \"{b}/ads/vast?pod=[player_params.pod]\"\nfirst_sighting = \"{policy}\"\ntranscode_wait_ms = 20000\n",
            b = self.base
        ))
        .unwrap();
        raw.validate("test", "t").unwrap()
    }
}

pub fn session_for(base: &str) -> Session {
    serde_json::from_value(serde_json::json!({
        "id": "0123456789abcdef0123456789abcdef",
        "uuid": "u",
        "channel": "t",
        "player_params": {},
        "user_agent": "",
        "client_ip": "",
        "referer": "",
        "master_url": format!("{base}/origin/master.m3u8"),
    }))
    .unwrap()
}

/// splicepoint over the upstream, with its own store.
pub struct Proxy {
    pub base: String,
    pub transcoder: Transcoder,
    http: reqwest::Client,
}

impl Proxy {
    pub async fn start(up: &Upstream, policy: &str, store: &Path) -> Self {
        let channel = up.channel(policy);
        let channels = [(channel.name.clone(), Arc::new(channel))]
            .into_iter()
            .collect();
        let mut st = AppState::new(Arc::new(channels));
        st.transcoder = Transcoder::new(
            TranscodeSettings {
                store: splicepoint::config::StoreLocation::Local(store.to_path_buf()),
                ..TranscodeSettings::default()
            },
            st.http.clone(),
            st.metrics.clone(),
        );
        let transcoder = st.transcoder.clone();
        let base = serve(router(st)).await;
        transcoder.set_default_public_url(&base);
        Self {
            base,
            transcoder,
            http: reqwest::Client::new(),
        }
    }

    /// A new VOD session with `pod=creative`: variant `i`'s playlist (implicit pre-roll).
    pub async fn preroll_variant(&self, creative: &str, i: usize) -> String {
        preroll(
            self.http.clone(),
            self.base.clone(),
            creative.to_string(),
            i,
        )
        .await
    }

    /// [`Proxy::preroll_variant`] for the first variant, as a spawnable future.
    pub fn preroll_playlist(
        &self,
        creative: &str,
    ) -> impl std::future::Future<Output = String> + Send + 'static {
        preroll(
            self.http.clone(),
            self.base.clone(),
            creative.to_string(),
            0,
        )
    }

    pub async fn metrics(&self) -> String {
        http_get(&self.http, &self.base, "/metrics").await
    }
}

async fn http_get(http: &reqwest::Client, base: &str, path: &str) -> String {
    let r = http.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn preroll(http: reqwest::Client, base: String, creative: String, i: usize) -> String {
    let master = http_get(
        &http,
        &base,
        &format!("/v1/master/t/master.m3u8?pod={creative}"),
    )
    .await;
    let variant = master
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .nth(i)
        .unwrap()
        .to_string();
    http_get(&http, &base, &variant).await
}

// ---------------------------------------------------------------- moto

/// A moto S3 server (PyPI `moto[server]`) in `tests/transcode/.venv`.
pub struct Moto {
    pub endpoint: String,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    pub fn start() -> Option<Self> {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcode/.venv");
        let server = venv.join("bin/moto_server");
        static SETUP: OnceLock<Result<(), String>> = OnceLock::new();
        let setup = SETUP.get_or_init(|| {
            if server.is_file() {
                return Ok(());
            }
            let run = |cmd: &mut Command| -> Result<(), String> {
                let out = cmd.output().map_err(|e| e.to_string())?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&out.stderr)
                        .chars()
                        .take(2000)
                        .collect())
                }
            };
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
            run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "moto[server]"]))
        });
        if let Err(e) = setup {
            eprintln!("SKIPPED: the S3 store test needs moto (pip install 'moto[server]' into tests/transcode/.venv failed): {e}");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let moto = Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                eprintln!("SKIPPED: moto_server did not start");
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }
}
