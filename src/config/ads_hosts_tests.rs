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
