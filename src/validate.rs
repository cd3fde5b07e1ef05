//! `splicepoint validate URL|FILE [--watch SECONDS] [--json]`: fetch a multivariant
//! playlist or an MPD and every rendition it names, check each against the
//! [`conformance`] rules, and again and again with `--watch` (a live playlist is
//! then also compared with its previous answer). Exit status 1 when any problem is
//! found. The admin API's `GET /v1/admin/configs/{name}/validate` answers the same
//! [`Report`] for a channel's origin manifests.
//!
//! I/O: files are read, URLs fetched (reqwest, with a timeout and a size cap); the
//! rules themselves are the pure [`conformance`] module.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use crate::conformance::{self, Kind, Problem};
use crate::hls::attr;

/// Largest manifest read.
pub const MAX_MANIFEST_BYTES: usize = 16 * 1024 * 1024;
/// Most renditions followed from one multivariant playlist.
pub const MAX_RENDITIONS: usize = 256;

/// The command line of `splicepoint validate`.
#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// A multivariant or media playlist, or an MPD: a file or an http(s) URL.
    pub source: String,
    /// Fetch again every SECONDS (live): each answer is also checked against the
    /// previous one. Stops at Ctrl-C, after `--rounds`, or when nothing can change
    /// any more (every playlist ended, every MPD static).
    #[arg(long, value_name = "SECONDS")]
    pub watch: Option<u64>,
    /// How many rounds `--watch` runs at most.
    #[arg(long)]
    pub rounds: Option<u64>,
    /// JSON (one document per round) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Fetch timeout, seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
    /// SOURCE is a directory of manifests a client received, with an `index.json`
    /// listing `{"file", "url", "t"}` (as the player suite saves them): each is
    /// checked, and against the previous answer of the same URL (by `t`).
    #[arg(long)]
    pub replay: bool,
}

/// Why `validate` could not run (problems in manifests are not errors: they are
/// the report).
#[derive(Debug, Error)]
pub enum ValidateError {
    /// Writing the output failed.
    #[error("output: {0}")]
    Output(#[from] std::io::Error),
    /// The report could not be written as JSON.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A replay directory could not be read.
    #[error("replay: {0}")]
    Replay(String),
}

/// One manifest checked.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestReport {
    /// Where it came from.
    pub source: String,
    /// What it is.
    pub kind: Kind,
    /// The broken rules.
    pub problems: Vec<Problem>,
    /// Why it could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One round: every manifest checked.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// 1-based round (`--watch`); 1 otherwise.
    pub round: u64,
    /// The manifests, the given one first.
    pub manifests: Vec<ManifestReport>,
    /// Problems found, all manifests together.
    pub problems: usize,
    /// Manifests that could not be read.
    pub errors: usize,
}

impl Report {
    /// Nothing wrong: no problem and no unreadable manifest.
    pub fn is_clean(&self) -> bool {
        self.problems == 0 && self.errors == 0
    }

    /// The report as readable text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for m in &self.manifests {
            let kind = match m.kind {
                Kind::HlsMedia => "HLS media playlist",
                Kind::HlsMultivariant => "HLS multivariant playlist",
                Kind::Mpd => "MPD",
                Kind::Unknown => "unknown",
            };
            match (&m.error, m.problems.len()) {
                (Some(e), _) => {
                    let _ = writeln!(s, "{}: could not be read: {e}", m.source);
                }
                (None, 0) => {
                    let _ = writeln!(s, "{} ({kind}): ok", m.source);
                }
                (None, n) => {
                    let _ = writeln!(s, "{} ({kind}): {n} problem(s)", m.source);
                    for p in &m.problems {
                        let _ = writeln!(s, "  {p}");
                    }
                }
            }
        }
        let _ = writeln!(
            s,
            "{} manifest(s), {} problem(s), {} unreadable",
            self.manifests.len(),
            self.problems,
            self.errors
        );
        s
    }
}

/// Reads manifests and remembers each one's last answer (for the refresh rules).
pub struct Validator {
    http: reqwest::Client,
    timeout: Duration,
    max_bytes: usize,
    previous: HashMap<String, String>,
    /// Where each source was read from the first time (a redirect to a session),
    /// and the renditions its multivariant playlist named then: later rounds read
    /// the same ones, so that a session's playlists are compared with themselves
    /// even when the source starts a new session on every request.
    first_seen: HashMap<String, (String, Vec<String>)>,
    round: u64,
}

impl Validator {
    /// A validator fetching with `http` within `timeout` and `max_bytes`.
    pub fn new(http: reqwest::Client, timeout: Duration, max_bytes: usize) -> Self {
        Self {
            http,
            timeout,
            max_bytes,
            previous: HashMap::new(),
            first_seen: HashMap::new(),
            round: 0,
        }
    }

    /// The text at `source`, and the URL it was finally read from (after redirects).
    async fn load(&self, source: &str) -> Result<(String, String), String> {
        if source.starts_with("http://") || source.starts_with("https://") {
            return fetch(&self.http, source, self.timeout, self.max_bytes).await;
        }
        let bytes = tokio::fs::read(source).await.map_err(|e| e.to_string())?;
        if bytes.len() > self.max_bytes {
            return Err(format!("larger than {} bytes", self.max_bytes));
        }
        let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
        Ok((text, source.to_string()))
    }

    /// One round over `sources` and every rendition their multivariant playlists
    /// name (each manifest once).
    pub async fn round(&mut self, sources: &[String]) -> Report {
        self.round += 1;
        let mut report = Report {
            round: self.round,
            ..Report::default()
        };
        let mut queue: Vec<String> = sources.to_vec();
        let mut done: HashSet<String> = HashSet::new();
        let mut i = 0;
        while i < queue.len() && done.len() < MAX_RENDITIONS + sources.len() {
            let asked = queue[i].clone();
            i += 1;
            let remembered = self.first_seen.get(&asked).cloned();
            let source = remembered
                .as_ref()
                .map_or(asked.clone(), |(u, _)| u.clone());
            if !done.insert(source.clone()) {
                continue;
            }
            let (text, final_url) = match self.load(&source).await {
                Ok(t) => t,
                Err(e) => {
                    report.errors += 1;
                    report.manifests.push(ManifestReport {
                        source,
                        kind: Kind::Unknown,
                        problems: Vec::new(),
                        error: Some(e),
                    });
                    continue;
                }
            };
            let (kind, problems) = match self.previous.get(&source) {
                Some(prev) => conformance::check_next(prev, &text),
                None => conformance::check(&text),
            };
            let renditions = match remembered {
                Some((_, r)) => r,
                None => {
                    let r: Vec<String> = if kind == Kind::HlsMultivariant {
                        rendition_uris(&text)
                            .into_iter()
                            .filter_map(|u| resolve(&final_url, &u))
                            .collect()
                    } else {
                        Vec::new()
                    };
                    self.first_seen
                        .insert(asked, (final_url.clone(), r.clone()));
                    r
                }
            };
            queue.extend(renditions);
            report.problems += problems.len();
            report.manifests.push(ManifestReport {
                source: final_url.clone(),
                kind,
                problems,
                error: None,
            });
            let source = final_url;
            self.previous.insert(source, text);
        }
        report
    }

    /// The last answer read from each manifest: (where it was read, text).
    pub fn latest(&self) -> impl Iterator<Item = (&str, &str)> {
        self.previous.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Can any manifest seen still change (a live playlist, a dynamic MPD)?
    pub fn any_live(&self) -> bool {
        self.previous
            .values()
            .any(|t| match conformance::kind_of(t) {
                Kind::HlsMedia => !t.lines().any(|l| {
                    let l = l.trim();
                    l == "#EXT-X-ENDLIST" || l == "#EXT-X-PLAYLIST-TYPE:VOD"
                }),
                Kind::Mpd => t.contains("\"dynamic\"") || t.contains("'dynamic'"),
                _ => false,
            })
    }
}

/// The URIs a multivariant playlist names: variant streams, I-frame playlists and
/// renditions (`EXT-X-MEDIA` with a URI).
pub fn rendition_uris(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut after_stream_inf = false;
    for l in text.lines() {
        let l = l.trim();
        if l.is_empty() {
            continue;
        }
        if let Some(list) = l
            .strip_prefix("#EXT-X-I-FRAME-STREAM-INF:")
            .or_else(|| l.strip_prefix("#EXT-X-MEDIA:"))
        {
            out.extend(attr::attribute(list, "URI").map(str::to_string));
        } else if l.starts_with("#EXT-X-STREAM-INF:") {
            after_stream_inf = true;
            continue;
        } else if !l.starts_with('#') && after_stream_inf {
            out.push(l.to_string());
        }
        if !l.starts_with('#') || l.starts_with("#EXT") {
            after_stream_inf = false;
        }
    }
    out
}

/// GET `url` within `timeout` and `max_bytes`: the text and the final URL.
async fn fetch(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
    max_bytes: usize,
) -> Result<(String, String), String> {
    let work = async {
        let mut resp = http.get(url).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP status {}", resp.status().as_u16()));
        }
        let final_url = resp.url().to_string();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > max_bytes {
                return Err(format!("body larger than {max_bytes} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).map_err(|_| "body is not UTF-8 text".to_string())?;
        Ok((text, final_url))
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}

/// `uri` relative to the manifest at `base` (a URL or a file path).
fn resolve(base: &str, uri: &str) -> Option<String> {
    if let Ok(abs) = crate::urls::parse(uri) {
        return Some(abs.to_string());
    }
    if let Ok(b) = crate::urls::parse(base) {
        return crate::urls::join(&b, uri).ok().map(|u| u.to_string());
    }
    let dir = Path::new(base).parent().unwrap_or(Path::new(""));
    let path = uri.split(['?', '#']).next().unwrap_or(uri);
    Some(dir.join(path).to_string_lossy().into_owned())
}

/// Check the manifests a client received, saved in `dir` with an `index.json` of
/// `{"file", "url", "t", "status"}` entries: each one alone, and against the previous
/// answer of the same URL (entries in `t` order; non-200 answers skipped).
pub fn replay(dir: &Path) -> Result<Report, ValidateError> {
    let index = std::fs::read_to_string(dir.join("index.json"))
        .map_err(|e| ValidateError::Replay(format!("{}: {e}", dir.join("index.json").display())))?;
    let entries: Vec<serde_json::Value> = serde_json::from_str(&index)
        .map_err(|e| ValidateError::Replay(format!("index.json: {e}")))?;
    let mut entries: Vec<(f64, String, String)> = entries
        .iter()
        .filter(|e| e["status"].as_u64().is_none_or(|s| s == 200))
        .filter_map(|e| {
            Some((
                e["t"].as_f64().unwrap_or(0.0),
                e["file"].as_str()?.to_string(),
                e["url"].as_str().unwrap_or("").to_string(),
            ))
        })
        .collect();
    entries.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    let mut previous: HashMap<String, String> = HashMap::new();
    let mut report = Report {
        round: 1,
        ..Report::default()
    };
    for (_, file, url) in entries {
        let source = format!("{url} ({file})");
        let text = match std::fs::read_to_string(dir.join(&file)) {
            Ok(t) => t,
            Err(e) => {
                report.errors += 1;
                report.manifests.push(ManifestReport {
                    source,
                    kind: Kind::Unknown,
                    problems: Vec::new(),
                    error: Some(e.to_string()),
                });
                continue;
            }
        };
        let (kind, problems) = match previous.get(&url) {
            Some(prev) => conformance::check_next(prev, &text),
            None => conformance::check(&text),
        };
        report.problems += problems.len();
        report.manifests.push(ManifestReport {
            source,
            kind,
            problems,
            error: None,
        });
        previous.insert(url, text);
    }
    Ok(report)
}

/// Run `splicepoint validate`: reports to `out`. `Ok(true)` when every round was
/// clean.
pub async fn run(args: ValidateArgs, out: &mut impl Write) -> Result<bool, ValidateError> {
    if args.replay {
        let report = replay(Path::new(&args.source))?;
        if args.json {
            serde_json::to_writer(&mut *out, &report)?;
            writeln!(out)?;
        } else {
            write!(out, "{}", report.to_text())?;
        }
        out.flush()?;
        return Ok(report.is_clean());
    }
    let http = crate::origin::client::http_client();
    let mut v = Validator::new(
        http,
        Duration::from_secs(args.timeout_secs.max(1)),
        MAX_MANIFEST_BYTES,
    );
    let sources = vec![args.source.clone()];
    let mut clean = true;
    let rounds = match args.watch {
        None => 1,
        Some(_) => args.rounds.unwrap_or(u64::MAX).max(1),
    };
    for n in 0..rounds {
        let report = v.round(&sources).await;
        clean &= report.is_clean();
        if args.json {
            serde_json::to_writer(&mut *out, &report)?;
            writeln!(out)?;
        } else {
            if args.watch.is_some() {
                writeln!(out, "round {}", report.round)?;
            }
            write!(out, "{}", report.to_text())?;
        }
        out.flush()?;
        let Some(every) = args.watch else { break };
        if n + 1 == rounds || !v.any_live() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(every.max(1))) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_rendition_of_a_multivariant() {
        let text = "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"audio/en.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=1000,AUDIO=\"a\"\n\nv0.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100,URI=\"iframes.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=2000\n# a comment\nhttps://cdn.example/v1.m3u8\nstray.m3u8\n";
        assert_eq!(
            rendition_uris(text),
            [
                "audio/en.m3u8",
                "v0.m3u8",
                "iframes.m3u8",
                "https://cdn.example/v1.m3u8"
            ]
        );
        assert_eq!(
            resolve("http://o.example/live/master.m3u8", "v0.m3u8").as_deref(),
            Some("http://o.example/live/v0.m3u8")
        );
        assert_eq!(
            resolve("/tmp/x/master.m3u8", "v0.m3u8?x=1").as_deref(),
            Some("/tmp/x/v0.m3u8")
        );
    }

    #[test]
    fn a_replay_compares_answers_of_one_url_in_time_order() {
        let dir = std::env::temp_dir().join(format!("splicepoint-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let live = |msn: u64, first: &str| {
            format!("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:{msn}\n#EXTINF:6,\n{first}\n#EXTINF:6,\nb.ts\n")
        };
        std::fs::write(dir.join("0001.m3u8"), live(10, "a.ts")).unwrap();
        std::fs::write(dir.join("0002.m3u8"), live(10, "x.ts")).unwrap();
        std::fs::write(dir.join("0003.m3u8"), live(5, "a.ts")).unwrap();
        // 0002 came first in time; 0003 is another URL; the 404 is skipped.
        std::fs::write(
            dir.join("index.json"),
            r#"[{"file":"0001.m3u8","url":"http://p/v0.m3u8","t":2.0,"status":200},
                {"file":"0002.m3u8","url":"http://p/v0.m3u8","t":1.0,"status":200},
                {"file":"0003.m3u8","url":"http://p/v1.m3u8","t":3.0,"status":200},
                {"file":"0004.m3u8","url":"http://p/v1.m3u8","t":4.0,"status":404}]"#,
        )
        .unwrap();
        let r = replay(&dir).unwrap();
        assert_eq!(r.manifests.len(), 3);
        assert_eq!(r.manifests[0].source, "http://p/v0.m3u8 (0002.m3u8)");
        let rules: Vec<&str> = r.manifests[1]
            .problems
            .iter()
            .map(|p| p.rule.code())
            .collect();
        assert_eq!(rules, ["hls.refresh-identity"]);
        assert!(r.manifests[2].problems.is_empty());
        assert_eq!(r.problems, 1);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(replay(&dir).is_err());
    }

    #[tokio::test]
    async fn a_round_reads_a_file_and_its_renditions_and_compares_refreshes() {
        let dir = std::env::temp_dir().join(format!("splicepoint-validate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let master = dir.join("master.m3u8");
        std::fs::write(
            &master,
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nmedia.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2000\nmissing.m3u8\n",
        )
        .unwrap();
        let media = dir.join("media.m3u8");
        std::fs::write(
            &media,
            "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:5\n#EXTINF:6,\na.ts\n",
        )
        .unwrap();
        let mut v = Validator::new(reqwest::Client::new(), Duration::from_secs(1), 1 << 20);
        let sources = vec![master.to_string_lossy().into_owned()];
        let r1 = v.round(&sources).await;
        assert_eq!(r1.manifests.len(), 3);
        assert_eq!((r1.problems, r1.errors), (0, 1));
        assert!(!r1.is_clean());
        assert!(v.any_live());
        // The origin goes back in time: the second round says so.
        std::fs::write(
            &media,
            "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:4\n#EXTINF:6,\nz.ts\n#EXTINF:6,\nb.ts\n",
        )
        .unwrap();
        let r2 = v.round(&sources).await;
        let rules: Vec<&str> = r2.manifests[1]
            .problems
            .iter()
            .map(|p| p.rule.code())
            .collect();
        assert_eq!(rules, ["hls.refresh-sequence", "hls.refresh-identity"]);
        assert_eq!(r2.round, 2);
        let json = serde_json::to_value(&r2).unwrap();
        assert_eq!(
            json["manifests"][1]["problems"][0]["rule"],
            "hls.refresh-sequence"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
