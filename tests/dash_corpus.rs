//! Every MPD of the shared corpus (`$SPLICEPOINT_CORPUS/dash`) either rewrites
//! without losing anything or is refused with a clear reason.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use splicepoint::dash::xml::Node;
use splicepoint::dash::{
    find_breaks, parse, prepare_ad, splice_mpd, DashFill, Element, MpdContext,
};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("SPLICEPOINT_CORPUS")?).join("dash");
    dir.is_dir().then_some(dir)
}

/// The tree without what the rewrite is meant to change: whitespace, BaseURL,
/// Location, PatchLocation, publishTime.
fn essential(e: &Element) -> Element {
    let mut out = e.clone();
    out.children = e
        .children
        .iter()
        .filter_map(|n| match n {
            Node::Text(t) if t.trim().is_empty() => None,
            Node::Element(c)
                if matches!(c.local_name(), "BaseURL" | "Location" | "PatchLocation")
                    && e.local_name() == "MPD" =>
            {
                None
            }
            Node::Element(c) => Some(Node::Element(essential(c))),
            other => Some(other.clone()),
        })
        .collect();
    if e.local_name() == "MPD" {
        out.remove_attr("publishTime");
    }
    out
}

const AD: &str = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S"><Period id="0"><AdaptationSet contentType="video" mimeType="video/mp4"><SegmentTemplate timescale="1" duration="2" media="v/$Number$.m4s" initialization="v/init.mp4"/><Representation id="v" width="640" height="360" bandwidth="500000" codecs="avc1.4d401e"/></AdaptationSet><AdaptationSet contentType="audio" mimeType="audio/mp4"><SegmentTemplate timescale="1" duration="2" media="a/$Number$.m4s" initialization="a/init.mp4"/><Representation id="a" bandwidth="64000" codecs="mp4a.40.2"/></AdaptationSet></Period></MPD>"#;

#[test]
fn corpus_mpds_rewrite_losslessly_or_are_refused_with_a_reason() {
    let Some(dir) = corpus() else {
        eprintln!("corpus tests skipped: SPLICEPOINT_CORPUS not set");
        return;
    };
    let ad = Arc::new(
        prepare_ad(
            &parse(AD).unwrap(),
            &url::Url::parse("http://ads.example/a/m.mpd").unwrap(),
            None,
        )
        .unwrap(),
    );
    let ctx = MpdContext {
        content_base: "http://origin.example/x/".into(),
        location: Some("/v1/dash/c/s/x.mpd".into()),
        publish_time: Some("2026-01-01T00:00:00Z".into()),
    };
    let (mut rewritten, mut refused, mut with_breaks) = (0, Vec::new(), 0);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = match parse(&text) {
            Ok(d) if d.root.local_name() == "MPD" => d,
            Ok(d) => {
                refused.push(format!(
                    "{name}: root element is <{}>, not <MPD>",
                    d.root.name
                ));
                continue;
            }
            Err(e) => {
                refused.push(format!("{name}: {e}"));
                continue;
            }
        };
        let breaks = find_breaks(&doc);
        // Without ads: everything but BaseURL/Location/publishTime is unchanged.
        let plain = parse(&splice_mpd(&doc, &breaks, &HashMap::new(), &ctx).text).unwrap();
        assert_eq!(
            essential(&plain.root),
            essential(&doc.root),
            "{name}: lost or changed something"
        );
        // With ads: every element of the origin outside the Periods is intact, every
        // origin Period id is still there, and the output parses.
        if !breaks.is_empty() {
            with_breaks += 1;
            let fills: HashMap<String, DashFill> = breaks
                .iter()
                .map(|b| {
                    (
                        b.id.clone(),
                        DashFill {
                            ads: vec![ad.clone()],
                            planned: b.duration.unwrap_or(30.0),
                            ..Default::default()
                        },
                    )
                })
                .collect();
            let out = parse(&splice_mpd(&doc, &breaks, &fills, &ctx).text).unwrap();
            let outside = |e: &Element| -> Vec<Element> {
                essential(e)
                    .elements()
                    .filter(|c| c.local_name() != "Period")
                    .cloned()
                    .collect()
            };
            assert_eq!(outside(&out.root), outside(&doc.root), "{name}");
            let ids: Vec<String> = out
                .root
                .children_named("Period")
                .filter_map(|p| p.attr("id"))
                .collect();
            for p in doc
                .root
                .children_named("Period")
                .filter_map(|p| p.attr("id"))
            {
                assert!(
                    ids.iter()
                        .any(|i| i == &p || i.starts_with(&format!("{p}-"))),
                    "{name}: period {p} gone"
                );
            }
            assert!(
                ids.len() > doc.root.children_named("Period").count(),
                "{name}: no ad period"
            );
        }
        rewritten += 1;
    }
    eprintln!(
        "{rewritten} MPDs rewritten ({with_breaks} with breaks filled); refused: {refused:#?}"
    );
    assert!(rewritten >= 10);
    for r in &refused {
        assert!(
            r.contains("not <MPD>") || r.contains("XML error"),
            "unclear reason: {r}"
        );
    }
}
