//! VAST parser and wrapper resolver against the shared corpus of real-world samples
//! (IAB Tech Lab VAST_Samples, dailymotion/vast-client-js). The corpus is not in the repo:
//! set `SPLICEPOINT_CORPUS` to its directory (holding `vast/` and `vmap/`), e.g.
//! `SPLICEPOINT_CORPUS=/work/shared/corpus cargo test --test vast_corpus`. Without it the
//! tests pass after printing a skip note.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use splicepoint::ads::{resolve_ads, FetchError, ResolveError, ResolvedAd, VastFetcher};
use splicepoint::vast::{
    parse_vast, Ad, AdBody, Companion, Creative, InLine, Linear, Vast, VastError, Verification,
    Wrapper,
};

const CORPUS_ENV: &str = "SPLICEPOINT_CORPUS";

/// The corpus directory, or `None` (after printing the skip note) when not configured.
fn corpus() -> Option<PathBuf> {
    match std::env::var_os(CORPUS_ENV).map(PathBuf::from) {
        Some(dir) if dir.join("vast").is_dir() => Some(dir),
        _ => {
            eprintln!("corpus tests skipped: {CORPUS_ENV} not set");
            None
        }
    }
}

/// `(file name, contents)` of every `*.xml` in `dir`, sorted by name.
fn xml_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "xml"))
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            (name, text)
        })
        .collect();
    files.sort();
    files
}

fn inline(ad: &Ad) -> &InLine {
    match &ad.body {
        AdBody::InLine(inline) => inline,
        AdBody::Wrapper(_) => panic!("ad {:?}: expected InLine, got Wrapper", ad.id),
    }
}

fn wrapper(ad: &Ad) -> &Wrapper {
    match &ad.body {
        AdBody::Wrapper(wrapper) => wrapper,
        AdBody::InLine(_) => panic!("ad {:?}: expected Wrapper, got InLine", ad.id),
    }
}

/// The first linear creative of an inline ad.
fn linear(ad: &Ad) -> &Linear {
    inline(ad)
        .creatives
        .iter()
        .find_map(|c| c.linear.as_ref())
        .unwrap_or_else(|| panic!("ad {:?}: no linear creative", ad.id))
}

/// The creatives and verifications of an ad, inline or wrapper.
fn parts(ad: &Ad) -> (&[Creative], &[Verification]) {
    match &ad.body {
        AdBody::InLine(i) => (&i.creatives, &i.verifications),
        AdBody::Wrapper(w) => (&w.creatives, &w.verifications),
    }
}

/// Every companion of every creative of every ad, in document order.
fn companions(vast: &Vast) -> Vec<&Companion> {
    vast.ads
        .iter()
        .flat_map(|ad| parts(ad).0)
        .flat_map(|c| &c.companions)
        .collect()
}

/// Every verification of every ad, in document order.
fn verifications(vast: &Vast) -> Vec<&Verification> {
    vast.ads.iter().flat_map(|ad| parts(ad).1).collect()
}

/// How many times an element starts in the raw text (`<Name `, `<Name>` or `<Name/`).
fn count_start_tags(xml: &str, name: &str) -> usize {
    let open = format!("<{name}");
    xml.match_indices(&open)
        .filter(|(at, _)| {
            xml[at + open.len()..]
                .starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        })
        .count()
}

/// An inline ad with a linear creative, a positive duration and at least one media file.
fn assert_playable(name: &str, ad: &Ad, duration: f64, media_files: usize) {
    let linear = linear(ad);
    assert_eq!(linear.duration, Some(duration), "{name}: duration");
    assert_eq!(linear.media_files.len(), media_files, "{name}: media files");
    assert!(duration > 0.0, "{name}");
}

/// Every URL the model holds is trimmed and non-empty; every wrapper has a tag URI.
fn assert_clean_urls(name: &str, vast: &Vast) {
    let mut urls: Vec<&str> = vast.errors.iter().map(String::as_str).collect();
    for ad in &vast.ads {
        let (impressions, errors, creatives) = match &ad.body {
            AdBody::InLine(i) => (&i.impressions, &i.errors, &i.creatives),
            AdBody::Wrapper(w) => {
                urls.push(&w.ad_tag_uri);
                (&w.impressions, &w.errors, &w.creatives)
            }
        };
        urls.extend(impressions.iter().chain(errors).map(String::as_str));
        for linear in creatives.iter().filter_map(|c| c.linear.as_ref()) {
            urls.extend(linear.media_files.iter().map(|m| m.url.as_str()));
            urls.extend(linear.mezzanines.iter().map(String::as_str));
            urls.extend(linear.tracking.iter().map(|t| t.url.as_str()));
            urls.extend(linear.click_tracking.iter().map(String::as_str));
            urls.extend(linear.click_through.as_deref());
        }
    }
    for companion in companions(vast) {
        urls.extend(companion.static_resources.iter().map(|r| r.url.as_str()));
        urls.extend(companion.iframe_resources.iter().map(String::as_str));
        urls.extend(companion.tracking.iter().map(|t| t.url.as_str()));
        urls.extend(companion.click_tracking.iter().map(String::as_str));
        urls.extend(companion.click_through.as_deref());
    }
    for verification in verifications(vast) {
        urls.extend(
            verification
                .javascript_resources
                .iter()
                .map(|r| r.url.as_str()),
        );
        urls.extend(
            verification
                .executable_resources
                .iter()
                .map(|r| r.url.as_str()),
        );
        urls.extend(verification.tracking.iter().map(|t| t.url.as_str()));
    }
    for url in urls {
        assert!(!url.is_empty(), "{name}: empty URL");
        assert_eq!(url, url.trim(), "{name}: untrimmed URL");
    }
}

/// What each corpus file is known to show (see the corpus SOURCES.md).
fn check_file(name: &str, vast: &Vast) {
    let ads = &vast.ads;
    let version = vast.version.as_deref();
    match name {
        "iab_vast1-2.0_Inline_LinearRegular_VAST2.0.xml" => {
            assert_eq!(version, Some("2.0"));
            assert_eq!(ads.len(), 1);
            assert_playable(name, &ads[0], 30.0, 1);
            assert_eq!(inline(&ads[0]).impressions.len(), 1);
            assert!(inline(&ads[0]).impressions[0].starts_with("http://b.scorecardresearch.com/"));
            assert_eq!(
                linear(&ads[0]).click_through.as_deref(),
                Some("http://www.target.com")
            );
        }
        "iab_vast1-2.0_tremor_vast_wrapper_linear_1.xml" => {
            let w = wrapper(&ads[0]);
            assert_eq!(
                w.ad_tag_uri,
                "http://demo.tremormedia.com/proddev/vast/vast_inline_linear.xml"
            );
            let tracking: usize = w
                .creatives
                .iter()
                .filter_map(|c| c.linear.as_ref())
                .map(|l| l.tracking.len())
                .sum();
            assert_eq!(tracking, 11);
            assert_eq!(w.creatives[0].ad_id.as_deref(), Some("602833"));
        }
        "iab_vast1-2.0_vast1RegularLinear.xml" => {
            // VAST 1.0: <VideoAdServingTemplate>, <Video>, <URL> children.
            assert_eq!(version, None);
            assert_playable(name, &ads[0], 15.0, 1);
            assert_eq!(inline(&ads[0]).impressions.len(), 7);
            assert_eq!(linear(&ads[0]).tracking.len(), 8);
            assert_eq!(
                linear(&ads[0]).click_through.as_deref(),
                Some("http://www.calphalon.com")
            );
        }
        "iab_vast3.0_Event_Tracking-test.xml" => {
            assert_playable(name, &ads[0], 16.0, 1);
            let progress = linear(&ads[0])
                .tracking
                .iter()
                .find(|t| t.event == "progress")
                .expect("progress event");
            assert_eq!(progress.offset.as_deref(), Some("00:00:10"));
            assert_eq!(linear(&ads[0]).media_files[0].bitrate, Some(500));
        }
        "iab_vast3.0_Inline_Linear_Tag-test.xml" | "vastclientjs_inline-linear.xml" => {
            assert_playable(name, &ads[0], 16.0, 1);
            assert_eq!(linear(&ads[0]).click_tracking, ["https://iabtechlab.com"]);
            assert_eq!(linear(&ads[0]).click_through, None);
        }
        "iab_vast3.0_Wrapper_Tag-test.xml"
        | "iab_vast4.0_Wrapper_Tag-test.xml"
        | "iab_vast4.2_Wrapper_Tag-test.xml" => {
            let w = wrapper(&ads[0]);
            assert!(
                w.ad_tag_uri
                    .starts_with("https://raw.githubusercontent.com/InteractiveAdvertisingBureau/")
                    && w.ad_tag_uri.ends_with("/Inline_Companion_Tag-test.xml"),
                "{name}: {}",
                w.ad_tag_uri
            );
            if version != Some("3.0") {
                assert!(
                    !w.follow_additional_wrappers,
                    "{name}: followAdditionalWrappers=\"0\""
                );
                assert!(w.allow_multiple_ads, "{name}: allowMultipleAds=\"1\"");
                assert!(!w.fallback_on_no_ad, "{name}");
            }
        }
        "iab_vast4.0_Inline_Simple.xml" => {
            assert_playable(name, &ads[0], 16.0, 3);
            assert_eq!(ads[0].sequence, Some(1));
            let creative = &inline(&ads[0]).creatives[0];
            assert_eq!(creative.universal_ad_id.as_deref(), Some("Ad-ID:8465"));
            assert_eq!(creative.ad_id.as_deref(), Some("2447226"));
            let bitrates: Vec<_> = linear(&ads[0])
                .media_files
                .iter()
                .map(|m| m.bitrate)
                .collect();
            assert_eq!(bitrates, [Some(2000), Some(1000), Some(600)]);
        }
        "iab_vast4.0_SSAI_stitching_mezzanine_file_support-test.xml" => {
            assert_playable(name, &ads[0], 16.0, 3);
            assert_eq!(linear(&ads[0]).mezzanines.len(), 1);
            // Text value (4.1 style) wins over the idValue attribute (8465).
            assert_eq!(
                inline(&ads[0]).creatives[0].universal_ad_id.as_deref(),
                Some("Ad-ID:1234")
            );
        }
        "iab_vast4.1_Closed_Caption_Test.xml"
        | "iab_vast4.1_Conditional_Ad-test.xml"
        | "iab_vast4.1_Inline_Simple.xml"
        | "iab_vast4.2_Ad_Verification-test.xml"
        | "iab_vast4.2_IconClickFallbacks.xml"
        | "iab_vast4.2_Inline_Simple.xml" => {
            // Closed captions, icons, verification and a trailing UniversalAdId must not
            // disturb the linear creative.
            assert_playable(name, &ads[0], 16.0, 3);
            assert!(linear(&ads[0])
                .media_files
                .iter()
                .all(|m| m.url.ends_with(".mp4")));
            assert_eq!(
                inline(&ads[0]).creatives[0].universal_ad_id.as_deref(),
                Some("Ad-ID:8465")
            );
        }
        "vastclientjs_empty-no-ad.xml" => {
            assert!(ads.is_empty());
            assert_eq!(vast.errors, ["http://example.com/empty-no-ad"]);
        }
        "vastclientjs_empty-no-creative.xml" => {
            assert_eq!(ads.len(), 1);
            assert!(inline(&ads[0]).creatives.is_empty());
            assert_eq!(inline(&ads[0]).errors.len(), 1);
        }
        "vastclientjs_sample.xml" => {
            assert_eq!(ads.len(), 2);
            assert_eq!(ads[0].sequence, Some(1));
            assert_eq!(ads[1].sequence, None);
            let first = linear(&ads[0]);
            assert_eq!(first.duration, Some(90.123));
            assert_eq!(first.media_files.len(), 2);
            assert!(first.media_files[1].is_interactive(), "VPAID media file");
            assert_eq!(
                first.mezzanines,
                ["http://example.com/linear-mezzanine.mp4"]
            );
            assert_eq!(inline(&ads[0]).creatives.len(), 3);
            assert_eq!(
                inline(&ads[0]).creatives[0].universal_ad_id.as_deref(),
                Some("daily-motion-L1:Linear-12345")
            );
            assert_eq!(inline(&ads[0]).impressions.len(), 3);
            // Duration "30" (bare seconds) is accepted; the only media file is VPAID.
            assert_eq!(linear(&ads[1]).duration, Some(30.0));
            assert!(linear(&ads[1])
                .media_files
                .iter()
                .all(|m| m.is_interactive()));
            assert_eq!(
                inline(&ads[1]).creatives[0].ad_id.as_deref(),
                Some("adId221144")
            );
        }
        "vastclientjs_vpaid.xml" => {
            assert_eq!(ads.len(), 1);
            assert!(
                inline(&ads[0]).impressions.is_empty(),
                "empty <Impression> dropped"
            );
            let l = linear(&ads[0]);
            assert_eq!(l.duration, None);
            assert!(l.media_files.iter().all(|m| m.is_interactive()));
        }
        "vastclientjs_wrapper-a.xml" => {
            let uris: Vec<_> = ads.iter().map(|a| wrapper(a).ad_tag_uri.as_str()).collect();
            assert_eq!(uris, ["wrapper-b.xml", "vpaid.xml"]);
            let w = wrapper(&ads[0]);
            let tracking: usize = w
                .creatives
                .iter()
                .filter_map(|c| c.linear.as_ref())
                .map(|l| l.tracking.len())
                .sum();
            assert_eq!(tracking, 6);
        }
        "vastclientjs_wrapper-b.xml" => {
            assert_eq!(wrapper(&ads[0]).ad_tag_uri, "sample.xml");
            assert_eq!(wrapper(&ads[0]).impressions.len(), 2);
        }
        "vastclientjs_wrapper-empty.xml" => {
            assert_eq!(wrapper(&ads[0]).ad_tag_uri, "empty-no-ad.xml");
        }
        "vastclientjs_wrapper-legacy.xml" => {
            // <VASTAdTagURL><URL> in a VAST 2.0 document, plus a root <Error>.
            assert_eq!(wrapper(&ads[0]).ad_tag_uri, "inline-linear.xml");
            assert_eq!(vast.errors, ["http://example.com/wrapper-error"]);
        }
        "vastclientjs_wrapper-multiple-ads.xml" => {
            assert_eq!(ads.len(), 4);
            let seqs: Vec<_> = ads.iter().map(|a| a.sequence).collect();
            assert_eq!(seqs, [None, Some(1), Some(2), None]);
            assert!(ads.iter().all(|a| wrapper(a).allow_multiple_ads));
        }
        _ => eprintln!("{name}: no file-specific expectations, generic checks only"),
    }
}

/// The companions and verifications each corpus file is known to hold. Every file also
/// yields one companion per `<Companion>` and one verification per `<Verification>` in
/// its text.
fn check_companions_and_verifications(name: &str, xml: &str, vast: &Vast) {
    let companions = companions(vast);
    let verifications = verifications(vast);
    assert_eq!(
        companions.len(),
        count_start_tags(xml, "Companion"),
        "{name}: companions"
    );
    assert_eq!(
        verifications.len(),
        count_start_tags(xml, "Verification"),
        "{name}: verifications"
    );
    let html_contains = |i: usize, needle: &str| {
        assert!(
            companions[i].html_resources.len() == 1
                && companions[i].html_resources[0].contains(needle),
            "{name}: companion {i} HTML: {:?}",
            companions[i].html_resources
        );
    };
    match name {
        "iab_vast4.2_Ad_Verification-test.xml" => {
            // Two bare verifications: no vendor, no apiFramework, no parameters.
            let urls: Vec<_> = verifications
                .iter()
                .map(|v| v.javascript_resources[0].url.as_str())
                .collect();
            assert_eq!(
                urls,
                [
                    "https://verificationcompany1.com/verification_script1.js",
                    "https://verificationcompany.com/untrusted.js",
                ]
            );
            for v in &verifications {
                assert_eq!(v.vendor, None, "{name}");
                assert_eq!(v.parameters, None, "{name}");
                assert_eq!(v.javascript_resources.len(), 1, "{name}");
                assert_eq!(v.javascript_resources[0].api_framework, None, "{name}");
                assert!(v.executable_resources.is_empty() && v.tracking.is_empty());
            }
            assert!(companions.is_empty());
        }
        "iab_vast4.0_Inline_Simple.xml"
        | "iab_vast4.1_Inline_Simple.xml"
        | "iab_vast4.2_Inline_Simple.xml" => {
            // <AdVerifications></AdVerifications>
            assert!(verifications.is_empty(), "{name}");
        }
        "vastclientjs_sample.xml" => {
            assert_eq!(verifications.len(), 2);
            let omid = &verifications[0];
            assert_eq!(omid.vendor.as_deref(), Some("company.com-omid"));
            assert_eq!(omid.javascript_resources[0].url, "http://example.com/omid1");
            assert_eq!(
                omid.javascript_resources[0].api_framework.as_deref(),
                Some("omid")
            );
            assert_eq!(
                omid.javascript_resources[0].browser_optional.as_deref(),
                Some("true")
            );
            assert_eq!(omid.parameters, None);
            assert_eq!(
                verifications[1].parameters.as_deref(),
                Some("test-verification-parameter")
            );

            assert_eq!(companions.len(), 3);
            let inline = inline(&vast.ads[0]);
            assert_eq!(inline.creatives[1].companions.len(), 3, "all in creative 2");
            let first = companions[0];
            assert_eq!(first.sequence.as_deref(), Some("2"));
            assert_eq!(
                (first.width.as_deref(), first.height.as_deref()),
                (Some("300"), Some("60"))
            );
            assert_eq!(
                first.static_resources[0].url,
                "http://example.com/companion1-static-resource"
            );
            assert_eq!(
                first.static_resources[0].creative_type.as_deref(),
                Some("image/jpeg")
            );
            assert_eq!(
                first.alt_text.as_deref(),
                Some("Sample Alt Text Content!!!!")
            );
            assert_eq!(first.tracking[0].event, "creativeView");
            assert_eq!(
                first.tracking[0].url,
                "http://example.com/companion1-creativeview"
            );
            assert_eq!(
                first.click_tracking,
                [
                    "http://example.com/companion1-clicktracking-first",
                    "http://example.com/companion1-clicktracking-second",
                ]
            );
            assert_eq!(
                companions[1].iframe_resources,
                ["http://www.example.com/companion2-example.php"]
            );
            assert_eq!(
                companions[1].click_through.as_deref(),
                Some("http://www.example.com/companion2-clickthrough")
            );
            html_contains(2, "Some call to action HTML!");
        }
        "iab_vast1-2.0_Inline_LinearRegular_VAST2.0.xml" => {
            assert_eq!(companions.len(), 1);
            assert_eq!(companions[0].id.as_deref(), Some("555750"));
            assert_eq!(inline(&vast.ads[0]).creatives[1].companions.len(), 1);
            html_contains(
                0,
                "http://media.scanscout.com/ads/target300x250Companion.jpg",
            );
        }
        "iab_vast1-2.0_vast1RegularLinear.xml" => {
            // VAST 1.0: <CompanionAds> in <InLine>, resourceType="HTML" with <Code>.
            assert_eq!(companions.len(), 1);
            assert_eq!(companions[0].id.as_deref(), Some("532354"));
            html_contains(
                0,
                "http://s0.2mdn.net/viewad/2401054/300x250_PreRollCompanionBanner_30k.jpg",
            );
        }
        "iab_vast3.0_Wrapper_Tag-test.xml"
        | "iab_vast4.0_Wrapper_Tag-test.xml"
        | "iab_vast4.2_Wrapper_Tag-test.xml"
        | "vastclientjs_wrapper-multiple-ads.xml" => {
            let expected = if name.contains("multiple-ads") { 4 } else { 1 };
            assert_eq!(companions.len(), expected, "{name}");
            for c in &companions {
                assert_eq!(c.id.as_deref(), Some("1232"), "{name}");
                assert_eq!(
                    (c.asset_width.as_deref(), c.expanded_height.as_deref()),
                    (Some("250"), Some("250")),
                    "{name}"
                );
                assert_eq!(
                    c.static_resources[0].url,
                    "https://www.iab.com/wp-content/uploads/2014/09/iab-tech-lab-6-644x290.png",
                    "{name}"
                );
                assert_eq!(c.click_through.as_deref(), Some("https://iabtechlab.com"));
            }
            let attrs = |c: &Companion| {
                (
                    c.api_framework.clone(),
                    c.ad_slot_id.clone(),
                    c.pxratio.clone(),
                )
            };
            match name {
                "iab_vast4.0_Wrapper_Tag-test.xml" => assert_eq!(
                    attrs(companions[0]),
                    (
                        Some("VPAID".into()),
                        Some("3214".into()),
                        Some("1400".into())
                    ),
                    "adSlotID"
                ),
                "iab_vast4.2_Wrapper_Tag-test.xml" => assert_eq!(
                    attrs(companions[0]),
                    (
                        Some("SIMID".into()),
                        Some("3214".into()),
                        Some("1400".into())
                    )
                ),
                _ => assert_eq!(attrs(companions[0]), (None, None, None)),
            }
        }
        "vastclientjs_vpaid.xml" => {
            assert_eq!(companions.len(), 3);
            let sizes: Vec<_> = companions
                .iter()
                .map(|c| (c.width.as_deref(), c.height.as_deref()))
                .collect();
            assert_eq!(
                sizes,
                [
                    (Some("300"), Some("250")),
                    (Some("300"), Some("60")),
                    (Some("728"), Some("90"))
                ]
            );
            html_contains(1, "lr_comp_300x60");
        }
        "vastclientjs_wrapper-a.xml" | "vastclientjs_wrapper-b.xml" => {
            let (letter, expected) = if name.ends_with("a.xml") {
                ("A", 3)
            } else {
                ("B", 2)
            };
            assert_eq!(companions.len(), expected);
            let first = companions[0];
            assert_eq!(first.id.as_deref(), Some("urn:a2:287461:103"));
            assert_eq!(first.ad_parameters.as_deref(), Some("campaign_id=10446"));
            assert_eq!(
                first.click_tracking,
                [format!(
                    "http://example.com/wrapper{letter}-companion1-click-tracking"
                )]
            );
            assert_eq!(
                companions[1].iframe_resources,
                [format!(
                    "http://www.example.com/wrapper{letter}-companion2-example.php"
                )]
            );
        }
        "vastclientjs_wrapper-empty.xml" | "vastclientjs_wrapper-legacy.xml" => {
            assert_eq!(companions.len(), 1);
            assert_eq!(
                companions[0].click_tracking,
                ["http://example.com/companion-click-tracking"]
            );
            assert!(companions[0].static_resources.is_empty());
        }
        _ => assert!(
            companions.is_empty() && verifications.is_empty(),
            "{name}: companions or verifications without expectations"
        ),
    }
}

#[test]
fn every_vast_file_parses_with_expected_content() {
    let Some(dir) = corpus() else { return };
    let files = xml_files(&dir.join("vast"));
    assert!(!files.is_empty(), "no VAST files in corpus");
    let mut versions = BTreeSet::new();
    for (name, xml) in &files {
        let vast = parse_vast(xml).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_clean_urls(name, &vast);
        check_file(name, &vast);
        check_companions_and_verifications(name, xml, &vast);
        versions.insert(vast.version.clone().unwrap_or_else(|| "1.0".into()));
    }
    for version in ["2.0", "3.0", "4.0", "4.1", "4.2"] {
        assert!(
            versions.contains(version),
            "corpus has no VAST {version} file"
        );
    }
}

#[test]
fn vmap_files_are_not_vast() {
    let Some(dir) = corpus() else { return };
    let vmap = dir.join("vmap");
    if !vmap.is_dir() {
        return;
    }
    for (name, xml) in xml_files(&vmap) {
        assert_eq!(
            parse_vast(&xml),
            Err(VastError::NotVast("VMAP".into())),
            "{name}"
        );
    }
}

#[test]
fn corpus_truncations_never_panic() {
    let Some(dir) = corpus() else { return };
    for (name, xml) in xml_files(&dir.join("vast")) {
        let mut cut = 0;
        while cut < xml.len() {
            if xml.is_char_boundary(cut) {
                // A truncated document is an error, never a panic or a partial success
                // claiming a closed root.
                let result = parse_vast(&xml[..cut]);
                assert!(
                    result.is_err() || xml[cut..].trim().is_empty(),
                    "{name}: prefix of {cut} bytes parsed"
                );
            }
            cut += 13;
        }
    }
}

/// Serves corpus files by the last path segment of the URL; the vast-client-js samples
/// refer to each other by bare names (`wrapper-b.xml`), stored with a `vastclientjs_` prefix.
struct CorpusFetcher {
    dir: PathBuf,
}

impl VastFetcher for CorpusFetcher {
    async fn fetch(&self, url: &str) -> Result<String, FetchError> {
        let path = url.split(['?', '#']).next().unwrap_or_default();
        let name = path.rsplit('/').next().unwrap_or_default();
        [name.to_owned(), format!("vastclientjs_{name}")]
            .iter()
            .map(|n| self.dir.join(n))
            .find(|p| !name.is_empty() && p.is_file())
            .and_then(|p| std::fs::read_to_string(p).ok())
            .ok_or(FetchError::Status(404))
    }
}

const BASE: &str = "https://corpus.test/vast/";

async fn resolve(dir: &Path, file: &str) -> Result<Vec<ResolvedAd>, ResolveError> {
    let fetcher = CorpusFetcher {
        dir: dir.join("vast"),
    };
    resolve_ads(&fetcher, &format!("{BASE}{file}")).await
}

fn ad_ids(ads: &[ResolvedAd]) -> Vec<&str> {
    ads.iter().filter_map(|a| a.ad_id.as_deref()).collect()
}

#[tokio::test]
async fn resolves_inline_samples() {
    let Some(dir) = corpus() else { return };
    let ads = resolve(&dir, "iab_vast4.2_Inline_Simple.xml")
        .await
        .expect("resolves");
    assert_eq!(ads.len(), 1);
    assert_eq!(ads[0].duration, 16.0);
    assert_eq!(ads[0].media_files.len(), 3);

    // vast-client-js sample: ad 2 is VPAID-only, so only ad 1 is playable; its VPAID media
    // file is dropped, its mp4 and mezzanine kept.
    let ads = resolve(&dir, "vastclientjs_sample.xml")
        .await
        .expect("resolves");
    assert_eq!(ad_ids(&ads), ["ad_id_0001"]);
    assert_eq!(ads[0].media_files.len(), 1);
    assert_eq!(ads[0].mezzanines.len(), 1);
    assert_eq!(ads[0].duration, 90.123);
    // Companions come from creative 2, not the chosen linear creative 1.
    assert_eq!(ads[0].companions.len(), 3);
    assert_eq!(
        ads[0].companions[0].static_resources[0].url,
        "http://example.com/companion1-static-resource"
    );
    assert_eq!(ads[0].verifications.len(), 2);
    assert_eq!(
        ads[0].verifications[1].javascript_resources[0].url,
        "http://example.com/omid2"
    );
    assert_eq!(ads[0].ad_system.as_deref(), Some("AdServer"));
    assert_eq!(ads[0].ad_title.as_deref(), Some("Ad title"));

    let ads = resolve(&dir, "iab_vast4.2_Ad_Verification-test.xml")
        .await
        .expect("resolves");
    let urls: Vec<_> = ads[0]
        .verifications
        .iter()
        .flat_map(|v| &v.javascript_resources)
        .map(|r| r.url.as_str())
        .collect();
    assert_eq!(
        urls,
        [
            "https://verificationcompany1.com/verification_script1.js",
            "https://verificationcompany.com/untrusted.js",
        ]
    );
    assert_eq!(ads[0].ad_title.as_deref(), Some("iabtechlab video ad"));

    assert_eq!(
        resolve(&dir, "vastclientjs_vpaid.xml").await,
        Err(ResolveError::NoLinear)
    );
    assert_eq!(
        resolve(&dir, "vastclientjs_empty-no-creative.xml").await,
        Err(ResolveError::NoLinear)
    );
}

#[tokio::test]
async fn resolves_legacy_wrapper_with_vast_ad_tag_url() {
    let Some(dir) = corpus() else { return };
    let ads = resolve(&dir, "vastclientjs_wrapper-legacy.xml")
        .await
        .expect("resolves");
    assert_eq!(ad_ids(&ads), ["20001"]);
    let ad = &ads[0];
    assert_eq!(ad.wrapper_depth, 1);
    assert_eq!(ad.duration, 16.0);
    assert_eq!(
        ad.impressions,
        [
            "http://example.com/wrapper-impression",
            "http://example.com/track/impression"
        ]
    );
    assert_eq!(ad.tracking[0].url, "http://example.com/wrapper-start");
    // The wrapper's companion only adds tracking, and inline-linear.xml has no companion
    // to add it to.
    assert!(ad.companions.is_empty());
}

#[tokio::test]
async fn wrapper_to_empty_is_empty_with_chain_error_urls() {
    let Some(dir) = corpus() else { return };
    assert_eq!(
        resolve(&dir, "vastclientjs_empty-no-ad.xml").await,
        Err(ResolveError::Empty {
            error_urls: vec!["http://example.com/empty-no-ad".into()]
        })
    );
    assert_eq!(
        resolve(&dir, "vastclientjs_wrapper-empty.xml").await,
        Err(ResolveError::Empty {
            error_urls: vec![
                "http://example.com/wrapper-empty_wrapper-error".into(),
                "http://example.com/empty-no-ad".into(),
            ]
        })
    );
}

#[tokio::test]
async fn resolves_wrapper_pod_with_allow_multiple_ads() {
    let Some(dir) = corpus() else { return };
    // Play order: 20011 (seq 1, → vpaid.xml: dropped), 20012 (seq 2, → inline-linear),
    // 201 (→ sample.xml: ad_id_0001 playable), 2032 (→ vpaid2.xml: missing, dropped).
    let ads = resolve(&dir, "vastclientjs_wrapper-multiple-ads.xml")
        .await
        .expect("resolves");
    assert_eq!(ad_ids(&ads), ["20001", "ad_id_0001"]);
    assert_eq!(ads[0].sequence, Some(2), "pod position of the wrapper");
    assert!(ads.iter().all(|a| a.wrapper_depth == 1));
    // Wrapper 201's companion has no tracking: sample.xml's three companions are unchanged.
    assert!(ads[0].companions.is_empty());
    assert_eq!(ads[1].companions.len(), 3);
    assert_eq!(ads[1].companions[0].click_tracking.len(), 2);
    assert_eq!(ads[1].verifications.len(), 2);
}

#[tokio::test]
async fn vast4_wrapper_chain_without_allow_multiple_ads_keeps_first_standalone_ad() {
    let Some(dir) = corpus() else { return };
    // wrapper-a (4.3) → wrapper-b (4.3) → sample.xml: neither wrapper sets
    // allowMultipleAds, so VAST 4's default (false) keeps only sample.xml's first
    // stand-alone ad, which is VPAID-only; wrapper-a's other ad leads to vpaid.xml.
    assert_eq!(
        resolve(&dir, "vastclientjs_wrapper-a.xml").await,
        Err(ResolveError::NoLinear)
    );
}
