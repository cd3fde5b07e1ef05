//! The playback configurations shipped with the deploy files load, and describe
//! the demo's channels behind a CDN.

use std::path::Path;

use splicepoint::config::load_dir;

#[test]
fn deploy_ad_templates_are_the_demo_channels_behind_the_cdn() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/ad-templates");
    let channels = load_dir(&dir).unwrap();
    let names: Vec<&str> = channels.keys().map(String::as_str).collect();
    assert_eq!(names, ["demo-live", "demo-live-preroll", "demo-vod"]);
    for c in channels.values() {
        assert_eq!(c.origin.as_str(), "http://origin:8081/demo/origin/");
        assert_eq!(
            c.raw.content_segment_prefix.as_deref(),
            Some("http://localhost:8080/demo/origin/"),
            "{}: players get content through the CDN",
            c.name
        );
        assert_eq!(
            c.raw.ad_segment_prefix.as_deref(),
            Some("http://localhost:8080/"),
            "{}",
            c.name
        );
    }
    assert!(channels["demo-live-preroll"]
        .raw
        .live_preroll_ads_url
        .is_some());
    assert!(channels["demo-live"].raw.live_preroll_ads_url.is_none());
}

#[test]
fn the_k8s_example_configuration_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s/ad-templates");
    let channels = load_dir(&dir).unwrap();
    assert_eq!(channels.keys().collect::<Vec<_>>(), ["example"]);
}
