//! Playback configurations: one TOML file per channel in the config directory.
//!
//! Mostly pure: [`parse_config`] and [`PlaybackConfig::validate`] take text and
//! return values; [`load_dir`] reads the directory.
//!
//! ```toml
//! origin = "http://host/live/"            # content source; the player's path is appended
//! ads_url = "http://ads/vast?dur=[session.avail_duration_secs]&sid=[session.id]"
//! slate = "http://host/slate/master.m3u8"  # optional
//! content_segment_prefix = "https://cdn.example.com/live/"   # optional
//! ad_segment_prefix = "https://ads-cdn.example.com/"         # optional
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use url::Url;

/// Default origin fetch timeout.
pub const DEFAULT_ORIGIN_TIMEOUT_MS: u64 = 2_000;
/// Default cap on an origin manifest's size.
pub const DEFAULT_ORIGIN_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Default ADS call timeout.
pub const DEFAULT_ADS_TIMEOUT_MS: u64 = 3_000;

/// One channel's playback configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlaybackConfig {
    /// Name used in URLs; defaults to the file stem.
    pub name: Option<String>,
    /// Content source base URL; the player's path is appended. Must be http(s).
    pub origin: String,
    /// ADS URL template with `[session.*]`, `[player_params.*]`, `[avail.*]`,
    /// `[scte.*]` variables. The scheme and host must be literal.
    pub ads_url: String,
    /// HLS playlist (multivariant or media) that fills break time no ad covers.
    pub slate: Option<String>,
    /// DASH MPD that fills break time no ad covers in DASH sessions.
    pub dash_slate: Option<String>,
    /// Prefix that replaces the origin base in content segment URIs.
    pub content_segment_prefix: Option<String>,
    /// Prefix that replaces the scheme and host of ad segment URIs.
    pub ad_segment_prefix: Option<String>,
    /// Origin fetch timeout, milliseconds.
    pub origin_timeout_ms: u64,
    /// Largest origin manifest accepted, bytes.
    pub origin_max_bytes: usize,
    /// ADS call timeout (each wrapper hop), milliseconds.
    pub ads_timeout_ms: u64,
    /// Avail duration assumed for a live break whose marker gives none, seconds.
    pub default_avail_duration_secs: f64,
    /// Avail duration asked of the ADS for a VOD insertion point without a duration
    /// (`CUE-OUT:0`, or the implicit pre-roll), seconds.
    pub vod_avail_duration_secs: f64,
    /// How long the last good origin manifest may stand in for a failing origin,
    /// seconds.
    pub stale_if_error_secs: u64,
    /// Personalization threshold, seconds: an unfilled remainder of a break longer
    /// than this plays the content instead of slate. Unset: always slate.
    pub personalization_threshold_secs: Option<f64>,
    /// HLS bumper played before the ads of every filled break.
    pub bumper_start: Option<String>,
    /// HLS bumper played after the ads of every filled break.
    pub bumper_end: Option<String>,
    /// DASH bumper played before the ads of every filled break.
    pub dash_bumper_start: Option<String>,
    /// DASH bumper played after the ads of every filled break.
    pub dash_bumper_end: Option<String>,
    /// ADS URL template of the live pre-roll, played when a live HLS session starts.
    pub live_preroll_ads_url: Option<String>,
    /// Longest live pre-roll, seconds.
    pub live_preroll_max_duration_secs: f64,
    /// Avail suppression (a session's own settings override it).
    pub avail_suppression: AvailSuppression,
    /// SCTE-35 `segmentation_type_id`s (TOML integers: `0x34` or `52`) whose cues act
    /// on ad breaks: an even id opens a break, an odd id closes one. `splice_insert`
    /// cues always count. Default: 0x22/0x23 (Break), 0x30/0x31 (Provider
    /// Advertisement), 0x32/0x33 (Distributor Advertisement), 0x34/0x35 (Provider
    /// Placement Opportunity), 0x36/0x37 (Distributor Placement Opportunity).
    pub scte35_segmentation_types: Vec<u8>,
    /// Accept SCTE-35 cues whose `CRC_32` is wrong (some encoders never compute it).
    /// Off by default: such a cue is malformed, and a marker that only carries it
    /// passes the content through.
    pub scte35_lenient_crc: bool,
}

impl Default for PlaybackConfig {
    fn default() -> Self {
        Self {
            name: None,
            origin: String::new(),
            ads_url: String::new(),
            slate: None,
            dash_slate: None,
            content_segment_prefix: None,
            ad_segment_prefix: None,
            origin_timeout_ms: DEFAULT_ORIGIN_TIMEOUT_MS,
            origin_max_bytes: DEFAULT_ORIGIN_MAX_BYTES,
            ads_timeout_ms: DEFAULT_ADS_TIMEOUT_MS,
            default_avail_duration_secs: 30.0,
            vod_avail_duration_secs: 30.0,
            stale_if_error_secs: 30,
            personalization_threshold_secs: None,
            bumper_start: None,
            bumper_end: None,
            dash_bumper_start: None,
            dash_bumper_end: None,
            live_preroll_ads_url: None,
            live_preroll_max_duration_secs: 30.0,
            avail_suppression: AvailSuppression::default(),
            scte35_segmentation_types: crate::scte35::rules::DEFAULT_SEGMENTATION_TYPES.to_vec(),
            scte35_lenient_crc: false,
        }
    }
}

/// Which ad breaks are left unfilled (MediaTailor's avail suppression).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AvailSuppression {
    /// `off`, `behind_live_edge` or `after_live_edge`.
    pub mode: SuppressionMode,
    /// Seconds: how far behind the live edge (behind_live_edge), or how long after
    /// the session started (after_live_edge).
    pub value_secs: f64,
    /// `full_avail_only` (a suppressed break plays its content) or `partial_avail`
    /// (behind_live_edge: a break still running when first seen is filled).
    pub fill_policy: FillPolicy,
}

/// Avail suppression modes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionMode {
    /// Every break is filled.
    #[default]
    Off,
    /// Breaks that started more than `value_secs` behind the live edge when the
    /// session first saw them are left as content.
    BehindLiveEdge,
    /// Breaks first seen within `value_secs` of the session's start are left as
    /// content (the viewer just tuned in).
    AfterLiveEdge,
}

/// What suppression does with a break in progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillPolicy {
    /// Suppress the whole break.
    #[default]
    FullAvailOnly,
    /// Fill a break that is still running.
    PartialAvail,
}

/// A configuration problem: which file, which key, why.
#[derive(Debug, Error, PartialEq)]
#[error("{file}: `{key}`: {reason}")]
pub struct ConfigError {
    /// The file (or source) name.
    pub file: String,
    /// The offending key (or `-` for the whole file).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

/// A validated configuration, ready to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// URL name.
    pub name: String,
    /// The file as written.
    pub raw: PlaybackConfig,
    /// Origin base, always ending with `/`.
    pub origin: Url,
    /// Slate URL.
    pub slate: Option<Url>,
    /// DASH slate URL.
    pub dash_slate: Option<Url>,
}

impl Channel {
    /// Origin fetch timeout.
    pub fn origin_timeout(&self) -> Duration {
        Duration::from_millis(self.raw.origin_timeout_ms)
    }
    /// ADS timeout.
    pub fn ads_timeout(&self) -> Duration {
        Duration::from_millis(self.raw.ads_timeout_ms)
    }

    /// The rules for SCTE-35 cues (`scte35_segmentation_types`, `scte35_lenient_crc`).
    pub fn cue_rules(&self) -> crate::scte35::CueRules {
        crate::scte35::CueRules {
            segmentation_types: self.raw.scte35_segmentation_types.clone(),
            lenient_crc: self.raw.scte35_lenient_crc,
        }
    }
}

/// All channels by name.
pub type Channels = Arc<BTreeMap<String, Arc<Channel>>>;

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn http_url(file: &str, key: &str, value: &str) -> Result<Url, ConfigError> {
    let err = |reason: String| ConfigError {
        file: file.to_string(),
        key: key.to_string(),
        reason,
    };
    let url = Url::parse(value).map_err(|e| err(format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err(format!(
            "scheme must be http or https, not {}",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(err("no host".to_string()));
    }
    Ok(url)
}

impl PlaybackConfig {
    /// Check every field; `file` names the source in errors.
    pub fn validate(self, file: &str, stem: &str) -> Result<Channel, ConfigError> {
        let err = |key: &str, reason: &str| ConfigError {
            file: file.to_string(),
            key: key.to_string(),
            reason: reason.to_string(),
        };
        let name = self.name.clone().unwrap_or_else(|| stem.to_string());
        if !is_valid_name(&name) {
            return Err(err(
                "name",
                "must be 1-64 characters of letters, digits, '-' or '_'",
            ));
        }
        if self.origin.is_empty() {
            return Err(err("origin", "is required"));
        }
        let mut origin = http_url(file, "origin", &self.origin)?;
        if origin.query().is_some() || origin.fragment().is_some() {
            return Err(err("origin", "must not carry a query or fragment"));
        }
        if !origin.path().ends_with('/') {
            let path = format!("{}/", origin.path());
            origin.set_path(&path);
        }
        if self.ads_url.is_empty() {
            return Err(err("ads_url", "is required"));
        }
        // The ADS host comes from configuration only: no variables before the path.
        let authority_end = self
            .ads_url
            .find("://")
            .map(|i| i + 3)
            .and_then(|start| self.ads_url[start..].find(['/', '?']).map(|e| start + e))
            .unwrap_or(self.ads_url.len());
        if self.ads_url[..authority_end].contains('[') {
            return Err(err(
                "ads_url",
                "the scheme and host must be literal, not template variables",
            ));
        }
        http_url(file, "ads_url", &self.ads_url.replace(['[', ']'], ""))?;
        let slate = match &self.slate {
            Some(s) => Some(http_url(file, "slate", s)?),
            None => None,
        };
        let dash_slate = match &self.dash_slate {
            Some(s) => Some(http_url(file, "dash_slate", s)?),
            None => None,
        };
        for (key, v) in [
            ("content_segment_prefix", &self.content_segment_prefix),
            ("ad_segment_prefix", &self.ad_segment_prefix),
        ] {
            if let Some(v) = v {
                http_url(file, key, v)?;
            }
        }
        if self.origin_timeout_ms == 0 || self.origin_timeout_ms > 60_000 {
            return Err(err("origin_timeout_ms", "must be between 1 and 60000"));
        }
        if self.ads_timeout_ms == 0 || self.ads_timeout_ms > 60_000 {
            return Err(err("ads_timeout_ms", "must be between 1 and 60000"));
        }
        if self.origin_max_bytes < 1024 || self.origin_max_bytes > 64 * 1024 * 1024 {
            return Err(err("origin_max_bytes", "must be between 1 KiB and 64 MiB"));
        }
        for (key, v) in [
            (
                "default_avail_duration_secs",
                self.default_avail_duration_secs,
            ),
            ("vod_avail_duration_secs", self.vod_avail_duration_secs),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 3600.0) {
                return Err(err(key, "must be a number of seconds in (0, 3600]"));
            }
        }
        let types = &self.scte35_segmentation_types;
        if let Some(dup) = types
            .iter()
            .enumerate()
            .find_map(|(i, t)| types[..i].contains(t).then_some(t))
        {
            return Err(err(
                "scte35_segmentation_types",
                &format!("{dup:#04x} is listed twice"),
            ));
        }
        if let Some(t) = self.personalization_threshold_secs {
            if !(t.is_finite() && t >= 0.0) {
                return Err(err(
                    "personalization_threshold_secs",
                    "must be a number of seconds >= 0",
                ));
            }
        }
        for (key, v) in [
            ("bumper_start", &self.bumper_start),
            ("bumper_end", &self.bumper_end),
            ("dash_bumper_start", &self.dash_bumper_start),
            ("dash_bumper_end", &self.dash_bumper_end),
        ] {
            if let Some(v) = v {
                http_url(file, key, v)?;
            }
        }
        if let Some(u) = &self.live_preroll_ads_url {
            if u.split("://")
                .nth(1)
                .and_then(|r| r.split(['/', '?']).next())
                .is_some_and(|h| h.contains('['))
            {
                return Err(err(
                    "live_preroll_ads_url",
                    "the scheme and host must be literal, not template variables",
                ));
            }
            http_url(file, "live_preroll_ads_url", &u.replace(['[', ']'], ""))?;
        }
        if !(self.live_preroll_max_duration_secs.is_finite()
            && self.live_preroll_max_duration_secs > 0.0
            && self.live_preroll_max_duration_secs <= 600.0)
        {
            return Err(err(
                "live_preroll_max_duration_secs",
                "must be a number of seconds in (0, 600]",
            ));
        }
        let v = self.avail_suppression.value_secs;
        if !(v.is_finite() && v >= 0.0) {
            return Err(err(
                "avail_suppression",
                "valueSecs must be a number of seconds >= 0",
            ));
        }
        Ok(Channel {
            name,
            origin,
            slate,
            dash_slate,
            raw: self,
        })
    }
}

/// Parse and validate one configuration file's text.
pub fn parse_config(file: &str, stem: &str, text: &str) -> Result<Channel, ConfigError> {
    let raw: PlaybackConfig = toml::from_str(text).map_err(|e| {
        let message = e.message().to_string();
        let key = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("unknown field"))
            .unwrap_or("-")
            .to_string();
        ConfigError {
            file: file.to_string(),
            key,
            reason: message,
        }
    })?;
    raw.validate(file, stem)
}

/// Load every `*.toml` in `dir`. Any bad file fails the whole load, naming it.
pub fn load_dir(dir: &Path) -> Result<BTreeMap<String, Arc<Channel>>, ConfigError> {
    let io_err = |e: std::io::Error| ConfigError {
        file: dir.display().to_string(),
        key: "-".to_string(),
        reason: e.to_string(),
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut out = BTreeMap::new();
    for path in paths {
        let file = path.display().to_string();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
            file: file.clone(),
            key: "-".to_string(),
            reason: e.to_string(),
        })?;
        let channel = parse_config(&file, &stem, &text)?;
        if out.contains_key(&channel.name) {
            return Err(ConfigError {
                file,
                key: "name".to_string(),
                reason: format!("`{}` is already used by another file", channel.name),
            });
        }
        out.insert(channel.name.clone(), Arc::new(channel));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
origin = "http://origin.example/live"
ads_url = "http://ads.example/vast?dur=[session.avail_duration_secs]&sid=[session.id]"
slate = "http://origin.example/slate/master.m3u8"
"#;

    #[test]
    fn good_file_loads_with_defaults() {
        let c = parse_config("ch1.toml", "ch1", GOOD).unwrap();
        assert_eq!(c.name, "ch1");
        assert_eq!(c.origin.as_str(), "http://origin.example/live/");
        assert_eq!(c.raw.origin_timeout_ms, 2_000);
        assert_eq!(c.raw.origin_max_bytes, 2 * 1024 * 1024);
        assert_eq!(c.raw.ads_timeout_ms, 3_000);
    }

    #[test]
    fn errors_name_file_key_and_reason() {
        let e = parse_config(
            "x.toml",
            "x",
            "origin = \"ftp://o/\"\nads_url = \"http://a/\"",
        )
        .unwrap_err();
        assert_eq!((e.file.as_str(), e.key.as_str()), ("x.toml", "origin"));
        assert!(e.reason.contains("scheme"), "{e}");

        let e = parse_config("x.toml", "x", "ads_url = \"http://a/\"").unwrap_err();
        assert_eq!(e.key, "origin");

        let e = parse_config("x.toml", "x", &format!("{GOOD}\nbogus = 1")).unwrap_err();
        assert_eq!(e.key, "bogus");

        let e = parse_config(
            "x.toml",
            "x",
            "origin = \"http://o/\"\nads_url = \"http://[player_params.host]/vast\"",
        )
        .unwrap_err();
        assert_eq!(e.key, "ads_url");

        let e = parse_config("x.toml", "x", &format!("{GOOD}\norigin_timeout_ms = 0")).unwrap_err();
        assert_eq!(e.key, "origin_timeout_ms");

        let e = parse_config("bad name.toml", "bad name", GOOD).unwrap_err();
        assert_eq!(e.key, "name");

        assert!(parse_config("x.toml", "x", "this is not toml").is_err());
    }

    #[test]
    fn shipped_ad_templates_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ad-templates");
        let channels = load_dir(&dir).unwrap();
        assert!(channels.contains_key("example"));
    }

    #[test]
    fn a_bad_file_fails_the_load_and_is_named() {
        let dir = std::env::temp_dir().join(format!("splicepoint-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("good.toml"), GOOD).unwrap();
        std::fs::write(dir.join("bad.toml"), "origin = \"http://o/\"\nads_url = 5").unwrap();
        let e = load_dir(&dir).unwrap_err();
        assert!(e.file.ends_with("bad.toml"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
