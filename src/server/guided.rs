//! Guided (SGAI) sessions over HTTP (issue #15): the shared interstitial playlist,
//! each break's asset list, and the ad playlists of server-side reporting.
//!
//! I/O, thin: the playlist text is [`crate::hls::interstitial::write_guided`],
//! written once per origin playlist refresh and served to every guided session;
//! the asset list is [`crate::stitch::guided`] over the session's decision, made
//! by the same planner ([`plan_hls`]) and ADS call ([`make_decisions`]) as a
//! stitched session's.
//!
//! URLs: a guided session's media playlist is at its stitched URL
//! (`/v1/manifest/{config}/{session}/{path}`), and each break's `X-ASSET-LIST` is
//! that playlist's own file name with `?sgai.break=…&sgai.dur=…`, so the same
//! bytes resolve, for each session, to that session's asset list. Ads of
//! server-reporting sessions are served through
//! `/v1/assets/{session}/{hex break}/{ad}/…` (their playlists, segments through
//! `/v1/segment`, which fires the beacons as in stitched sessions).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tracing::debug;
use url::Url;

use super::hls::{ad_rendition, make_decisions, playlist_response, unix_now};
use super::report::{hls_segment_url, unhex};
use super::AppState;
use crate::breaks::AdBreak;
use crate::config::{Channel, InsertionMode};
use crate::error::Error;
use crate::hls::interstitial::{
    plan_interstitials, write_guided, GuidedOptions, BREAK_PARAM, DURATION_PARAM,
};
use crate::hls::model::{self, MediaPlaylist};
use crate::hls::rewrite::{rewrite_multivariant, VariantTarget};
use crate::origin::{Fetched, Manifest, ParsedMedia, Purpose};
use crate::session::id::hex;
use crate::session::store::{Changes, Snapshot};
use crate::session::{ReportingMode, SessionId};
use crate::stitch::guided::{asset_at, asset_list_json, plan_assets, AssetInput, Playable};
use crate::stitch::request::{
    ad_start_key, place_segments, plan_hls, vod_preroll, PlannedAvail, TIMELINE,
};
use crate::stitch::AdRendition;

/// Query parameter of an implicit session that asks for a guided session
/// (MediaTailor's name).
pub const INSERTION_MODE_PARAM: &str = "aws.insertionMode";

/// Whether a new session is guided: the configuration's mode and what the player
/// asked for (`GUIDED` or `STITCHED`, any case). Asking for guided where the
/// configuration does not offer it is refused (as MediaTailor does). Pure.
pub fn session_is_guided(mode: InsertionMode, asked: Option<&str>) -> Result<bool, String> {
    let asked = match asked.map(str::to_ascii_uppercase).as_deref() {
        None | Some("") => None,
        Some("GUIDED") => Some(true),
        Some("STITCHED") => Some(false),
        Some(other) => {
            return Err(format!(
                "insertion mode must be GUIDED or STITCHED, not {other}"
            ))
        }
    };
    match (mode, asked) {
        (InsertionMode::Guided, _) => Ok(true),
        (InsertionMode::PlayerSelect, a) => Ok(a.unwrap_or(false)),
        (InsertionMode::Stitched, Some(true)) => Err(
            "this configuration's insertion_mode is stitched: guided sessions need player_select or guided"
                .into(),
        ),
        (InsertionMode::Stitched, _) => Ok(false),
    }
}

/// The breaks a guided playlist marks: the origin's, or, for a VOD asset without
/// markers, one pre-roll (as a stitched session gets, `plan_hls`).
pub fn guided_breaks<'a>(pl: &MediaPlaylist, breaks: &'a [AdBreak]) -> Cow<'a, [AdBreak]> {
    if pl.ended && breaks.is_empty() {
        Cow::Owned(vec![vod_preroll()])
    } else {
        Cow::Borrowed(breaks)
    }
}

/// The playlist's own file name: the relative `X-ASSET-LIST` base.
fn own_name(path: &str) -> &str {
    path.rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("index.m3u8")
}

fn options<'a>(channel: &Channel, name: &'a str) -> GuidedOptions<'a> {
    GuidedOptions {
        asset_list: name,
        default_avail: channel.raw.default_avail_duration_secs,
        vod_avail: channel.raw.vod_avail_duration_secs,
    }
}

/// A guided session's media playlist: the one text of this origin playlist
/// (written once per origin refresh, whatever the number of sessions), plus the
/// session's player-timeline anchor (stored when it must move, as stitched).
pub(super) async fn playlist(
    st: &AppState,
    channel: &Channel,
    snap: &Snapshot,
    fetched: &Arc<Fetched>,
    pm: &ParsedMedia,
    path: &str,
) -> Response {
    let pl = &pm.playlist;
    let name = own_name(path);
    let key = format!("{}\n{}\n{name}", channel.name, fetched.url);
    let text = match st.guided.get(&key).await {
        Some((f, text)) if Arc::ptr_eq(&f, fetched) => text,
        _ => {
            let breaks = guided_breaks(pl, &pm.breaks);
            let text: Arc<str> = write_guided(pl, &breaks, &options(channel, name)).into();
            st.guided.insert(key, (fetched.clone(), text.clone())).await;
            text
        }
    };
    if let Some(v) = timeline_update(pl, snap) {
        let changes = Changes {
            values: vec![(TIMELINE.to_string(), v)],
            ..Changes::default()
        };
        st.sessions.apply(&snap.session.id, changes).await;
    }
    let cache = if pl.ended {
        "max-age=300".to_string()
    } else {
        format!("max-age={}", (pl.target_duration / 2).max(1))
    };
    playlist_response(text.to_string(), &cache)
}

/// The new player-timeline anchor (`"{msn}:{seconds}"`) when the stored one is
/// missing or about to leave the window. Pure.
fn timeline_update(pl: &MediaPlaylist, snap: &Snapshot) -> Option<String> {
    let segs: Vec<(u64, f64)> = pl.segments.iter().map(|s| (s.msn, s.duration)).collect();
    let anchor = anchor(snap);
    let &(last, _) = segs.last()?;
    let half = segs[segs.len() / 2].0;
    if anchor.is_some_and(|(m, _)| m >= half && m <= last) {
        return None;
    }
    let pos = place_segments(&segs, anchor);
    Some(format!("{last}:{:.3}", pos.last().copied().unwrap_or(0.0)))
}

fn anchor(snap: &Snapshot) -> Option<(u64, f64)> {
    let (m, p) = snap.values.get(TIMELINE)?.split_once(':')?;
    Some((m.parse().ok()?, p.parse().ok()?))
}

/// `scheme://host` of the request as the player addressed it (`Host`, and
/// `X-Forwarded-Proto` from a proxy; `http` without it): asset URIs are absolute,
/// since players resolve them against the page rather than the asset list
/// (hls.js 1.7). Empty (relative URIs) when the host is not a plain host\[:port\]. Pure.
pub fn request_base(headers: &axum::http::HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !plain {
        return String::new();
    }
    let proto = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .map(str::trim)
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{proto}://{host}")
}

/// What an asset-list request asks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetQuery {
    /// The break id.
    pub break_id: String,
    /// Its avail as the playlist said, seconds.
    pub duration: Option<f64>,
    /// `_HLS_start_offset`: where in the break the player starts, seconds.
    pub start_offset: Option<f64>,
    /// `_HLS_primary_id`: the player's playback session.
    pub primary_id: Option<String>,
}

/// Read an asset-list request's query: `None` when it is not one. Pure.
pub fn parse_asset_query(query: Option<&str>) -> Option<Result<AssetQuery, String>> {
    let query = query?;
    let mut q = AssetQuery::default();
    let mut is_asset_list = false;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            BREAK_PARAM => {
                is_asset_list = true;
                match unhex(&v) {
                    Some(id) if !id.is_empty() && id.len() <= 256 => q.break_id = id,
                    _ => return Some(Err("bad break".into())),
                }
            }
            DURATION_PARAM => {
                q.duration = v.parse::<f64>().ok().filter(|d| *d > 0.0 && *d <= 3600.0)
            }
            "_HLS_start_offset" => {
                q.start_offset = v.parse::<f64>().ok().filter(|d| d.is_finite() && *d >= 0.0)
            }
            "_HLS_primary_id" => {
                q.primary_id = Some(
                    v.chars()
                        .filter(|c| c.is_ascii_graphic())
                        .take(128)
                        .collect(),
                )
            }
            _ => {}
        }
    }
    is_asset_list.then_some(Ok(q))
}

/// `GET {media playlist}?sgai.break=…`: one break's asset list for the session,
/// from the same decision a stitched session would get.
pub(super) async fn asset_list(
    st: &AppState,
    channel: &Arc<Channel>,
    snap: Snapshot,
    pm: &ParsedMedia,
    q: AssetQuery,
    base: &str,
) -> Result<Response, Error> {
    let pl = &pm.playlist;
    let session = snap.session.clone();
    let breaks = guided_breaks(pl, &pm.breaks);
    // The guided playlist has no live pre-roll: plan as a channel without one.
    let plain;
    let config = if channel.raw.live_preroll_ads_url.is_some() {
        let mut c = channel.raw.clone();
        c.live_preroll_ads_url = None;
        plain = c;
        &plain
    } else {
        &channel.raw
    };
    let plan = plan_hls(pl, &breaks, &snap, config, unix_now());
    let marked = breaks.iter().find(|b| b.id == q.break_id);
    let avail = plan.avails.into_iter().find(|a| a.break_id == q.break_id);
    let mut avail = match (avail, snap.decisions.get(&q.break_id), q.duration) {
        (Some(a), _, _) => a,
        // Slid out of the window: its decision stands, or the playlist said its avail.
        (None, Some(d), _) => PlannedAvail {
            break_id: q.break_id.clone(),
            planned: d.avail_duration,
            index: 1,
            vars: BTreeMap::new(),
            need: crate::stitch::request::Need::Decided(d.clone()),
        },
        (None, None, Some(planned)) => PlannedAvail {
            break_id: q.break_id.clone(),
            planned,
            index: 1,
            vars: BTreeMap::new(),
            need: crate::stitch::request::Need::Ask,
        },
        (None, None, None) => return Err(Error::BadRequest("no such break".into())),
    };
    make_decisions(st, channel, &session, std::slice::from_mut(&mut avail)).await;
    let Some(decision) = avail.decision().cloned() else {
        return Err(Error::Internal("no decision".into()));
    };
    let insert = marked.is_some_and(|b| b.insert);
    let target = VariantTarget::default();
    let playable = |r: Option<Arc<AdRendition>>, uri: String| {
        r.filter(|r| !r.segments.is_empty()).map(|r| Playable {
            uri,
            duration: r.duration(),
        })
    };
    let hex_break = hex(q.break_id.as_bytes());
    let mut ads = Vec::with_capacity(decision.ads.len());
    for (n, ad) in decision.ads.iter().enumerate() {
        let Some(url) = ad.media_url.as_deref() else {
            st.metrics.ads_skipped(&channel.name, "NO_VARIANT_MATCH", 1);
            ads.push(None);
            continue;
        };
        let r = ad_rendition(st, channel, url, &target).await;
        let uri = match session.reporting {
            ReportingMode::Server => {
                format!(
                    "{base}/v1/assets/{}/{hex_break}/{n}/master.m3u8",
                    session.id
                )
            }
            ReportingMode::Client => url.to_string(),
        };
        ads.push(playable(r, uri));
    }
    let suppressed = decision.failure.as_deref() == Some(crate::stitch::request::SUPPRESSED);
    let by_url = |u: Option<String>| async {
        match u {
            Some(u) => {
                let r = ad_rendition(st, channel, &u, &target).await;
                playable(r, u)
            }
            None => None,
        }
    };
    let slate = if suppressed {
        None
    } else {
        by_url(channel.slate.as_ref().map(Url::to_string)).await
    };
    let input = AssetInput {
        planned: avail.planned,
        insert,
        ads,
        slate,
        bumper_start: by_url(channel.raw.bumper_start.clone()).await,
        bumper_end: by_url(channel.raw.bumper_end.clone()).await,
        slate_threshold: channel.raw.personalization_threshold_secs,
    };
    let assets = plan_assets(&input);
    let placed = assets
        .iter()
        .filter(|a| matches!(a.kind, crate::stitch::guided::AssetKind::Ad(_)))
        .count();
    st.metrics.ads_filled(&channel.name, placed);
    // Where each ad starts in the player's (content) timeline, for the tracking API.
    let interstitial = plan_interstitials(pl, &breaks, &options(channel, ""))
        .into_iter()
        .find(|i| i.break_id == q.break_id);
    if let Some(i) = interstitial {
        let segs: Vec<(u64, f64)> = pl.segments.iter().map(|s| (s.msn, s.duration)).collect();
        let pos = place_segments(&segs, anchor(&snap));
        let at = match pos.get(i.at) {
            Some(p) => *p,
            None => pos.last().copied().unwrap_or(0.0) + segs.last().map_or(0.0, |s| s.1),
        };
        let mut changes = Changes::default();
        for a in &assets {
            if let crate::stitch::guided::AssetKind::Ad(n) = a.kind {
                let key = ad_start_key(&q.break_id, n);
                if !snap.values.contains_key(&key) {
                    changes.once.push((key, format!("{:.3}", at + a.start)));
                }
            }
        }
        if !changes.is_empty() {
            st.sessions.apply(&session.id, changes).await;
        }
    }
    debug!(
        session_id = %session.id,
        break_id = q.break_id,
        primary_id = q.primary_id.as_deref().unwrap_or(""),
        start_offset = q.start_offset.unwrap_or(0.0),
        join_asset = q.start_offset.and_then(|o| asset_at(&assets, o)).unwrap_or(0),
        assets = assets.len(),
        "Asset list served."
    );
    let mut resp = Json(asset_list_json(&assets, &decision.ads)).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

/// `GET /v1/assets/{session}/{hex break}/{ad}/{path}`: an ad's playlists for a
/// guided session in server-side reporting: its multivariant playlist with the
/// variants pointed here, each variant with its segments through `/v1/segment`.
pub async fn ad_playlist(
    State(st): State<AppState>,
    Path((session, rest)): Path<(String, String)>,
) -> Result<Response, Error> {
    let bad = |why: &str| Error::BadRequest(format!("bad asset URL: {why}"));
    let sid = SessionId::parse(&session).ok_or_else(|| bad("session id"))?;
    let session = st.session(&sid).await?;
    let mut parts = rest.splitn(3, '/');
    let hex_break = parts.next().unwrap_or("");
    let break_id = unhex(hex_break).ok_or_else(|| bad("break"))?;
    let n: usize = parts
        .next()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| bad("ad"))?;
    let sub = parts.next().unwrap_or("");
    let decision = st
        .sessions
        .decision(&sid, &break_id)
        .await
        .ok_or_else(|| bad("no such break"))?;
    let ad = decision.ads.get(n).ok_or_else(|| bad("no such ad"))?;
    let channel = st.channel(&session.channel).ok_or(Error::UnknownSession)?;
    let top = ad
        .media_url
        .as_deref()
        .and_then(|u| crate::urls::parse(u).ok())
        .ok_or_else(|| bad("the ad has no HLS rendition"))?;
    let dir = top.join("./").map_err(|_| bad("ad URL"))?;
    let url = if sub == "master.m3u8" {
        top.clone()
    } else {
        // A variant below the ad's own directory (as the rewrite named it).
        if sub.split('/').any(|s| s == ".." || s == ".") || sub.contains("//") {
            return Err(bad("path"));
        }
        let u = crate::urls::join(&dir, sub).map_err(|_| bad("path"))?;
        if !u.as_str().starts_with(dir.as_str()) {
            return Err(bad("path"));
        }
        u
    };
    let fetched = st
        .origin
        .get(&channel, &url, Purpose::Ad)
        .await
        .map_err(|_| Error::NotFound)?;
    let base = format!("/v1/assets/{sid}/{hex_break}/{n}/");
    let text = match &fetched.manifest {
        Manifest::Multivariant(m) => rewrite_multivariant(m, &fetched.url, dir.as_str(), &base),
        Manifest::Ad(r) => ad_media_text(r, &sid, &break_id, n),
        _ => return Err(Error::NotFound),
    };
    let mut resp = playlist_response(text, "private, max-age=300");
    resp.extensions_mut()
        .insert(super::ConfigLabel(channel.name.clone()));
    Ok(resp)
}

/// A VOD media playlist of an ad rendition, its segments through `/v1/segment`.
fn ad_media_text(r: &AdRendition, sid: &SessionId, break_id: &str, ad: usize) -> String {
    let count = r.segments.len();
    let target = r
        .segments
        .iter()
        .map(|s| s.duration)
        .fold(1.0f64, f64::max)
        .ceil() as u64;
    let mut version = 3;
    for s in &r.segments {
        for l in s.lines.iter().chain(std::iter::once(&s.extinf)) {
            if let Some((v, _)) = crate::hls::version::line_need(l, false) {
                version = version.max(v);
            }
        }
    }
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:{version}\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
    );
    for (i, s) in r.segments.iter().enumerate() {
        if s.discontinuity && i > 0 {
            model::push_line(&mut out, model::DISCONTINUITY);
        }
        for l in s.lines.iter().chain(std::iter::once(&s.extinf)) {
            model::push_line(&mut out, l);
        }
        model::push_line(
            &mut out,
            &hls_segment_url(sid, break_id, ad, i, count, &s.uri),
        );
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertion_mode_per_configuration_and_session() {
        use InsertionMode::*;
        assert_eq!(session_is_guided(Stitched, None), Ok(false));
        assert_eq!(session_is_guided(Stitched, Some("STITCHED")), Ok(false));
        assert!(session_is_guided(Stitched, Some("GUIDED")).is_err());
        assert_eq!(session_is_guided(Guided, None), Ok(true));
        assert_eq!(session_is_guided(Guided, Some("stitched")), Ok(true));
        assert_eq!(session_is_guided(PlayerSelect, None), Ok(false));
        assert_eq!(session_is_guided(PlayerSelect, Some("guided")), Ok(true));
        assert_eq!(session_is_guided(PlayerSelect, Some("STITCHED")), Ok(false));
        assert!(session_is_guided(PlayerSelect, Some("both")).is_err());
    }

    #[test]
    fn request_base_is_the_host_the_player_used() {
        let mut h = axum::http::HeaderMap::new();
        assert_eq!(request_base(&h), "");
        h.insert(header::HOST, HeaderValue::from_static("cdn.example:8080"));
        assert_eq!(request_base(&h), "http://cdn.example:8080");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(request_base(&h), "https://cdn.example:8080");
        h.insert(header::HOST, HeaderValue::from_static("evil.example/x?"));
        assert_eq!(request_base(&h), "");
    }

    #[test]
    fn asset_queries() {
        assert_eq!(parse_asset_query(None), None);
        assert_eq!(parse_asset_query(Some("token=1")), None);
        let q = parse_asset_query(Some(
            "sgai.break=6d736e2d3233&sgai.dur=16&_HLS_primary_id=AB-12&_HLS_start_offset=4.5",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(q.break_id, "msn-23");
        assert_eq!(q.duration, Some(16.0));
        assert_eq!(q.start_offset, Some(4.5));
        assert_eq!(q.primary_id.as_deref(), Some("AB-12"));
        assert!(parse_asset_query(Some("sgai.break=zz")).unwrap().is_err());
        let q = parse_asset_query(Some("sgai.break=61&sgai.dur=-1&_HLS_start_offset=nan"))
            .unwrap()
            .unwrap();
        assert_eq!((q.duration, q.start_offset), (None, None));
    }
}
