use std::sync::Arc;

use super::*;
use crate::session::Beacon;

fn p(uri: &str, duration: f64) -> Playable {
    Playable {
        uri: uri.into(),
        duration,
    }
}

fn ad(id: &str, duration: f64) -> Arc<DecidedAd> {
    Arc::new(DecidedAd {
        ad_id: Some(id.into()),
        creative_id: Some(format!("c-{id}")),
        duration,
        media_url: Some(format!("http://ads.example/{id}/master.m3u8")),
        dash_url: None,
        universal_ad_id: None,
        file_url: None,
        mezzanine_url: None,
        impressions: vec![format!("http://t.example/imp?{id}")],
        error_urls: vec![],
        tracking: vec![
            Beacon {
                event: "start".into(),
                offset: None,
                url: format!("http://t.example/start?{id}"),
            },
            Beacon {
                event: "complete".into(),
                offset: None,
                url: format!("http://t.example/complete?{id}"),
            },
        ],
        click_through: None,
        click_tracking: vec![],
        ad_system: None,
        ad_title: None,
        companions: vec![],
        verifications: vec![],
    })
}

fn summary(assets: &[Asset]) -> Vec<(AssetKind, f64, f64)> {
    assets
        .iter()
        .map(|a| (a.kind, a.start, a.duration))
        .collect()
}

#[test]
fn live_break_ads_then_slate_up_to_the_avail() {
    let input = AssetInput {
        planned: 16.0,
        ads: vec![Some(p("a.m3u8", 10.0))],
        slate: Some(p("slate.m3u8", 2.0)),
        ..AssetInput::default()
    };
    let assets = plan_assets(&input);
    assert_eq!(
        summary(&assets),
        vec![
            (AssetKind::Ad(0), 0.0, 10.0),
            (AssetKind::Slate, 10.0, 2.0),
            (AssetKind::Slate, 12.0, 2.0),
            (AssetKind::Slate, 14.0, 2.0),
        ]
    );
}

#[test]
fn live_ads_that_do_not_end_within_the_avail_are_not_shown() {
    // As stitched: ads in order while they end within the avail; no later ad
    // jumps the queue. An ad without a rendition is skipped, keeping its number.
    let input = AssetInput {
        planned: 16.0,
        ads: vec![
            None,
            Some(p("a.m3u8", 10.0)),
            Some(p("b.m3u8", 10.0)),
            Some(p("c.m3u8", 5.0)),
        ],
        slate: Some(p("slate.m3u8", 2.0)),
        ..AssetInput::default()
    };
    let assets = plan_assets(&input);
    assert_eq!(
        summary(&assets),
        vec![
            (AssetKind::Ad(1), 0.0, 10.0),
            (AssetKind::Slate, 10.0, 2.0),
            (AssetKind::Slate, 12.0, 2.0),
            (AssetKind::Slate, 14.0, 2.0),
        ]
    );
}

#[test]
fn vod_pre_mid_post_fit_by_real_length_without_slate() {
    // The same pod at a pre-, mid- and post-roll: fitted like a stitched VOD
    // insertion (fit_pod: a later shorter ad may still fit), bumpers around.
    let input = AssetInput {
        planned: 16.0,
        insert: true,
        ads: vec![
            Some(p("a.m3u8", 10.0)),
            Some(p("b.m3u8", 10.0)),
            Some(p("c.m3u8", 5.0)),
        ],
        slate: Some(p("slate.m3u8", 2.0)),
        bumper_start: Some(p("in.m3u8", 1.0)),
        ..AssetInput::default()
    };
    let assets = plan_assets(&input);
    assert_eq!(
        summary(&assets),
        vec![
            (AssetKind::Bumper, 0.0, 1.0),
            (AssetKind::Ad(0), 1.0, 10.0),
            (AssetKind::Ad(2), 11.0, 5.0),
        ]
    );
    // No ad: no bumper, no slate.
    let empty = AssetInput {
        ads: vec![None],
        ..input
    };
    assert!(plan_assets(&empty).is_empty());
}

#[test]
fn threshold_and_suppression_leave_the_content() {
    let input = AssetInput {
        planned: 30.0,
        ads: vec![Some(p("a.m3u8", 10.0))],
        slate: Some(p("slate.m3u8", 2.0)),
        slate_threshold: Some(15.0),
        ..AssetInput::default()
    };
    assert_eq!(
        summary(&plan_assets(&input)),
        vec![(AssetKind::Ad(0), 0.0, 10.0)]
    );
    // Suppressed: no ads, no slate: an empty list (the player plays the content).
    let suppressed = AssetInput {
        planned: 30.0,
        ..AssetInput::default()
    };
    assert!(plan_assets(&suppressed).is_empty());
}

#[test]
fn live_join_mid_break_starts_inside_the_right_asset() {
    let input = AssetInput {
        planned: 16.0,
        ads: vec![Some(p("a.m3u8", 6.0)), Some(p("b.m3u8", 6.0))],
        slate: Some(p("slate.m3u8", 2.0)),
        ..AssetInput::default()
    };
    let assets = plan_assets(&input);
    assert_eq!(asset_at(&assets, 0.0), Some(0));
    assert_eq!(asset_at(&assets, 5.9), Some(0));
    assert_eq!(asset_at(&assets, 6.0), Some(1));
    assert_eq!(asset_at(&assets, 13.0), Some(2));
    assert_eq!(asset_at(&assets, 15.5), Some(3));
    assert_eq!(asset_at(&assets, 16.0), None);
    // The list keeps every asset: the player's offsets count from its start.
    let json = asset_list_json(&assets, &[ad("x", 6.0), ad("y", 6.0)]);
    assert_eq!(json["ASSETS"].as_array().unwrap().len(), 4);
}

#[test]
fn the_json_has_assets_and_creative_signaling() {
    let assets = plan_assets(&AssetInput {
        planned: 16.0,
        ads: vec![Some(p("http://ads.example/x/master.m3u8", 10.0))],
        slate: Some(p("http://o.example/slate.m3u8", 2.0)),
        ..AssetInput::default()
    });
    let json = asset_list_json(&assets, &[ad("x", 10.0)]);
    let list = json["ASSETS"].as_array().unwrap();
    assert_eq!(list[0]["URI"], "http://ads.example/x/master.m3u8");
    assert_eq!(list[0]["DURATION"], 10.0);
    assert_eq!(list[1]["URI"], "http://o.example/slate.m3u8");
    assert!(
        list[1].get("X-AD-CREATIVE-SIGNALING").is_none(),
        "slate is no ad"
    );
    let slot = &list[0]["X-AD-CREATIVE-SIGNALING"]["payload"][0];
    assert_eq!(slot["type"], "linear");
    assert_eq!(slot["identifiers"][0]["value"], "x");
    let tracking = slot["tracking"].as_array().unwrap();
    let kinds: Vec<&str> = tracking
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["impression", "start", "complete"]);
    assert_eq!(tracking[2]["offset"], 10.0);
    assert_eq!(tracking[2]["urls"][0], "http://t.example/complete?x");
    let pod = &json["X-AD-CREATIVE-SIGNALING"];
    assert_eq!(pod["type"], "pod");
    assert_eq!(pod["payload"].as_array().unwrap().len(), 1);
}
