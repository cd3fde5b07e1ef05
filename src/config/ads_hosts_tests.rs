//! ADS URL host checks (#13 item 8): a player's text never picks the ADS host.

use super::*;

fn config(ads_url: &str, aliases: &[(&str, &[(&str, &str)])]) -> PlaybackConfig {
    PlaybackConfig {
        origin: "http://origin.example/live/".into(),
        ads_url: ads_url.into(),
        aliases: aliases
            .iter()
            .map(|(k, vs)| {
                (
                    k.to_string(),
                    vs.iter()
                        .map(|(a, v)| (a.to_string(), v.to_string()))
                        .collect(),
                )
            })
            .collect(),
        ..PlaybackConfig::default()
    }
}

fn refused(ads_url: &str, aliases: &[(&str, &[(&str, &str)])]) -> String {
    match config(ads_url, aliases).validate("t.toml", "t") {
        Err(e) => {
            assert_eq!(e.key, "ads_url", "{e}");
            e.reason
        }
        Ok(c) => panic!("{ads_url} accepted: {:?}", c.ads_origins),
    }
}

fn origins(ads_url: &str, aliases: &[(&str, &[(&str, &str)])]) -> Vec<String> {
    let c = config(ads_url, aliases)
        .validate("t.toml", "t")
        .unwrap_or_else(|e| panic!("{ads_url}: {e}"));
    c.ads_origins
        .iter()
        .map(|o| o.ascii_serialization())
        .collect()
}

const HOSTS: (&str, &[(&str, &str)]) = (
    "player_params.h",
    &[("east", "ads-east.example"), ("local", "127.0.0.1:18182")],
);

#[test]
fn the_issues_bypasses_are_refused_at_load() {
    // No `//`: the URL parser still reads the variable as the host.
    let r = refused("http:[player_params.h]:18182/vast", &[]);
    assert!(r.contains("[player_params.h]"), "{r}");
    // Two variables side by side: each one is checked, not just the first.
    let r = refused(
        "http://[player_params.a][player_params.h]/vast",
        &[("player_params.a", &[("x", "ads")])],
    );
    assert!(r.contains("[player_params.h]"), "{r}");
    for t in [
        "http://ads.example@[player_params.h]/vast",
        "http://[player_params.h]@ads.example/vast",
        "http://ads.[player_params.h].example/vast",
        "http:/[player_params.h]/vast",
        "http:\\\\[player_params.h]/vast",
        "[player_params.s]://ads.example/vast",
        "http://ads.example:[player_params.p]/vast",
        "http://[session.id]/vast",
        "http://[scte.segmentation_upid]/vast",
    ] {
        refused(t, &[]);
    }
}

#[test]
fn aliased_hosts_give_every_configured_origin() {
    assert_eq!(
        origins("http://[player_params.h]/vast?sid=[session.id]", &[HOSTS]),
        ["http://ads-east.example", "http://127.0.0.1:18182"]
    );
    // Without `//` as well: the same origins, from configuration only.
    assert_eq!(
        origins("http:[player_params.h]/vast", &[HOSTS]),
        ["http://ads-east.example", "http://127.0.0.1:18182"]
    );
    // Two aliases in one host: their product.
    assert_eq!(
        origins(
            "https://[player_params.a].[player_params.b].example/v",
            &[
                ("player_params.a", &[("1", "x"), ("2", "y")]),
                ("player_params.b", &[("e", "east"), ("w", "west")]),
            ],
        ),
        [
            "https://x.east.example",
            "https://y.east.example",
            "https://x.west.example",
            "https://y.west.example"
        ]
    );
    // Variables after the host are the player's business.
    assert_eq!(
        origins(
            "http://ads.example/[player_params.p]/v?h=[player_params.h]&u=[session.user_agent]",
            &[]
        ),
        ["http://ads.example"]
    );
}

#[test]
fn an_alias_whose_value_is_not_a_host_is_refused() {
    for bad in ["", "a b", "ads.example/x", "u@ads.example", "x?", "x#"] {
        refused(
            "http://[player_params.h]/vast",
            &[("player_params.h", &[("ok", "ads.example"), ("bad", bad)])],
        );
    }
    // An IPv6 literal is a host.
    assert_eq!(
        origins(
            "http://[player_params.h]/vast",
            &[("player_params.h", &[("v6", "[::1]:8080")])]
        ),
        ["http://[::1]:8080"]
    );
}

#[test]
fn too_many_host_combinations_are_refused() {
    let many: Vec<(String, String)> = (0..40)
        .map(|i| (format!("a{i}"), format!("h{i}")))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = refused(
        "http://[player_params.a].[player_params.b]/v",
        &[("player_params.a", &many), ("player_params.b", &many)],
    );
    assert!(r.contains("more than"), "{r}");
}

#[test]
fn the_live_preroll_template_is_held_to_the_same_rule() {
    let mut c = config("http://ads.example/v", &[HOSTS]);
    c.live_preroll_ads_url = Some("http:[player_params.x]/pre".into());
    assert_eq!(
        c.validate("t", "t").unwrap_err().key,
        "live_preroll_ads_url"
    );
    let mut c = config("http://ads.example/v", &[HOSTS]);
    c.live_preroll_ads_url = Some("http://[player_params.h]/pre".into());
    let ch = c.validate("t", "t").unwrap();
    assert!(ch.allows_ads_url("http://ads.example/v?x"));
    assert!(ch.allows_ads_url("http://127.0.0.1:18182/pre"));
}

#[test]
fn an_expanded_url_is_checked_against_the_configured_origins() {
    let ch = config("http://[player_params.h]/vast", &[HOSTS])
        .validate("t", "t")
        .unwrap();
    assert!(ch.allows_ads_url("http://ads-east.example/vast?x=1"));
    assert!(ch.allows_ads_url("http://127.0.0.1:18182/vast"));
    for bad in [
        "http:///vast",
        "http://127.0.0.1/vast",
        "http://127.0.0.1:18183/vast",
        "https://ads-east.example/vast",
        "http://evil.example/vast",
        "not a url",
    ] {
        assert!(!ch.allows_ads_url(bad), "{bad}");
    }
}

// === IPv6 literal hosts (#13) ===

#[test]
fn ipv6_literal_hosts_in_the_ads_templates_are_accepted() {
    // The brackets of an IPv6 literal hold colons: not a variable.
    let template = "http://[::1]:18183/vast?sid=[session.id]&dur=[session.avail_duration_secs]";
    assert_eq!(origins(template, &[]), ["http://[::1]:18183"]);
    assert_eq!(
        origins("https://[2001:db8::7]/v?u=[player_params.u]", &[]),
        ["https://[2001:db8::7]"]
    );
    // An alias may stand for an IPv6 host (with its port).
    assert_eq!(
        origins(
            "http://[player_params.h]/vast",
            &[(
                "player_params.h",
                &[("lo", "[::1]:18184"), ("doc", "[2001:db8::1]")]
            )]
        ),
        ["http://[2001:db8::1]", "http://[::1]:18184"]
    );
    // The expanded URL keeps its literal and is allowed; another port is not.
    let mut c = config(template, &[]);
    c.live_preroll_ads_url = Some("http://[::1]:18185/pre?sid=[session.id]".into());
    let c = c.validate("t.toml", "t").unwrap();
    let mut vars = crate::ads::template::TemplateVars::new();
    vars.set("session.id", "s1");
    let url = crate::ads::template::expand_template(template, &vars);
    assert!(
        url.starts_with("http://[::1]:18183/vast?sid=s1&dur="),
        "{url}"
    );
    assert!(c.allows_ads_url(&url), "{url}");
    assert!(c.allows_ads_url("http://[::1]:18185/pre?sid=s1"));
    assert!(!c.allows_ads_url("http://[::1]:18186/vast"));
    assert!(!c.allows_ads_url("http://[::2]:18183/vast"));
}

#[test]
fn ipv6_literal_hosts_in_every_other_url_field_are_accepted() {
    let text = "origin = \"http://[::1]:8080/live\"\n\
        ads_url = \"http://[::1]:9090/vast\"\n\
        slate = \"http://[::1]:8081/slate/master.m3u8\"\n\
        dash_slate = \"http://[fd00::5]/slate/manifest.mpd\"\n\
        content_segment_prefix = \"https://[2001:db8::1]/cdn/\"\n\
        ad_segment_prefix = \"https://[2001:db8::2]:8443/ads/\"\n\
        bumper_start = \"http://[::1]:8081/bumper/start.m3u8\"\n\
        live_preroll_ads_url = \"http://[::1]:9090/pre\"\n\
        transcode_profile_url = \"http://[::1]:8081/profile.m3u8\"\n";
    let c = parse_config("x.toml", "x", text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.origin.as_str(), "http://[::1]:8080/live/");
    assert_eq!(
        c.slate.as_ref().map(Url::as_str),
        Some("http://[::1]:8081/slate/master.m3u8")
    );
    assert_eq!(
        c.dash_slate.as_ref().map(Url::as_str),
        Some("http://[fd00::5]/slate/manifest.mpd")
    );
    let hosts: Vec<String> = c
        .ads_origins
        .iter()
        .map(|o| o.ascii_serialization())
        .collect();
    assert_eq!(hosts, ["http://[::1]:9090"]);
    // An aliased origin host whose value is an IPv6 literal: validated with its
    // brackets, and used with them.
    let text = "origin = \"http://[player_params.o]/live\"\n\
        ads_url = \"http://[::1]:9090/vast\"\n\
        [aliases.\"player_params.o\"]\n\
        lo = \"[::1]:8080\"\n";
    let c = parse_config("x.toml", "x", text).unwrap_or_else(|e| panic!("{e}"));
    let params = BTreeMap::from([("o".to_string(), "[::1]:8080".to_string())]);
    assert_eq!(c.origin_for(&params).as_str(), "http://[::1]:8080/live/");
}
