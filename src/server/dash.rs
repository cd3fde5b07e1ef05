//! DASH routes: `/v1/dash/{config}/{path}.mpd` creates a session and redirects to
//! `/v1/dash/{config}/{session}/{path}.mpd`, the personalized MPD.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use tracing::info;
use url::Url;

use super::hls::{make_decisions, new_session, origin_url_under, settle_claim};
use super::AppState;
use crate::config::Channel;
use crate::dash::{mpd, DashAd, MpdContext};
use crate::error::Error;
use crate::hls::rewrite::resolve_uri;
use crate::origin::{Manifest, ParsedMpd, Purpose};
use crate::session::store::Snapshot;
use crate::session::SessionId;
use crate::stitch::request::{dash_ad_urls, dash_fills, plan_dash, write_dash, DashAds};

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
            let snap = st.snapshot(&sid).await?;
            if snap.session.channel != channel.name {
                return Err(Error::UnknownSession);
            }
            let query = channel.origin_query(req.uri().query());
            return personalize(&st, &channel, snap, tail, query.as_deref()).await;
        }
    }
    if !rest.ends_with(".mpd") {
        return Err(Error::BadRequest("a DASH path ends with .mpd".into()));
    }
    let mut session = new_session(&channel, &req, None)?;
    let origin = channel.origin_for(&session.player_params);
    let url = origin_url_under(&origin, &rest, None)?;
    // The MPD describes the content: MP4 creatives are transcoded like it.
    session.master_url = Some(url.to_string());
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
    st.metrics.session_created(&channel.name);
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

/// One MPD request: the plan (pure), the decisions it lacks and the ad MPDs
/// (I/O), the splice (pure), one write when something changed.
async fn personalize(
    st: &AppState,
    channel: &Arc<Channel>,
    mut snap: Snapshot,
    path: &str,
    query: Option<&str>,
) -> Result<Response, Error> {
    let origin = channel.origin_for(&snap.session.player_params);
    let url = origin_url_under(&origin, path, query)?;
    let fetched = st.origin.get(channel, &url, Purpose::Dash).await?;
    let Manifest::Mpd(pm) = &fetched.manifest else {
        return Err(Error::Internal("not an MPD".into()));
    };
    let ParsedMpd { doc, breaks } = pm;
    let dynamic = mpd::is_dynamic(doc);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut plan = plan_dash(doc, breaks, &snap, &channel.raw, now);
    if let Some(claim) = plan.claim.take() {
        settle_claim(st, &mut snap, claim).await;
        plan = plan_dash(doc, breaks, &snap, &channel.raw, now);
    }
    let session = snap.session.clone();
    make_decisions(st, channel, &session, &mut plan.avails).await;
    let slate = channel.dash_slate.as_ref().map(Url::as_str);
    let mut ads = DashAds::new();
    for u in dash_ad_urls(&plan, &channel.raw, slate) {
        ads.insert(u, dash_ad(st, channel, u).await);
    }
    let (fills, filled, skipped) = dash_fills(&plan, &ads, &channel.raw, slate, &session);
    st.metrics.ads_filled(&channel.name, filled);
    st.metrics
        .ads_skipped(&channel.name, "NO_VARIANT_MATCH", skipped);
    let ctx = MpdContext {
        content_base: resolve_uri(
            &url,
            "./",
            Some(origin.as_str()),
            channel.raw.content_segment_prefix.as_deref(),
        ),
        location: Some(format!("/v1/dash/{}/{}/{}", channel.name, session.id, path)),
        publish_time: Some(mpd::format_utc(now as u64)),
    };
    let out = write_dash(&plan, doc, &snap, &fills, &ctx);
    if !out.changes.is_empty() {
        st.sessions.apply(&session.id, out.changes).await;
    }
    let mut resp = out.text.into_response();
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

async fn dash_ad(st: &AppState, channel: &Channel, url: &str) -> Option<Arc<DashAd>> {
    let key = (channel.name.clone(), url.to_string());
    if let Some(a) = st.dash_ads.get(&key).await {
        return Some(a);
    }
    let a = resolve_dash_ad(st, channel, url).await?;
    st.dash_ads.insert(key, a.clone()).await;
    Some(a)
}

async fn resolve_dash_ad(st: &AppState, channel: &Channel, url: &str) -> Option<Arc<DashAd>> {
    let url = crate::urls::parse(url).ok()?;
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
