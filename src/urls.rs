//! URL parsing for text that comes from outside: origin playlists and MPDs, VAST,
//! creatives, configurations sent to the admin API, players' requests.
//!
//! The `url` crate runs IDNA processing on every domain it parses, and that work
//! grows faster than the host's length: a segment URI with a few kilobytes of
//! `xn--` labels costs about 100 ms (found by the `hls_playlist` and `config_toml`
//! fuzz targets). No DNS name is longer than 253 characters (RFC 1035 §2.3.4), so
//! [`parse`] and [`join`] refuse a reference whose host is longer than that before
//! the `url` crate sees it. Everything else is `Url::parse` and `Url::join`
//! unchanged.
//!
//! Pure: text in, a URL or an error out.

use url::{ParseError, Url};

/// The longest host accepted: a DNS name is at most 253 characters (RFC 1035
/// §2.3.4, without the trailing dot); an IPv6 literal is shorter.
pub const MAX_HOST_LEN: usize = 253;

/// `Url::parse`, refusing a host longer than [`MAX_HOST_LEN`] first.
pub fn parse(input: &str) -> Result<Url, ParseError> {
    check(input)?;
    Url::parse(input)
}

/// `base.join(reference)`, refusing a host longer than [`MAX_HOST_LEN`] first.
pub fn join(base: &Url, reference: &str) -> Result<Url, ParseError> {
    check(reference)?;
    base.join(reference)
}

/// `Err(IdnaError)` when the host `input` would name is longer than
/// [`MAX_HOST_LEN`]. `IdnaError` is the `url` crate's own error for a domain it
/// cannot process, so callers handle this refusal as they handle that one.
fn check(input: &str) -> Result<(), ParseError> {
    if host_len(input) > MAX_HOST_LEN {
        Err(ParseError::IdnaError)
    } else {
        Ok(())
    }
}

/// The length of the host that `input` names, measured on the text as the URL
/// parser reads it (ASCII tab and newline removed, leading and trailing spaces and
/// control characters trimmed). It may overestimate (it counts the authority of a
/// reference that a base of the same special scheme would read as a path), never
/// underestimate. 0 when the reference has no authority (a path, a query).
fn host_len(input: &str) -> usize {
    // No host can be longer than the whole text.
    if input.len() <= MAX_HOST_LEN {
        return 0;
    }
    let text: String = input
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (special_scheme, rest) = match scheme_end(&text) {
        Some(i) => {
            let scheme = text[..i].to_ascii_lowercase();
            let special = matches!(
                scheme.as_str(),
                "http" | "https" | "ws" | "wss" | "ftp" | "file"
            );
            (Some(special), &text[i + 1..])
        }
        None => (None, text.as_str()),
    };
    let after = rest.trim_start_matches(['/', '\\']);
    let slashes = rest.len() - after.len();
    let has_authority = match special_scheme {
        // A special scheme reads a host after any number of slashes.
        Some(true) => true,
        Some(false) => rest.starts_with("//"),
        // A scheme-relative reference (`//host/...`); `\` counts as `/` under the
        // special schemes of our bases.
        None => slashes >= 2,
    };
    if !has_authority {
        return 0;
    }
    let authority = after
        .split(['/', '\\', '?', '#'])
        .next()
        .unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    // A port after the host (an IPv6 literal ends with `]`).
    let host = match host.rfind(':') {
        Some(i)
            if !host[i..].contains(']') && host[i + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            &host[..i]
        }
        _ => host,
    };
    host.len()
}

/// The index of the `:` that ends a URL scheme (`ALPHA *( ALPHA / DIGIT / "+" /
/// "-" / "." ) ":"`), if `text` starts with one.
fn scheme_end(text: &str) -> Option<usize> {
    let mut bytes = text.bytes().enumerate();
    let (_, first) = bytes.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    for (i, b) in bytes {
        match b {
            b':' => return Some(i),
            b if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.') => {}
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_host(n: usize) -> String {
        let mut h = String::new();
        while h.len() < n {
            h.push_str("xn--bcher-kva.");
        }
        h.truncate(n);
        h.trim_end_matches('.').to_string()
    }

    #[test]
    fn ordinary_urls_parse_as_the_url_crate_parses_them() {
        for u in [
            "http://origin.example/live/index.m3u8",
            "https://user:pw@[2001:db8::1]:8443/a?b#c",
            "https://xn--bcher-kva.example/a.ts",
        ] {
            assert_eq!(parse(u), Url::parse(u), "{u}");
        }
        let base = Url::parse("http://o.example/ch/index.m3u8").unwrap();
        for r in [
            "seg1.ts",
            "/abs/seg.ts",
            "//cdn.example/x.ts",
            "?q=1",
            "https://a.b/c",
        ] {
            assert_eq!(join(&base, r), base.join(r), "{r}");
        }
    }

    #[test]
    fn a_host_longer_than_dns_allows_is_refused_before_parsing() {
        let host = long_host(4000);
        let base = Url::parse("http://o.example/ch/index.m3u8").unwrap();
        for r in [
            format!("http://{host}/seg.ts"),
            format!("HTTPS://user@{host}:443/seg.ts"),
            format!("//{host}/seg.ts"),
            format!("\\\\{host}/seg.ts"),
            format!("http:{host}/seg.ts"),
            format!("  http:/\t/{host}?x"),
        ] {
            assert_eq!(join(&base, &r), Err(ParseError::IdnaError), "{r}");
            assert_eq!(parse(&r).ok(), None, "{r}");
        }
    }

    #[test]
    fn the_limit_is_the_dns_limit() {
        let ok = long_host(MAX_HOST_LEN);
        assert_eq!(ok.len(), MAX_HOST_LEN);
        let u = format!("http://{ok}/a");
        assert_eq!(parse(&u), Url::parse(&u));
        let over = format!("http://{ok}a/a");
        assert_eq!(parse(&over), Err(ParseError::IdnaError));
    }

    #[test]
    fn long_paths_and_queries_are_not_hosts() {
        let base = Url::parse("http://o.example/ch/index.m3u8").unwrap();
        let token = "t".repeat(2000);
        for r in [
            format!("seg_{token}.ts"),
            format!("/a/{token}.ts"),
            format!("seg.ts?token={token}"),
            format!("http://cdn.example/{token}.ts"),
            format!("http://cdn.example:8080?{token}"),
            format!("urn:{token}"),
        ] {
            assert_eq!(join(&base, &r), base.join(&r), "{r}");
        }
    }
}
