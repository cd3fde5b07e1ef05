//! Resolving an ad decision: fetch a VAST response, follow its wrappers, and return the
//! linear ads a stitcher can play, in play order.
//!
//! Async, but the only I/O goes through the [`VastFetcher`] trait, so tests resolve
//! against an in-memory map and production plugs in an HTTP client with its own timeouts
//! and size limit. Wrappers of one response are followed concurrently. There is no overall
//! deadline here: the caller wraps [`resolve_ads`] in `tokio::time::timeout`.
//!
//! Spec: IAB VAST 4.2, "Wrapper" (wrapper chains, `followAdditionalWrappers`,
//! `allowMultipleAds`), "Ad Pods" (`Ad@sequence`), "Companion Ads" and "AdVerifications"
//! (aggregated over the wrapper chain).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use serde::Serialize;

use crate::vast::{
    parse_vast, Ad, AdBody, Companion, Creative, InLine, Linear, MediaFile, TrackingEvent,
    VastError, Verification, Wrapper,
};

/// Most wrappers followed in one chain. VAST 4 asks players to accept at least five;
/// one more wrapper than this fails with [`ResolveError::WrapperDepth`].
pub const MAX_WRAPPER_DEPTH: u8 = 7;

/// Most VAST requests one decision makes (the first included), unless configured.
pub const DEFAULT_MAX_REQUESTS: usize = 32;
/// Most VAST requests of one decision in flight at once, unless configured.
pub const DEFAULT_MAX_CONCURRENT: usize = 4;

/// Bounds on the VAST requests of one decision: a wrapper fan-out (wrappers with
/// `allowMultipleAds` pointing at more wrappers) costs at most this much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolveLimits {
    /// Most requests in all (wrappers past it are dropped with
    /// [`ResolveError::FanOut`], unfetched).
    pub max_requests: usize,
    /// Most requests in flight at once.
    pub max_concurrent: usize,
}

impl Default for ResolveLimits {
    fn default() -> Self {
        Self {
            max_requests: DEFAULT_MAX_REQUESTS,
            max_concurrent: DEFAULT_MAX_CONCURRENT,
        }
    }
}

/// One decision's share of [`ResolveLimits`]: the URLs requested so far and the
/// permits for requests in flight.
struct Budget {
    limits: ResolveLimits,
    requested: std::sync::Mutex<Vec<String>>,
    in_flight: tokio::sync::Semaphore,
    /// Whether the request cap dropped a wrapper (the decision is `fan_out_capped`
    /// in metrics, whatever the other wrappers gave).
    capped: std::sync::atomic::AtomicBool,
}

impl Budget {
    fn new(limits: ResolveLimits) -> Self {
        Self {
            limits,
            requested: std::sync::Mutex::new(Vec::new()),
            in_flight: tokio::sync::Semaphore::new(limits.max_concurrent.max(1)),
            capped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Claim a request for `normalized` (a URL already requested in this decision
    /// is not requested again), or say why not. Claimed in document order, when a
    /// wrapper is read, so which wrappers a capped fan-out keeps is deterministic.
    fn claim(&self, normalized: &str) -> Result<(), ResolveError> {
        let mut requested = self
            .requested
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if requested.iter().any(|u| u == normalized) {
            return Err(ResolveError::Duplicate(normalized.to_owned()));
        }
        if requested.len() >= self.limits.max_requests {
            self.capped
                .store(true, std::sync::atomic::Ordering::Relaxed);
            return Err(ResolveError::FanOut);
        }
        requested.push(normalized.to_owned());
        Ok(())
    }

    /// Fetch within the in-flight bound.
    async fn fetch<F: VastFetcher>(&self, fetcher: &F, url: &str) -> Result<String, FetchError> {
        // The semaphore is never closed; should it be, fetch unbounded rather than fail.
        let _permit = self.in_flight.acquire().await.ok();
        fetcher.fetch(url).await
    }
}

/// Fetches the body of a VAST URL. Implementations own timeouts and size limits.
pub trait VastFetcher: Send + Sync {
    /// GETs `url` and returns the response body.
    fn fetch(&self, url: &str) -> impl Future<Output = Result<String, FetchError>> + Send;
}

/// Why a VAST fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The request did not finish in time.
    #[error("VAST request timed out")]
    Timeout,
    /// The ad server answered with a non-success HTTP status.
    #[error("VAST request returned HTTP {0}")]
    Status(u16),
    /// Connection, TLS or protocol failure.
    #[error("VAST request failed: {0}")]
    Transport(String),
    /// The body exceeded the configured size limit.
    #[error("VAST response too large")]
    TooLarge,
}

/// Why an ad decision produced no playable ad.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// A VAST request failed.
    #[error("VAST fetch failed")]
    Fetch(#[from] FetchError),
    /// A VAST response could not be parsed.
    #[error("VAST response could not be parsed")]
    Parse(#[from] VastError),
    /// A VAST response held no `<Ad>` (no fill).
    #[error("VAST response has no ads")]
    Empty {
        /// `<Error>` URLs to report the no-fill to: those of the wrappers that led to
        /// the empty response (outermost first), then its root `<Error>`s. Macros such as
        /// `[ERRORCODE]` are left for the caller to fill in.
        error_urls: Vec<String>,
    },
    /// A chain had more than [`MAX_WRAPPER_DEPTH`] wrappers, or a wrapper with
    /// `followAdditionalWrappers="false"` led to another wrapper.
    #[error("VAST wrapper limit reached")]
    WrapperDepth,
    /// A wrapper pointed back to a URL already fetched in its chain.
    #[error("VAST wrapper loop back to {0}")]
    WrapperLoop(String),
    /// The decision's VAST requests reached [`ResolveLimits::max_requests`]: this
    /// wrapper was not followed.
    #[error("VAST request limit of the decision reached")]
    FanOut,
    /// A wrapper pointed at a URL that this decision already requested (through
    /// another wrapper): it is not requested twice.
    #[error("VAST URL already requested in this decision: {0}")]
    Duplicate(String),
    /// A wrapper had no `<VASTAdTagURI>`.
    #[error("VAST wrapper has no VASTAdTagURI")]
    NoAdTagUri,
    /// An inline ad had no linear creative with a duration and a playable media file
    /// (or mezzanine).
    #[error("VAST ad has no playable linear creative")]
    NoLinear,
}

impl ResolveError {
    /// A short, stable label for metrics and `AdDecisionFailed { reason }`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Fetch(FetchError::Timeout) => "fetch_timeout",
            Self::Fetch(FetchError::Status(_)) => "fetch_status",
            Self::Fetch(FetchError::Transport(_)) => "fetch_transport",
            Self::Fetch(FetchError::TooLarge) => "fetch_too_large",
            Self::Parse(_) => "parse",
            Self::Empty { .. } => "empty",
            Self::WrapperDepth => "wrapper_depth",
            Self::WrapperLoop(_) => "wrapper_loop",
            Self::FanOut => "fan_out",
            Self::Duplicate(_) => "duplicate_url",
            Self::NoAdTagUri => "no_ad_tag_uri",
            Self::NoLinear => "no_linear",
        }
    }
}

/// One playable linear ad, with the tracking of every wrapper that led to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedAd {
    /// `Ad@id` of the inline ad, or of the outermost wrapper when the inline has none.
    pub ad_id: Option<String>,
    /// `Creative@id` of the chosen linear creative.
    pub creative_id: Option<String>,
    /// `<UniversalAdId>` of the chosen creative (`"registry:value"` or `"value"`).
    pub universal_ad_id: Option<String>,
    /// `Ad@sequence` of the outermost ad in the chain, else of the inline ad.
    pub sequence: Option<u32>,
    /// Creative duration in seconds (> 0).
    pub duration: f64,
    /// Video media files (VPAID, JavaScript and Flash units removed); may be empty when
    /// only mezzanines exist.
    pub media_files: Vec<MediaFile>,
    /// Mezzanine URLs, for transcoding.
    pub mezzanines: Vec<String>,
    /// Impression URLs: wrappers first (outermost first), then the inline ad.
    pub impressions: Vec<String>,
    /// Error URLs, same order.
    pub errors: Vec<String>,
    /// Tracking events: every wrapper linear creative's, then the chosen creative's.
    pub tracking: Vec<TrackingEvent>,
    /// Click-through of the creative, else of the nearest wrapper that has one.
    pub click_through: Option<String>,
    /// Click-tracking URLs: wrappers first, then the creative.
    pub click_tracking: Vec<String>,
    /// Number of wrappers followed to reach this ad (0 for a direct inline ad).
    pub wrapper_depth: u8,
    /// `<AdSystem>` of the inline ad.
    pub ad_system: Option<String>,
    /// `<AdTitle>` of the inline ad.
    pub ad_title: Option<String>,
    /// Companions of every creative of the inline ad, in document order. Each one also
    /// carries the tracking and click-tracking of every wrapper companion (outermost
    /// first) after its own, since a wrapper's companions only add tracking to the
    /// companion shown.
    pub companions: Vec<Companion>,
    /// Verifications: every wrapper's (outermost first), then the inline ad's.
    pub verifications: Vec<Verification>,
}

/// Fetches `url`, follows wrappers and returns the playable linear ads in play order.
///
/// Order: ads with `sequence` (a pod) sorted by sequence, then stand-alone ads in document
/// order; the ads a wrapper resolves to take the wrapper's place. Each inline ad yields
/// its first linear creative that has a duration and a playable media file or mezzanine.
/// An ad that fails (bad wrapper chain, no linear) is dropped.
///
/// A wrapper with `allowMultipleAds` false (the VAST 4 default, see
/// [`Wrapper::allow_multiple_ads`]) limits its response to the first stand-alone ad, or
/// to the first pod ad when there is none. `followAdditionalWrappers="false"` makes
/// a further wrapper fail with [`ResolveError::WrapperDepth`]. Relative `VASTAdTagURI`s
/// resolve against the URL of the response holding them. VAST macros (`[CACHEBUSTING]`,
/// `[ERRORCODE]`) are not expanded.
///
/// # Errors
///
/// [`ResolveError::Empty`] when the first response has no ad; [`ResolveError::Fetch`] or
/// [`ResolveError::Parse`] when it cannot be read; otherwise, when every ad fails, the
/// first ad's error.
pub async fn resolve_ads<F: VastFetcher>(
    fetcher: &F,
    url: &str,
) -> Result<Vec<ResolvedAd>, ResolveError> {
    resolve_ads_limited(fetcher, url, ResolveLimits::default()).await
}

/// [`resolve_ads`] within `limits`: at most `max_requests` VAST requests in all, each
/// URL requested once per decision (a wrapper repeating one already requested is
/// dropped with [`ResolveError::Duplicate`]), at most `max_concurrent` at once.
pub async fn resolve_ads_limited<F: VastFetcher>(
    fetcher: &F,
    url: &str,
    limits: ResolveLimits,
) -> Result<Vec<ResolvedAd>, ResolveError> {
    resolve_ads_capped(fetcher, url, limits).await.0
}

/// [`resolve_ads_limited`], and whether `max_requests` dropped a wrapper (some
/// ads may still have resolved: the ones within the cap).
pub async fn resolve_ads_capped<F: VastFetcher>(
    fetcher: &F,
    url: &str,
    limits: ResolveLimits,
) -> (Result<Vec<ResolvedAd>, ResolveError>, bool) {
    let normalized = normalize_url(url);
    let budget = Budget::new(limits);
    let capped = |b: &Budget| b.capped.load(std::sync::atomic::Ordering::Relaxed);
    if let Err(e) = budget.claim(&normalized) {
        return (Err(e), capped(&budget));
    }
    let chain = Chain {
        seen: vec![normalized],
        follow_wrappers: true,
        ..Chain::default()
    };
    let out = resolve_document(fetcher, &budget, url.to_owned(), chain, false).await;
    (out, capped(&budget))
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

type Resolved = Result<Vec<ResolvedAd>, ResolveError>;

/// What a wrapper chain hands down to the ads it leads to.
#[derive(Debug, Clone, Default)]
struct Chain {
    /// URLs fetched so far in this chain, normalized.
    seen: Vec<String>,
    /// Wrappers followed so far.
    depth: u8,
    /// Whether the last wrapper allows further wrappers.
    follow_wrappers: bool,
    /// `Ad@id` and `Ad@sequence` of the outermost ad.
    outer_id: Option<String>,
    outer_sequence: Option<u32>,
    impressions: Vec<String>,
    errors: Vec<String>,
    tracking: Vec<TrackingEvent>,
    click_through: Option<String>,
    click_tracking: Vec<String>,
    /// Tracking and click-tracking of the wrappers' companions, for the inline companions.
    companion_tracking: Vec<TrackingEvent>,
    companion_click_tracking: Vec<String>,
    verifications: Vec<Verification>,
}

/// Fetches and resolves one VAST response. `single_ad` keeps only one ad of it (the
/// wrapper that led here has `allowMultipleAds` false).
fn resolve_document<'a, F: VastFetcher>(
    fetcher: &'a F,
    budget: &'a Budget,
    url: String,
    chain: Chain,
    single_ad: bool,
) -> BoxFuture<'a, Resolved> {
    Box::pin(async move {
        let xml = budget.fetch(fetcher, &url).await?;
        let vast = parse_vast(&xml)?;
        if vast.ads.is_empty() {
            let mut error_urls = chain.errors;
            error_urls.extend(vast.errors);
            return Err(ResolveError::Empty { error_urls });
        }
        let mut ads = order_ads(vast.ads);
        if single_ad {
            let keep = ads.iter().position(|ad| ad.sequence.is_none()).unwrap_or(0);
            ads = ads.into_iter().skip(keep).take(1).collect();
        }
        let pending = ads
            .into_iter()
            .map(|ad| resolve_ad(fetcher, budget, &url, ad, &chain))
            .collect();
        let mut resolved = Vec::new();
        let mut first_error = None;
        for result in join_all(pending).await {
            match result {
                Ok(ads) => resolved.extend(ads),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if resolved.is_empty() => Err(e),
            _ => Ok(resolved),
        }
    })
}

/// Resolves one `<Ad>` of the response fetched from `base`.
fn resolve_ad<'a, F: VastFetcher>(
    fetcher: &'a F,
    budget: &'a Budget,
    base: &str,
    ad: Ad,
    chain: &Chain,
) -> BoxFuture<'a, Resolved> {
    match ad.body {
        AdBody::InLine(inline) => {
            let result = resolve_inline(ad.id, ad.sequence, &inline, chain).map(|ad| vec![ad]);
            Box::pin(std::future::ready(result))
        }
        AdBody::Wrapper(wrapper) => {
            let single_ad = !wrapper.allow_multiple_ads;
            let followed = follow_wrapper(base, ad.id, ad.sequence, wrapper, chain)
                .and_then(|(url, next)| budget.claim(&normalize_url(&url)).map(|()| (url, next)));
            match followed {
                Ok((url, next)) => resolve_document(fetcher, budget, url, next, single_ad),
                Err(e) => Box::pin(std::future::ready(Err(e))),
            }
        }
    }
}

/// Checks a wrapper and builds the chain for its target: `(url, chain)`.
fn follow_wrapper(
    base: &str,
    id: Option<String>,
    sequence: Option<u32>,
    wrapper: Wrapper,
    chain: &Chain,
) -> Result<(String, Chain), ResolveError> {
    if !chain.follow_wrappers || chain.depth >= MAX_WRAPPER_DEPTH {
        return Err(ResolveError::WrapperDepth);
    }
    if wrapper.ad_tag_uri.is_empty() {
        return Err(ResolveError::NoAdTagUri);
    }
    let url = join_url(base, &wrapper.ad_tag_uri);
    let normalized = normalize_url(&url);
    if chain.seen.contains(&normalized) {
        return Err(ResolveError::WrapperLoop(url));
    }
    let mut next = chain.clone();
    next.seen.push(normalized);
    next.depth += 1;
    next.follow_wrappers = wrapper.follow_additional_wrappers;
    if next.depth == 1 {
        next.outer_id = id;
        next.outer_sequence = sequence;
    }
    next.impressions.extend(wrapper.impressions);
    next.errors.extend(wrapper.errors);
    next.verifications.extend(wrapper.verifications);
    for creative in wrapper.creatives {
        // A wrapper companion's resources and click-through are not shown (the inline
        // ad's are); only its tracking is kept.
        for companion in creative.companions {
            next.companion_tracking.extend(companion.tracking);
            next.companion_click_tracking
                .extend(companion.click_tracking);
        }
        if let Some(linear) = creative.linear {
            next.tracking.extend(linear.tracking);
            next.click_tracking.extend(linear.click_tracking);
            // The nearest wrapper's click-through wins over outer ones.
            if linear.click_through.is_some() {
                next.click_through = linear.click_through;
            }
        }
    }
    Ok((url, next))
}

/// Builds the resolved ad from an inline ad's first playable linear creative.
fn resolve_inline(
    id: Option<String>,
    sequence: Option<u32>,
    inline: &InLine,
    chain: &Chain,
) -> Result<ResolvedAd, ResolveError> {
    let (creative, linear, duration, media_files) = inline
        .creatives
        .iter()
        .find_map(playable_linear)
        .ok_or(ResolveError::NoLinear)?;
    Ok(ResolvedAd {
        ad_id: id.or_else(|| chain.outer_id.clone()),
        creative_id: creative.id.clone(),
        universal_ad_id: creative.universal_ad_id.clone(),
        sequence: chain.outer_sequence.or(sequence),
        duration,
        media_files,
        mezzanines: linear.mezzanines.clone(),
        impressions: concat(&chain.impressions, &inline.impressions),
        errors: concat(&chain.errors, &inline.errors),
        tracking: concat(&chain.tracking, &linear.tracking),
        click_through: linear
            .click_through
            .clone()
            .or_else(|| chain.click_through.clone()),
        click_tracking: concat(&chain.click_tracking, &linear.click_tracking),
        wrapper_depth: chain.depth,
        ad_system: inline.ad_system.clone(),
        ad_title: inline.ad_title.clone(),
        companions: inline
            .creatives
            .iter()
            .flat_map(|c| &c.companions)
            .map(|companion| with_wrapper_tracking(companion, chain))
            .collect(),
        verifications: concat(&chain.verifications, &inline.verifications),
    })
}

/// An inline companion with the wrapper companions' tracking appended. With no inline
/// companion there is nothing to attach it to, so a wrapper's companion tracking is
/// dropped then.
fn with_wrapper_tracking(companion: &Companion, chain: &Chain) -> Companion {
    let mut companion = companion.clone();
    companion
        .tracking
        .extend_from_slice(&chain.companion_tracking);
    companion
        .click_tracking
        .extend_from_slice(&chain.companion_click_tracking);
    companion
}

/// A creative's linear if it has a positive duration and a video media file or mezzanine.
fn playable_linear(creative: &Creative) -> Option<(&Creative, &Linear, f64, Vec<MediaFile>)> {
    let linear = creative.linear.as_ref()?;
    let duration = linear.duration.filter(|d| *d > 0.0)?;
    let media_files: Vec<MediaFile> = linear
        .media_files
        .iter()
        .filter(|m| !m.is_interactive())
        .cloned()
        .collect();
    if media_files.is_empty() && linear.mezzanines.is_empty() {
        return None;
    }
    Some((creative, linear, duration, media_files))
}

/// Pod ads by `sequence` (stable), then stand-alone ads in document order.
fn order_ads(ads: Vec<Ad>) -> Vec<Ad> {
    let (mut pod, standalone): (Vec<Ad>, Vec<Ad>) =
        ads.into_iter().partition(|ad| ad.sequence.is_some());
    pod.sort_by_key(|ad| ad.sequence);
    pod.extend(standalone);
    pod
}

fn concat<T: Clone>(outer: &[T], inner: &[T]) -> Vec<T> {
    outer.iter().chain(inner).cloned().collect()
}

/// Resolves a possibly relative `VASTAdTagURI` against the URL of its response.
fn join_url(base: &str, reference: &str) -> String {
    crate::urls::parse(base)
        .and_then(|base| crate::urls::join(&base, reference))
        .map(String::from)
        .unwrap_or_else(|_| reference.to_owned())
}

/// Canonical form for loop detection (`HTTP://A` and `http://a/` are the same URL).
fn normalize_url(url: &str) -> String {
    crate::urls::parse(url)
        .map(String::from)
        .unwrap_or_else(|_| url.to_owned())
}

/// Runs futures concurrently on the current task and returns their outputs in order.
pub(crate) async fn join_all<T>(futures: Vec<BoxFuture<'_, T>>) -> Vec<T> {
    let mut pending: Vec<Option<BoxFuture<'_, T>>> = futures.into_iter().map(Some).collect();
    let mut outputs: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut all_done = true;
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            Poll::Ready(outputs.iter_mut().filter_map(Option::take).collect())
        } else {
            Poll::Pending
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    /// In-memory ad server: URL → body; unknown URLs answer 404. Records fetch order.
    #[derive(Default)]
    struct MapFetcher {
        bodies: HashMap<String, Result<String, FetchError>>,
        fetched: Mutex<Vec<String>>,
    }

    impl MapFetcher {
        fn with(mut self, url: &str, xml: impl Into<String>) -> Self {
            self.bodies.insert(url.to_owned(), Ok(xml.into()));
            self
        }

        fn failing(mut self, url: &str, error: FetchError) -> Self {
            self.bodies.insert(url.to_owned(), Err(error));
            self
        }

        fn fetched(&self) -> Vec<String> {
            self.fetched.lock().map(|f| f.clone()).unwrap_or_default()
        }
    }

    impl VastFetcher for MapFetcher {
        async fn fetch(&self, url: &str) -> Result<String, FetchError> {
            if let Ok(mut fetched) = self.fetched.lock() {
                fetched.push(url.to_owned());
            }
            // Yield once so concurrent wrapper fetches really interleave.
            tokio::task::yield_now().await;
            self.bodies
                .get(url)
                .cloned()
                .unwrap_or(Err(FetchError::Status(404)))
        }
    }

    const POD_UNORDERED: &str = include_str!("../../tests/fixtures/vast/vast-pod-unordered.xml");
    const INLINE_HLS: &str =
        include_str!("../../tests/fixtures/vast/vast-inline-hls-mezzanine.xml");
    const WRAPPER_RELATIVE: &str =
        include_str!("../../tests/fixtures/vast/vast-wrapper-relative-uri.xml");
    const NO_FILL: &str = include_str!("../../tests/fixtures/vast/vast-no-fill-error.xml");

    fn inline_ad(id: &str, sequence: Option<u32>, secs: u32) -> String {
        let sequence = sequence
            .map(|s| format!(" sequence=\"{s}\""))
            .unwrap_or_default();
        format!(
            r#"<Ad id="{id}"{sequence}><InLine>
                <AdSystem>test</AdSystem>
                <Impression>https://inline.test/imp/{id}</Impression>
                <Error>https://inline.test/err/{id}</Error>
                <Creatives><Creative id="cr-{id}"><Linear>
                  <Duration>00:00:{secs:02}</Duration>
                  <TrackingEvents><Tracking event="start">https://inline.test/start/{id}</Tracking></TrackingEvents>
                  <VideoClicks><ClickTracking>https://inline.test/click/{id}</ClickTracking></VideoClicks>
                  <MediaFiles><MediaFile delivery="progressive" type="video/mp4" bitrate="1000">https://cdn.test/{id}.mp4</MediaFile></MediaFiles>
                </Linear></Creative></Creatives>
            </InLine></Ad>"#
        )
    }

    fn wrapper_ad(id: &str, sequence: Option<u32>, target: &str, attrs: &str) -> String {
        let sequence = sequence
            .map(|s| format!(" sequence=\"{s}\""))
            .unwrap_or_default();
        format!(
            r#"<Ad id="{id}"{sequence}><Wrapper {attrs}>
                <AdSystem>test</AdSystem>
                <VASTAdTagURI><![CDATA[{target}]]></VASTAdTagURI>
                <Impression>https://wrapper.test/imp/{id}</Impression>
                <Error>https://wrapper.test/err/{id}</Error>
                <Creatives><Creative><Linear>
                  <TrackingEvents><Tracking event="start">https://wrapper.test/start/{id}</Tracking></TrackingEvents>
                  <VideoClicks><ClickTracking>https://wrapper.test/click/{id}</ClickTracking></VideoClicks>
                </Linear></Creative></Creatives>
            </Wrapper></Ad>"#
        )
    }

    fn vast(version: &str, ads: &[String]) -> String {
        format!("<VAST version=\"{version}\">{}</VAST>", ads.concat())
    }

    fn ids(ads: &[ResolvedAd]) -> Vec<&str> {
        ads.iter().filter_map(|a| a.ad_id.as_deref()).collect()
    }

    #[tokio::test]
    async fn inline_fixture() {
        let url = "https://ads.test/inline.xml";
        let fetcher = MapFetcher::default().with(url, INLINE_HLS);
        let ads = resolve_ads(&fetcher, url).await.expect("resolves");
        assert_eq!(ads.len(), 1);
        let ad = &ads[0];
        assert_eq!(ad.ad_id.as_deref(), Some("ad-hls-1"));
        assert_eq!(ad.creative_id.as_deref(), Some("cr-1"));
        assert_eq!(
            ad.universal_ad_id.as_deref(),
            Some("ad-id.org:ABCD1234000H")
        );
        assert_eq!(ad.duration, 15.5);
        assert_eq!(ad.media_files.len(), 2);
        assert!(ad.media_files[0].is_hls());
        assert_eq!(ad.mezzanines.len(), 1);
        assert_eq!(ad.impressions.len(), 2);
        assert_eq!(ad.tracking.len(), 3);
        assert_eq!(ad.wrapper_depth, 0);
        assert_eq!(ad.sequence, None);
    }

    #[tokio::test]
    async fn three_deep_wrapper_chain_merges_tracking() {
        let fetcher = MapFetcher::default()
            .with(
                "https://a.test/1",
                vast("3.0", &[wrapper_ad("w1", Some(4), "https://b.test/2", "")]),
            )
            .with(
                "https://b.test/2",
                vast("3.0", &[wrapper_ad("w2", None, "https://c.test/3", "")]),
            )
            .with(
                "https://c.test/3",
                // Relative URI, resolved against https://c.test/3.
                vast("3.0", &[wrapper_ad("w3", None, "inline/4", "")]),
            )
            .with(
                "https://c.test/inline/4",
                vast("3.0", &[inline_ad("in", None, 15)]),
            );
        let ads = resolve_ads(&fetcher, "https://a.test/1")
            .await
            .expect("resolves");
        assert_eq!(ads.len(), 1);
        let ad = &ads[0];
        assert_eq!(ad.wrapper_depth, 3);
        assert_eq!(ad.ad_id.as_deref(), Some("in"));
        assert_eq!(ad.sequence, Some(4), "outermost sequence");
        assert_eq!(ad.duration, 15.0);
        assert_eq!(
            ad.impressions,
            [
                "https://wrapper.test/imp/w1",
                "https://wrapper.test/imp/w2",
                "https://wrapper.test/imp/w3",
                "https://inline.test/imp/in",
            ]
        );
        assert_eq!(
            ad.errors,
            [
                "https://wrapper.test/err/w1",
                "https://wrapper.test/err/w2",
                "https://wrapper.test/err/w3",
                "https://inline.test/err/in",
            ]
        );
        let starts: Vec<_> = ad.tracking.iter().map(|t| t.url.as_str()).collect();
        assert_eq!(
            starts,
            [
                "https://wrapper.test/start/w1",
                "https://wrapper.test/start/w2",
                "https://wrapper.test/start/w3",
                "https://inline.test/start/in",
            ]
        );
        assert_eq!(ad.click_tracking.len(), 4);
        assert_eq!(
            ad.click_tracking.last().map(String::as_str),
            Some("https://inline.test/click/in")
        );
    }

    /// A chain of `wrappers` wrappers ending in an inline ad.
    fn chain_fetcher(wrappers: usize) -> MapFetcher {
        let mut fetcher = MapFetcher::default();
        for i in 0..wrappers {
            let next = format!("https://chain.test/{}", i + 1);
            fetcher = fetcher.with(
                &format!("https://chain.test/{i}"),
                vast("4.2", &[wrapper_ad(&format!("w{i}"), None, &next, "")]),
            );
        }
        fetcher.with(
            &format!("https://chain.test/{wrappers}"),
            vast("4.2", &[inline_ad("end", None, 10)]),
        )
    }

    #[tokio::test]
    async fn seven_wrappers_are_followed() {
        let fetcher = chain_fetcher(usize::from(MAX_WRAPPER_DEPTH));
        let ads = resolve_ads(&fetcher, "https://chain.test/0")
            .await
            .expect("resolves");
        assert_eq!(ads[0].wrapper_depth, MAX_WRAPPER_DEPTH);
        assert_eq!(ads[0].impressions.len(), 8);
    }

    #[tokio::test]
    async fn eight_wrappers_fail_with_wrapper_depth() {
        let fetcher = chain_fetcher(8);
        assert_eq!(
            resolve_ads(&fetcher, "https://chain.test/0").await,
            Err(ResolveError::WrapperDepth)
        );
        // The 8th wrapper's target is never fetched.
        assert_eq!(fetcher.fetched().len(), 8);
    }

    #[tokio::test]
    async fn loop_a_b_a_fails_with_wrapper_loop() {
        let fetcher = MapFetcher::default()
            .with(
                "https://a.test/vast",
                vast("3.0", &[wrapper_ad("a", None, "https://b.test/vast", "")]),
            )
            .with(
                "https://b.test/vast",
                // Spelled differently, same URL after normalization.
                vast("3.0", &[wrapper_ad("b", None, "HTTPS://A.TEST/vast", "")]),
            );
        assert_eq!(
            resolve_ads(&fetcher, "https://a.test/vast").await,
            Err(ResolveError::WrapperLoop("https://a.test/vast".into()))
        );
        assert_eq!(fetcher.fetched().len(), 2);
    }

    #[tokio::test]
    async fn pod_is_ordered_by_sequence_then_standalone() {
        let url = "https://ads.test/pod";
        let fetcher = MapFetcher::default().with(url, POD_UNORDERED);
        let ads = resolve_ads(&fetcher, url).await.expect("resolves");
        assert_eq!(ids(&ads), ["first", "second", "standalone"]);
        let seqs: Vec<_> = ads.iter().map(|a| a.sequence).collect();
        assert_eq!(seqs, [Some(1), Some(2), None]);
        let durations: Vec<_> = ads.iter().map(|a| a.duration).collect();
        assert_eq!(durations, [30.0, 20.0, 10.0]);
    }

    #[tokio::test]
    async fn equal_sequences_keep_document_order() {
        let url = "https://ads.test/pod";
        let fetcher = MapFetcher::default().with(
            url,
            vast(
                "3.0",
                &[
                    inline_ad("x", Some(2), 5),
                    inline_ad("y", Some(1), 5),
                    inline_ad("z", Some(2), 5),
                ],
            ),
        );
        let ads = resolve_ads(&fetcher, url).await.expect("resolves");
        assert_eq!(ids(&ads), ["y", "x", "z"]);
    }

    #[tokio::test]
    async fn wrapper_inner_pod_takes_wrapper_place() {
        let fetcher = MapFetcher::default()
            .with(
                "https://ads.test/outer",
                vast(
                    "3.0",
                    &[
                        inline_ad("o3", Some(3), 5),
                        wrapper_ad("o2", Some(2), "https://ads.test/inner", ""),
                        inline_ad("o1", Some(1), 5),
                    ],
                ),
            )
            .with(
                "https://ads.test/inner",
                vast(
                    "3.0",
                    &[
                        inline_ad("i2", Some(2), 5),
                        inline_ad("i-alone", None, 5),
                        inline_ad("i1", Some(1), 5),
                    ],
                ),
            );
        let ads = resolve_ads(&fetcher, "https://ads.test/outer")
            .await
            .expect("resolves");
        assert_eq!(ids(&ads), ["o1", "i1", "i2", "i-alone", "o3"]);
        // Inner ads carry the wrapper's pod position and its tracking.
        assert_eq!(ads[1].sequence, Some(2));
        assert_eq!(ads[1].impressions[0], "https://wrapper.test/imp/o2");
        assert_eq!(ads[0].wrapper_depth, 0);
        assert_eq!(ads[1].wrapper_depth, 1);
    }

    #[tokio::test]
    async fn vast4_wrapper_without_allow_multiple_ads_keeps_one_ad() {
        let inner = vast(
            "4.2",
            &[
                inline_ad("i1", Some(1), 5),
                inline_ad("alone-1", None, 5),
                inline_ad("alone-2", None, 5),
            ],
        );
        let fetcher = MapFetcher::default()
            .with(
                "https://ads.test/default",
                vast(
                    "4.2",
                    &[wrapper_ad("w", None, "https://ads.test/inner", "")],
                ),
            )
            .with(
                "https://ads.test/allowed",
                vast(
                    "4.2",
                    &[wrapper_ad(
                        "w",
                        None,
                        "https://ads.test/inner",
                        "allowMultipleAds=\"true\"",
                    )],
                ),
            )
            .with("https://ads.test/inner", inner);
        let one = resolve_ads(&fetcher, "https://ads.test/default")
            .await
            .expect("resolves");
        assert_eq!(ids(&one), ["alone-1"]);
        let all = resolve_ads(&fetcher, "https://ads.test/allowed")
            .await
            .expect("resolves");
        assert_eq!(ids(&all), ["i1", "alone-1", "alone-2"]);
    }

    #[tokio::test]
    async fn follow_additional_wrappers_false_stops_the_chain() {
        let fetcher = MapFetcher::default()
            .with(
                "https://ads.test/a",
                vast(
                    "4.2",
                    &[wrapper_ad(
                        "a",
                        None,
                        "https://ads.test/b",
                        "followAdditionalWrappers=\"0\"",
                    )],
                ),
            )
            .with(
                "https://ads.test/b",
                vast("4.2", &[wrapper_ad("b", None, "https://ads.test/c", "")]),
            )
            .with(
                "https://ads.test/c",
                vast("4.2", &[inline_ad("c", None, 5)]),
            );
        assert_eq!(
            resolve_ads(&fetcher, "https://ads.test/a").await,
            Err(ResolveError::WrapperDepth)
        );
    }

    #[tokio::test]
    async fn relative_wrapper_fixture_keeps_wrapper_tracking() {
        let fetcher = MapFetcher::default()
            .with("https://ads.test/vast/wrap/start.xml", WRAPPER_RELATIVE)
            .with("https://ads.test/vast/inline/next.xml?slot=1", INLINE_HLS);
        let ads = resolve_ads(&fetcher, "https://ads.test/vast/wrap/start.xml")
            .await
            .expect("resolves");
        let ad = &ads[0];
        assert_eq!(ad.ad_id.as_deref(), Some("ad-hls-1"));
        assert_eq!(ad.sequence, Some(1));
        assert_eq!(ad.impressions[0], "https://wrapper.example.com/imp");
        assert_eq!(ad.tracking[0].url, "https://wrapper.example.com/t/start");
        assert_eq!(ad.click_tracking[0], "https://wrapper.example.com/t/click");
        assert_eq!(
            ad.click_through.as_deref(),
            Some("https://advertiser.example.com/landing")
        );
    }

    #[tokio::test]
    async fn empty_response_is_empty_with_error_urls() {
        let url = "https://ads.test/nofill";
        let fetcher = MapFetcher::default().with(url, NO_FILL);
        assert_eq!(
            resolve_ads(&fetcher, url).await,
            Err(ResolveError::Empty {
                error_urls: vec!["https://ads.example.com/nofill?code=[ERRORCODE]".into()]
            })
        );
    }

    #[tokio::test]
    async fn wrapper_to_empty_reports_wrapper_errors_first() {
        let fetcher = MapFetcher::default()
            .with(
                "https://ads.test/w",
                vast(
                    "3.0",
                    &[wrapper_ad("w", None, "https://ads.test/nofill", "")],
                ),
            )
            .with("https://ads.test/nofill", NO_FILL);
        assert_eq!(
            resolve_ads(&fetcher, "https://ads.test/w").await,
            Err(ResolveError::Empty {
                error_urls: vec![
                    "https://wrapper.test/err/w".into(),
                    "https://ads.example.com/nofill?code=[ERRORCODE]".into(),
                ]
            })
        );
    }

    #[tokio::test]
    async fn failing_ads_are_dropped_when_others_resolve() {
        let fetcher = MapFetcher::default()
            .with(
                "https://ads.test/pod",
                vast(
                    "3.0",
                    &[
                        wrapper_ad("broken", Some(1), "https://ads.test/missing", ""),
                        inline_ad("ok", Some(2), 5),
                        wrapper_ad("timeout", Some(3), "https://ads.test/slow", ""),
                    ],
                ),
            )
            .failing("https://ads.test/slow", FetchError::Timeout);
        let ads = resolve_ads(&fetcher, "https://ads.test/pod")
            .await
            .expect("resolves");
        assert_eq!(ids(&ads), ["ok"]);
    }

    #[tokio::test]
    async fn all_failing_returns_first_error() {
        let fetcher = MapFetcher::default()
            .with(
                "https://ads.test/pod",
                vast(
                    "3.0",
                    &[
                        wrapper_ad("timeout", Some(2), "https://ads.test/slow", ""),
                        wrapper_ad("missing", Some(1), "https://ads.test/missing", ""),
                    ],
                ),
            )
            .failing("https://ads.test/slow", FetchError::Timeout);
        let err = resolve_ads(&fetcher, "https://ads.test/pod")
            .await
            .expect_err("fails");
        // Sequence 1 comes first in play order.
        assert_eq!(err, ResolveError::Fetch(FetchError::Status(404)));
        assert_eq!(err.reason(), "fetch_status");
    }

    #[tokio::test]
    async fn top_level_fetch_and_parse_errors() {
        let fetcher = MapFetcher::default()
            .with("https://ads.test/html", "<html><body>oops</body></html>")
            .failing("https://ads.test/big", FetchError::TooLarge);
        assert_eq!(
            resolve_ads(&fetcher, "https://ads.test/html").await,
            Err(ResolveError::Parse(VastError::NotVast("html".into())))
        );
        assert_eq!(
            resolve_ads(&fetcher, "https://ads.test/big").await,
            Err(ResolveError::Fetch(FetchError::TooLarge))
        );
    }

    #[tokio::test]
    async fn inline_without_playable_linear_is_no_linear() {
        let vpaid_only = r#"<VAST version="3.0"><Ad id="v"><InLine><Creatives><Creative><Linear>
            <Duration>00:00:30</Duration>
            <MediaFiles><MediaFile type="application/javascript" apiFramework="VPAID">https://x/vpaid.js</MediaFile></MediaFiles>
          </Linear></Creative></Creatives></InLine></Ad></VAST>"#;
        let no_duration = r#"<VAST version="3.0"><Ad id="d"><InLine><Creatives><Creative><Linear>
            <MediaFiles><MediaFile type="video/mp4">https://x/a.mp4</MediaFile></MediaFiles>
          </Linear></Creative></Creatives></InLine></Ad></VAST>"#;
        let fetcher = MapFetcher::default()
            .with("https://ads.test/vpaid", vpaid_only)
            .with("https://ads.test/nodur", no_duration);
        for url in ["https://ads.test/vpaid", "https://ads.test/nodur"] {
            assert_eq!(
                resolve_ads(&fetcher, url).await,
                Err(ResolveError::NoLinear),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn first_playable_creative_is_used_and_mezzanine_only_counts() {
        let xml = r#"<VAST version="4.1"><Ad id="m"><InLine><Creatives>
            <Creative id="companion"><CompanionAds/></Creative>
            <Creative id="zero"><Linear><Duration>00:00:00</Duration>
              <MediaFiles><MediaFile type="video/mp4">https://x/zero.mp4</MediaFile></MediaFiles></Linear></Creative>
            <Creative id="mezz"><Linear><Duration>00:00:20</Duration>
              <MediaFiles><Mezzanine type="video/mp4">https://x/mezz.mov</Mezzanine></MediaFiles></Linear></Creative>
            <Creative id="later"><Linear><Duration>00:00:20</Duration>
              <MediaFiles><MediaFile type="video/mp4">https://x/later.mp4</MediaFile></MediaFiles></Linear></Creative>
          </Creatives></InLine></Ad></VAST>"#;
        let fetcher = MapFetcher::default().with("https://ads.test/m", xml);
        let ads = resolve_ads(&fetcher, "https://ads.test/m")
            .await
            .expect("resolves");
        assert_eq!(ads[0].creative_id.as_deref(), Some("mezz"));
        assert!(ads[0].media_files.is_empty());
        assert_eq!(ads[0].mezzanines, ["https://x/mezz.mov"]);
    }

    #[tokio::test]
    async fn wrapper_without_tag_uri_fails() {
        let xml = r#"<VAST version="3.0"><Ad><Wrapper><Impression>https://x</Impression></Wrapper></Ad></VAST>"#;
        let fetcher = MapFetcher::default().with("https://ads.test/w", xml);
        assert_eq!(
            resolve_ads(&fetcher, "https://ads.test/w").await,
            Err(ResolveError::NoAdTagUri)
        );
    }

    #[tokio::test]
    async fn pod_wrappers_are_fetched_concurrently() {
        let fetcher = MapFetcher::default()
            .with(
                "https://ads.test/pod",
                vast(
                    "3.0",
                    &[
                        wrapper_ad("w1", Some(1), "https://ads.test/a", ""),
                        wrapper_ad("w2", Some(2), "https://ads.test/b", ""),
                    ],
                ),
            )
            .with(
                "https://ads.test/a",
                vast("3.0", &[wrapper_ad("wa", None, "https://ads.test/a2", "")]),
            )
            .with(
                "https://ads.test/a2",
                vast("3.0", &[inline_ad("a", None, 5)]),
            )
            .with(
                "https://ads.test/b",
                vast("3.0", &[inline_ad("b", None, 5)]),
            );
        let ads = resolve_ads(&fetcher, "https://ads.test/pod")
            .await
            .expect("resolves");
        assert_eq!(ids(&ads), ["a", "b"]);
        // Both first-level wrapper fetches start before the second-level one.
        assert_eq!(
            fetcher.fetched(),
            [
                "https://ads.test/pod",
                "https://ads.test/a",
                "https://ads.test/b",
                "https://ads.test/a2",
            ]
        );
    }

    /// A VAST 4.2 wrapper with one verification and one companion (tracking only).
    fn wrapper_with_companion(id: &str, target: &str) -> String {
        format!(
            r#"<VAST version="4.2"><Ad id="{id}"><Wrapper>
                <VASTAdTagURI><![CDATA[{target}]]></VASTAdTagURI>
                <Impression>https://wrapper.test/imp/{id}</Impression>
                <AdVerifications><Verification vendor="vendor-{id}">
                  <JavaScriptResource apiFramework="omid">https://verify.test/{id}.js</JavaScriptResource>
                </Verification></AdVerifications>
                <Creatives><Creative><CompanionAds><Companion width="300" height="250">
                  <StaticResource creativeType="image/png">https://wrapper.test/not-shown.png</StaticResource>
                  <CompanionClickThrough>https://wrapper.test/not-used</CompanionClickThrough>
                  <CompanionClickTracking>https://wrapper.test/cclick/{id}</CompanionClickTracking>
                  <TrackingEvents><Tracking event="creativeView">https://wrapper.test/cview/{id}</Tracking></TrackingEvents>
                </Companion></CompanionAds></Creative></Creatives>
            </Wrapper></Ad></VAST>"#
        )
    }

    const INLINE_WITH_COMPANION: &str = r#"<VAST version="4.2"><Ad id="in"><InLine>
        <AdSystem version="2">inline-system</AdSystem>
        <AdTitle>Inline title</AdTitle>
        <Impression>https://inline.test/imp</Impression>
        <AdVerifications><Verification vendor="vendor-in">
          <JavaScriptResource apiFramework="omid">https://verify.test/in.js</JavaScriptResource>
          <VerificationParameters><![CDATA[k=v]]></VerificationParameters>
        </Verification></AdVerifications>
        <Creatives>
          <Creative id="lin"><Linear><Duration>00:00:10</Duration>
            <MediaFiles><MediaFile type="video/mp4">https://cdn.test/in.mp4</MediaFile></MediaFiles>
          </Linear></Creative>
          <Creative id="comp" sequence="1"><CompanionAds><Companion id="c1" width="300" height="250">
            <StaticResource creativeType="image/png">https://inline.test/banner.png</StaticResource>
            <CompanionClickThrough>https://advertiser.test/</CompanionClickThrough>
            <CompanionClickTracking>https://inline.test/cclick</CompanionClickTracking>
            <TrackingEvents><Tracking event="creativeView">https://inline.test/cview</Tracking></TrackingEvents>
          </Companion></CompanionAds></Creative>
        </Creatives>
    </InLine></Ad></VAST>"#;

    #[tokio::test]
    async fn wrapper_verifications_and_companion_tracking_are_carried() {
        let fetcher = MapFetcher::default()
            .with(
                "https://ads.test/w1",
                wrapper_with_companion("w1", "https://ads.test/w2"),
            )
            .with(
                "https://ads.test/w2",
                wrapper_with_companion("w2", "https://ads.test/in"),
            )
            .with("https://ads.test/in", INLINE_WITH_COMPANION);
        let ads = resolve_ads(&fetcher, "https://ads.test/w1")
            .await
            .expect("resolves");
        assert_eq!(ads.len(), 1);
        let ad = &ads[0];
        assert_eq!(ad.wrapper_depth, 2);
        assert_eq!(ad.ad_system.as_deref(), Some("inline-system"));
        assert_eq!(ad.ad_title.as_deref(), Some("Inline title"));

        // Wrapper verifications first (outermost first), then the inline ad's.
        let vendors: Vec<_> = ad
            .verifications
            .iter()
            .map(|v| v.vendor.as_deref())
            .collect();
        assert_eq!(
            vendors,
            [Some("vendor-w1"), Some("vendor-w2"), Some("vendor-in")]
        );
        assert_eq!(
            ad.verifications[0].javascript_resources[0].url,
            "https://verify.test/w1.js"
        );
        assert_eq!(ad.verifications[2].parameters.as_deref(), Some("k=v"));

        // The inline companion, with the wrappers' companion tracking after its own; the
        // wrapper companions' resources and click-through are not used.
        assert_eq!(ad.companions.len(), 1);
        let companion = &ad.companions[0];
        assert_eq!(companion.id.as_deref(), Some("c1"));
        assert_eq!(companion.sequence.as_deref(), Some("1"));
        assert_eq!(
            companion.static_resources[0].url,
            "https://inline.test/banner.png"
        );
        assert_eq!(
            companion.click_through.as_deref(),
            Some("https://advertiser.test/")
        );
        let views: Vec<_> = companion
            .tracking
            .iter()
            .map(|t| (t.event.as_str(), t.url.as_str()))
            .collect();
        assert_eq!(
            views,
            [
                ("creativeView", "https://inline.test/cview"),
                ("creativeView", "https://wrapper.test/cview/w1"),
                ("creativeView", "https://wrapper.test/cview/w2"),
            ]
        );
        assert_eq!(
            companion.click_tracking,
            [
                "https://inline.test/cclick",
                "https://wrapper.test/cclick/w1",
                "https://wrapper.test/cclick/w2",
            ]
        );
        // Linear tracking is unaffected by companion tracking.
        assert!(ad.tracking.is_empty());
        assert!(ad.click_tracking.is_empty());
    }

    #[tokio::test]
    async fn wrapper_companion_without_inline_companion_is_dropped() {
        let fetcher = MapFetcher::default()
            .with(
                "https://ads.test/w",
                wrapper_with_companion("w", "https://ads.test/in"),
            )
            .with(
                "https://ads.test/in",
                vast("4.2", &[inline_ad("in", None, 5)]),
            );
        let ads = resolve_ads(&fetcher, "https://ads.test/w")
            .await
            .expect("resolves");
        assert!(ads[0].companions.is_empty());
        assert_eq!(ads[0].verifications.len(), 1, "wrapper verification kept");
        assert_eq!(ads[0].ad_system.as_deref(), Some("test"));
        assert_eq!(ads[0].ad_title, None);
    }

    #[tokio::test]
    async fn direct_inline_keeps_its_companions_and_verifications() {
        let fetcher = MapFetcher::default().with("https://ads.test/in", INLINE_WITH_COMPANION);
        let ads = resolve_ads(&fetcher, "https://ads.test/in")
            .await
            .expect("resolves");
        let ad = &ads[0];
        assert_eq!(ad.creative_id.as_deref(), Some("lin"));
        assert_eq!(ad.companions.len(), 1, "from the non-linear creative too");
        assert_eq!(ad.companions[0].tracking.len(), 1);
        assert_eq!(
            ad.companions[0].click_tracking,
            ["https://inline.test/cclick"]
        );
        assert_eq!(ad.verifications.len(), 1);
    }

    /// An ad server whose every wrapper (VAST 4, `allowMultipleAds`) points at
    /// `fan_out` more wrappers with distinct URLs, down to inline ads at `depth`: the
    /// fan-out of #13 item 4. Counts requests and the most in flight at once.
    struct FanOutFetcher {
        fan_out: usize,
        depth: usize,
        fetched: Mutex<Vec<String>>,
        in_flight: std::sync::atomic::AtomicUsize,
        max_in_flight: std::sync::atomic::AtomicUsize,
    }

    impl FanOutFetcher {
        fn new(fan_out: usize, depth: usize) -> Self {
            Self {
                fan_out,
                depth,
                fetched: Mutex::default(),
                in_flight: Default::default(),
                max_in_flight: Default::default(),
            }
        }
    }

    impl VastFetcher for FanOutFetcher {
        async fn fetch(&self, url: &str) -> Result<String, FetchError> {
            use std::sync::atomic::Ordering::SeqCst;
            self.fetched.lock().unwrap().push(url.to_owned());
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.max_in_flight.fetch_max(now, SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            self.in_flight.fetch_sub(1, SeqCst);
            let path = url.trim_start_matches("https://fan.test/");
            let level = path.split('/').count() - 1;
            if level >= self.depth {
                return Ok(vast("4.2", &[inline_ad(path, None, 5)]));
            }
            let ads: Vec<String> = (0..self.fan_out)
                .map(|k| {
                    let target = format!("https://fan.test/{path}/{k}");
                    wrapper_ad("w", None, &target, r#"allowMultipleAds="true""#)
                })
                .collect();
            Ok(vast("4.2", &ads))
        }
    }

    #[tokio::test]
    async fn a_wrapper_fan_out_is_capped_per_decision() {
        // 1 + 10 + 100 requests uncapped; the cap stops it at 32, claimed in document
        // order: the root, its 10 wrappers, then the first two of theirs fully.
        let fetcher = FanOutFetcher::new(10, 2);
        let limits = ResolveLimits {
            max_requests: 32,
            max_concurrent: 4,
        };
        let (ads, capped) = resolve_ads_capped(&fetcher, "https://fan.test/r", limits).await;
        let ads = ads.expect("the ads within the cap resolve");
        assert!(capped, "the cap dropped wrappers");
        let fetched = fetcher.fetched.lock().unwrap().clone();
        assert_eq!(fetched.len(), 32, "{fetched:?}");
        assert_eq!(ads.len(), 21);
        let max = fetcher
            .max_in_flight
            .load(std::sync::atomic::Ordering::SeqCst);
        assert!((2..=4).contains(&max), "{max} requests in flight at once");

        // A deeper tree: nothing resolves inside the cap, and it says why.
        let fetcher = FanOutFetcher::new(10, 7);
        assert_eq!(
            resolve_ads_limited(&fetcher, "https://fan.test/r", limits).await,
            Err(ResolveError::FanOut)
        );
        assert_eq!(fetcher.fetched.lock().unwrap().len(), 32);
    }

    #[tokio::test]
    async fn an_identical_url_is_requested_once_per_decision() {
        let fetcher = MapFetcher::default()
            .with(
                "https://ads.test/pod",
                vast(
                    "4.2",
                    &[
                        wrapper_ad("w1", Some(1), "https://ads.test/same", ""),
                        wrapper_ad("w2", Some(2), "HTTPS://ADS.TEST/same", ""),
                        wrapper_ad("w3", Some(3), "https://ads.test/other", ""),
                    ],
                ),
            )
            .with(
                "https://ads.test/same",
                vast("4.2", &[inline_ad("s", None, 10)]),
            )
            .with(
                "https://ads.test/other",
                vast("4.2", &[inline_ad("o", None, 10)]),
            );
        let ads = resolve_ads(&fetcher, "https://ads.test/pod").await.unwrap();
        assert_eq!(ids(&ads), ["s", "o"]);
        let mut fetched = fetcher.fetched();
        fetched.sort();
        assert_eq!(
            fetched,
            [
                "https://ads.test/other",
                "https://ads.test/pod",
                "https://ads.test/same"
            ]
        );
    }

    #[test]
    fn reason_labels_are_distinct() {
        let errors = [
            ResolveError::Fetch(FetchError::Timeout),
            ResolveError::Fetch(FetchError::Status(500)),
            ResolveError::Fetch(FetchError::Transport("x".into())),
            ResolveError::Fetch(FetchError::TooLarge),
            ResolveError::Parse(VastError::NoRoot),
            ResolveError::Empty { error_urls: vec![] },
            ResolveError::WrapperDepth,
            ResolveError::WrapperLoop("u".into()),
            ResolveError::NoAdTagUri,
            ResolveError::NoLinear,
            ResolveError::FanOut,
            ResolveError::Duplicate("u".into()),
        ];
        let mut reasons: Vec<_> = errors.iter().map(ResolveError::reason).collect();
        reasons.sort_unstable();
        reasons.dedup();
        assert_eq!(reasons.len(), errors.len());
    }
}
