//! DASH routes: `/v1/dash/{config}/{path}.mpd` creates a session and redirects to
//! `/v1/dash/{config}/{session}/{path}.mpd`, the personalized MPD.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use tracing::info;
use url::Url;

use super::hls::{decision, new_session, origin_url_under, LIVE_PREROLL};
use super::report;
use super::AppState;
use crate::ads::decide::Avail;
use crate::config::Channel;
use crate::dash::{self, mpd, DashAd, DashBreak, DashFill, MpdContext};
use crate::error::Error;
use crate::events;
use crate::hls::rewrite::resolve_uri;
use crate::origin::{Manifest, ParsedMpd, Purpose};
use crate::session::{ReportingMode, Session, SessionId};

/// DASH MPD media type.
pub const DASH_CONTENT_TYPE: &str = "application/dash+xml";

/// `GET /v1/dash/{config}/{rest}`: a new session (rest = origin path), or a
/// session's MPD (rest = session id / origin path).
pub async fn dash(
    State(st): State<AppState>,
    Path((config, rest)): Path<(String, String)>,
    req: Request<Body>,
) -> Result<Response, Error> {
    let channel = st
        .channel(&config)
        .ok_or_else(|| Error::UnknownConfig(config.clone()))?;
    if let Some((first, tail)) = rest.split_once('/') {
        if let Some(sid) = SessionId::parse(first) {
            let session = st.session(&sid).await?;
            if session.channel != channel.name {
                return Err(Error::UnknownSession);
            }
            return personalize(&st, &channel, &session, tail, req.uri().query()).await;
        }
    }
    if !rest.ends_with(".mpd") {
        return Err(Error::BadRequest("a DASH path ends with .mpd".into()));
    }
    let session = new_session(&channel, &req, None)?;
    let origin = channel.origin_for(&session.player_params);
    let url = origin_url_under(&origin, &rest, None)?;
    // Fail now, with the origin's error, rather than on the redirected request.
    st.origin.get(&channel, &url, Purpose::Dash).await?;
    let sid = session.id.clone();
    let location = format!(
        "/v1/dash/{}/{}/{}",
        channel.name,
        sid,
        url.as_str().strip_prefix(origin.as_str()).unwrap_or(&rest)
    );
    st.create_session(session).await?;
    st.metrics.incr(events::SESSIONS_CREATED, "");
    info!(session_id = %sid, config = %channel.name, "DASH session created.");
    let mut resp = StatusCode::FOUND.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(&location).map_err(|e| Error::Internal(e.to_string()))?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

async fn personalize(
    st: &AppState,
    channel: &Arc<Channel>,
    session: &Session,
    path: &str,
    query: Option<&str>,
) -> Result<Response, Error> {
    let origin = channel.origin_for(&session.player_params);
    let url = origin_url_under(&origin, path, query)?;
    let fetched = st.origin.get(channel, &url, Purpose::Dash).await?;
    let Manifest::Mpd(pm) = &fetched.manifest else {
        return Err(Error::Internal("not an MPD".into()));
    };
    let ParsedMpd { doc, breaks } = pm;
    let dynamic = mpd::is_dynamic(doc);
    let implicit;
    let breaks: &[DashBreak] = if !dynamic && breaks.is_empty() {
        implicit = [DashBreak {
            id: "preroll".into(),
            period: 0,
            at: 0.0,
            duration: Some(0.0),
            scheme: "implicit".into(),
            vars: Default::default(),
        }];
        &implicit
    } else {
        breaks
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    // Live pre-roll: a break of its own where the session joins.
    let with_preroll;
    // It wins over a signalled break it overlaps, which plays as content (as a
    // break joined mid-way does): otherwise Periods already published as pre-roll
    // would change when that break's event shows up.
    let breaks: &[DashBreak] = match live_preroll(st, channel, session, doc, now).await {
        Some(pre) => {
            let end = pre.at + pre.duration.unwrap_or(0.0);
            let mut all: Vec<DashBreak> = breaks
                .iter()
                .filter(|b| {
                    b.period != pre.period
                        || !(b.at < end && pre.at < b.at + b.duration.unwrap_or(f64::INFINITY))
                })
                .cloned()
                .collect();
            all.push(pre);
            all.sort_by(|a, b| {
                (a.period, a.at)
                    .partial_cmp(&(b.period, b.at))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            with_preroll = all;
            &with_preroll
        }
        None => breaks,
    };
    let now = now as u64;
    let mut fills = HashMap::new();
    for (n, b) in breaks.iter().enumerate() {
        let insert = !dynamic && b.duration.unwrap_or(0.0) <= 0.0;
        let planned = b.duration.filter(|d| *d > 0.0).unwrap_or(if insert {
            channel.raw.vod_avail_duration_secs
        } else {
            channel.raw.default_avail_duration_secs
        });
        let avail = Avail {
            duration: planned,
            index: (n + 1) as u32,
            vars: &b.vars,
        };
        if dynamic && b.id != LIVE_PREROLL {
            // The live edge is now, in the presentation timeline (seconds since
            // availabilityStartTime).
            let ast = doc
                .root
                .attr("availabilityStartTime")
                .and_then(|t| mpd::parse_utc(&t));
            let start = mpd::period_starts(doc).get(b.period).map(|p| p.1 + b.at);
            let behind = match (ast, start) {
                (Some(ast), Some(start)) => Some(now as f64 - ast as f64 - start),
                _ => None,
            };
            let running = behind.is_some_and(|x| x < planned);
            super::hls::suppress_if_needed(st, channel, session, &b.id, behind, running, planned)
                .await;
        }
        let decision = decision(st, channel, session, &b.id, &avail).await;
        let mut ads: Vec<Arc<DashAd>> = Vec::new();
        for ad in &decision.ads {
            match ad.dash_url.as_deref() {
                Some(u) => match dash_ad(st, channel, u).await {
                    Some(a) => {
                        st.metrics.incr(events::ADS_FILLED, "");
                        ads.push(a);
                    }
                    None => st.metrics.incr(events::ADS_SKIPPED, "NO_VARIANT_MATCH"),
                },
                None => st.metrics.incr(events::ADS_SKIPPED, "NO_VARIANT_MATCH"),
            }
        }
        let suppressed = decision.failure.as_deref() == Some(super::hls::SUPPRESSED);
        let slate = match (&channel.dash_slate, suppressed) {
            (Some(u), false) => dash_ad(st, channel, u.as_str()).await,
            _ => None,
        };
        if session.reporting == ReportingMode::Server {
            // Ad segments go through us so the beacons fire as they are fetched.
            ads = ads
                .into_iter()
                .enumerate()
                .map(|(i, a)| {
                    let seg = segment_duration(&a.period).unwrap_or(2.0);
                    let count = ((a.duration / seg).ceil() as usize).max(1);
                    let base = report::dash_segment_base(&session.id, &b.id, i, count, &a.base_url);
                    Arc::new(DashAd {
                        base_url: base,
                        ..(*a).clone()
                    })
                })
                .collect();
        }
        fills.insert(
            b.id.clone(),
            DashFill {
                ads,
                slate,
                planned,
                bumper_start: match &channel.raw.dash_bumper_start {
                    Some(u) => dash_ad(st, channel, u).await,
                    None => None,
                },
                bumper_end: match &channel.raw.dash_bumper_end {
                    Some(u) => dash_ad(st, channel, u).await,
                    None => None,
                },
                slate_threshold: channel.raw.personalization_threshold_secs,
            },
        );
    }
    let ctx = MpdContext {
        content_base: resolve_uri(
            &url,
            "./",
            Some(origin.as_str()),
            channel.raw.content_segment_prefix.as_deref(),
        ),
        location: Some(format!("/v1/dash/{}/{}/{}", channel.name, session.id, path)),
        publish_time: Some(mpd::format_utc(now)),
    };
    let spliced = dash::splice_mpd(doc, breaks, &fills, &ctx);
    // Where each ad starts (Period start: seconds of the presentation timeline).
    let period_ids: Vec<String> = doc
        .root
        .children_named("Period")
        .enumerate()
        .map(|(i, p)| p.attr("id").unwrap_or_else(|| format!("p{i}")))
        .collect();
    for p in spliced.root.children_named("Period") {
        let (Some(id), Some(start)) = (
            p.attr("id"),
            p.attr("start").and_then(|s| mpd::parse_duration(&s)),
        ) else {
            continue;
        };
        for b in breaks {
            let Some(pid) = period_ids.get(b.period) else {
                continue;
            };
            if let Some(n) = id
                .strip_prefix(&format!("{pid}-{}-ad", b.id))
                .and_then(|n| n.parse::<usize>().ok())
            {
                report::record_ad_start(st, &session.id, &b.id, n, start).await;
            }
        }
    }
    let out = dash::write(&spliced);
    st.metrics.incr(events::MANIFESTS_SERVED, "dash");
    let mut resp = out.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(DASH_CONTENT_TYPE),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if dynamic { "max-age=1" } else { "max-age=300" }),
    );
    Ok(resp)
}

/// Where a player joins a live MPD when it gives no `suggestedPresentationDelay`,
/// seconds behind the live edge.
const DEFAULT_PRESENTATION_DELAY: f64 = 6.0;

/// The live pre-roll break of this session, when the configuration has one. It
/// starts where the session's player joins, on its first MPD: the live edge less
/// the MPD's `suggestedPresentationDelay`, down to a segment boundary. Players
/// differ by up to one `maxSegmentDuration` there: dash.js starts at that point
/// (inside the pre-roll's first segment), Shaka one `maxSegmentDuration` earlier
/// (it plays up to that much of what comes before, then the whole pre-roll). No
/// start serves both at the pre-roll's first frame; this one lets every player
/// see the whole ad or all but the part of its first segment before the join.
/// The time is remembered in the session store so every refresh and instance
/// places it alike. It lasts `live_preroll_max_duration_secs`, cut at the end
/// of its Period.
async fn live_preroll(
    st: &AppState,
    channel: &Channel,
    session: &Session,
    doc: &dash::Document,
    now: f64,
) -> Option<DashBreak> {
    channel.raw.live_preroll_ads_url.as_ref()?;
    if !mpd::is_dynamic(doc) {
        return None;
    }
    let periods: Vec<&dash::Element> = doc.root.children_named("Period").collect();
    let starts = mpd::period_starts(doc);
    // The Period holding time `t` of the presentation, with its end where known.
    let holding = |t: f64| -> Option<(usize, f64, Option<f64>)> {
        let (i, start, duration) = *starts.iter().rev().find(|p| p.1 <= t + 1e-6)?;
        let end = duration
            .map(|d| start + d)
            .or_else(|| starts.get(i + 1).map(|n| n.1));
        Some((i, start, end))
    };
    // Where a player joining now starts (the first MPD's answer stands).
    let join = || -> Option<f64> {
        let ast = doc
            .root
            .attr("availabilityStartTime")
            .and_then(|t| mpd::parse_utc(&t))?;
        let delay = doc
            .root
            .attr("suggestedPresentationDelay")
            .and_then(|d| mpd::parse_duration(&d))
            .unwrap_or(DEFAULT_PRESENTATION_DELAY);
        let edge = now - ast as f64 - delay;
        let (i, start, _) = holding(edge)?;
        let seg = segment_duration(periods.get(i)?).unwrap_or(1.0);
        Some(start + ((edge - start) / seg).floor().max(0.0) * seg)
    };
    const KEY: &str = "dash-preroll-at";
    let t0 = match join() {
        Some(j) => {
            st.sessions
                .value_or_insert(&session.id, KEY, &format!("{j:.3}"))
                .await
        }
        None => st.sessions.value(&session.id, KEY).await,
    };
    let t0: f64 = t0?.parse().ok()?;
    let (period, start, end) = holding(t0)?;
    let mut duration = channel.raw.live_preroll_max_duration_secs;
    if let Some(end) = end {
        duration = duration.min(end - t0);
    }
    let at = t0 - start;
    (duration > 0.0).then(|| DashBreak {
        id: LIVE_PREROLL.into(),
        period,
        at,
        duration: Some(duration),
        scheme: "live-preroll".into(),
        vars: Default::default(),
    })
}

/// Segment duration of the first duration-addressed SegmentTemplate, seconds.
fn segment_duration(e: &dash::Element) -> Option<f64> {
    for child in e.elements() {
        if child.local_name() == "SegmentTemplate" {
            let ts: f64 = child
                .attr("timescale")
                .and_then(|t| t.parse().ok())
                .unwrap_or(1.0);
            if let Some(d) = child.attr("duration").and_then(|d| d.parse::<f64>().ok()) {
                if ts > 0.0 && d > 0.0 {
                    return Some(d / ts);
                }
            }
        }
        if let Some(d) = segment_duration(child) {
            return Some(d);
        }
    }
    None
}

async fn dash_ad(st: &AppState, channel: &Channel, url: &str) -> Option<Arc<DashAd>> {
    let url = Url::parse(url).ok()?;
    match st.origin.get(channel, &url, Purpose::DashAd).await {
        Ok(f) => match &f.manifest {
            Manifest::DashAd(a) => Some(a.clone()),
            _ => None,
        },
        Err(e) => {
            info!(url = %url, error = %e, "Ad MPD unavailable; ad skipped.");
            None
        }
    }
}
