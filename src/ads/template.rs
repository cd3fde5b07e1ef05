//! Ad decision server (ADS) URL templates, MediaTailor style. Pure, no I/O.
//!
//! A template is a URL with `[name]` placeholders, e.g.
//! `https://ads.example.com/vast?sid=[session.id]&dur=[session.avail_duration_secs]`.
//! [`expand_template`] replaces each placeholder with the value from [`TemplateVars`],
//! percent-encoded as one URL component (RFC 3986 section 2.3: only unreserved characters
//! stay literal). Names are MediaTailor's dynamic variables
//! (<https://docs.aws.amazon.com/mediatailor/latest/ug/variables.html>): see the `SESSION_*`
//! and `AVAIL_*` constants and the `player_params.` and `scte.` prefixes.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters percent-encoded in a substituted value: everything except RFC 3986
/// unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `[session.id]`: the playback session id.
pub const SESSION_ID: &str = "session.id";
/// `[session.uuid]`: a UUID for the session.
pub const SESSION_UUID: &str = "session.uuid";
/// `[session.avail_duration_secs]`: the avail (ad break) duration in whole seconds.
pub const SESSION_AVAIL_DURATION_SECS: &str = "session.avail_duration_secs";
/// `[session.avail_duration_ms]`: the avail duration in milliseconds.
pub const SESSION_AVAIL_DURATION_MS: &str = "session.avail_duration_ms";
/// `[session.user_agent]`: the player's `User-Agent`.
pub const SESSION_USER_AGENT: &str = "session.user_agent";
/// `[session.client_ip]`: the player's IP address.
pub const SESSION_CLIENT_IP: &str = "session.client_ip";
/// `[session.referer]`: the player's `Referer`.
pub const SESSION_REFERER: &str = "session.referer";
/// `[avail.index]`: the index of the avail in the session.
pub const AVAIL_INDEX: &str = "avail.index";
/// `[avail.random]`: a random number per avail (cache buster); the caller draws it.
pub const AVAIL_RANDOM: &str = "avail.random";
/// Prefix of `[player_params.NAME]`: query parameters the player passed at session start.
pub const PLAYER_PARAMS_PREFIX: &str = "player_params.";
/// Prefix of `[scte.NAME]`: fields of the SCTE-35 message that opened the avail.
pub const SCTE_PREFIX: &str = "scte.";

/// Values for template placeholders, keyed by the name between the brackets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateVars {
    map: BTreeMap<String, String>,
    /// Keys whose values come from configuration (alias values: a host, a
    /// `host:port`), substituted verbatim rather than percent-encoded.
    verbatim: BTreeSet<String>,
}

impl TemplateVars {
    /// An empty set: every placeholder expands to the empty string.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` (e.g. [`SESSION_ID`]) to `value`, replacing any previous value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.map.insert(key.into(), value.into());
        self
    }

    /// Sets `[player_params.NAME]`.
    pub fn set_player_param(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.set(format!("{PLAYER_PARAMS_PREFIX}{name}"), value)
    }

    /// Sets `[scte.NAME]`.
    pub fn set_scte(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.set(format!("{SCTE_PREFIX}{name}"), value)
    }

    /// The raw (unencoded) value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// Substitute `key`'s value verbatim, not percent-encoded: only for values that
    /// come from configuration (a configuration alias stands for a host or
    /// `host:port`, whose `:` must stay a `:`), never for a player's own text.
    pub fn set_verbatim(&mut self, key: impl Into<String>) -> &mut Self {
        self.verbatim.insert(key.into());
        self
    }
}

/// The placeholders of `template`, in order: each one's byte range (brackets
/// included) and name. The same syntax as [`expand_template`].
pub fn placeholders(template: &str) -> Vec<(Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = template[at..].find('[').map(|i| at + i) {
        let after = &template[open + 1..];
        let name_len = after.bytes().take_while(|&b| is_name_byte(b)).count();
        if name_len > 0 && after.as_bytes().get(name_len) == Some(&b']') {
            out.push((open..open + name_len + 2, &after[..name_len]));
            at = open + name_len + 2;
        } else {
            at = open + 1;
        }
    }
    out
}

/// Expands every `[name]` placeholder in `template`.
///
/// - A known name becomes its value, percent-encoded as a URL component (space is `%20`,
///   `&` is `%26`, `/` is `%2F`; `-._~` and alphanumerics stay).
/// - An unknown name becomes the empty string.
/// - Text outside placeholders is copied exactly, unencoded.
/// - A placeholder name is one or more of `A-Z a-z 0-9 _ . -`; any other bracketed text
///   (`[]`, `[a b]`, a `[` without a closing `]`) is kept literally.
pub fn expand_template(template: &str, vars: &TemplateVars) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after.bytes().take_while(|&b| is_name_byte(b)).count();
        if name_len > 0 && after.as_bytes().get(name_len) == Some(&b']') {
            let name = &after[..name_len];
            match vars.get(name) {
                Some(value) if vars.verbatim.contains(name) => out.push_str(value),
                Some(value) => out.extend(utf8_percent_encode(value, COMPONENT)),
                None => {}
            }
            rest = &after[name_len + 1..];
        } else {
            // Not a placeholder: keep the `[` and scan on from the next character, so a
            // later `[` inside (as in `[[session.id]`) can still open one.
            out.push('[');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> TemplateVars {
        let mut vars = TemplateVars::new();
        for (k, v) in pairs {
            vars.set(*k, *v);
        }
        vars
    }

    #[test]
    fn substitutes_session_variables() {
        let v = vars(&[
            (SESSION_ID, "abc-123"),
            (SESSION_UUID, "6f1c0d2e-0000-4000-8000-000000000001"),
            (SESSION_AVAIL_DURATION_SECS, "30"),
            (SESSION_AVAIL_DURATION_MS, "30000"),
            (SESSION_CLIENT_IP, "2001:db8::1"),
            (SESSION_REFERER, "https://player.example/page?x=1"),
        ]);
        let out = expand_template(
            "https://ads/v?s=[session.id]&u=[session.uuid]&d=[session.avail_duration_secs]&ms=[session.avail_duration_ms]&ip=[session.client_ip]&r=[session.referer]",
            &v,
        );
        assert_eq!(
            out,
            "https://ads/v?s=abc-123&u=6f1c0d2e-0000-4000-8000-000000000001&d=30&ms=30000&ip=2001%3Adb8%3A%3A1&r=https%3A%2F%2Fplayer.example%2Fpage%3Fx%3D1"
        );
    }

    #[test]
    fn encodes_user_agent_as_component() {
        let v = vars(&[(
            SESSION_USER_AGENT,
            "Mozilla/5.0 (X11; Linux) a&b=c+d~e_f.g-h",
        )]);
        assert_eq!(
            expand_template("ua=[session.user_agent]", &v),
            "ua=Mozilla%2F5.0%20%28X11%3B%20Linux%29%20a%26b%3Dc%2Bd~e_f.g-h"
        );
    }

    #[test]
    fn encodes_non_ascii_as_utf8() {
        let v = vars(&[("player_params.city", "Zürich")]);
        assert_eq!(
            expand_template("c=[player_params.city]", &v),
            "c=Z%C3%BCrich"
        );
    }

    #[test]
    fn player_params_scte_and_avail() {
        let mut v = TemplateVars::new();
        v.set_player_param("deviceType", "ctv")
            .set_scte("segmentation_upid", "0x0C:abc")
            .set(AVAIL_INDEX, "2")
            .set(AVAIL_RANDOM, "918273");
        assert_eq!(v.get("player_params.deviceType"), Some("ctv"));
        assert_eq!(
            expand_template(
                "dt=[player_params.deviceType]&upid=[scte.segmentation_upid]&i=[avail.index]&cb=[avail.random]",
                &v
            ),
            "dt=ctv&upid=0x0C%3Aabc&i=2&cb=918273"
        );
    }

    #[test]
    fn custom_map_keys() {
        let v = vars(&[("my-key_1", "v")]);
        assert_eq!(expand_template("[my-key_1]", &v), "v");
    }

    #[test]
    fn unknown_variable_is_empty() {
        assert_eq!(
            expand_template("a=[session.id]&b=[nope.nothing]&c=1", &TemplateVars::new()),
            "a=&b=&c=1"
        );
    }

    #[test]
    fn text_outside_brackets_is_kept_exactly() {
        let template = "https://ads.example.com/v%20x?a=b&c=d e#frag";
        assert_eq!(expand_template(template, &TemplateVars::new()), template);
        assert_eq!(expand_template("", &TemplateVars::new()), "");
    }

    #[test]
    fn unclosed_bracket_is_literal() {
        let v = vars(&[(SESSION_ID, "s")]);
        assert_eq!(expand_template("a=[session.id", &v), "a=[session.id");
        assert_eq!(expand_template("[", &v), "[");
        assert_eq!(expand_template("x[session.id]y[", &v), "xsy[");
    }

    #[test]
    fn non_name_brackets_are_literal() {
        let v = vars(&[(SESSION_ID, "s")]);
        assert_eq!(expand_template("arr[]=1", &v), "arr[]=1");
        assert_eq!(expand_template("[a b]", &v), "[a b]");
        assert_eq!(expand_template("[[session.id]]", &v), "[s]");
        assert_eq!(expand_template("]session.id[", &v), "]session.id[");
    }

    #[test]
    fn values_are_not_re_expanded() {
        let v = vars(&[(SESSION_ID, "[session.id]")]);
        assert_eq!(expand_template("[session.id]", &v), "%5Bsession.id%5D");
    }

    #[test]
    fn verbatim_values_keep_their_colon() {
        let mut v = vars(&[
            ("player_params.h", "127.0.0.1:18182"),
            ("player_params.q", "a:b"),
        ]);
        v.set_verbatim("player_params.h");
        assert_eq!(
            expand_template("http://[player_params.h]/v?q=[player_params.q]", &v),
            "http://127.0.0.1:18182/v?q=a%3Ab"
        );
    }

    #[test]
    fn placeholders_match_expansion() {
        let t = "http:[a]x[[b.c]]/[ü][d-e]?[]=[f";
        let p = placeholders(t);
        let names: Vec<&str> = p.iter().map(|(_, n)| *n).collect();
        assert_eq!(names, ["a", "b.c", "d-e"]);
        for (r, n) in &p {
            assert_eq!(&t[r.clone()], format!("[{n}]"));
        }
        let v = vars(&[("a", "1"), ("b.c", "2"), ("d-e", "3")]);
        assert_eq!(expand_template(t, &v), "http:1x[2]/[ü]3?[]=[f");
    }

    #[test]
    fn non_ascii_template_text_survives() {
        let v = vars(&[(SESSION_ID, "s")]);
        assert_eq!(expand_template("ü[session.id]é[ü]", &v), "üsé[ü]");
    }
}
