//! HLS attribute lists (RFC 8216 §4.2): `KEY=VALUE,KEY="quoted, value"`.
//!
//! Pure. Used to read the attributes we act on; tags are always written back from
//! their original text, so nothing here has to round-trip.

/// Iterate the `(name, value)` pairs of an attribute list. Quoted values are returned
/// without their quotes. Malformed pieces (no `=`) are skipped, never an error.
pub fn attributes(list: &str) -> impl Iterator<Item = (&str, &str)> {
    AttrIter { rest: list }
}

/// The value of attribute `name` in `list`, quotes removed.
pub fn attribute<'a>(list: &'a str, name: &str) -> Option<&'a str> {
    attributes(list)
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// `RESOLUTION=WxH` of `list`, as (width, height).
pub fn resolution<T: std::str::FromStr>(list: &str) -> Option<(T, T)> {
    let (w, h) = attribute(list, "RESOLUTION")?.split_once(['x', 'X'])?;
    Some((w.parse().ok()?, h.parse().ok()?))
}

struct AttrIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let s = self.rest.trim_start_matches([',', ' ', '\t']);
            if s.is_empty() {
                return None;
            }
            let Some(eq) = s.find('=') else {
                self.rest = "";
                return None;
            };
            let comma = s.find(',');
            if let Some(c) = comma {
                if c < eq {
                    // A piece without `=`: skip it.
                    self.rest = &s[c + 1..];
                    continue;
                }
            }
            let key = s[..eq].trim();
            let after = &s[eq + 1..];
            if let Some(quoted) = after.strip_prefix('"') {
                match quoted.find('"') {
                    Some(end) => {
                        self.rest = &quoted[end + 1..];
                        return Some((key, &quoted[..end]));
                    }
                    None => {
                        self.rest = "";
                        return Some((key, quoted));
                    }
                }
            }
            let end = after.find(',').unwrap_or(after.len());
            self.rest = &after[end..];
            return Some((key, after[..end].trim()));
        }
    }
}

/// Replace the value of the quoted `URI="..."` attribute in a tag line with `f(old)`.
/// Returns `None` when the line has no URI attribute. Everything else is kept verbatim.
pub fn replace_uri_attribute(line: &str, f: impl FnOnce(&str) -> String) -> Option<String> {
    let colon = line.find(':')?;
    let mut search = colon + 1;
    while let Some(pos) = line[search..].find("URI=\"") {
        let start = search + pos;
        let prev = line[..start].chars().last();
        // Must be a whole attribute name (preceded by ':' or ','), not e.g. `SERVER-URI`.
        if matches!(prev, Some(':') | Some(',') | Some(' ')) {
            let value_start = start + 5;
            let value_end = value_start + line[value_start..].find('"')?;
            let mut out = String::with_capacity(line.len() + 32);
            out.push_str(&line[..value_start]);
            out.push_str(&f(&line[value_start..value_end]));
            out.push_str(&line[value_end..]);
            return Some(out);
        }
        search = start + 5;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_and_plain_values() {
        let list = r#"BANDWIDTH=1280000,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=640x360"#;
        let all: Vec<_> = attributes(list).collect();
        assert_eq!(
            all,
            vec![
                ("BANDWIDTH", "1280000"),
                ("CODECS", "avc1.4d401e,mp4a.40.2"),
                ("RESOLUTION", "640x360")
            ]
        );
        assert_eq!(attribute(list, "codecs"), Some("avc1.4d401e,mp4a.40.2"));
        assert_eq!(attribute(list, "FRAME-RATE"), None);
    }

    #[test]
    fn tolerates_garbage() {
        assert_eq!(attributes("junk,A=1").collect::<Vec<_>>(), vec![("A", "1")]);
        assert_eq!(
            attributes("A=\"open").collect::<Vec<_>>(),
            vec![("A", "open")]
        );
        assert_eq!(attributes("").count(), 0);
        assert_eq!(attributes("noequals").count(), 0);
    }

    #[test]
    fn replaces_only_the_uri_attribute() {
        let line = r#"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",URI="audio/en.m3u8",NAME="en""#;
        let out = replace_uri_attribute(line, |u| format!("/s/{u}")).unwrap();
        assert_eq!(
            out,
            r#"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",URI="/s/audio/en.m3u8",NAME="en""#
        );
        let steering = r#"#EXT-X-CONTENT-STEERING:SERVER-URI="x.json""#;
        assert_eq!(replace_uri_attribute(steering, |u| u.to_string()), None);
    }
}
