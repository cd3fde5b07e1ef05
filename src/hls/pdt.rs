//! `EXT-X-PROGRAM-DATE-TIME` (RFC 8216 §4.3.2.6): the wall clock of a media
//! playlist's segments, read once per splice so that ad segments can carry the
//! clock of the content they replace and the content after a break resumes on
//! its own.
//!
//! Pure. Times are milliseconds since the Unix epoch ([`UnixMillis`]); they are
//! written back in UTC with milliseconds (`2024-01-01T00:00:00.000Z`), the same
//! instant whatever offset the origin wrote.

use super::model::{MediaPlaylist, PROGRAM_DATE_TIME};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// This instant moved by `secs` seconds (rounded to the millisecond).
    pub fn plus_secs(self, secs: f64) -> Self {
        Self(self.0.saturating_add((secs * 1000.0).round() as i64))
    }
}

/// Parse an ISO 8601 / RFC 3339 date-time as HLS writes it
/// (`YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm|±hhmm)`). `None` when it is not one.
pub fn parse_date_time(s: &str) -> Option<UnixMillis> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-');
    let (y, m, day): (i64, i64, i64) = (
        d.next().filter(|y| y.len() == 4)?.parse().ok()?,
        d.next().filter(|v| v.len() == 2)?.parse().ok()?,
        d.next().filter(|v| v.len() == 2)?.parse().ok()?,
    );
    // Split the zone off: `Z`, or the last `+`/`-`.
    let (clock, offset_min) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0i64)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (c, z) = time.split_at(at);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let z = z[1..].replace(':', "");
        if z.len() != 4 || !z.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (hh, mm): (i64, i64) = (z[..2].parse().ok()?, z[2..].parse().ok()?);
        (c, sign * (hh * 60 + mm))
    };
    let mut t = clock.splitn(3, ':');
    let hh: i64 = t.next().filter(|v| v.len() == 2)?.parse().ok()?;
    let mm: i64 = t.next().filter(|v| v.len() == 2)?.parse().ok()?;
    let sec = t.next()?;
    let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
    if whole.len() != 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ss: i64 = whole.parse().ok()?;
    // Milliseconds from the first three fraction digits (more are ignored).
    let ms = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let days = days_from_civil(y, m, day);
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss - offset_min * 60;
    Some(UnixMillis(secs * 1000 + ms))
}

/// Write an instant as `YYYY-MM-DDThh:mm:ss.fffZ`.
pub fn format_date_time(t: UnixMillis) -> String {
    let ms = t.0.rem_euclid(1000);
    let secs = t.0.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The `EXT-X-PROGRAM-DATE-TIME` line of an instant.
pub fn pdt_line(t: UnixMillis) -> String {
    format!("{PROGRAM_DATE_TIME}{}", format_date_time(t))
}

/// The wall clock of each segment of a playlist: its own tag's time, else the
/// previous segment's plus that one's duration (RFC 8216 §4.3.2.6), else (before
/// the first tag) the next one's minus this one's duration. `None` when the
/// playlist carries no readable `EXT-X-PROGRAM-DATE-TIME`, so that playlists
/// without one cost a scan of flags only.
pub fn segment_clock(pl: &MediaPlaylist) -> Option<Vec<Option<UnixMillis>>> {
    if !pl.segments.iter().any(|s| s.has_pdt) {
        return None;
    }
    let own = |i: usize| -> Option<UnixMillis> {
        pl.segments[i]
            .lines
            .iter()
            .rev()
            .find_map(|l| l.trim().strip_prefix(PROGRAM_DATE_TIME))
            .and_then(parse_date_time)
    };
    let mut out: Vec<Option<UnixMillis>> = Vec::with_capacity(pl.segments.len());
    let mut prev: Option<(UnixMillis, f64)> = None;
    for (i, s) in pl.segments.iter().enumerate() {
        let t = if s.has_pdt { own(i) } else { None }.or_else(|| prev.map(|(t, d)| t.plus_secs(d)));
        out.push(t);
        prev = t.map(|t| (t, s.duration));
    }
    let first = out.iter().position(Option::is_some)?;
    for i in (0..first).rev() {
        out[i] = out[i + 1].map(|t| t.plus_secs(-pl.segments[i].duration));
    }
    Some(out)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// civil-date algorithms, public domain).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) `days` after 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::model::parse_media;

    #[test]
    fn parses_the_forms_hls_writes() {
        let z = parse_date_time("2024-03-01T12:00:05.250Z").unwrap();
        assert_eq!(format_date_time(z), "2024-03-01T12:00:05.250Z");
        assert_eq!(parse_date_time("2024-03-01T14:00:05.25+02:00"), Some(z));
        assert_eq!(parse_date_time("2024-03-01T07:00:05.250-0500"), Some(z));
        assert_eq!(
            parse_date_time("1970-01-01T00:00:01Z"),
            Some(UnixMillis(1000))
        );
        // Leap day and year end.
        let t = parse_date_time("2024-02-29T23:59:59.999Z").unwrap();
        assert_eq!(
            format_date_time(t.plus_secs(0.001)),
            "2024-03-01T00:00:00.000Z"
        );
        for bad in [
            "",
            "2024-03-01",
            "2024-13-01T00:00:00Z",
            "2024-03-01T25:00:00Z",
            "2024-03-01T00:00:00",
            "2024-03-01T00:00:00+2",
            "24-03-01T00:00:00Z",
            "2024-03-01T00:00:0xZ",
        ] {
            assert_eq!(parse_date_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn clock_runs_on_from_each_tag_and_back_before_the_first() {
        let pl = parse_media(
            "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:4.0,\na.ts\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:10.000Z\n#EXTINF:6.0,\nb.ts\n#EXTINF:6.006,\nc.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T01:00:00Z\n#EXTINF:6.0,\nd.ts\n",
        )
        .unwrap();
        let clock: Vec<String> = segment_clock(&pl)
            .unwrap()
            .into_iter()
            .map(|t| format_date_time(t.unwrap()))
            .collect();
        assert_eq!(
            clock,
            [
                "2024-01-01T00:00:06.000Z",
                "2024-01-01T00:00:10.000Z",
                "2024-01-01T00:00:16.000Z",
                "2024-01-01T01:00:00.000Z",
            ]
        );
        let none = parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:4.0,\na.ts\n").unwrap();
        assert_eq!(segment_clock(&none), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(s in "\\PC{0,40}", ms in -62_000_000_000_000i64..253_000_000_000_000) {
            let _ = parse_date_time(&s);
            let t = UnixMillis(ms);
            proptest::prop_assert_eq!(parse_date_time(&format_date_time(t)), Some(t));
        }
    }
}
