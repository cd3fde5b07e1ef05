//! Ad decisions: the ADS call for one (session, break), over HTTP.
//!
//! I/O. Expands the configuration's ADS URL template, calls the ADS through
//! [`resolve_ads_capped`] (wrappers followed, VAST requests capped) within the configured timeout, keeps the
//! creatives we can play (HLS media files; MP4 ones wait for transcoding) and fits
//! them to the avail. Never fails: a failed call is a [`Decision`] with no ads and
//! the reason, so the break gets slate or content.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tracing::{info, warn};

use super::resolve::{resolve_ads_capped, FetchError, ResolveError, ResolvedAd, VastFetcher};
use super::template::{self, expand_template, TemplateVars};
use crate::breaks::fit_pod;
use crate::config::Channel;
use crate::events::Metrics;
use crate::origin::{fetch_text, FetchFailure};
use crate::session::store::intern_ad;
use crate::session::{Beacon, DecidedAd, Decision, Session};
use crate::transcode::{self, select_creative, Transcoder};

/// Largest VAST document accepted.
pub const MAX_VAST_BYTES: usize = 1024 * 1024;

/// VAST over HTTP, each hop bounded in time and size, the viewer's headers passed on.
pub struct HttpVastFetcher<'a> {
    http: &'a reqwest::Client,
    timeout: Duration,
    user_agent: &'a str,
    client_ip: &'a str,
    /// The channel's configured ADS origins: the only internal hosts a VAST fetch
    /// (a wrapper's included) may reach.
    allowed: &'a [url::Origin],
    /// Where each request's duration goes, under the configuration's name.
    metrics: &'a Metrics,
    config: &'a str,
}

impl VastFetcher for HttpVastFetcher<'_> {
    fn fetch(&self, url: &str) -> impl Future<Output = Result<String, FetchError>> + Send {
        let url = url.to_string();
        async move {
            // A wrapper may point anywhere on the internet, but not at this
            // network's services (only a configured ADS may live there).
            // Parsed here, with the host-length cap, rather than by reqwest.
            let u = crate::urls::parse(&url)
                .map_err(|e| FetchError::Transport(format!("VAST URL refused ({e})")))?;
            if crate::origin::internal::is_internal(&u) && !self.allowed.contains(&u.origin()) {
                return Err(FetchError::Transport(
                    "VAST URL on an internal host refused".into(),
                ));
            }
            let mut headers = Vec::new();
            if !self.user_agent.is_empty() {
                headers.push(("user-agent", self.user_agent));
            }
            if !self.client_ip.is_empty() {
                headers.push(("x-forwarded-for", self.client_ip));
            }
            let start = std::time::Instant::now();
            let fetched = fetch_text(self.http, &url, self.timeout, MAX_VAST_BYTES, &headers).await;
            let outcome = match &fetched {
                Ok(_) => "ok",
                Err(FetchFailure::Timeout) => "timeout",
                Err(_) => "error",
            };
            self.metrics
                .ads_request(self.config, outcome, start.elapsed().as_secs_f64());
            fetched.map_err(|f| match f {
                FetchFailure::Timeout => FetchError::Timeout,
                FetchFailure::Status(s) => FetchError::Status(s),
                FetchFailure::TooLarge(_) => FetchError::TooLarge,
                FetchFailure::Transport(t) => FetchError::Transport(t),
                FetchFailure::NotText => FetchError::Transport("body is not UTF-8".into()),
            })
        }
    }
}

/// The avail an ad decision is for.
#[derive(Debug, Clone)]
pub struct Avail<'a> {
    /// Avail duration, seconds.
    pub duration: f64,
    /// 1-based index of the avail in the session.
    pub index: u32,
    /// `[scte.*]` values from the marker.
    pub vars: &'a BTreeMap<String, String>,
}

/// The template variables for one (session, avail). Pure.
pub fn ads_vars(session: &Session, avail: &Avail<'_>, random: u64) -> TemplateVars {
    let mut v = TemplateVars::new();
    let secs = avail.duration.round().max(0.0) as u64;
    v.set(template::SESSION_ID, session.id.as_str())
        .set(template::SESSION_UUID, session.uuid.as_str())
        .set(template::SESSION_AVAIL_DURATION_SECS, secs.to_string())
        .set(
            template::SESSION_AVAIL_DURATION_MS,
            ((avail.duration * 1000.0).round().max(0.0) as u64).to_string(),
        )
        .set(template::SESSION_USER_AGENT, session.user_agent.as_str())
        .set(template::SESSION_CLIENT_IP, session.client_ip.as_str())
        .set(template::SESSION_REFERER, session.referer.as_str())
        .set(template::AVAIL_INDEX, avail.index.to_string())
        .set(template::AVAIL_RANDOM, random.to_string());
    for (k, val) in &session.player_params {
        v.set_player_param(k, val.as_str());
    }
    for (k, val) in avail.vars {
        v.set(k.as_str(), val.as_str());
    }
    v
}

/// The decision record of a resolved ad, with its streaming renditions.
pub fn decided(ad: &ResolvedAd, media_url: Option<String>, dash_url: Option<String>) -> DecidedAd {
    // The best progressive file: the highest bitrate video file that is not streaming.
    let file_url = ad
        .media_files
        .iter()
        .filter(|m| !m.is_hls() && !is_dash(m))
        .filter(|m| {
            m.delivery
                .as_deref()
                .is_none_or(|d| d.eq_ignore_ascii_case("progressive"))
        })
        .max_by_key(|m| (m.height.unwrap_or(0), m.bitrate.unwrap_or(0)))
        .map(|m| m.url.clone());
    DecidedAd {
        ad_id: ad.ad_id.clone(),
        creative_id: ad.creative_id.clone(),
        duration: ad.duration,
        media_url,
        dash_url,
        universal_ad_id: ad.universal_ad_id.clone(),
        file_url,
        mezzanine_url: ad.mezzanines.first().cloned(),
        impressions: ad.impressions.clone(),
        error_urls: ad.errors.clone(),
        tracking: ad
            .tracking
            .iter()
            .map(|t| Beacon {
                event: t.event.clone(),
                offset: t.offset.clone(),
                url: t.url.clone(),
            })
            .collect(),
        click_through: ad.click_through.clone(),
        click_tracking: ad.click_tracking.clone(),
        ad_system: ad.ad_system.clone(),
        ad_title: ad.ad_title.clone(),
        companions: ad.companions.clone(),
        verifications: ad.verifications.clone(),
    }
}

/// Call an ad's VAST `<Error>` URLs with `code` for `[ERRORCODE]` (in the
/// background, with the viewer's headers).
pub fn report_error(http: &reqwest::Client, session: &Session, urls: &[String], code: u32) {
    if urls.is_empty() {
        return;
    }
    let values = crate::tracking::macro_values(0.0, "", Some(code));
    let urls: Vec<String> = urls
        .iter()
        .map(|u| crate::tracking::expand_macros(u, &values))
        .collect();
    let viewer = crate::tracking::Viewer {
        user_agent: session.user_agent.clone(),
        client_ip: session.client_ip.clone(),
    };
    let http = http.clone();
    tokio::spawn(async move {
        let _ = crate::tracking::send(&http, urls, &viewer).await;
    });
}

/// A DASH MediaFile: `application/dash+xml`, or a URL path ending `.mpd`.
fn is_dash(m: &crate::vast::MediaFile) -> bool {
    m.mime_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("application/dash+xml"))
        || m.url
            .split(['?', '#'])
            .next()
            .is_some_and(|p| p.ends_with(".mpd"))
}

/// The transcoded renditions of an ad that has only files (see [`Transcoder::prepare`]).
async fn transcoded(
    transcoder: &Transcoder,
    channel: &Channel,
    session: &Session,
    ad: &ResolvedAd,
) -> Result<transcode::AdUrls, &'static str> {
    let creative = select_creative(ad).ok_or(transcode::NO_VARIANT_MATCH)?;
    transcoder.prepare(channel, session, &creative).await
}

/// The `outcome` of `splicepoint_ads_decisions_total` for a decision that failed
/// for `reason` ([`ResolveError::reason`], `timeout`, `no_playable_ad`), or
/// succeeded (`None`): what the ADS did, not what we then played (an answer whose
/// ads we could not play is `ok`; the skips are counted by reason). Pure.
pub fn decision_outcome(reason: Option<&str>) -> &'static str {
    match reason {
        None | Some("no_playable_ad") => "ok",
        Some("timeout" | "fetch_timeout") => "timeout",
        Some("empty") => "empty",
        Some("parse" | "no_linear" | "no_ad_tag_uri") => "malformed",
        Some("fan_out") => "fan_out_capped",
        Some(_) => "error",
    }
}

/// Call the ADS for one avail and decide the ads. Never fails (see module docs).
pub async fn decide(
    http: &reqwest::Client,
    channel: &Channel,
    session: &Session,
    avail: &Avail<'_>,
    metrics: &Metrics,
    transcoder: &Transcoder,
) -> Decision {
    let random: u64 = rand::rng().random_range(0..10_000_000_000);
    let mut vars = ads_vars(session, avail, random);
    for key in channel.raw.aliases.keys() {
        // An alias's value is configuration (a host, `host:port`): kept as written.
        vars.set_verbatim(key.as_str());
    }
    let url = expand_template(&channel.raw.ads_url, &vars);
    let fetcher = HttpVastFetcher {
        http,
        timeout: channel.ads_timeout(),
        user_agent: &session.user_agent,
        client_ip: &session.client_ip,
        allowed: &channel.ads_origins,
        metrics,
        config: &channel.name,
    };
    let start = std::time::Instant::now();
    let outcome = |reason: Option<&str>, capped: bool| {
        let outcome = if capped {
            "fan_out_capped"
        } else {
            decision_outcome(reason)
        };
        metrics.ads_decision(&channel.name, outcome, start.elapsed().as_secs_f64());
    };
    let failed = |reason: &str, capped: bool| {
        metrics.ad_decision_failed(&channel.name, reason);
        if reason != "ads_url_host" {
            outcome(Some(reason), capped);
        }
        Decision {
            ads: Vec::new(),
            avail_duration: avail.duration,
            failure: Some(reason.to_string()),
        }
    };
    if !channel.allows_ads_url(&url) {
        // Load-time checks keep player text out of the host; this one catches the
        // rest (a host alias the player did not send leaves the host empty).
        warn!(session_id = %session.id, reason = "ads_url_host", "Ad decision refused: the ADS URL's host is not one configuration allows.");
        return failed("ads_url_host", false);
    }
    metrics.ads_call(&channel.name);
    let limits = channel.raw.ad_limits.resolve_limits();
    // Whether the request cap dropped a wrapper: the outcome whatever came of the rest.
    let capped;
    let resolved = match tokio::time::timeout(
        channel.ads_timeout(),
        resolve_ads_capped(&fetcher, &url, limits),
    )
    .await
    {
        Err(_) => {
            warn!(session_id = %session.id, reason = "timeout", "Ad decision failed; serving slate or content.");
            return failed("timeout", false);
        }
        Ok((Err(e), capped)) => {
            warn!(session_id = %session.id, reason = e.reason(), error = %e, "Ad decision failed; serving slate or content.");
            if let ResolveError::Empty { error_urls } = &e {
                // VAST 303: no ads after the wrappers (or at all).
                report_error(http, session, error_urls, 303);
            }
            return failed(e.reason(), capped);
        }
        Ok((Ok(ads), c)) => {
            capped = c;
            ads
        }
    };
    let max_ads = channel.raw.ad_limits.max_ads_per_break;
    if resolved.len() > max_ads {
        // A VAST of 1,500 ads is not 1,500 transcodes and beacons: the first ones only.
        info!(session_id = %session.id, ads = resolved.len(), max_ads, "VAST has more ads than a break plays; the rest are dropped.");
        metrics.ads_skipped(&channel.name, "TOO_MANY_ADS", resolved.len() - max_ads);
    }
    let resolved = resolved.into_iter().take(max_ads);
    let mut playable = Vec::new();
    for ad in resolved {
        let hls = ad
            .media_files
            .iter()
            .find(|m| m.is_hls())
            .map(|m| m.url.clone());
        let dash = ad
            .media_files
            .iter()
            .find(|m| is_dash(m))
            .map(|m| m.url.clone());
        match (hls, dash) {
            (None, None) => match transcoded(transcoder, channel, session, &ad).await {
                // MP4 and mezzanine creatives: the stored renditions, when ready
                // (settled here, once, so every refresh of the break agrees).
                Ok(urls) => playable.push(decided(&ad, Some(urls.hls), Some(urls.dash))),
                Err(reason) => {
                    metrics.ads_skipped(&channel.name, reason, 1);
                    match reason {
                        transcode::NO_VARIANT_MATCH | transcode::TRANSCODE_FAILED => {
                            // VAST 403: no media file we can play.
                            report_error(http, session, &ad.errors, 403);
                        }
                        transcode::CREATIVE_REFUSED => {
                            // VAST 405: a MediaFile of a supported type that cannot
                            // be played (its bytes are not what MediaFile@type says).
                            report_error(http, session, &ad.errors, 405);
                        }
                        _ => {}
                    }
                    info!(session_id = %session.id, ad_id = ?ad.ad_id, reason, "Ad has no streaming rendition ready; skipped.");
                }
            },
            (media_url, dash_url) => playable.push(decided(&ad, media_url, dash_url)),
        }
    }
    let durations: Vec<f64> = playable.iter().map(|a| a.duration).collect();
    let kept = fit_pod(&durations, avail.duration);
    metrics.ads_skipped(
        &channel.name,
        "DURATION_EXCEEDED",
        playable.len() - kept.len(),
    );
    for (i, ad) in playable.iter().enumerate() {
        if !kept.contains(&i) {
            // VAST 202: the player expected a different duration.
            report_error(http, session, &ad.error_urls, 202);
        }
    }
    let ads: Vec<Arc<DecidedAd>> = kept
        .into_iter()
        .map(|i| intern_ad(playable[i].clone()))
        .collect();
    if ads.is_empty() {
        return failed("no_playable_ad", capped);
    }
    outcome(None, capped);
    Decision {
        ads,
        avail_duration: avail.duration,
        failure: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionId;

    #[test]
    fn outcomes_are_the_fixed_set() {
        assert_eq!(decision_outcome(None), "ok");
        assert_eq!(decision_outcome(Some("no_playable_ad")), "ok");
        assert_eq!(decision_outcome(Some("timeout")), "timeout");
        assert_eq!(decision_outcome(Some("fetch_timeout")), "timeout");
        assert_eq!(decision_outcome(Some("empty")), "empty");
        assert_eq!(decision_outcome(Some("parse")), "malformed");
        assert_eq!(decision_outcome(Some("fan_out")), "fan_out_capped");
        assert_eq!(decision_outcome(Some("fetch_status")), "error");
        assert_eq!(decision_outcome(Some("wrapper_loop")), "error");
    }

    #[test]
    fn vars_cover_session_player_and_avail() {
        let session = Session {
            id: SessionId::parse("0123456789abcdef0123456789abcdef").unwrap(),
            uuid: "u".into(),
            channel: "c".into(),
            player_params: [("pod".to_string(), "a b&c".to_string())].into(),
            user_agent: "UA/1".into(),
            client_ip: "10.0.0.1".into(),
            referer: "".into(),
            master_url: None,
            reporting: Default::default(),
            created_unix: 0,
            suppression: None,
            guided: false,
        };
        let vars = BTreeMap::from([("scte.cue".to_string(), "/DA=".to_string())]);
        let avail = Avail {
            duration: 29.97,
            index: 2,
            vars: &vars,
        };
        let v = ads_vars(&session, &avail, 42);
        let url = expand_template(
            "http://ads/v?d=[session.avail_duration_secs]&ms=[session.avail_duration_ms]&p=[player_params.pod]&i=[avail.index]&r=[avail.random]&c=[scte.cue]&ua=[session.user_agent]",
            &v,
        );
        assert_eq!(
            url,
            "http://ads/v?d=30&ms=29970&p=a%20b%26c&i=2&r=42&c=%2FDA%3D&ua=UA%2F1"
        );
    }
}
