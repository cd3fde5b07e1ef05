use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::config::{AvailSuppression, FillPolicy, PlaybackConfig, SuppressionMode};
use crate::hls::cue::find_breaks;
use crate::hls::model::parse_media;
use crate::session::store::{merge_records, Decision, ReportingMode, Session, Snapshot};
use crate::session::SessionId;
use crate::stitch::{AdRendition, AdSegment, BreakFill};

fn session(created_unix: u64) -> Arc<Session> {
    Arc::new(Session {
        id: SessionId::generate(),
        uuid: "u".into(),
        channel: "c".into(),
        player_params: BTreeMap::new(),
        user_agent: String::new(),
        client_ip: String::new(),
        referer: String::new(),
        master_url: None,
        reporting: ReportingMode::Server,
        created_unix,
        suppression: None,
        guided: false,
    })
}

fn snapshot() -> Snapshot {
    Snapshot {
        session: session(0),
        records: Vec::new(),
        decisions: HashMap::new(),
        values: BTreeMap::new(),
    }
}

/// What a store does with a request's changes (the memory store's rules).
fn store(snap: &mut Snapshot, changes: &Changes) {
    let forgotten = merge_records(
        &mut snap.records,
        changes.records.clone(),
        changes.forget_before,
    );
    if !forgotten.is_empty() {
        let n: usize = snap.values.get(FORGOTTEN).map_or(0, |v| v.parse().unwrap());
        snap.values
            .insert(FORGOTTEN.into(), (n + forgotten.len()).to_string());
        snap.decisions.retain(|b, _| !forgotten.contains(b));
        let prefixes: Vec<String> = forgotten
            .iter()
            .flat_map(|b| break_value_prefixes(b))
            .collect();
        snap.values
            .retain(|k, _| !prefixes.iter().any(|p| k.starts_with(p.as_str())));
    }
    for (k, v) in &changes.values {
        snap.values.insert(k.clone(), v.clone());
    }
    for (k, v) in &changes.once {
        snap.values.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

fn decision() -> Arc<Decision> {
    Arc::new(Decision {
        ads: Vec::new(),
        avail_duration: 30.0,
        failure: None,
    })
}

fn rendition(name: &str, count: usize, duration: f64) -> Arc<AdRendition> {
    Arc::new(AdRendition {
        segments: (0..count)
            .map(|i| AdSegment {
                uri: format!("https://ads.example/{name}/{i}.ts"),
                duration,
                extinf: format!("#EXTINF:{duration:.3},"),
                discontinuity: false,
                lines: vec![],
            })
            .collect(),
    })
}

/// Fills for every avail of a plan: one ad of `ad_secs` in 6 s segments, slate
/// of 6 s for the rest.
fn fills(plan: &HlsPlan, ad_secs: usize) -> HashMap<String, BreakFill> {
    plan.avails
        .iter()
        .map(|a| {
            (
                a.break_id.clone(),
                BreakFill {
                    ads: vec![rendition("ad", ad_secs / 6, 6.0)],
                    slate: Some(rendition("slate", 1, 6.0)),
                    planned: a.planned,
                    ..BreakFill::default()
                },
            )
        })
        .collect()
}

/// A live window `[last - window + 1, last]` of 6 s segments with breaks (start
/// msn, segments) announced as CUE-OUT / CONT / CUE-IN.
fn live(last: u64, window: u64, breaks: &[(u64, u64)]) -> String {
    let first = last.saturating_sub(window - 1);
    let mut s = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:{first}\n"
    );
    for k in first..=last {
        for &(start, len) in breaks {
            let d = len * 6;
            if k == start {
                s.push_str(&format!("#EXT-X-CUE-OUT:{d}\n"));
            } else if k > start && k < start + len {
                s.push_str(&format!("#EXT-X-CUE-OUT-CONT:Duration={d}\n"));
            } else if k == start + len {
                s.push_str("#EXT-X-CUE-IN\n");
            }
        }
        s.push_str(&format!("#EXTINF:6.000,\nhttp://o.example/seg{k}.ts\n"));
    }
    s
}

/// One request against the simulated store: plan (settling a claim as the
/// server does), every missing decision made, write, store.
fn request(text: &str, snap: &mut Snapshot, config: &PlaybackConfig, now: u64) -> Written {
    request_with(text, snap, config, now, true)
}

/// [`request`], storing everything but never forgetting a break: what the
/// session would hold without [`forget_before`].
fn request_keeping_all(text: &str, snap: &mut Snapshot, config: &PlaybackConfig) -> Written {
    let mut kept = snap.clone();
    let out = request(text, &mut kept, config, 0);
    let mut changes = out.changes.clone();
    changes.forget_before = None;
    store(snap, &changes);
    snap.decisions = kept.decisions;
    out
}

/// [`request`], with slate or without.
fn request_with(
    text: &str,
    snap: &mut Snapshot,
    config: &PlaybackConfig,
    now: u64,
    slate: bool,
) -> Written {
    let pl = parse_media(text).unwrap();
    let breaks = find_breaks(&pl);
    let mut plan = plan_hls(&pl, &breaks, snap, config, now);
    if let Some((k, v)) = plan.claim.take() {
        snap.values.entry(k).or_insert(v);
        plan = plan_hls(&pl, &breaks, snap, config, now);
    }
    for a in &mut plan.avails {
        if !matches!(a.need, Need::Decided(_)) {
            let d = snap
                .decisions
                .entry(a.break_id.clone())
                .or_insert_with(decision)
                .clone();
            a.need = Need::Decided(d);
        }
    }
    let mut fills = fills(&plan, 12);
    if !slate {
        fills.values_mut().for_each(|f| f.slate = None);
    }
    let out = write_hls(&plan, &pl, snap, &fills, None);
    store(snap, &out.changes);
    out
}

/// (msn, uri, duration) of every segment of a written playlist.
fn published(text: &str) -> Vec<(u64, String, String)> {
    let pl = parse_media(text).unwrap();
    pl.segments
        .iter()
        .map(|s| (s.msn, s.uri.clone(), format!("{:.3}", s.duration)))
        .collect()
}

/// A break longer than its ads, without slate, shows its content after them
/// ("filler"). The store keeps a record's first JSON as written, so the filler's
/// start, seen after the record was created, is kept beside it as a value; the
/// fillers keep their numbers once the CUE-OUT slid out of a short window.
#[test]
fn filler_start_is_kept_beside_the_record() {
    let config = PlaybackConfig::default();
    let mut snap = snapshot();
    let breaks = [(110, 8)];
    let mut seen: HashMap<u64, String> = HashMap::new();
    let mut stored = Vec::new();
    for last in 105..125 {
        let out = request_with(&live(last, 3, &breaks), &mut snap, &config, 0, false);
        stored.extend(
            out.changes
                .once
                .iter()
                .filter(|(k, _)| k.starts_with(FILLER))
                .cloned(),
        );
        for (msn, uri, _) in published(&out.text) {
            if let Some(old) = seen.insert(msn, uri.clone()) {
                assert_eq!(old, uri, "msn {msn} renamed at {last}\n{}", out.text);
            }
        }
    }
    // Ad (12 s) over seg110 and seg111; fillers from seg112 (the first the ad
    // leaves uncovered), numbered after the ad's two segments.
    assert_eq!(stored, [(filler_key("msn-110"), "112 0".to_string())]);
    let by_uri: HashMap<&str, u64> = seen.iter().map(|(m, u)| (u.as_str(), *m)).collect();
    let ad0 = by_uri["https://ads.example/ad/0.ts"];
    assert_eq!(by_uri["http://o.example/seg112.ts"], ad0 + 2);
    assert_eq!(by_uri["http://o.example/seg117.ts"], ad0 + 7);
    assert_eq!(by_uri["http://o.example/seg118.ts"], ad0 + 8);
    assert!(!by_uri.contains_key("http://o.example/seg110.ts"));
    // The record as the store keeps it has no filler; the value stands in.
    assert!(snap.records.iter().all(|r| r.filler.is_none()));
}

#[test]
fn vod_without_markers_gets_one_pre_roll() {
    let pl = parse_media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\na.ts\n#EXTINF:6.0,\nb.ts\n#EXT-X-ENDLIST\n",
    )
    .unwrap();
    let config = PlaybackConfig {
        vod_avail_duration_secs: 15.0,
        ..PlaybackConfig::default()
    };
    let plan = plan_hls(&pl, &[], &snapshot(), &config, 0);
    assert_eq!(plan.breaks.len(), 1);
    assert!(plan.breaks[0].insert);
    assert_eq!(plan.avails.len(), 1);
    assert_eq!(plan.avails[0].break_id, "preroll");
    assert_eq!(plan.avails[0].planned, 15.0);
    assert_eq!(plan.avails[0].need, Need::Ask);
    assert!(plan.claim.is_none());

    let mut snap = snapshot();
    snap.decisions.insert("preroll".into(), decision());
    let plan = plan_hls(&pl, &[], &snap, &config, 0);
    assert!(matches!(plan.avails[0].need, Need::Decided(_)));
}

#[test]
fn suppression_behind_the_live_edge() {
    // A break starting 8 segments (48 s) behind the edge, still running.
    let text = live(109, 10, &[(102, 20)]);
    let pl = parse_media(&text).unwrap();
    let breaks = find_breaks(&pl);
    let mut config = PlaybackConfig {
        avail_suppression: AvailSuppression {
            mode: SuppressionMode::BehindLiveEdge,
            value_secs: 30.0,
            fill_policy: FillPolicy::FullAvailOnly,
        },
        ..PlaybackConfig::default()
    };
    let plan = plan_hls(&pl, &breaks, &snapshot(), &config, 0);
    assert_eq!(plan.avails[0].need, Need::Suppress);
    // 60 s allowed: asked.
    config.avail_suppression.value_secs = 60.0;
    let plan = plan_hls(&pl, &breaks, &snapshot(), &config, 0);
    assert_eq!(plan.avails[0].need, Need::Ask);
    // Partial avail: a running break is filled whatever its start.
    config.avail_suppression.value_secs = 30.0;
    config.avail_suppression.fill_policy = FillPolicy::PartialAvail;
    let plan = plan_hls(&pl, &breaks, &snapshot(), &config, 0);
    assert_eq!(plan.avails[0].need, Need::Ask);
    // A decision stands whatever the rule.
    config.avail_suppression.fill_policy = FillPolicy::FullAvailOnly;
    let mut snap = snapshot();
    snap.decisions
        .insert(plan.avails[0].break_id.clone(), decision());
    let plan = plan_hls(&pl, &breaks, &snap, &config, 0);
    assert!(matches!(plan.avails[0].need, Need::Decided(_)));
}

#[test]
fn suppression_after_the_live_edge_uses_the_clock_passed_in() {
    let text = live(109, 10, &[(106, 5)]);
    let pl = parse_media(&text).unwrap();
    let breaks = find_breaks(&pl);
    let config = PlaybackConfig {
        avail_suppression: AvailSuppression {
            mode: SuppressionMode::AfterLiveEdge,
            value_secs: 60.0,
            fill_policy: FillPolicy::FullAvailOnly,
        },
        ..PlaybackConfig::default()
    };
    let snap = Snapshot {
        session: session(1_000),
        ..snapshot()
    };
    let plan = plan_hls(&pl, &breaks, &snap, &config, 1_030);
    assert_eq!(plan.avails[0].need, Need::Suppress);
    let plan = plan_hls(&pl, &breaks, &snap, &config, 1_061);
    assert_eq!(plan.avails[0].need, Need::Ask);
}

#[test]
fn live_pre_roll_is_claimed_then_placed_where_the_session_joined() {
    let config = PlaybackConfig {
        live_preroll_ads_url: Some("http://ads.example/pre".into()),
        live_preroll_max_duration_secs: 12.0,
        ..PlaybackConfig::default()
    };
    let text = live(109, 10, &[]);
    let pl = parse_media(&text).unwrap();
    let mut snap = snapshot();
    let plan = plan_hls(&pl, &[], &snap, &config, 0);
    // First request: the join point (three segments from the edge) to store.
    assert_eq!(
        plan.claim,
        Some((HLS_PREROLL_AT.to_string(), "107".to_string()))
    );
    assert!(plan.avails.is_empty());
    snap.values.insert(HLS_PREROLL_AT.into(), "107".into());
    let plan = plan_hls(&pl, &[], &snap, &config, 0);
    assert!(plan.claim.is_none());
    assert_eq!(plan.breaks[0].id, LIVE_PREROLL);
    assert_eq!(plan.breaks[0].start, BreakStart::At(7));
    assert_eq!(plan.avails[0].break_id, LIVE_PREROLL);
    assert_eq!(plan.avails[0].planned, 12.0);
    // A signalled break it overlaps plays as content: only the pre-roll.
    let text = live(109, 10, &[(108, 4)]);
    let pl = parse_media(&text).unwrap();
    let plan = plan_hls(&pl, &find_breaks(&pl), &snap, &config, 0);
    assert_eq!(plan.avails.len(), 1);
    assert_eq!(plan.avails[0].break_id, LIVE_PREROLL);
}

#[test]
fn a_steady_state_refresh_writes_nothing() {
    let config = PlaybackConfig::default();
    let mut snap = snapshot();
    let text = live(109, 10, &[(104, 5)]);
    let first = request(&text, &mut snap, &config, 0);
    assert!(!first.changes.records.is_empty());
    assert!(first.changes.values.iter().any(|(k, _)| k == TIMELINE));
    assert_eq!(first.changes.once.len(), 1, "{:?}", first.changes);
    assert!(first.changes.once[0].0.starts_with(AD_START));
    let again = request(&text, &mut snap, &config, 0);
    assert_eq!(again.text, first.text);
    assert!(again.changes.is_empty(), "{:?}", again.changes);
}

#[test]
fn the_timeline_anchor_moves_only_when_it_would_leave_the_window() {
    let config = PlaybackConfig::default();
    let mut snap = snapshot();
    let mut writes = 0;
    for last in 109..149 {
        let out = request(&live(last, 10, &[]), &mut snap, &config, 0);
        writes += out.changes.values.len();
        // Positions stay exact: the anchor is always in the window.
        let (m, p) = snap.values[TIMELINE].split_once(':').unwrap();
        let m: u64 = m.parse().unwrap();
        assert!(m + 10 > last, "anchor {m} left the window at {last}");
        assert_eq!(p.parse::<f64>().unwrap(), (m - 100) as f64 * 6.0);
    }
    // One write per five refreshes of a 10-segment window, not one per refresh.
    assert_eq!(writes, 8);
}

#[test]
fn ad_starts_are_written_once_at_their_timeline_position() {
    let config = PlaybackConfig::default();
    let mut snap = snapshot();
    for last in 109..125 {
        request(&live(last, 10, &[(112, 4)]), &mut snap, &config, 0);
    }
    let starts: Vec<_> = snap
        .values
        .iter()
        .filter(|(k, _)| k.starts_with(AD_START))
        .collect();
    assert_eq!(starts.len(), 1);
    // The break starts at msn 112, 72 s after the first segment served (100).
    assert_eq!(starts[0].1, "72.000");
}

/// A decided ad with (or without) a DASH rendition.
fn dash_decided(dash_url: Option<&str>) -> Arc<crate::session::store::DecidedAd> {
    Arc::new(
        serde_json::from_value(serde_json::json!({
            "ad_id": null, "creative_id": null, "duration": 10.0,
            "media_url": null, "dash_url": dash_url,
        }))
        .unwrap(),
    )
}

fn dash_ad(base: &str) -> Arc<DashAd> {
    let period = crate::dash::parse(
        r#"<Period><AdaptationSet contentType="video"><SegmentTemplate timescale="1" duration="2" media="$Number$.m4s"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>"#,
    )
    .unwrap()
    .root;
    Arc::new(DashAd {
        period: Arc::new(period),
        base_url: base.into(),
        duration: 10.0,
    })
}

/// A live DASH session forgets a decided break once it left the MPD and its
/// ads started more than twice the time-shift buffer behind the live edge; not
/// while the MPD shows it, not a break nothing dates, not without a bounded
/// time-shift buffer.
#[test]
fn dash_forgets_breaks_twice_the_time_shift_buffer_behind_the_edge() {
    let mpd = |tsbd: &str| {
        crate::dash::xml::parse(&format!(
            r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="1970-01-01T00:00:00Z" {tsbd}><Period id="p" start="PT0S"/></MPD>"#
        ))
        .unwrap()
    };
    let mut snap = snapshot();
    for id in ["old", "shown", "undated", "recent"] {
        snap.decisions.insert(id.into(), decision());
    }
    snap.values.insert(ad_start_key("old", 0), "100.000".into());
    snap.values.insert(ad_start_key("old", 1), "115.000".into());
    snap.values
        .insert(ad_start_key("shown", 0), "100.000".into());
    snap.values
        .insert(ad_start_key("recent", 0), "150.000".into());
    let shown = DashBreak {
        id: "shown".into(),
        period: 0,
        at: 100.0,
        duration: Some(30.0),
        scheme: "x".into(),
        vars: BTreeMap::new(),
    };
    let doc = mpd(r#"timeShiftBufferDepth="PT30S""#);
    // Live edge 180 s: the horizon is 120 s; "old"'s second ad started at 115.
    let shown = [shown];
    assert_eq!(dash_forget(&doc, &shown, &snap, 180.0), ["old"]);
    assert!(dash_forget(&doc, &shown, &snap, 170.0).is_empty());
    assert!(dash_forget(&mpd(""), &shown, &snap, 1_000.0).is_empty());
}

/// The decision's ads keep their numbers when one of them has no DASH rendition
/// (ad ids, ad starts and server-side beacons name the decision's ad), a
/// suppressed break gets no slate, and in server-side reporting the segments go
/// through `/v1/segment` under the ad's number.
#[test]
fn dash_fills_keep_each_ads_number_in_its_decision() {
    let plan = DashPlan {
        breaks: Vec::new(),
        forget: Vec::new(),
        avails: ["b1", "b2"]
            .iter()
            .map(|id| PlannedAvail {
                break_id: id.to_string(),
                planned: 30.0,
                index: 1,
                vars: BTreeMap::new(),
                need: Need::Decided(Arc::new(Decision {
                    ads: vec![
                        dash_decided(Some("http://ads/a.mpd")),
                        dash_decided(None),
                        dash_decided(Some("http://ads/c.mpd")),
                    ],
                    avail_duration: 30.0,
                    failure: (*id == "b2").then(|| SUPPRESSED.to_string()),
                })),
            })
            .collect(),
        claim: None,
    };
    let config = PlaybackConfig::default();
    let slate = Some("http://ads/slate.mpd");
    let urls = dash_ad_urls(&plan, &config, slate);
    assert_eq!(
        urls,
        [
            "http://ads/a.mpd",
            "http://ads/c.mpd",
            "http://ads/slate.mpd"
        ]
    );
    let ads: DashAds = urls
        .iter()
        .map(|u| (*u, Some(dash_ad(&format!("{u}/")))))
        .collect();
    let snap = snapshot();
    let (fills, filled, skipped) = dash_fills(&plan, &ads, &config, slate, &snap.session);
    assert_eq!((filled, skipped), (4, 2));
    let b1 = &fills["b1"];
    assert_eq!(b1.numbers, [0, 2]);
    assert!(b1.slate.is_some());
    assert!(
        fills["b2"].slate.is_none(),
        "a suppressed break gets no slate"
    );
    let base = &b1.ads[1].base_url;
    assert!(
        base.starts_with(&format!(
            "/v1/segment/{}/{}/2/d/5/",
            snap.session.id,
            hex(b"b1")
        )),
        "{base}"
    );
}

/// A live session through twelve breaks holds the state of the last ones
/// only, and the breaks keep counting: the twelfth has index 12.
#[test]
fn a_long_live_session_forgets_breaks_a_window_after_they_ended() {
    let config = PlaybackConfig::default();
    let mut snap = snapshot();
    let breaks: Vec<(u64, u64)> = (0..12).map(|k| (110 + 10 * k, 3)).collect();
    let mut max_records = 0;
    let mut last_index = 0;
    for last in 105..240 {
        let text = live(last, 5, &breaks);
        let pl = parse_media(&text).unwrap();
        let plan = plan_hls(&pl, &find_breaks(&pl), &snap, &config, 0);
        if let Some(a) = plan.avails.last() {
            last_index = last_index.max(a.index);
        }
        request(&text, &mut snap, &config, 0);
        max_records = max_records.max(snap.records.len());
        assert!(
            snap.decisions.len() <= 3,
            "{last}: {:?}",
            snap.decisions.keys()
        );
    }
    assert!(max_records <= 3, "{max_records} records held");
    assert_eq!(last_index, 12);
    assert_eq!(snap.values.get(FORGOTTEN).map(String::as_str), Some("11"));
    let held: Vec<_> = snap
        .values
        .keys()
        .filter(|k| k.starts_with(AD_START))
        .collect();
    assert!(held.len() <= 6, "{held:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Over a live stream's refreshes, the plan against its own stored state
    /// keeps DESIGN.md's rules: the media sequence never goes back, a published
    /// number keeps its URI and duration, and a repeated refresh gives the
    /// same text and writes nothing.
    #[test]
    fn live_refreshes_keep_the_continuity_rules(
        window in 4u64..12,
        gaps in proptest::collection::vec((2u64..15, 1u64..8), 1..4),
        steps in proptest::collection::vec(1u64..3, 10..40),
    ) {
        let mut breaks = Vec::new();
        let mut at = 100 + window;
        for (gap, len) in gaps {
            at += gap;
            breaks.push((at, len));
            at += len;
        }
        let config = PlaybackConfig::default();
        let mut snap = snapshot();
        let mut all = snapshot();
        let mut seen: HashMap<u64, (String, String)> = HashMap::new();
        let mut last_first = 0;
        let mut last = 100 + window - 1;
        for step in steps {
            last += step;
            let text = live(last, window, &breaks);
            let out = request(&text, &mut snap, &config, 0);
            // Forgetting old breaks changes nothing that is written.
            let kept = request_keeping_all(&text, &mut all, &config);
            prop_assert_eq!(&kept.text, &out.text);
            let segs = published(&out.text);
            prop_assert!(segs[0].0 >= last_first, "media sequence went back");
            last_first = segs[0].0;
            for (msn, uri, d) in segs {
                if let Some(old) = seen.insert(msn, (uri.clone(), d.clone())) {
                    prop_assert_eq!(old, (uri, d), "msn {} changed", msn);
                }
            }
            let again = request(&text, &mut snap, &config, 0);
            prop_assert_eq!(&again.text, &out.text);
            prop_assert!(again.changes.is_empty(), "{:?}", again.changes);
        }
    }
}

/// An encoder restart: the origin numbers from 0 again while the session holds
/// an anchor and a break record near 1,000. An instance's copy a few segments
/// older is not a restart.
#[test]
fn a_live_origin_that_numbers_from_zero_again_is_seen() {
    let config = PlaybackConfig::default();
    let mut snap = snapshot();
    for last in 1_000..1_012 {
        let text = live(last, 10, &[(1_004, 3)]);
        let pl = parse_media(&text).unwrap();
        assert_eq!(sequence_went_back(&pl, &snap), None, "at {last}");
        request(&text, &mut snap, &config, 0);
    }
    assert!(!snap.records.is_empty());
    // Ten segments behind the newest the session saw: an older copy, fine.
    let older = parse_media(&live(1_001, 10, &[])).unwrap();
    assert_eq!(sequence_went_back(&older, &snap), None);
    // Numbered from 0 again.
    let restarted = parse_media(&live(9, 10, &[])).unwrap();
    let (known, last) = sequence_went_back(&restarted, &snap).unwrap();
    assert!(known >= 1_004, "{known}");
    assert_eq!(last, 9);
    // A VOD playlist, or a session with no state yet, is never refused.
    assert_eq!(sequence_went_back(&restarted, &snapshot()), None);
    let vod = parse_media(&format!("{}#EXT-X-ENDLIST\n", live(9, 10, &[]))).unwrap();
    assert_eq!(sequence_went_back(&vod, &snap), None);
}
