//! Shared by the configuration targets (not a target itself).

use std::collections::BTreeMap;

use splicepoint::config::Channel;
use url::Url;

/// What a request asks of an accepted configuration: aliases of the player's
/// parameters, the session's origin, the origin base of a fetched URL, the cue rules,
/// the ADS template expanded.
pub fn exercise_channel(channel: &Channel) {
    let _ = channel.cue_rules();
    let _ = channel.origin_timeout();
    let _ = channel.ads_timeout();
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (key, values) in &channel.raw.aliases {
        let name = key.trim_start_matches("player_params.");
        if let Some(v) = values.keys().next() {
            params.insert(name.to_string(), v.clone());
        }
    }
    let mut resolved = params.clone();
    if channel.resolve_aliases(&mut resolved).is_ok() {
        let origin = channel.origin_for(&resolved);
        if let Ok(u) = origin.join("path/index.m3u8") {
            let _ = channel.origin_base_of(&u);
        }
    }
    let _ = channel.origin_for(&BTreeMap::new());
    if let Ok(u) = Url::parse("https://origin.example.com/live/index.m3u8") {
        let _ = channel.origin_base_of(&u);
    }
    let mut vars = splicepoint::ads::TemplateVars::new();
    vars.set("session.id", "s-1");
    for (k, v) in &resolved {
        vars.set_player_param(k, v.clone());
    }
    let url = splicepoint::ads::expand_template(&channel.raw.ads_url, &vars);
    let _ = channel.allows_ads_url(&url);
    let _ = channel.origin_query(Some("a=1&b=2&token=x&&=&c"));
    let _ = channel.raw.ad_limits.resolve_limits();
}
