//! The shared manifest cache: one origin fetch per URL per refresh interval, however
//! many sessions ask (moka `try_get_with` coalesces concurrent misses), the parsed
//! form cached beside the bytes, and the last good manifest kept for
//! `stale_if_error_secs` to stand in for a failing origin.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::Expiry;
use tracing::warn;
use url::Url;

use super::client::{fetch_text, FetchFailure};
use crate::breaks::AdBreak;
use crate::config::Channel;
use crate::dash::{self, DashAd, DashBreak, Document};
use crate::error::Error;
use crate::events::{self, Metrics};
use crate::hls::model::{MediaPlaylist, MultivariantPlaylist, Playlist};
use crate::hls::{cue, parse_playlist, rewrite};
use crate::stitch::AdRendition;

/// How long a multivariant playlist is reused.
const MULTIVARIANT_TTL: Duration = Duration::from_secs(30);
/// How long an ended (VOD) media playlist is reused.
const VOD_TTL: Duration = Duration::from_secs(600);
/// How long ad and slate playlists are reused.
const AD_TTL: Duration = Duration::from_secs(3600);

/// What a manifest is fetched for: decides how it is prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Content: URIs made absolute (content prefix), breaks found.
    Content,
    /// Ad or slate: media playlists become [`AdRendition`]s (ad prefix).
    Ad,
    /// DASH content: the MPD parsed, its breaks found.
    Dash,
    /// DASH ad or slate: the MPD's first Period ready to splice (ad prefix).
    DashAd,
}

/// A content MPD, parsed once, with its breaks.
#[derive(Debug)]
pub struct ParsedMpd {
    /// The document.
    pub doc: Document,
    /// Its breaks.
    pub breaks: Vec<DashBreak>,
}

/// A content media playlist, parsed once, with its breaks.
#[derive(Debug)]
pub struct ParsedMedia {
    /// The playlist, URIs absolute.
    pub playlist: MediaPlaylist,
    /// Its breaks.
    pub breaks: Vec<AdBreak>,
}

/// A fetched and prepared manifest.
#[derive(Debug)]
pub enum Manifest {
    /// Multivariant playlist.
    Multivariant(MultivariantPlaylist),
    /// Content media playlist.
    Media(ParsedMedia),
    /// Ad or slate media playlist.
    Ad(Arc<AdRendition>),
    /// DASH content MPD.
    Mpd(ParsedMpd),
    /// DASH ad or slate.
    DashAd(Arc<DashAd>),
}

/// A cache entry.
#[derive(Debug)]
pub struct Fetched {
    /// The URL it came from.
    pub url: Url,
    /// The prepared manifest.
    pub manifest: Manifest,
    ttl: Duration,
    stale_for: Duration,
    fetched_at: Instant,
}

struct PerEntry;

impl Expiry<String, Arc<Fetched>> for PerEntry {
    fn expire_after_create(&self, _: &String, v: &Arc<Fetched>, _: Instant) -> Option<Duration> {
        Some(v.ttl)
    }
}

struct StaleEntry;

impl Expiry<String, Arc<Fetched>> for StaleEntry {
    fn expire_after_create(&self, _: &String, v: &Arc<Fetched>, _: Instant) -> Option<Duration> {
        Some(v.ttl + v.stale_for)
    }
}

/// The cache. Cheap to clone: clones share the same entries.
#[derive(Clone)]
pub struct OriginCache {
    http: reqwest::Client,
    fresh: Cache<String, Arc<Fetched>>,
    last_good: Cache<String, Arc<Fetched>>,
    metrics: Arc<Metrics>,
}

impl OriginCache {
    /// A cache using `http` for fetches.
    pub fn new(http: reqwest::Client, metrics: Arc<Metrics>) -> Self {
        Self {
            http,
            fresh: Cache::builder()
                .max_capacity(20_000)
                .expire_after(PerEntry)
                .build(),
            last_good: Cache::builder()
                .max_capacity(20_000)
                .expire_after(StaleEntry)
                .build(),
            metrics,
        }
    }

    /// The URLs of the content manifests (playlists and MPDs) of the channel named
    /// `channel` now in the cache, sorted.
    pub fn content_urls(&self, channel: &str) -> Vec<Url> {
        let mut urls: Vec<Url> = self
            .fresh
            .iter()
            .chain(self.last_good.iter())
            .filter(|(key, _)| {
                let mut parts = key.splitn(3, '\n');
                parts.next() == Some(channel)
                    && matches!(parts.next(), Some("Content") | Some("Dash"))
            })
            .map(|(_, f)| f.url.clone())
            .collect();
        urls.sort();
        urls.dedup();
        urls
    }

    /// The prepared manifest at `url` for `channel`.
    pub async fn get(
        &self,
        channel: &Channel,
        url: &Url,
        purpose: Purpose,
    ) -> Result<Arc<Fetched>, Error> {
        let key = format!("{}\n{:?}\n{}", channel.name, purpose, url);
        // The last good copy is written when a fetch succeeds, not on every hit.
        let load = async {
            let f = self.load(channel, url, purpose).await?;
            self.last_good.insert(key.clone(), f.clone()).await;
            Ok::<_, Error>(f)
        };
        match self.fresh.try_get_with(key.clone(), load).await {
            Ok(f) => Ok(f),
            Err(e) if matches!(*e, Error::OriginNotFound(_)) => Err(clone_error(&e)),
            Err(e) => {
                if let Some(stale) = self.last_good.get(&key).await {
                    if stale.fetched_at.elapsed() <= stale.ttl + stale.stale_for {
                        warn!(url = %url, reason = %e, "Origin failed; serving the last good manifest.");
                        self.metrics.incr(events::ORIGIN_STALE_SERVED, "");
                        return Ok(stale);
                    }
                }
                Err(clone_error(&e))
            }
        }
    }

    async fn load(
        &self,
        channel: &Channel,
        url: &Url,
        purpose: Purpose,
    ) -> Result<Arc<Fetched>, Error> {
        self.metrics.incr(events::ORIGIN_FETCHES, "");
        let (timeout, max) = match purpose {
            Purpose::Content | Purpose::Dash => {
                (channel.origin_timeout(), channel.raw.origin_max_bytes)
            }
            Purpose::Ad | Purpose::DashAd => (channel.ads_timeout(), channel.raw.origin_max_bytes),
        };
        let text = fetch_text(&self.http, url.as_str(), timeout, max, &[])
            .await
            .map_err(|f| {
                let reason = match &f {
                    FetchFailure::Timeout => "timeout",
                    FetchFailure::Status(404) => "not_found",
                    FetchFailure::Status(_) => "status",
                    _ => "transport",
                };
                self.metrics.incr(events::ORIGIN_ERRORS, reason);
                match f {
                    FetchFailure::Timeout => Error::OriginTimeout(url.to_string()),
                    FetchFailure::Status(404) | FetchFailure::Status(410) => {
                        Error::OriginNotFound(url.to_string())
                    }
                    other => Error::OriginFailed(format!("{url}: {other}")),
                }
            })?;
        let stale_for = Duration::from_secs(channel.raw.stale_if_error_secs);
        if matches!(purpose, Purpose::Dash | Purpose::DashAd) {
            let (manifest, ttl) = self.prepare_mpd(channel, url, &text, purpose)?;
            return Ok(Arc::new(Fetched {
                url: url.clone(),
                manifest,
                ttl,
                stale_for,
                fetched_at: Instant::now(),
            }));
        }
        let parsed = parse_playlist(&text).map_err(|e| {
            self.metrics.incr(events::ORIGIN_ERRORS, "not_a_playlist");
            Error::OriginFailed(format!("{url}: {e}"))
        })?;
        let parsed = match parsed {
            // Sub-ranges say where they start, so ads can go between them.
            Playlist::Media(mut pl) => {
                rewrite::pin_byte_ranges(&mut pl);
                Playlist::Media(pl)
            }
            other => other,
        };
        let (manifest, ttl) = match (parsed, purpose) {
            (Playlist::Multivariant(m), _) => (Manifest::Multivariant(m), MULTIVARIANT_TTL),
            (Playlist::Media(pl), Purpose::Ad) => (
                Manifest::Ad(Arc::new(rewrite::ad_rendition(
                    &pl,
                    url,
                    channel.raw.ad_segment_prefix.as_deref(),
                ))),
                AD_TTL,
            ),
            (Playlist::Media(mut pl), _) => {
                rewrite::absolutize_media(
                    &mut pl,
                    url,
                    &channel.origin_base_of(url),
                    channel.raw.content_segment_prefix.as_deref(),
                );
                let ttl = if pl.ended {
                    VOD_TTL
                } else {
                    // A fraction of the target duration: fresh enough that a session
                    // sees each new segment promptly, one fetch for everyone.
                    Duration::from_millis((pl.target_duration.max(1) * 1000 / 4).clamp(250, 5_000))
                };
                let breaks = cue::find_breaks_with(&pl, &channel.cue_rules());
                (
                    Manifest::Media(ParsedMedia {
                        playlist: pl,
                        breaks,
                    }),
                    ttl,
                )
            }
        };
        Ok(Arc::new(Fetched {
            url: url.clone(),
            manifest,
            ttl,
            stale_for,
            fetched_at: Instant::now(),
        }))
    }
}

impl OriginCache {
    fn prepare_mpd(
        &self,
        channel: &Channel,
        url: &Url,
        text: &str,
        purpose: Purpose,
    ) -> Result<(Manifest, Duration), Error> {
        let not_mpd = |why: String| {
            self.metrics.incr(events::ORIGIN_ERRORS, "not_an_mpd");
            Error::OriginFailed(format!("{url}: {why}"))
        };
        let doc = dash::parse(text).map_err(|e| not_mpd(e.to_string()))?;
        if doc.root.local_name() != "MPD" {
            return Err(not_mpd(format!(
                "root element is <{}>, not <MPD>",
                doc.root.name
            )));
        }
        if purpose == Purpose::DashAd {
            let ad = dash::prepare_ad(&doc, url, channel.raw.ad_segment_prefix.as_deref())
                .ok_or_else(|| not_mpd("ad MPD has no Period with a duration".into()))?;
            return Ok((Manifest::DashAd(Arc::new(ad)), AD_TTL));
        }
        let ttl = if dash::mpd::is_dynamic(&doc) {
            let update = doc
                .root
                .attr("minimumUpdatePeriod")
                .and_then(|d| dash::mpd::parse_duration(&d))
                .unwrap_or(2.0);
            Duration::from_millis(((update * 1000.0 / 4.0) as u64).clamp(250, 5_000))
        } else {
            VOD_TTL
        };
        let breaks = dash::mpd::find_breaks_with(&doc, &channel.cue_rules());
        Ok((Manifest::Mpd(ParsedMpd { doc, breaks }), ttl))
    }
}

fn clone_error(e: &Error) -> Error {
    match e {
        Error::OriginTimeout(u) => Error::OriginTimeout(u.clone()),
        Error::OriginNotFound(u) => Error::OriginNotFound(u.clone()),
        Error::OriginFailed(u) => Error::OriginFailed(u.clone()),
        other => Error::Internal(other.to_string()),
    }
}
