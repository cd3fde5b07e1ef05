//! HLS routes: `/v1/master/{config}/{path}` (new session, multivariant playlist
//! pointed at it) and `/v1/manifest/{config}/{session}/{path}` (the personalized
//! media playlist).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use tracing::{debug, info};
use url::Url;

use super::AppState;
use crate::ads::decide::{decide, Avail};
use crate::ads::resolve::{join_all, BoxFuture};
use crate::config::Channel;
use crate::error::Error;
use crate::hls::rendition::{ad_for, select_ad_playlist, target_of, RenditionKind};
use crate::hls::rewrite::{rewrite_multivariant, VariantTarget};
use crate::origin::{Fetched, Manifest, ParsedMedia, Purpose};
use crate::session::id::uuid_v4;
use crate::session::store::{Changes, Snapshot};
use crate::session::{Decision, ReportingMode, Session, SessionId};
use crate::stitch::request::{
    plan_hls, sequence_went_back, suppressed_decision, write_hls, Need, PlannedAvail, LIVE_PREROLL,
    SUPPRESSED,
};
use crate::stitch::{AdRef, AdRendition, AdUri, BreakFill};

/// HLS playlist media type.
pub const HLS_CONTENT_TYPE: &str = "application/vnd.apple.mpegurl";
/// Most player parameters accepted on a session-creating request.
const MAX_PLAYER_PARAMS: usize = 64;
/// Longest player parameter value.
const MAX_PARAM_VALUE: usize = 1024;

/// `GET /v1/master/{config}/{path}?{player params}`
pub async fn master(
    State(st): State<AppState>,
    Path((config, path)): Path<(String, String)>,
    req: Request<Body>,
) -> Result<Response, Error> {
    let channel = st
        .channel(&config)
        .ok_or_else(|| Error::UnknownConfig(config.clone()))?;
    let mut session = new_session(&channel, &req, None)?;
    let origin = channel.origin_for(&session.player_params);
    let url = origin_url_under(&origin, &path, None)?;
    let fetched = st.origin.get(&channel, &url, Purpose::Content).await?;
    let sid = session.id.clone();
    let session_base = format!("/v1/manifest/{}/{}/", channel.name, sid);
    let resp = match &fetched.manifest {
        Manifest::Multivariant(m) => {
            session.master_url = Some(url.to_string());
            let text = rewrite_multivariant(m, &url, origin.as_str(), &session_base);
            playlist_response(text, "no-store")
        }
        _ => {
            // A media playlist asked for directly: the session lives at its own URL.
            let rest = url.as_str().strip_prefix(origin.as_str()).unwrap_or(&path);
            let mut resp = StatusCode::FOUND.into_response();
            let location = HeaderValue::from_str(&format!("{session_base}{rest}"))
                .map_err(|e| Error::Internal(e.to_string()))?;
            resp.headers_mut().insert(header::LOCATION, location);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
    };
    info!(session_id = %sid, config = %channel.name, "Session created.");
    st.create_session(session).await?;
    st.metrics.session_created(&channel.name);
    Ok(resp)
}

/// A new session for a session-creating request: its player parameters, the
/// viewer's headers.
pub(super) fn new_session(
    channel: &Channel,
    req: &Request<Body>,
    master_url: Option<String>,
) -> Result<Session, Error> {
    let headers = req.headers();
    let mut params = player_params(req.uri().query())?;
    // `aws.insertionMode=GUIDED` chooses the session's mode, not an ADS parameter.
    let asked = params.remove(super::guided::INSERTION_MODE_PARAM);
    let guided = super::guided::session_is_guided(channel.raw.insertion_mode, asked.as_deref())
        .map_err(Error::BadRequest)?;
    channel
        .resolve_aliases(&mut params)
        .map_err(Error::BadRequest)?;
    Ok(Session {
        id: SessionId::generate(),
        uuid: uuid_v4(),
        channel: channel.name.clone(),
        player_params: params,
        user_agent: header_str(headers, header::USER_AGENT.as_str()),
        client_ip: client_ip(req),
        referer: header_str(headers, header::REFERER.as_str()),
        master_url,
        reporting: ReportingMode::default(),
        created_unix: unix_now(),
        suppression: None,
        guided,
    })
}

/// `GET /v1/manifest/{config}/{session}/{path}`
pub async fn manifest(
    State(st): State<AppState>,
    Path((config, session, path)): Path<(String, String, String)>,
    req: Request<Body>,
) -> Result<Response, Error> {
    let channel = st
        .channel(&config)
        .ok_or_else(|| Error::UnknownConfig(config.clone()))?;
    let sid = SessionId::parse(&session)
        .ok_or_else(|| Error::BadRequest("malformed session id".into()))?;
    let snap = st.snapshot(&sid).await?;
    if snap.session.channel != channel.name {
        return Err(Error::UnknownSession);
    }
    let origin = channel.origin_for(&snap.session.player_params);
    // Only the parameters the configuration names reach the origin (and the cache key).
    let query = channel.origin_query(req.uri().query());
    let url = origin_url_under(&origin, &path, query.as_deref())?;
    let fetched = st.origin.get(&channel, &url, Purpose::Content).await?;
    if snap.session.guided {
        if let Manifest::Media(pm) = &fetched.manifest {
            return match super::guided::parse_asset_query(req.uri().query()) {
                Some(Ok(q)) => {
                    let base = super::guided::request_base(req.headers());
                    super::guided::asset_list(&st, &channel, snap, pm, q, &base).await
                }
                Some(Err(e)) => Err(Error::BadRequest(e)),
                None => {
                    Ok(super::guided::playlist(&st, &channel, &snap, &fetched, pm, &path).await)
                }
            };
        }
    }
    match &fetched.manifest {
        Manifest::Multivariant(m) => {
            let base = format!("/v1/manifest/{}/{}/", channel.name, sid);
            let text = rewrite_multivariant(m, &url, origin.as_str(), &base);
            Ok(playlist_response(text, "no-store"))
        }
        Manifest::Media(pm) => personalize(&st, &channel, snap, &fetched, pm).await,
        _ => Err(Error::Internal("not a content playlist".into())),
    }
}

/// One media playlist request: the plan (pure), the decisions it lacks and the
/// ad renditions (I/O), the splice (pure), one write when something changed.
async fn personalize(
    st: &AppState,
    channel: &Arc<Channel>,
    mut snap: Snapshot,
    fetched: &Fetched,
    pm: &ParsedMedia,
) -> Result<Response, Error> {
    let pl = &pm.playlist;
    let now = unix_now();
    let mut plan = plan_hls(pl, &pm.breaks, &snap, &channel.raw, now);
    if let Some(claim) = plan.claim.take() {
        settle_claim(st, &mut snap, claim).await;
        plan = plan_hls(pl, &pm.breaks, &snap, &channel.raw, now);
    }
    let session = snap.session.clone();
    let target = variant_target(st, channel, &session, &fetched.url).await;
    // Audio, subtitle and I-frame playlists may number their own way; the
    // session's anchor and records follow the variants'.
    if matches!(target.kind, RenditionKind::Variant) {
        if let Some((known, last)) = sequence_went_back(pl, &snap) {
            return Err(Error::OriginSequenceReset(format!(
                "the origin's media sequence went back (this session is at {known}, the \
                 origin's window ends at {last}: an encoder restart?); start a new session"
            )));
        }
    }
    make_decisions(st, channel, &session, &mut plan.avails).await;
    let mut fills = HashMap::with_capacity(plan.avails.len());
    for a in &plan.avails {
        if let Some(d) = a.decision() {
            let fill = build_fill(st, channel, &session, d, &target, a.planned, pl.ended).await;
            fills.insert(a.break_id.clone(), fill);
        }
    }
    let sid = &session.id;
    let through_us = |r: &AdRef<'_>| {
        super::report::hls_segment_url(sid, r.break_id, r.ad, r.index, r.count, &r.segment.uri)
    };
    // Beacons fire from the segments of the variants and audio renditions; the
    // empty cues of subtitles and I-frames are not the ad playing.
    let media = matches!(
        target.kind,
        RenditionKind::Variant | RenditionKind::Audio { .. }
    );
    let ad_uri =
        (session.reporting == ReportingMode::Server && media).then_some(&through_us as AdUri<'_>);
    let out = write_hls(&plan, pl, &snap, &fills, ad_uri);
    if !out.changes.is_empty() {
        st.sessions.apply(sid, out.changes).await;
    }
    let cache = if pl.ended {
        "max-age=300".to_string()
    } else {
        format!("max-age={}", (pl.target_duration / 2).max(1))
    };
    Ok(playlist_response(out.text, &cache))
}

/// `GET /v1/vtt/empty.vtt`: the cue-less WebVTT segment that covers ad time in
/// subtitles renditions (immutable).
pub async fn empty_webvtt() -> Response {
    let mut resp = crate::hls::rendition::EMPTY_WEBVTT.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/vtt"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    resp
}

/// Now, Unix seconds.
pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Store a session value the plan's output depends on (first writer wins,
/// whichever instance) and put the value that stands into the snapshot.
pub(super) async fn settle_claim(st: &AppState, snap: &mut Snapshot, claim: (String, String)) {
    let (key, value) = claim;
    let changes = Changes {
        once: vec![(key.clone(), value.clone())],
        ..Changes::default()
    };
    let standing = st.sessions.apply(&snap.session.id, changes).await;
    let value = standing.get(&key).cloned().unwrap_or(value);
    snap.values.insert(key, value);
}

/// Make the decisions the plan lacks: suppressed breaks settled as such, the
/// others asked of the ADS (once per session and break, however many requests
/// ask at once), at most `ad_limits.decision_concurrency` at once, for the first
/// `ad_limits.max_breaks_per_playlist` breaks (later ones play the content).
pub(super) async fn make_decisions(
    st: &AppState,
    channel: &Channel,
    session: &Session,
    avails: &mut [PlannedAvail],
) {
    if avails.iter().all(|a| matches!(a.need, Need::Decided(_))) {
        // The steady state: nothing to decide, nothing to allocate.
        return;
    }
    let limits = channel.raw.ad_limits;
    let max = limits.max_breaks_per_playlist;
    if avails.len() > max {
        debug!(session_id = %session.id, breaks = avails.len(), max, "More breaks than a playlist fills; the later ones play the content.");
    }
    let permits = tokio::sync::Semaphore::new(limits.decision_concurrency.max(1));
    let pending: Vec<BoxFuture<'_, Option<Arc<Decision>>>> = avails
        .iter()
        .take(max)
        .map(|a| -> BoxFuture<'_, Option<Arc<Decision>>> {
            let permits = &permits;
            Box::pin(async move {
                match a.need {
                    Need::Decided(_) => None,
                    Need::Suppress => {
                        debug!(session_id = %session.id, break_id = a.break_id, "Avail suppressed.");
                        st.metrics.ad_decision_failed(&channel.name, SUPPRESSED);
                        let d = suppressed_decision(a.planned);
                        Some(
                            st.sessions
                                .put_decision_if_absent(&session.id, &a.break_id, d)
                                .await,
                        )
                    }
                    Need::Ask => {
                        // Never closed; should it be, decide unbounded rather than not.
                        let _permit = permits.acquire().await.ok();
                        let avail = Avail {
                            duration: a.planned,
                            index: a.index,
                            vars: &a.vars,
                        };
                        Some(decision(st, channel, session, &a.break_id, &avail).await)
                    }
                }
            })
        })
        .collect();
    let made = join_all(pending).await;
    for (a, d) in avails.iter_mut().zip(made) {
        if let Some(d) = d {
            a.need = Need::Decided(d);
        }
    }
}

/// The session's decision for a break: stored, or made now (one ADS call however
/// many variants ask at once).
pub(super) async fn decision(
    st: &AppState,
    channel: &Channel,
    session: &Session,
    break_id: &str,
    avail: &Avail<'_>,
) -> Arc<Decision> {
    // The live pre-roll asks its own ADS template.
    let preroll;
    let channel = match (&channel.raw.live_preroll_ads_url, break_id == LIVE_PREROLL) {
        (Some(u), true) => {
            let mut pre = channel.clone();
            pre.raw.ads_url = u.clone();
            preroll = pre;
            &preroll
        }
        _ => channel,
    };
    if let Some(d) = st.sessions.decision(&session.id, break_id).await {
        st.metrics.decision_lookup(&channel.name, "stored");
        return d;
    }
    let key = (session.id.clone(), break_id.to_string());
    // Which request ran the lookup below (the others waited for it: coalesced).
    let ran = std::sync::atomic::AtomicBool::new(false);
    let d = st
        .decisions_inflight
        .get_with(key.clone(), async {
            ran.store(true, std::sync::atomic::Ordering::Relaxed);
            // Made and stored by a request that finished just now.
            if let Some(d) = st.sessions.decision(&session.id, break_id).await {
                st.metrics.decision_lookup(&channel.name, "stored");
                return d;
            }
            st.metrics.decision_lookup(&channel.name, "made");
            let d = decide(
                &st.http,
                channel,
                session,
                avail,
                &st.metrics,
                &st.transcoder,
            )
            .await;
            let filled: f64 = d.ads.iter().map(|a| a.duration).sum();
            st.metrics.avail(&channel.name, d.avail_duration, filled);
            debug!(session_id = %session.id, break_id, ads = d.ads.len(), "Ad decision made.");
            st.sessions
                .put_decision_if_absent(&session.id, break_id, d)
                .await
        })
        .await;
    // Stored now: later requests read it from the session store, so the
    // in-flight entry need not hold the session's decision any longer.
    if !ran.load(std::sync::atomic::Ordering::Relaxed) {
        st.metrics.decision_lookup(&channel.name, "coalesced");
    }
    st.decisions_inflight.invalidate(&key).await;
    d
}

/// What fills one break for one variant. `vod`: the break is an insertion into a
/// VOD asset, bounded by no content, so its ads must fit the avail by their own
/// length (the sum of their playlists' `EXTINF`), not by what the VAST claims.
async fn build_fill(
    st: &AppState,
    channel: &Channel,
    session: &Session,
    decision: &Decision,
    target: &VariantTarget,
    planned: f64,
    vod: bool,
) -> BreakFill {
    // One entry per decided ad, so that an ad's index in the fill is its index in
    // the decision (beacons and `/v1/segment` name ads by it): an ad not played is
    // an empty rendition, which lays out nothing.
    let mut ads = Vec::with_capacity(decision.ads.len());
    let skipped = || Arc::new(AdRendition::default());
    for ad in &decision.ads {
        let Some(url) = ad.media_url.as_deref() else {
            st.metrics.ads_skipped(&channel.name, "NO_VARIANT_MATCH", 1);
            ads.push(skipped());
            continue;
        };
        match ad_rendition(st, channel, url, target).await {
            Some(r) => ads.push(r),
            None => {
                st.metrics.ads_skipped(&channel.name, "NO_VARIANT_MATCH", 1);
                // VAST 401: the media file was not found.
                crate::ads::decide::report_error(&st.http, session, &ad.error_urls, 401);
                ads.push(skipped());
            }
        }
    }
    if vod {
        let lengths: Vec<f64> = ads.iter().map(|r| r.duration()).collect();
        let kept = crate::breaks::fit_pod(&lengths, planned);
        for (i, ad) in ads.iter_mut().enumerate() {
            if !ad.segments.is_empty() && !kept.contains(&i) {
                st.metrics
                    .ads_skipped(&channel.name, "DURATION_EXCEEDED", 1);
                *ad = skipped();
            }
        }
    }
    let placed = ads.iter().filter(|ad| !ad.segments.is_empty()).count();
    st.metrics.ads_filled(&channel.name, placed);
    // A suppressed break plays its content: no slate.
    let suppressed = decision.failure.as_deref() == Some(SUPPRESSED);
    let slate = match (&channel.slate, suppressed) {
        (Some(u), false) => ad_rendition(st, channel, u.as_str(), target).await,
        _ => None,
    };
    let bumper = |u: &Option<String>| u.clone();
    let (bumper_start, bumper_end) = (
        bumper(&channel.raw.bumper_start),
        bumper(&channel.raw.bumper_end),
    );
    let bumper_start = match bumper_start {
        Some(u) => ad_rendition(st, channel, &u, target).await,
        None => None,
    };
    let bumper_end = match bumper_end {
        Some(u) => ad_rendition(st, channel, &u, target).await,
        None => None,
    };
    BreakFill {
        ads,
        slate,
        planned,
        bumper_start,
        bumper_end,
        slate_threshold: channel.raw.personalization_threshold_secs,
    }
}

/// The rendition of an ad (or slate) playlist that matches the content variant.
pub(super) async fn ad_rendition(
    st: &AppState,
    channel: &Channel,
    url: &str,
    target: &VariantTarget,
) -> Option<Arc<AdRendition>> {
    let key = (channel.name.clone(), url.to_string(), target.clone());
    if let Some(r) = st.renditions.get(&key).await {
        return Some(r);
    }
    let r = resolve_ad_rendition(st, channel, url, target).await?;
    st.renditions.insert(key, r.clone()).await;
    Some(r)
}

async fn resolve_ad_rendition(
    st: &AppState,
    channel: &Channel,
    url: &str,
    target: &VariantTarget,
) -> Option<Arc<AdRendition>> {
    let url = crate::urls::parse(url).ok()?;
    let fetched = match st.origin.get(channel, &url, Purpose::Ad).await {
        Ok(f) => f,
        Err(e) => {
            info!(url = %url, error = %e, "Ad playlist unavailable; ad skipped.");
            return None;
        }
    };
    // The rendition for this kind of content rendition (audio, subtitles,
    // I-frames: `hls::rendition`).
    let fit = |r: &Arc<AdRendition>| {
        Some(
            ad_for(r, &target.kind)
                .map(Arc::new)
                .unwrap_or_else(|| r.clone()),
        )
    };
    match &fetched.manifest {
        Manifest::Ad(r) => fit(r),
        Manifest::Multivariant(m) => {
            let uri = select_ad_playlist(m, target)?;
            let vu = crate::urls::join(&fetched.url, &uri).ok()?;
            match &st
                .origin
                .get(channel, &vu, Purpose::Ad)
                .await
                .ok()?
                .manifest
            {
                Manifest::Ad(r) => fit(r),
                _ => None,
            }
        }
        _ => None,
    }
}

/// What the session's multivariant playlist says about this media playlist.
async fn variant_target(
    st: &AppState,
    channel: &Channel,
    session: &Session,
    url: &Url,
) -> VariantTarget {
    let Some(master_url) = session.master_url.as_deref() else {
        return VariantTarget::default();
    };
    let key = (
        channel.name.clone(),
        master_url.to_string(),
        url.path().to_string(),
    );
    if let Some(t) = st.targets.get(&key).await {
        return t;
    }
    let Ok(master) = crate::urls::parse(master_url) else {
        return VariantTarget::default();
    };
    let Ok(fetched) = st.origin.get(channel, &master, Purpose::Content).await else {
        return VariantTarget::default();
    };
    let Manifest::Multivariant(m) = &fetched.manifest else {
        return VariantTarget::default();
    };
    let target = target_of(m, &master, url);
    st.targets.insert(key, target.clone()).await;
    target
}

/// The origin URL for a player's path: under the configured origin, never elsewhere.
pub fn origin_url(channel: &Channel, path: &str, query: Option<&str>) -> Result<Url, Error> {
    origin_url_under(&channel.origin, path, query)
}

/// The origin URL for a player's path under a given origin base (a session's, with
/// its aliases resolved).
pub fn origin_url_under(origin: &Url, path: &str, query: Option<&str>) -> Result<Url, Error> {
    let bad = |why: &str| Error::BadRequest(format!("bad path: {why}"));
    if path.is_empty() || path.len() > 2048 {
        return Err(bad("empty or too long"));
    }
    if path.starts_with('/') || path.contains("//") || path.contains('\\') {
        return Err(bad("must be a relative path"));
    }
    if path.split('/').any(|s| s == ".." || s == ".") {
        return Err(bad("dot segments are not allowed"));
    }
    if path.chars().any(|c| c.is_control()) {
        return Err(bad("control characters"));
    }
    let mut url = crate::urls::join(origin, path).map_err(|e| bad(&e.to_string()))?;
    if !url.as_str().starts_with(origin.as_str()) {
        return Err(bad("leaves the origin"));
    }
    url.set_query(query.filter(|q| !q.is_empty()));
    Ok(url)
}

/// Query parameters of a session-creating request, validated.
pub fn player_params(query: Option<&str>) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        // `ads.NAME=value` (MediaTailor's form) is `[player_params.NAME]` too.
        add_player_param(&mut out, k.strip_prefix("ads.").unwrap_or(&k), &v)?;
    }
    Ok(out)
}

/// Add one player parameter, refusing a bad name, an overlong value, or one
/// parameter too many (query parameters and explicit sessions' JSON alike).
pub(super) fn add_player_param(
    params: &mut BTreeMap<String, String>,
    name: &str,
    value: &str,
) -> Result<(), Error> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(Error::BadRequest(format!(
            "bad player parameter name `{name}`"
        )));
    }
    if value.len() > MAX_PARAM_VALUE {
        return Err(Error::BadRequest(format!(
            "player parameter `{name}` is too long"
        )));
    }
    params.insert(name.to_string(), value.to_string());
    if params.len() > MAX_PLAYER_PARAMS {
        return Err(Error::BadRequest("too many player parameters".into()));
    }
    Ok(())
}

fn header_str(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(512)
        .collect()
}

/// `[session.client_ip]`: the address [`super::ClientAddr`] settled on (a
/// forwarded address only from a trusted proxy), else the peer's.
fn client_ip(req: &Request<Body>) -> String {
    if let Some(super::ClientAddr(ip)) = req.extensions().get::<super::ClientAddr>() {
        return ip.to_string();
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

pub(super) fn playlist_response(text: String, cache_control: &str) -> Response {
    let mut resp = text.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(HLS_CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(cache_control) {
        h.insert(header::CACHE_CONTROL, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config;

    fn channel() -> Channel {
        parse_config(
            "t.toml",
            "t",
            "origin = \"http://o.example/live/\"\nads_url = \"http://ads.example/v\"",
        )
        .unwrap()
    }

    #[test]
    fn origin_url_stays_under_the_origin() {
        let c = channel();
        assert_eq!(
            origin_url(&c, "ch1/master.m3u8", None).unwrap().as_str(),
            "http://o.example/live/ch1/master.m3u8"
        );
        assert_eq!(
            origin_url(&c, "a.m3u8", Some("t=1")).unwrap().as_str(),
            "http://o.example/live/a.m3u8?t=1"
        );
        for bad in [
            "",
            "../x.m3u8",
            "a/../../x",
            "//evil.example/x",
            "/abs",
            "a\\b",
            "x/./y",
        ] {
            assert!(origin_url(&c, bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn player_params_are_validated() {
        let p = player_params(Some("pod=two&x.y=1%202")).unwrap();
        assert_eq!(p.get("pod").map(String::as_str), Some("two"));
        assert_eq!(p.get("x.y").map(String::as_str), Some("1 2"));
        let p = player_params(Some("ads.deviceType=ipad")).unwrap();
        assert_eq!(p.get("deviceType").map(String::as_str), Some("ipad"));
        assert!(player_params(Some("bad%20name=1")).is_err());
        assert!(player_params(Some(&format!("a={}", "x".repeat(2000)))).is_err());
    }
}
