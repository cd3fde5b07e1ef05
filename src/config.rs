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
/// Default bound on a decision's wait for a transcode.
pub const DEFAULT_TRANSCODE_WAIT_MS: u64 = 2_000;
/// Default loudness target of transcoded ads (ATSC A/85).
pub const DEFAULT_AD_LOUDNESS_LKFS: f64 = -24.0;

/// What a decision does with a creative whose transcode is not ready.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FirstSighting {
    /// Wait (up to `transcode_wait_ms`) when the fast path applies, else skip.
    #[default]
    Auto,
    /// Skip now (slate or content), use the ad once it is ready.
    Skip,
    /// Wait up to `transcode_wait_ms` whatever the job.
    Wait,
}

/// One channel's playback configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlaybackConfig {
    /// Name used in URLs; defaults to the file stem.
    pub name: Option<String>,
    /// Content source base URL; the player's path is appended. Must be http(s).
    pub origin: String,
    /// ADS URL template with `[session.*]`, `[player_params.*]`, `[avail.*]`,
    /// `[scte.*]` variables. The scheme and host must be literal, or configuration
    /// aliases (see [`ads_url_origins`]); an alias value is substituted as written.
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
    /// Configuration aliases: for a player parameter (`player_params.NAME`), the
    /// values a player may send and what each stands for in the origin and ADS URLs
    /// (`[player_params.NAME]` may then appear in their hosts). An unknown value is
    /// refused with 400.
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
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
    /// Transcode creatives that have no HLS or DASH rendition (MP4 files, VAST 4
    /// mezzanines) to the content's renditions. Off: they are skipped.
    pub transcode: bool,
    /// A new creative's first sighting: `auto` (wait up to `transcode_wait_ms` when
    /// the fast path applies, else skip), `skip` (skip now, use it once ready) or
    /// `wait` (wait up to `transcode_wait_ms` for any job).
    pub first_sighting: FirstSighting,
    /// How long a decision may wait for a transcode, milliseconds.
    pub transcode_wait_ms: u64,
    /// Normalise the loudness of transcoded ads.
    pub ad_loudness_normalize: bool,
    /// Loudness target of transcoded ads, LKFS (ATSC A/85: -24).
    pub ad_loudness_lkfs: f64,
    /// Multivariant playlist whose renditions transcoded ads match, for sessions
    /// that have none of their own (DASH). Default: the session's.
    pub transcode_profile_url: Option<String>,

    // --- Hardening (issue #13): what reaches the origin ---
    /// Query parameters of a player's manifest request passed on to the origin, by
    /// name (as MediaTailor passes only what its configuration names); every other
    /// parameter is dropped, so `?cb=N` cannot make one cache entry per request.
    /// Default: none.
    pub origin_query_params: Vec<String>,
    /// Headers sent with every content manifest request to the origin, each value
    /// `env:VARIABLE` (read from the environment at load; never written back, logged
    /// or echoed): `origin_headers = { Authorization = "env:ORIGIN_AUTH" }`. The way
    /// to give an origin credentials (a URL with `user:password@` is refused).
    pub origin_headers: BTreeMap<String, String>,
    /// Bounds on what one session's ad decisions may cost (`[ad_limits]`).
    pub ad_limits: AdLimits,
    /// Stitched (the default), guided (HLS interstitials, issue #15) or chosen
    /// per session (`player_select`).
    pub insertion_mode: InsertionMode,
}

/// How a channel's sessions get their ads (MediaTailor's `InsertionMode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsertionMode {
    /// Ads are stitched into each viewer's playlist.
    #[default]
    Stitched,
    /// Every session is guided: one playlist for all, interstitials per break.
    Guided,
    /// Each session chooses (`"insertionMode"` in the POST body,
    /// `aws.insertionMode=GUIDED` on an implicit session); stitched by default.
    PlayerSelect,
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
            aliases: BTreeMap::new(),
            scte35_segmentation_types: crate::scte35::rules::DEFAULT_SEGMENTATION_TYPES.to_vec(),
            scte35_lenient_crc: false,
            transcode: true,
            first_sighting: FirstSighting::Auto,
            transcode_wait_ms: DEFAULT_TRANSCODE_WAIT_MS,
            ad_loudness_normalize: true,
            ad_loudness_lkfs: DEFAULT_AD_LOUDNESS_LKFS,
            transcode_profile_url: None,
            origin_query_params: Vec::new(),
            origin_headers: BTreeMap::new(),
            ad_limits: AdLimits::default(),
            insertion_mode: InsertionMode::default(),
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
    /// The aliased player parameter used in the origin's host, if any.
    pub origin_var: Option<String>,
    /// `origin_headers` with their values read from the environment.
    pub origin_headers: Vec<(String, Secret)>,
    /// Every origin (scheme, host, port) the ADS URL templates (`ads_url`,
    /// `live_preroll_ads_url`) can reach with configured aliases: an expanded ADS
    /// URL elsewhere is never called (see [`ads_url_origins`]).
    pub ads_origins: Vec<url::Origin>,
}

/// A value read from the environment that must never be shown: `Debug` prints
/// `***`, and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
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
    /// Replace each aliased player parameter by what its alias stands for; an unknown
    /// value, or a missing one the origin needs, is refused with the reason.
    pub fn resolve_aliases(&self, params: &mut BTreeMap<String, String>) -> Result<(), String> {
        for (key, values) in &self.raw.aliases {
            let name = key.trim_start_matches(PLAYER_PARAMS);
            match params.get(name) {
                Some(v) => match values.get(v) {
                    Some(real) => {
                        params.insert(name.to_string(), real.clone());
                    }
                    None => return Err(format!("unknown alias `{v}` for {key}")),
                },
                None if self.origin_var.as_deref() == Some(name) => {
                    return Err(format!("{key} is required"));
                }
                None => {}
            }
        }
        Ok(())
    }

    /// The origin base for a session (its aliases resolved).
    pub fn origin_for(&self, params: &BTreeMap<String, String>) -> Url {
        let Some(var) = &self.origin_var else {
            return self.origin.clone();
        };
        let Some(value) = params.get(var) else {
            return self.origin.clone();
        };
        let text = self
            .raw
            .origin
            .replace(&format!("[{PLAYER_PARAMS}{var}]"), value);
        match crate::urls::parse(&text) {
            Ok(mut u) => {
                if !u.path().ends_with('/') {
                    let p = format!("{}/", u.path());
                    u.set_path(&p);
                }
                u
            }
            Err(_) => self.origin.clone(),
        }
    }

    /// The origin base a fetched URL lies under (with aliases, one of several).
    pub fn origin_base_of(&self, url: &Url) -> String {
        if self.origin_var.is_some() {
            for key in self.raw.aliases.keys() {
                let name = key.trim_start_matches(PLAYER_PARAMS);
                if Some(name) != self.origin_var.as_deref() {
                    continue;
                }
                for v in self.raw.aliases[key].values() {
                    let base = self.origin_for(&BTreeMap::from([(name.to_string(), v.clone())]));
                    if url.as_str().starts_with(base.as_str()) {
                        return base.to_string();
                    }
                }
            }
        }
        self.origin.to_string()
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

/// Prefix of player parameter variables.
const PLAYER_PARAMS: &str = "player_params.";

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a URL authority holds a `[variable]`; an IPv6 literal (`[::1]`, whose
/// brackets hold colons) is not one.
fn has_template_var(authority: &str) -> bool {
    authority
        .split('[')
        .skip(1)
        .any(|rest| !rest.split(']').next().unwrap_or("").contains(':'))
}

fn http_url(file: &str, key: &str, value: &str) -> Result<Url, ConfigError> {
    let err = |reason: String| ConfigError {
        file: file.to_string(),
        key: key.to_string(),
        reason,
    };
    let url = crate::urls::parse(value).map_err(|e| err(format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err(format!(
            "scheme must be http or https, not {}",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(err("no host".to_string()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // It would be copied into segment URIs, BaseURLs and error bodies.
        return Err(err(
            "must not carry credentials (`user:password@`); send them as a header \
             from the environment: origin_headers = { Authorization = \"env:VARIABLE\" }"
                .to_string(),
        ));
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
        if let Some(key) = quote_run_key(&self) {
            return Err(err(
                &key,
                "has 256 or more quote characters in a row: it could not be written back as TOML",
            ));
        }
        if self.origin.is_empty() {
            return Err(err("origin", "is required"));
        }
        for (key, values) in &self.aliases {
            let name = key.strip_prefix(PLAYER_PARAMS).unwrap_or("");
            if !is_valid_name(name) && !name.contains('.') {
                return Err(err(
                    "aliases",
                    &format!("`{key}`: keys are `player_params.NAME`"),
                ));
            }
            if values.is_empty() {
                return Err(err("aliases", &format!("`{key}` has no values")));
            }
        }
        // A variable may stand in a host only through an alias: hosts come from
        // configuration, never from players.
        let aliased = |text: &str, key: &str| -> Result<Option<String>, ConfigError> {
            let authority = text
                .find("://")
                .map(|i| i + 3)
                .map(|start| {
                    &text[start
                        ..start + text[start..].find(['/', '?']).unwrap_or(text.len() - start)]
                })
                .unwrap_or("");
            if !has_template_var(authority) {
                return Ok(None);
            }
            let var = authority
                .split('[')
                .nth(1)
                .and_then(|r| r.split(']').next())
                .unwrap_or("")
                .to_string();
            match self.aliases.get(&var) {
                Some(values) => {
                    for v in values.values() {
                        // Other placeholders lose their brackets; the value keeps
                        // its own (an IPv6 literal, `[::1]:8080`).
                        let token = placeholder_token(0);
                        let probe = text
                            .replace(&format!("[{var}]"), &token)
                            .replace(['[', ']'], "")
                            .replace(&token, v);
                        http_url(file, key, &probe)?;
                    }
                    Ok(Some(var))
                }
                None => Err(err(
                    key,
                    "the scheme and host must be literal, or an aliased [player_params.NAME]",
                )),
            }
        };
        let origin_var = aliased(&self.origin, "origin")?;
        let first_origin = match &origin_var {
            Some(var) => {
                let v = self.aliases[var]
                    .values()
                    .next()
                    .cloned()
                    .unwrap_or_default();
                self.origin.replace(&format!("[{var}]"), &v)
            }
            None => self.origin.clone(),
        };
        let mut origin = http_url(file, "origin", &first_origin)?;
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
        let mut ads_origins =
            ads_url_origins(&self.ads_url, &self.aliases).map_err(|r| err("ads_url", &r))?;
        self.ad_limits
            .validate()
            .map_err(|(key, r)| err(&format!("ad_limits.{key}"), r))?;
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
        if self.transcode_wait_ms > 30_000 {
            return Err(err("transcode_wait_ms", "must be at most 30000"));
        }
        if !(self.ad_loudness_lkfs.is_finite() && (-70.0..=-5.0).contains(&self.ad_loudness_lkfs)) {
            return Err(err("ad_loudness_lkfs", "must be between -70 and -5"));
        }
        if let Some(u) = &self.transcode_profile_url {
            http_url(file, "transcode_profile_url", u)?;
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
            for o in
                ads_url_origins(u, &self.aliases).map_err(|r| err("live_preroll_ads_url", &r))?
            {
                if !ads_origins.contains(&o) {
                    ads_origins.push(o);
                }
            }
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
        let origin_headers = validate_origin_access(&self, file, &|k: &str| std::env::var(k).ok())?;
        Ok(Channel {
            name,
            origin,
            slate,
            dash_slate,
            origin_var: origin_var.map(|v| v.trim_start_matches(PLAYER_PARAMS).to_string()),
            origin_headers,
            ads_origins,
            raw: self,
        })
    }
}

// === Hardening: origin access (per configuration) ===

/// Prefix of an `origin_headers` value read from the environment.
const ENV_VALUE: &str = "env:";

/// Check `origin_query_params` and `origin_headers`, reading each header's value
/// from `env` (the process environment in production). Pure given `env`.
pub fn validate_origin_access(
    cfg: &PlaybackConfig,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, Secret)>, ConfigError> {
    let err = |key: &str, reason: String| ConfigError {
        file: file.to_string(),
        key: key.to_string(),
        reason,
    };
    for name in &cfg.origin_query_params {
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err(err(
                "origin_query_params",
                format!("`{name}` is not a query parameter name"),
            ));
        }
    }
    let mut headers = Vec::with_capacity(cfg.origin_headers.len());
    for (name, value) in &cfg.origin_headers {
        if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(err(
                "origin_headers",
                format!("`{name}` is not a header name"),
            ));
        }
        let Some(var) = value.strip_prefix(ENV_VALUE).filter(|v| !v.is_empty()) else {
            return Err(err(
                "origin_headers",
                format!("`{name}`: the value must be `env:VARIABLE` (secrets stay out of configuration files)"),
            ));
        };
        let Some(v) = env(var).filter(|v| !v.is_empty()) else {
            return Err(err(
                "origin_headers",
                format!("`{name}`: environment variable {var} is not set"),
            ));
        };
        if axum::http::HeaderValue::from_str(&v).is_err() {
            return Err(err(
                "origin_headers",
                format!("`{name}`: environment variable {var} is not a valid header value"),
            ));
        }
        headers.push((name.clone(), Secret(v)));
    }
    Ok(headers)
}

impl Channel {
    /// The query string passed on to the origin for a player's manifest request:
    /// only the parameters `origin_query_params` names, in the player's order;
    /// `None` when none is left.
    pub fn origin_query(&self, query: Option<&str>) -> Option<String> {
        let allowed = &self.raw.origin_query_params;
        if allowed.is_empty() {
            return None;
        }
        let kept: Vec<&str> = query
            .unwrap_or("")
            .split('&')
            .filter(|pair| {
                let name = pair.split('=').next().unwrap_or("");
                !name.is_empty() && allowed.iter().any(|a| a == name)
            })
            .collect();
        (!kept.is_empty()).then(|| kept.join("&"))
    }
}

// === Ad decision limits (#13: what one session's decisions may cost) ===

/// Bounds on the ad decisions of a session (`[ad_limits]` in a configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdLimits {
    /// Most VAST requests one decision makes, wrappers included (1-256).
    pub max_requests_per_decision: usize,
    /// Most VAST requests of one decision in flight at once (1-32).
    pub max_concurrent_requests: usize,
    /// Most ads one break plays (1-100); later ones are dropped.
    pub max_ads_per_break: usize,
    /// Most ad breaks filled in one playlist (1-1000): a VOD asset's insertion points
    /// (the pre-roll included) past it play the content as is.
    pub max_breaks_per_playlist: usize,
    /// Most breaks of one playlist decided at once (1-64): a VOD asset's breaks are
    /// decided concurrently, not one after another.
    pub decision_concurrency: usize,
}

impl Default for AdLimits {
    fn default() -> Self {
        Self {
            max_requests_per_decision: crate::ads::resolve::DEFAULT_MAX_REQUESTS,
            max_concurrent_requests: crate::ads::resolve::DEFAULT_MAX_CONCURRENT,
            max_ads_per_break: 25,
            max_breaks_per_playlist: 100,
            decision_concurrency: 8,
        }
    }
}

impl AdLimits {
    /// Each bound within its range, else the key and why.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        for (key, v, max, why) in [
            (
                "max_requests_per_decision",
                self.max_requests_per_decision,
                256,
                "must be between 1 and 256",
            ),
            (
                "max_concurrent_requests",
                self.max_concurrent_requests,
                32,
                "must be between 1 and 32",
            ),
            (
                "max_ads_per_break",
                self.max_ads_per_break,
                100,
                "must be between 1 and 100",
            ),
            (
                "max_breaks_per_playlist",
                self.max_breaks_per_playlist,
                1000,
                "must be between 1 and 1000",
            ),
            (
                "decision_concurrency",
                self.decision_concurrency,
                64,
                "must be between 1 and 64",
            ),
        ] {
            if v == 0 || v > max {
                return Err((key, why));
            }
        }
        Ok(())
    }

    /// The VAST request bounds of one decision.
    pub fn resolve_limits(&self) -> crate::ads::resolve::ResolveLimits {
        crate::ads::resolve::ResolveLimits {
            max_requests: self.max_requests_per_decision,
            max_concurrent: self.max_concurrent_requests,
        }
    }
}

// === ADS URL hosts (#13: the ADS is reached only where configuration says) ===

/// Most combinations of alias values [`ads_url_origins`] expands for one template.
pub const MAX_ADS_HOST_COMBINATIONS: usize = 1024;

/// A token that stands for placeholder `i` while a template is parsed: valid in a
/// scheme, a host and a path alike, so the URL parser shows where the value lands.
fn placeholder_token(i: usize) -> String {
    format!("splicepointvar{i}x")
}

/// The origins (scheme, host, port) an ADS URL template can reach, from
/// configuration alone.
///
/// Each placeholder is replaced by a token and the result parsed as the URL parser
/// will parse an expansion, so a variable is found in the scheme or authority
/// however the template is written (`http:[x]:80/`, `http://a@[x]/`,
/// `http://[a][b]/`). Every such variable must be a configuration alias
/// (`aliases`, a `[player_params.NAME]` whose values are all configured, as
/// MediaTailor's domain variables are); anything else is an error. The result is
/// every origin that the aliases' values give; a request is checked against it
/// after expansion ([`Channel::allows_ads_url`]).
pub fn ads_url_origins(
    template: &str,
    aliases: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Vec<url::Origin>, String> {
    let places = crate::ads::template::placeholders(template);
    let fill = |value: &dyn Fn(usize, &str) -> String| {
        let mut out = String::with_capacity(template.len() + places.len() * 20);
        let mut last = 0;
        for (i, (range, name)) in places.iter().enumerate() {
            out.push_str(&template[last..range.start]);
            out.push_str(&value(i, name));
            last = range.end;
        }
        out.push_str(&template[last..]);
        out
    };
    let probe = fill(&|i, _| placeholder_token(i));
    let url = crate::urls::parse(&probe).map_err(|e| {
        format!(
            "not a URL ({e}); a variable may stand in the scheme or host only as an aliased \
             [player_params.NAME], and never in the port"
        )
    })?;
    let head = format!(
        "{} {} {} {}",
        url.scheme(),
        url.username(),
        url.password().unwrap_or(""),
        url.host_str().unwrap_or("")
    );
    let mut head_vars: Vec<&str> = Vec::new();
    for (i, (_, name)) in places.iter().enumerate() {
        if head.contains(&placeholder_token(i)) && !head_vars.contains(name) {
            if !aliases.contains_key(*name) {
                return Err(format!(
                    "[{name}] stands in the scheme or host: hosts come from configuration, so \
                     only an aliased [player_params.NAME] (see `aliases`) may"
                ));
            }
            if let Some(v) = aliases[*name]
                .values()
                .find(|v| v.is_empty() || v.contains(['/', '\\', '?', '#', '@']))
            {
                return Err(format!(
                    "[{name}] stands in the host, so its alias values must be hosts or \
                     host:port, not `{v}`"
                ));
            }
            head_vars.push(name);
        }
    }
    let lists: Vec<Vec<&String>> = head_vars
        .iter()
        .map(|v| aliases[*v].values().collect())
        .collect();
    let combinations = lists
        .iter()
        .try_fold(1usize, |n, l| n.checked_mul(l.len()))
        .filter(|n| *n <= MAX_ADS_HOST_COMBINATIONS)
        .ok_or_else(|| {
            format!("its host aliases combine to more than {MAX_ADS_HOST_COMBINATIONS} hosts")
        })?;
    let mut origins = Vec::new();
    for mut k in 0..combinations {
        let mut pick = BTreeMap::new();
        for (var, list) in head_vars.iter().zip(&lists) {
            pick.insert(*var, list[k % list.len()].as_str());
            k /= list.len();
        }
        let text = fill(&|i, name| match pick.get(name) {
            Some(v) => (*v).to_string(),
            None => placeholder_token(i),
        });
        let u = crate::urls::parse(&text).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!("scheme must be http or https, not {}", u.scheme()));
        }
        if u.host_str().is_none_or(str::is_empty) {
            return Err("no host".to_string());
        }
        let o = u.origin();
        if !origins.contains(&o) {
            origins.push(o);
        }
    }
    Ok(origins)
}

impl Channel {
    /// Whether an expanded ADS URL reaches an origin that configuration allows
    /// ([`Channel::ads_origins`]).
    pub fn allows_ads_url(&self, url: &str) -> bool {
        crate::urls::parse(url).is_ok_and(|u| self.ads_origins.contains(&u.origin()))
    }
}

/// The top-level key holding a string (a value or a map key) with a run of 256 or
/// more of the same quote character (`'` or `"`): toml_write 0.1 counts such runs
/// in a `u8`, so the file written for it would not read back the same (found by the
/// `admin_json` fuzz target). `None` when there is none.
fn quote_run_key(cfg: &PlaybackConfig) -> Option<String> {
    fn long_run(s: &str) -> bool {
        let (mut run, mut prev) = (0usize, 0u8);
        for b in s.bytes() {
            run = match b {
                b'\'' | b'"' if b == prev => run + 1,
                b'\'' | b'"' => 1,
                _ => 0,
            };
            prev = b;
            if run >= 256 {
                return true;
            }
        }
        false
    }
    fn has_run(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => long_run(s),
            serde_json::Value::Array(a) => a.iter().any(has_run),
            serde_json::Value::Object(m) => m.iter().any(|(k, x)| long_run(k) || has_run(x)),
            _ => false,
        }
    }
    match serde_json::to_value(cfg).ok()? {
        serde_json::Value::Object(m) => m
            .iter()
            .find(|(k, v)| long_run(k) || has_run(v))
            .map(|(k, _)| k.clone()),
        _ => None,
    }
}

#[cfg(test)]
#[path = "config/ads_hosts_tests.rs"]
mod ads_hosts_tests;

// === Transcoder settings (process-wide, from the environment) ===

/// Segment store location: `s3://bucket/prefix`, `file:///dir` or a directory.
pub const ENV_AD_STORE: &str = "SPLICEPOINT_AD_STORE";
/// URL under which this instance (or its load balancer) serves `/v1/ads/`.
pub const ENV_PUBLIC_URL: &str = "SPLICEPOINT_PUBLIC_URL";
/// Concurrent encodes (the bounded pool). Default 1.
pub const ENV_TRANSCODE_CONCURRENCY: &str = "SPLICEPOINT_TRANSCODE_CONCURRENCY";
/// Concurrent probes and fast-path remuxes. Default 4.
pub const ENV_TRANSCODE_FAST_CONCURRENCY: &str = "SPLICEPOINT_TRANSCODE_FAST_CONCURRENCY";
/// A job's time limit, seconds; ffmpeg is killed past it. Default 600.
pub const ENV_TRANSCODE_TIMEOUT_SECS: &str = "SPLICEPOINT_TRANSCODE_TIMEOUT_SECS";
/// How long a failed job is remembered (not retried), seconds. Default 600.
pub const ENV_TRANSCODE_FAILURE_TTL_SECS: &str = "SPLICEPOINT_TRANSCODE_FAILURE_TTL_SECS";
/// x264/x265 preset. Default `veryfast`.
pub const ENV_TRANSCODE_PRESET: &str = "SPLICEPOINT_TRANSCODE_PRESET";
/// Largest creative fetched, bytes. Default 512 MiB.
pub const ENV_CREATIVE_MAX_BYTES: &str = "SPLICEPOINT_CREATIVE_MAX_BYTES";
/// ffmpeg program. Default `ffmpeg`.
pub const ENV_FFMPEG: &str = "SPLICEPOINT_FFMPEG";
/// ffprobe program. Default `ffprobe`.
pub const ENV_FFPROBE: &str = "SPLICEPOINT_FFPROBE";
/// S3: endpoint of an S3-compatible store (as object_store's `AWS_ENDPOINT`).
pub const ENV_AWS_ENDPOINT: &str = "AWS_ENDPOINT";
/// S3: region.
pub const ENV_AWS_REGION: &str = "AWS_REGION";
/// S3: access key id.
pub const ENV_AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// S3: secret access key.
pub const ENV_AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// S3: allow plain http to the endpoint (`true`).
pub const ENV_AWS_ALLOW_HTTP: &str = "AWS_ALLOW_HTTP";

const PRESETS: &[&str] = &[
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
];

/// Where transcoded ads are stored.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreLocation {
    /// A local directory.
    Local(PathBuf),
    /// An S3-compatible bucket.
    S3 {
        /// Bucket.
        bucket: String,
        /// Key prefix (no leading or trailing `/`).
        prefix: String,
        /// Endpoint of a non-AWS store.
        endpoint: Option<String>,
        /// Region.
        region: Option<String>,
        /// Access key id.
        access_key_id: Option<String>,
        /// Secret access key.
        secret_access_key: Option<String>,
        /// Plain http allowed.
        allow_http: bool,
    },
}

/// The transcoder's process-wide settings (per-channel policy is in
/// [`PlaybackConfig`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeSettings {
    /// Segment store.
    pub store: StoreLocation,
    /// URL under which `/v1/ads/` is served; default: the listen address.
    pub public_url: Option<String>,
    /// Concurrent encodes.
    pub concurrency: usize,
    /// Concurrent probes and fast-path remuxes.
    pub fast_concurrency: usize,
    /// A job's time limit.
    pub job_timeout: Duration,
    /// How long a failure is remembered.
    pub failure_ttl: Duration,
    /// x264/x265 preset.
    pub preset: String,
    /// Largest creative fetched, bytes.
    pub max_source_bytes: u64,
    /// ffmpeg program.
    pub ffmpeg: String,
    /// ffprobe program.
    pub ffprobe: String,
}

impl Default for TranscodeSettings {
    fn default() -> Self {
        Self {
            store: StoreLocation::Local(std::env::temp_dir().join("splicepoint-ad-store")),
            public_url: None,
            concurrency: 1,
            fast_concurrency: 4,
            job_timeout: Duration::from_secs(600),
            failure_ttl: Duration::from_secs(600),
            preset: "veryfast".into(),
            max_source_bytes: 512 * 1024 * 1024,
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
        }
    }
}

/// Parse a segment store location. Pure.
pub fn parse_store_location(
    value: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<StoreLocation, String> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("s3:// needs a bucket".into());
        }
        return Ok(StoreLocation::S3 {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint: env(ENV_AWS_ENDPOINT).filter(|v| !v.is_empty()),
            region: env(ENV_AWS_REGION).filter(|v| !v.is_empty()),
            access_key_id: env(ENV_AWS_ACCESS_KEY_ID).filter(|v| !v.is_empty()),
            secret_access_key: env(ENV_AWS_SECRET_ACCESS_KEY).filter(|v| !v.is_empty()),
            allow_http: env(ENV_AWS_ALLOW_HTTP).is_some_and(|v| v == "true" || v == "1"),
        });
    }
    if value.contains("://") && !value.starts_with("file://") {
        return Err("must be s3://bucket/prefix, file:///dir or a directory".into());
    }
    let dir = value.strip_prefix("file://").unwrap_or(value);
    if dir.is_empty() {
        return Err("empty".into());
    }
    Ok(StoreLocation::Local(PathBuf::from(dir)))
}

/// An environment variable's integer value within `[lo, hi]` (`None` when unset).
fn env_number(
    key: &str,
    value: Option<String>,
    lo: u64,
    hi: u64,
) -> Result<Option<u64>, ConfigError> {
    match value {
        None => Ok(None),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
            _ => Err(ConfigError {
                file: "<environment>".to_string(),
                key: key.to_string(),
                reason: format!("must be an integer in [{lo}, {hi}]"),
            }),
        },
    }
}

impl TranscodeSettings {
    /// Read the settings from `env` (the process environment in production, a map
    /// in tests); unset keys keep their defaults.
    pub fn from_source(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let err = |key: &str, reason: String| ConfigError {
            file: "<environment>".to_string(),
            key: key.to_string(),
            reason,
        };
        let number = |key: &str, lo: u64, hi: u64| env_number(key, env(key), lo, hi);
        let mut s = Self::default();
        if let Some(v) = env(ENV_AD_STORE).filter(|v| !v.trim().is_empty()) {
            s.store = parse_store_location(&v, env).map_err(|r| err(ENV_AD_STORE, r))?;
        }
        if let Some(v) = env(ENV_PUBLIC_URL).filter(|v| !v.is_empty()) {
            http_url("<environment>", ENV_PUBLIC_URL, &v)?;
            s.public_url = Some(v.trim_end_matches('/').to_string());
        }
        if let Some(n) = number(ENV_TRANSCODE_CONCURRENCY, 1, 64)? {
            s.concurrency = n as usize;
        }
        if let Some(n) = number(ENV_TRANSCODE_FAST_CONCURRENCY, 1, 64)? {
            s.fast_concurrency = n as usize;
        }
        if let Some(n) = number(ENV_TRANSCODE_TIMEOUT_SECS, 1, 86_400)? {
            s.job_timeout = Duration::from_secs(n);
        }
        if let Some(n) = number(ENV_TRANSCODE_FAILURE_TTL_SECS, 1, 86_400)? {
            s.failure_ttl = Duration::from_secs(n);
        }
        if let Some(n) = number(ENV_CREATIVE_MAX_BYTES, 1024, 1 << 40)? {
            s.max_source_bytes = n;
        }
        if let Some(v) = env(ENV_TRANSCODE_PRESET) {
            if !PRESETS.contains(&v.as_str()) {
                return Err(err(
                    ENV_TRANSCODE_PRESET,
                    format!("must be one of {}", PRESETS.join(", ")),
                ));
            }
            s.preset = v;
        }
        if let Some(v) = env(ENV_FFMPEG).filter(|v| !v.is_empty()) {
            s.ffmpeg = v;
        }
        if let Some(v) = env(ENV_FFPROBE).filter(|v| !v.is_empty()) {
            s.ffprobe = v;
        }
        Ok(s)
    }

    /// [`TranscodeSettings::from_source`] over the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&|k| std::env::var(k).ok())
    }
}

// === Hardening limits (process-wide, from the environment) ===

/// Byte budget of the shared origin manifest cache (parsed forms). Default 512 MiB.
pub const ENV_ORIGIN_CACHE_MAX_BYTES: &str = "SPLICEPOINT_ORIGIN_CACHE_MAX_BYTES";
/// Largest total of a session's player parameters (names and values). Default 4096.
pub const ENV_SESSION_PARAMS_MAX_BYTES: &str = "SPLICEPOINT_SESSION_PARAMS_MAX_BYTES";
/// Byte budget of the in-memory session store. Default 1 GiB.
pub const ENV_SESSION_STORE_MAX_BYTES: &str = "SPLICEPOINT_SESSION_STORE_MAX_BYTES";
/// A session used within this many seconds is never evicted to make room (a new
/// session gets 503 instead). Default 30.
pub const ENV_SESSION_EVICT_IDLE_SECS: &str = "SPLICEPOINT_SESSION_EVICT_IDLE_SECS";
/// Longest time from a request's first byte to the end of its headers, ms. Default 10000.
pub const ENV_HEADER_READ_TIMEOUT_MS: &str = "SPLICEPOINT_HEADER_READ_TIMEOUT_MS";
/// Longest time a keep-alive connection may wait for its next request, ms. Default 20000.
pub const ENV_IDLE_TIMEOUT_MS: &str = "SPLICEPOINT_IDLE_TIMEOUT_MS";
/// Most client connections open at once; more wait in the listen backlog. Default 10000.
pub const ENV_MAX_CONNECTIONS: &str = "SPLICEPOINT_MAX_CONNECTIONS";
/// Addresses (`10.0.0.1`, `10.0.0.0/8`, `::1`, comma-separated) whose
/// `X-Forwarded-For` is believed. Default: none (the peer address is the client's).
pub const ENV_TRUSTED_PROXIES: &str = "SPLICEPOINT_TRUSTED_PROXIES";

/// What one client may make this process hold, and for how long (issue #13).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Origin cache budget, bytes of parsed manifests (estimated).
    pub origin_cache_max_bytes: u64,
    /// A session's player parameters, bytes (names + values); more is a 400.
    pub session_params_max_bytes: usize,
    /// Session store budget, bytes (estimated per session).
    pub session_store_max_bytes: u64,
    /// Sessions idle at least this long may be evicted (least recently used first)
    /// to make room; when that is not enough, a new session gets 503.
    pub session_evict_idle: Duration,
    /// From a request's first byte to the end of its headers.
    pub header_read_timeout: Duration,
    /// A keep-alive connection's wait for its next request.
    pub idle_timeout: Duration,
    /// Client connections open at once.
    pub max_connections: usize,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpRange>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            origin_cache_max_bytes: 512 * 1024 * 1024,
            session_params_max_bytes: 4096,
            session_store_max_bytes: 1024 * 1024 * 1024,
            session_evict_idle: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(20),
            max_connections: 10_000,
            trusted_proxies: Vec::new(),
        }
    }
}

/// An address range: an address and a prefix length (`10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parse `addr` or `addr/prefix`. Pure.
    pub fn parse(text: &str) -> Option<Self> {
        let (a, p) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let addr: std::net::IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { addr, prefix })
    }

    /// Whether `ip` lies in the range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl Limits {
    /// Read the limits from `env` (the process environment in production, a map in
    /// tests); unset keys keep their defaults.
    pub fn from_source(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let err = |key: &str, reason: String| ConfigError {
            file: "<environment>".to_string(),
            key: key.to_string(),
            reason,
        };
        let number = |key: &str, lo: u64, hi: u64| {
            env_number(key, env(key).filter(|v| !v.trim().is_empty()), lo, hi)
        };
        let mut l = Self::default();
        if let Some(n) = number(ENV_ORIGIN_CACHE_MAX_BYTES, 1 << 20, 1 << 40)? {
            l.origin_cache_max_bytes = n;
        }
        if let Some(n) = number(ENV_SESSION_PARAMS_MAX_BYTES, 256, 1 << 20)? {
            l.session_params_max_bytes = n as usize;
        }
        if let Some(n) = number(ENV_SESSION_STORE_MAX_BYTES, 1 << 20, 1 << 40)? {
            l.session_store_max_bytes = n;
        }
        if let Some(n) = number(ENV_SESSION_EVICT_IDLE_SECS, 0, 86_400)? {
            l.session_evict_idle = Duration::from_secs(n);
        }
        if let Some(n) = number(ENV_HEADER_READ_TIMEOUT_MS, 100, 600_000)? {
            l.header_read_timeout = Duration::from_millis(n);
        }
        if let Some(n) = number(ENV_IDLE_TIMEOUT_MS, 100, 3_600_000)? {
            l.idle_timeout = Duration::from_millis(n);
        }
        if let Some(n) = number(ENV_MAX_CONNECTIONS, 1, 1_000_000)? {
            l.max_connections = n as usize;
        }
        if let Some(v) = env(ENV_TRUSTED_PROXIES) {
            for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let range = IpRange::parse(part).ok_or_else(|| {
                    err(
                        ENV_TRUSTED_PROXIES,
                        format!("`{part}` is not an address or address/prefix"),
                    )
                })?;
                l.trusted_proxies.push(range);
            }
        }
        Ok(l)
    }

    /// [`Limits::from_source`] over the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&|k| std::env::var(k).ok())
    }

    /// Whether a peer's `X-Forwarded-For` is believed.
    pub fn trusts(&self, peer: std::net::IpAddr) -> bool {
        self.trusted_proxies.iter().any(|r| r.contains(peer))
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
    fn scte35_keys_have_defaults_and_are_validated() {
        let c = parse_config("x.toml", "x", GOOD).unwrap();
        assert_eq!(
            c.cue_rules(),
            crate::scte35::CueRules::default(),
            "defaults are the decoder's"
        );
        let c = parse_config(
            "x.toml",
            "x",
            &format!(
                "{GOOD}\nscte35_segmentation_types = [0x22, 0x23, 52]\nscte35_lenient_crc = true"
            ),
        )
        .unwrap();
        let rules = c.cue_rules();
        assert_eq!(rules.segmentation_types, vec![0x22, 0x23, 0x34]);
        assert!(rules.lenient_crc);
        let e = parse_config(
            "x.toml",
            "x",
            &format!("{GOOD}\nscte35_segmentation_types = [0x22, 0x22]"),
        )
        .unwrap_err();
        assert_eq!(e.key, "scte35_segmentation_types");
        assert!(parse_config(
            "x.toml",
            "x",
            &format!("{GOOD}\nscte35_segmentation_types = [300]")
        )
        .is_err());
    }

    #[test]
    fn transcode_keys_have_defaults_and_are_validated() {
        let c = parse_config("x.toml", "x", GOOD).unwrap();
        assert!(c.raw.transcode && c.raw.ad_loudness_normalize);
        assert_eq!(c.raw.first_sighting, FirstSighting::Auto);
        assert_eq!(c.raw.ad_loudness_lkfs, -24.0);
        let c = parse_config(
            "x.toml",
            "x",
            &format!("{GOOD}\nfirst_sighting = \"skip\"\ntranscode_wait_ms = 500\nad_loudness_normalize = false"),
        )
        .unwrap();
        assert_eq!(c.raw.first_sighting, FirstSighting::Skip);
        assert_eq!(c.raw.transcode_wait_ms, 500);
        for (bad, key) in [
            ("first_sighting = \"later\"", "-"),
            ("transcode_wait_ms = 60000", "transcode_wait_ms"),
            ("ad_loudness_lkfs = 3.0", "ad_loudness_lkfs"),
            (
                "transcode_profile_url = \"ftp://x/\"",
                "transcode_profile_url",
            ),
        ] {
            let e = parse_config("x.toml", "x", &format!("{GOOD}\n{bad}")).unwrap_err();
            assert_eq!(e.key, key, "{bad}: {e}");
        }
    }

    #[test]
    fn transcode_settings_from_a_source() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = TranscodeSettings::from_source(&env(&[])).unwrap();
        assert_eq!(s.concurrency, 1);
        assert!(matches!(s.store, StoreLocation::Local(_)));
        let s = TranscodeSettings::from_source(&env(&[
            (ENV_AD_STORE, "s3://ads/spliced/x/"),
            (ENV_AWS_ENDPOINT, "http://127.0.0.1:9000"),
            (ENV_AWS_ALLOW_HTTP, "true"),
            (ENV_TRANSCODE_CONCURRENCY, "2"),
            (ENV_TRANSCODE_TIMEOUT_SECS, "30"),
        ]))
        .unwrap();
        assert_eq!(s.concurrency, 2);
        assert_eq!(s.job_timeout, Duration::from_secs(30));
        match s.store {
            StoreLocation::S3 {
                bucket,
                prefix,
                endpoint,
                allow_http,
                ..
            } => {
                assert_eq!((bucket.as_str(), prefix.as_str()), ("ads", "spliced/x"));
                assert_eq!(endpoint.as_deref(), Some("http://127.0.0.1:9000"));
                assert!(allow_http);
            }
            other => panic!("{other:?}"),
        }
        for bad in [
            &[(ENV_TRANSCODE_CONCURRENCY, "0")][..],
            &[(ENV_AD_STORE, "gs://x")],
            &[(ENV_TRANSCODE_PRESET, "fastest")],
            &[(ENV_PUBLIC_URL, "ftp://x")],
        ] {
            assert!(
                TranscodeSettings::from_source(&env(bad)).is_err(),
                "{bad:?}"
            );
        }
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

    /// toml_write 0.1 counts a run of quotes in a `u8`: such values are refused
    /// with the key that holds them, before anything is written.
    #[test]
    fn a_run_of_256_quotes_is_refused() {
        for q in ["'", "\""] {
            let cfg = PlaybackConfig {
                origin: "http://origin.example/".into(),
                ads_url: format!("http://ads.example/vast?x={}", q.repeat(256)),
                ..PlaybackConfig::default()
            };
            let e = cfg.validate("t.toml", "t").unwrap_err();
            assert_eq!(e.key, "ads_url", "{e}");
        }
        let cfg = PlaybackConfig {
            origin: "http://origin.example/".into(),
            ads_url: format!("http://ads.example/vast?x={}", "'\"".repeat(300)),
            ..PlaybackConfig::default()
        };
        assert!(quote_run_key(&cfg).is_none());
    }
}
