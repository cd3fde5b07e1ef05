//! Reporting routes: `/v1/segment/{session}/...` (ad segments through us, firing the
//! VAST beacons: server-side reporting), `/v1/tracking/{session}` (client-side
//! tracking document) and `POST /v1/session/{config}/{path}` (explicit sessions).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use url::Url;

use super::hls::{new_session, origin_url_under};
use super::AppState;
use crate::config::{AvailSuppression, FillPolicy, SuppressionMode};
use crate::error::Error;
use crate::origin::{Manifest, Purpose};
use crate::session::id::hex;
use crate::session::{DecidedAd, ReportingMode, SessionId};
use crate::stitch::request::AD_START;
use crate::tracking::{self, client::tracking_json, Viewer};

/// Decode lowercase hex.
pub fn unhex(s: &str) -> Option<String> {
    if s.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// The session URL of an HLS ad segment in server-side reporting mode. It ends
/// with the segment's own file name: players and ffmpeg check segment extensions.
pub fn hls_segment_url(
    sid: &SessionId,
    break_id: &str,
    ad: usize,
    index: usize,
    count: usize,
    target: &str,
) -> String {
    let file = target
        .split(['?', '#'])
        .next()
        .and_then(|p| p.rsplit('/').next())
        .filter(|f| {
            !f.is_empty()
                && f.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
        .unwrap_or("segment.ts");
    format!(
        "/v1/segment/{sid}/{}/{ad}/{index}/{count}/{}/{file}",
        hex(break_id.as_bytes()),
        hex(target.as_bytes())
    )
}

/// `GET /v1/segment/{session}/{rest}`: redirect to the ad segment and fire the
/// beacons its position reaches, each once per session and ad.
pub async fn segment(
    State(st): State<AppState>,
    Path((session, rest)): Path<(String, String)>,
    req: Request<Body>,
) -> Result<Response, Error> {
    let bad = |why: &str| Error::BadRequest(format!("bad segment URL: {why}"));
    let sid = SessionId::parse(&session).ok_or_else(|| bad("session id"))?;
    let session = st.session(&sid).await?;
    let parts: Vec<&str> = rest.splitn(6, '/').collect();
    let break_id = parts
        .first()
        .and_then(|b| unhex(b))
        .ok_or_else(|| bad("break"))?;
    let ad_index: usize = parts
        .get(1)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| bad("ad"))?;
    let (target, index, count) = if parts.get(2) == Some(&"d") {
        // DASH: .../d/{count}/{hex base}/{path under the base}
        let count: usize = parts
            .get(3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad("count"))?;
        let base = parts
            .get(4)
            .and_then(|b| unhex(b))
            .ok_or_else(|| bad("base"))?;
        let path = parts.get(5).copied().unwrap_or("");
        let target = crate::urls::parse(&base)
            .and_then(|b| crate::urls::join(&b, path))
            .map_err(|_| bad("target"))?;
        // The segment number is the last run of digits in the file name ($Number$);
        // initialization segments carry none and fire nothing.
        let file = path.rsplit('/').next().unwrap_or("");
        let stem = file.split('.').next().unwrap_or("");
        let digits: String = stem
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let index = digits.parse::<usize>().ok().and_then(|n| n.checked_sub(1));
        (target, index, count)
    } else {
        // HLS: .../{index}/{count}/{hex target}/{file name}
        let index: usize = parts
            .get(2)
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| bad("index"))?;
        let count: usize = parts
            .get(3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad("count"))?;
        let target = parts
            .get(4)
            .and_then(|t| unhex(t))
            .and_then(|t| crate::urls::parse(&t).ok())
            .ok_or_else(|| bad("target"))?;
        (target, Some(index), count)
    };
    if count == 0 || count > 100_000 {
        return Err(bad("count"));
    }
    let decision = st
        .sessions
        .decision(&sid, &break_id)
        .await
        .ok_or_else(|| bad("no such break"))?;
    let ad = decision
        .ads
        .get(ad_index)
        .ok_or_else(|| bad("no such ad"))?;
    let channel = st.channel(&session.channel).ok_or(Error::UnknownSession)?;
    // No open redirect: only to where this ad's media live.
    if !target_allowed(&target, ad, channel.raw.ad_segment_prefix.as_deref())
        && !named_by_ad_playlists(&st, &channel, ad, &target).await
    {
        return Err(bad("target is not this ad's media"));
    }
    if let (ReportingMode::Server, Some(index)) = (session.reporting, index) {
        let mut urls = Vec::new();
        // The event of each URL, so a failure is counted under its event.
        let mut events = Vec::new();
        for event in tracking::events_reached(index, count) {
            let key = crate::stitch::request::beacon_key(&break_id, ad_index, event);
            if st.sessions.set_once(&sid, &key, "").await {
                let frac = tracking::LINEAR_EVENTS
                    .iter()
                    .find(|(e, _)| *e == event)
                    .map_or(0.0, |(_, f)| *f);
                let values = tracking::macro_values(
                    frac * ad.duration,
                    ad.file_url.as_deref().unwrap_or(""),
                    None,
                );
                for u in tracking::beacon_urls(ad, event) {
                    urls.push(tracking::expand_macros(u, &values));
                    events.push(event);
                }
                st.metrics.beacon(&channel.name, event, true);
            }
        }
        if !urls.is_empty() {
            let http = st.http.clone();
            let headers = req.headers();
            let viewer = Viewer {
                user_agent: headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(&session.user_agent)
                    .to_string(),
                client_ip: session.client_ip.clone(),
            };
            let metrics = st.metrics.clone();
            let config = channel.name.clone();
            tokio::spawn(async move {
                let delivered = tracking::send(&http, urls, &viewer).await;
                for (event, ok) in events.into_iter().zip(delivered) {
                    if !ok {
                        metrics.beacon(&config, event, false);
                    }
                }
            });
        }
    }
    let mut resp = StatusCode::FOUND.into_response();
    resp.extensions_mut()
        .insert(super::ConfigLabel(channel.name.clone()));
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(target.as_str()).map_err(|e| Error::Internal(e.to_string()))?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

fn target_allowed(target: &Url, ad: &DecidedAd, prefix: Option<&str>) -> bool {
    if !matches!(target.scheme(), "http" | "https") {
        return false;
    }
    let origin = |u: &str| crate::urls::parse(u).ok().map(|u| u.origin());
    [ad.media_url.as_deref(), ad.dash_url.as_deref(), prefix]
        .into_iter()
        .flatten()
        .any(|u| origin(u) == Some(target.origin()))
}

/// Whether `target`'s host (scheme, host, port) is one the ad's own playlists
/// name: its variant playlists and their segments may live on other hosts than
/// the MediaFile's. Read from the manifest cache (the playlists were fetched to
/// splice the ad in).
async fn named_by_ad_playlists(
    st: &AppState,
    channel: &crate::config::Channel,
    ad: &DecidedAd,
    target: &Url,
) -> bool {
    let want = target.origin();
    let Some(media) = ad
        .media_url
        .as_deref()
        .and_then(|u| crate::urls::parse(u).ok())
    else {
        return false;
    };
    let Ok(top) = st.origin.get(channel, &media, Purpose::Ad).await else {
        return false;
    };
    let in_rendition = |m: &Manifest| match m {
        Manifest::Ad(r) => r
            .segments
            .iter()
            .any(|s| crate::urls::parse(&s.uri).is_ok_and(|u| u.origin() == want)),
        _ => false,
    };
    match &top.manifest {
        Manifest::Multivariant(m) => {
            for v in &m.variants {
                let Ok(vu) = crate::urls::join(&top.url, &v.uri) else {
                    continue;
                };
                if vu.origin() == want {
                    return true;
                }
                if let Ok(f) = st.origin.get(channel, &vu, Purpose::Ad).await {
                    if in_rendition(&f.manifest) {
                        return true;
                    }
                }
            }
            false
        }
        other => in_rendition(other),
    }
}

/// `GET /v1/tracking/{session}`
pub async fn tracking_doc(
    State(st): State<AppState>,
    Path(session): Path<String>,
) -> Result<Response, Error> {
    let sid = SessionId::parse(&session)
        .ok_or_else(|| Error::BadRequest("malformed session id".into()))?;
    let snap = st.snapshot(&sid).await?;
    let mut decisions: Vec<_> = snap.decisions.into_iter().collect();
    decisions.sort_by(|a, b| a.0.cmp(&b.0));
    let mut starts = BTreeMap::new();
    for (key, value) in snap
        .values
        .into_iter()
        .filter(|(k, _)| k.starts_with(AD_START))
    {
        let mut parts = key.splitn(3, '/').skip(1);
        let (Some(b), Some(n)) = (
            parts.next().and_then(unhex),
            parts.next().and_then(|n| n.parse().ok()),
        ) else {
            continue;
        };
        if let Ok(v) = value.parse::<f64>() {
            starts.insert((b, n), v);
        }
    }
    let mut doc = tracking_json(&decisions, &starts);
    // Which mode the session has (guided: HLS interstitials, issue #15).
    doc["insertionMode"] = if snap.session.guided {
        "GUIDED".into()
    } else {
        "STITCHED".into()
    };
    let mut resp = Json(doc).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.extensions_mut()
        .insert(super::ConfigLabel(snap.session.channel.clone()));
    Ok(resp)
}

/// Body of `POST /v1/session/...`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionRequest {
    /// Values for `[player_params.*]` in the ADS URL.
    pub ads_params: BTreeMap<String, String>,
    /// Values for `[player_params.*]` (origin and aliases as well as the ADS).
    pub player_params: BTreeMap<String, String>,
    /// `server` (default) or `client`.
    pub reporting_mode: Option<String>,
    /// Avail suppression settings (accepted, see the README).
    pub avail_suppression: Option<serde_json::Value>,
    /// `GUIDED` or `STITCHED` (MediaTailor's field), where the configuration's
    /// `insertion_mode` lets the session choose.
    pub insertion_mode: Option<String>,
}

/// Read `availSuppression` in MediaTailor's form (`{"mode": "BEHIND_LIVE_EDGE",
/// "value": "00:00:30", "fillPolicy": "PARTIAL_AVAIL"}`) or ours (`mode:
/// behind_live_edge`, `valueSecs: 30`, `fillPolicy: partial_avail`).
pub fn parse_suppression(v: &serde_json::Value) -> Result<AvailSuppression, String> {
    let mode = match v
        .get("mode")
        .and_then(|m| m.as_str())
        .map(|m| m.to_ascii_lowercase())
    {
        None => SuppressionMode::Off,
        Some(m) => match m.as_str() {
            "off" => SuppressionMode::Off,
            "behind_live_edge" => SuppressionMode::BehindLiveEdge,
            "after_live_edge" => SuppressionMode::AfterLiveEdge,
            other => return Err(format!("unknown mode `{other}`")),
        },
    };
    let value_secs = match (v.get("valueSecs"), v.get("value")) {
        (Some(n), _) => n.as_f64().ok_or("valueSecs must be a number")?,
        (None, Some(s)) => {
            let s = s.as_str().ok_or("value must be HH:MM:SS")?;
            let parts: Vec<f64> = s
                .split(':')
                .map(|p| p.parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| "value must be HH:MM:SS")?;
            match parts.as_slice() {
                [h, m, sec] => h * 3600.0 + m * 60.0 + sec,
                _ => return Err("value must be HH:MM:SS".into()),
            }
        }
        (None, None) => 0.0,
    };
    if !(value_secs.is_finite() && value_secs >= 0.0) {
        return Err("the value must be >= 0".into());
    }
    let fill_policy = match v
        .get("fillPolicy")
        .and_then(|m| m.as_str())
        .map(|m| m.to_ascii_lowercase())
    {
        None => FillPolicy::FullAvailOnly,
        Some(p) => match p.as_str() {
            "full_avail_only" => FillPolicy::FullAvailOnly,
            "partial_avail" => FillPolicy::PartialAvail,
            other => return Err(format!("unknown fillPolicy `{other}`")),
        },
    };
    Ok(AvailSuppression {
        mode,
        value_secs,
        fill_policy,
    })
}

/// `POST /v1/session/{config}/{path}`: an explicit session.
pub async fn create_session(
    State(st): State<AppState>,
    Path((config, path)): Path<(String, String)>,
    req: Request<Body>,
) -> Result<Response, Error> {
    let channel = st
        .channel(&config)
        .ok_or_else(|| Error::UnknownConfig(config.clone()))?;
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| Error::BadRequest("body too large".into()))?;
    let body: SessionRequest = if bytes.is_empty() {
        SessionRequest::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::BadRequest(format!("bad JSON body: {e}")))?
    };
    let reporting = match body.reporting_mode.as_deref() {
        None | Some("server") | Some("SERVER") => ReportingMode::Server,
        Some("client") | Some("CLIENT") => ReportingMode::Client,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "reportingMode must be client or server, not {other}"
            )))
        }
    };
    let req = Request::from_parts(parts, Body::empty());
    let mut session = new_session(&channel, &req, None)?;
    let mut params = BTreeMap::new();
    for (k, v) in body.player_params.into_iter().chain(body.ads_params) {
        super::hls::add_player_param(&mut params, &k, &v)?;
    }
    channel
        .resolve_aliases(&mut params)
        .map_err(Error::BadRequest)?;
    session.player_params.extend(params);
    let origin = channel.origin_for(&session.player_params);
    let url = origin_url_under(&origin, &path, None)?;
    let dash = path.ends_with(".mpd");
    let purpose = if dash {
        Purpose::Dash
    } else {
        Purpose::Content
    };
    let fetched = st.origin.get(&channel, &url, purpose).await?;
    session.reporting = reporting;
    if body.insertion_mode.is_some() {
        session.guided = super::guided::session_is_guided(
            channel.raw.insertion_mode,
            body.insertion_mode.as_deref(),
        )
        .map_err(Error::BadRequest)?;
    }
    if let Some(v) = &body.avail_suppression {
        session.suppression = Some(
            parse_suppression(v)
                .map_err(|e| Error::BadRequest(format!("availSuppression: {e}")))?,
        );
    }
    if matches!(
        fetched.manifest,
        Manifest::Multivariant(_) | Manifest::Mpd(_)
    ) {
        session.master_url = Some(url.to_string());
    }
    let sid = session.id.clone();
    let guided = session.guided;
    let rest = url
        .as_str()
        .strip_prefix(origin.as_str())
        .unwrap_or(&path)
        .to_string();
    st.create_session(session).await?;
    st.metrics.session_created(&channel.name);
    let manifest_url = if dash {
        format!("/v1/dash/{}/{sid}/{rest}", channel.name)
    } else {
        format!("/v1/manifest/{}/{sid}/{rest}", channel.name)
    };
    let mut resp = Json(serde_json::json!({
        "manifestUrl": manifest_url,
        "trackingUrl": format!("/v1/tracking/{sid}"),
        "insertionMode": if guided { "GUIDED" } else { "STITCHED" },
    }))
    .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
