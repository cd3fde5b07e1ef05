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
use crate::events::Metrics;
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
    /// Estimated bytes held (see [`estimate_weight`]): the cache's budget counts it.
    weight: u32,
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

    // Each good fetch replaces the last good copy, and its bound starts again from
    // then (moka's default keeps the first insertion's expiry: the copy vanished
    // `ttl + stale_if_error_secs` after the first fetch however fresh it was, and
    // a failing origin got a 5xx through at once).
    fn expire_after_update(
        &self,
        _: &String,
        v: &Arc<Fetched>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(v.ttl + v.stale_for)
    }
}

/// Default byte budget of the cache.
pub const DEFAULT_MAX_BYTES: u64 = 512 * 1024 * 1024;

/// Bytes a heap string costs beyond its text: its header and the allocator's.
const STRING_COST: usize = 24 + 16;

/// Estimated heap bytes of a prepared manifest, read from `text` (what was fetched)
/// and its parsed form: every line or segment is a few small allocations beside
/// the text. Calibrated against RSS (README, Operations): it errs a little high.
pub fn estimate_weight(text_len: usize, manifest: &Manifest) -> u32 {
    let lines = |l: &[String]| l.iter().map(|s| s.len() + STRING_COST).sum::<usize>();
    let parsed = match manifest {
        Manifest::Media(m) => {
            let pl = &m.playlist;
            lines(&pl.header)
                + lines(&pl.trailer)
                + pl.segments
                    .iter()
                    .map(|s| std::mem::size_of_val(s) + lines(&s.lines) + s.uri.len() + STRING_COST)
                    .sum::<usize>()
                + m.breaks.len() * 512
        }
        Manifest::Multivariant(m) => lines(&m.lines) + m.variants.len() * 256,
        // XML trees and ad renditions: many small nodes per byte of text.
        Manifest::Mpd(_) | Manifest::DashAd(_) | Manifest::Ad(_) => text_len * 4,
    };
    // The URL and key, the entry, moka's node.
    let fixed = 1024;
    // + a third: allocator size classes and fragmentation, as measured (RSS of 80
    // entries of a 330 KB playlist: 1.39 MB each; this estimate: 1.46 MB).
    u32::try_from(parsed * 4 / 3 + text_len / 4 + fixed).unwrap_or(u32::MAX)
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
    /// A cache using `http` for fetches, with the default byte budget.
    pub fn new(http: reqwest::Client, metrics: Arc<Metrics>) -> Self {
        Self::with_budget(http, metrics, DEFAULT_MAX_BYTES)
    }

    /// A cache using `http` for fetches that holds at most `max_bytes` of prepared
    /// manifests (estimated, [`estimate_weight`]); the least recently used go first.
    /// The fresh and last-good maps get half each: they mostly share entries
    /// (`Arc`), but an entry may outlive its fresh copy as the last good one.
    pub fn with_budget(http: reqwest::Client, metrics: Arc<Metrics>, max_bytes: u64) -> Self {
        let weigher = |_: &String, v: &Arc<Fetched>| v.weight;
        let max_bytes = max_bytes / 2;
        Self {
            http,
            fresh: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(weigher)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .expire_after(PerEntry)
                .build(),
            last_good: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(weigher)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .expire_after(StaleEntry)
                .build(),
            metrics,
        }
    }

    /// Estimated bytes held now (after pending evictions), at most: entries in
    /// both maps count twice.
    pub async fn weighted_size(&self) -> u64 {
        self.fresh.run_pending_tasks().await;
        self.last_good.run_pending_tasks().await;
        self.fresh.weighted_size() + self.last_good.weighted_size()
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
        // Whether this request fetched (a miss) or found the entry, or waited for
        // another request's fetch (a hit: one fetch served both).
        let fetched = std::sync::atomic::AtomicBool::new(false);
        // The last good copy is written when a fetch succeeds, not on every hit.
        let load = async {
            fetched.store(true, std::sync::atomic::Ordering::Relaxed);
            let start = Instant::now();
            let f = self.load(channel, url, purpose).await;
            self.metrics
                .origin_fetch(&channel.name, f.is_ok(), start.elapsed().as_secs_f64());
            let f = f?;
            self.last_good.insert(key.clone(), f.clone()).await;
            Ok::<_, Error>(f)
        };
        let got = self.fresh.try_get_with(key.clone(), load).await;
        self.metrics.origin_cache(
            &channel.name,
            !fetched.load(std::sync::atomic::Ordering::Relaxed),
        );
        match got {
            Ok(f) => Ok(f),
            Err(e) if matches!(*e, Error::OriginNotFound(_)) => Err(clone_error(&e)),
            Err(e) => {
                if let Some(stale) = self.last_good.get(&key).await {
                    if stale.fetched_at.elapsed() <= stale.ttl + stale.stale_for {
                        warn!(url = %url, reason = %e, "Origin failed; serving the last good manifest.");
                        self.metrics.origin_stale_served(&channel.name);
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
        let (timeout, max) = match purpose {
            Purpose::Content | Purpose::Dash => {
                (channel.origin_timeout(), channel.raw.origin_max_bytes)
            }
            Purpose::Ad | Purpose::DashAd => (channel.ads_timeout(), channel.raw.origin_max_bytes),
        };
        // Origin credentials go to the origin only, never to ad hosts.
        let headers: Vec<(&str, &str)> = match purpose {
            Purpose::Content | Purpose::Dash => channel
                .origin_headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.expose()))
                .collect(),
            Purpose::Ad | Purpose::DashAd => Vec::new(),
        };
        let what = describe(channel, url);
        let text = fetch_text(&self.http, url.as_str(), timeout, max, &headers)
            .await
            .map_err(|f| {
                let reason = match &f {
                    FetchFailure::Timeout => "timeout",
                    FetchFailure::Status(404) => "not_found",
                    FetchFailure::Status(_) => "status",
                    _ => "transport",
                };
                self.metrics.origin_error(&channel.name, reason);
                match f {
                    FetchFailure::Timeout => Error::OriginTimeout(what.clone()),
                    FetchFailure::Status(404) | FetchFailure::Status(410) => {
                        Error::OriginNotFound(what.clone())
                    }
                    other => Error::OriginFailed(format!("{what}: {other}")),
                }
            })?;
        let stale_for = Duration::from_secs(channel.raw.stale_if_error_secs);
        if matches!(purpose, Purpose::Dash | Purpose::DashAd) {
            let (manifest, ttl) = self.prepare_mpd(channel, url, &text, purpose)?;
            return Ok(Arc::new(Fetched {
                url: url.clone(),
                weight: estimate_weight(text.len(), &manifest),
                manifest,
                ttl,
                stale_for,
                fetched_at: Instant::now(),
            }));
        }
        let parsed = parse_playlist(&text).map_err(|e| {
            self.metrics.origin_error(&channel.name, "not_a_playlist");
            Error::OriginFailed(format!("{what}: {e}"))
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
            (Playlist::Media(pl), Purpose::Ad) => {
                let r = rewrite::ad_rendition(&pl, url, channel.raw.ad_segment_prefix.as_deref());
                // Players (client-side reporting) would follow them as written.
                if !ad_uris_are_http(&r) {
                    self.metrics.origin_error(&channel.name, "not_http");
                    return Err(Error::OriginFailed(format!(
                        "{what}: ad playlist names a URI that is not http(s)"
                    )));
                }
                (Manifest::Ad(Arc::new(r)), AD_TTL)
            }
            (Playlist::Media(mut pl), _) => {
                // Personalized numbers add ad segments to the origin's: keep room so
                // they never wrap.
                if pl.media_sequence > MAX_MEDIA_SEQUENCE
                    || pl.discontinuity_sequence > MAX_MEDIA_SEQUENCE
                {
                    self.metrics.origin_error(&channel.name, "not_a_playlist");
                    return Err(Error::OriginFailed(format!(
                        "{what}: EXT-X-MEDIA-SEQUENCE or EXT-X-DISCONTINUITY-SEQUENCE above {MAX_MEDIA_SEQUENCE}"
                    )));
                }
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
            weight: estimate_weight(text.len(), &manifest),
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
            self.metrics.origin_error(&channel.name, "not_an_mpd");
            Error::OriginFailed(format!("{}: {why}", describe(channel, url)))
        };
        let mut doc = dash::parse(text).map_err(|e| not_mpd(e.to_string()))?;
        // A DOCTYPE can declare entities; players have no use for it (MPDs have no
        // DTD): it is not passed on.
        doc.prolog
            .retain(|n| !matches!(n, dash::xml::Node::DocType(_)));
        if doc.root.local_name() != "MPD" {
            return Err(not_mpd(format!(
                "root element is <{}>, not <MPD>",
                doc.root.name
            )));
        }
        if purpose == Purpose::DashAd {
            let ad = dash::prepare_ad(&doc, url, channel.raw.ad_segment_prefix.as_deref())
                .ok_or_else(|| not_mpd("ad MPD has no Period with a duration".into()))?;
            if !dash_ad_uris_are_http(&ad) {
                return Err(not_mpd("ad MPD names a URI that is not http(s)".into()));
            }
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

/// Largest origin media (or discontinuity) sequence number accepted: 2^53, so a
/// personalized number (origin number plus inserted ad segments) can neither wrap
/// a u64 nor lose precision in a JavaScript player. An origin above it gets 502.
pub const MAX_MEDIA_SEQUENCE: u64 = 1 << 53;

/// Whether `uri` is an absolute http(s) URL.
fn is_http(uri: &str) -> bool {
    crate::urls::parse(uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// Whether a URI attribute value (`URI="..."` of an HLS tag) is relative or
/// http(s): a value with any other scheme (`javascript:`, `file:`, `data:`) is not.
fn uri_value_ok(v: &str) -> bool {
    match crate::urls::parse(v) {
        Ok(u) => matches!(u.scheme(), "http" | "https"),
        // Relative: resolved against the (http) playlist URL.
        Err(url::ParseError::RelativeUrlWithoutBase) => true,
        Err(_) => false,
    }
}

/// Every segment URI and tag `URI="..."` of an ad rendition is http(s).
fn ad_uris_are_http(r: &AdRendition) -> bool {
    r.segments.iter().all(|s| {
        is_http(&s.uri)
            && s.lines.iter().chain([&s.extinf]).all(|l| {
                l.split("URI=\"")
                    .skip(1)
                    .all(|rest| uri_value_ok(rest.split('"').next().unwrap_or("")))
            })
    })
}

/// A DASH ad's base URL, and every URL its Period names, are http(s) or relative.
fn dash_ad_uris_are_http(ad: &DashAd) -> bool {
    fn element_ok(e: &dash::xml::Element) -> bool {
        let attrs_ok = e.attrs.iter().all(|(k, v)| {
            !matches!(
                dash::xml::local(k),
                "media" | "initialization" | "sourceURL" | "href" | "index"
            ) || uri_value_ok(&dash::xml::unescape(v))
        });
        let text_ok = e.local_name() != "BaseURL"
            || e.children.iter().all(|n| match n {
                dash::xml::Node::Text(t) => uri_value_ok(dash::xml::unescape(t).trim()),
                _ => true,
            });
        attrs_ok && text_ok && e.elements().all(element_ok)
    }
    is_http(&ad.base_url) && element_ok(&ad.period)
}

/// How errors (which players see) name a fetched URL: the configuration and the
/// path under its origin, never the origin's scheme, host or query.
fn describe(channel: &Channel, url: &Url) -> String {
    let base = channel.origin_base_of(url);
    let path = match url.as_str().strip_prefix(base.as_str()) {
        Some(rest) => rest.split(['?', '#']).next().unwrap_or("").to_string(),
        None => url.path().trim_start_matches('/').to_string(),
    };
    format!("configuration `{}`, path `{path}`", channel.name)
}

fn clone_error(e: &Error) -> Error {
    match e {
        Error::OriginTimeout(u) => Error::OriginTimeout(u.clone()),
        Error::OriginNotFound(u) => Error::OriginNotFound(u.clone()),
        Error::OriginFailed(u) => Error::OriginFailed(u.clone()),
        other => Error::Internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A VOD playlist of `n` segments, ~94 bytes each (3,500: the 330 KB of issue #13).
    fn playlist(n: usize) -> String {
        let mut s = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n".to_string();
        for i in 0..n {
            s.push_str(&format!(
                "#EXTINF:6.000,\nsegments/rendition-1080p-avc1.640028/segment-{i:08}-of-the-long-vod-asset.ts\n"
            ));
        }
        s.push_str("#EXT-X-ENDLIST\n");
        s
    }

    #[test]
    fn the_weight_of_a_big_playlist_is_at_least_what_it_costs() {
        let text = playlist(3_500);
        let Ok(Playlist::Media(pl)) = parse_playlist(&text) else {
            panic!("not a media playlist");
        };
        let m = Manifest::Media(ParsedMedia {
            playlist: pl,
            breaks: Vec::new(),
        });
        let w = estimate_weight(text.len(), &m);
        // Measured: 80 such entries added 110 MB of RSS, 1.39 MB each (README).
        assert!(w >= 1_390_000, "{w} for {} bytes of text", text.len());
        assert!(w <= 2_000_000, "{w}: far above what it costs");
    }
}
