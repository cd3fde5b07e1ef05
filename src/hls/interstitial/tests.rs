use super::*;
use crate::hls::cue::find_breaks;
use crate::hls::model::parse_media;

const OPTS: GuidedOptions<'static> = GuidedOptions {
    asset_list: "index.m3u8",
    default_avail: 30.0,
    vod_avail: 30.0,
};

/// A live window at `first` (10 segments of 2 s) with a 16 s break starting at
/// origin msn 23 (CUE-OUT, CONT, IN), as the demo origin writes it.
fn live(first: u64) -> String {
    let mut s = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n"
    );
    for k in first..first + 10 {
        match k {
            23 => s.push_str("#EXT-X-CUE-OUT:16.000\n"),
            24..=30 => s.push_str(&format!(
                "#EXT-X-CUE-OUT-CONT:ElapsedTime={}.000,Duration=16.000\n",
                (k - 23) * 2
            )),
            31 => s.push_str("#EXT-X-CUE-IN\n"),
            _ => {}
        }
        s.push_str(&format!("#EXTINF:2.000,\nseg{k}.ts\n"));
    }
    s
}

fn guided(text: &str) -> String {
    let pl = parse_media(text).unwrap();
    write_guided(&pl, &find_breaks(&pl), &OPTS)
}

fn dateranges(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("#EXT-X-DATERANGE"))
        .collect()
}

#[test]
fn live_break_becomes_one_interstitial_before_its_first_segment() {
    let out = guided(&live(20));
    let dr = dateranges(&out);
    assert_eq!(dr.len(), 1, "{out}");
    // 2000-01-01T00:00:00Z + 23 × 2 s.
    assert_eq!(
        dr[0],
        "#EXT-X-DATERANGE:ID=\"sp-msn-23\",CLASS=\"com.apple.hls.interstitial\",START-DATE=\"2000-01-01T00:00:46.000Z\",DURATION=16,X-ASSET-LIST=\"index.m3u8?sgai.break=6d736e2d3233&sgai.dur=16\",X-RESUME-OFFSET=16,X-RESTRICT=\"SKIP,JUMP\",X-SNAP=\"OUT,IN\""
    );
    // Placed right before segment 23, which carries the same date.
    let lines: Vec<&str> = out.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("#EXT-X-DATERANGE"))
        .unwrap();
    assert_eq!(
        lines[i + 1],
        "#EXT-X-PROGRAM-DATE-TIME:2000-01-01T00:00:46.000Z"
    );
    assert_eq!(lines[i + 2], "#EXT-X-CUE-OUT:16.000");
    assert_eq!(lines[i + 4], "seg23.ts");
}

#[test]
fn the_origin_lines_all_stay_in_order() {
    let text = live(20);
    let out = guided(&text);
    let kept: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("#EXT-X-DATERANGE") && !l.starts_with(PROGRAM_DATE_TIME))
        .collect();
    assert_eq!(kept, text.lines().collect::<Vec<_>>());
    // Every segment (the break's content too) has a date, one target duration apart.
    let dates: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix(PROGRAM_DATE_TIME))
        .collect();
    assert_eq!(dates.len(), 10);
    assert_eq!(dates[0], "2000-01-01T00:00:40.000Z");
    assert_eq!(dates[9], "2000-01-01T00:00:58.000Z");
}

#[test]
fn ids_and_dates_are_stable_across_refreshes_and_instances() {
    // The break seen from three windows (its start visible in each): the same
    // DATERANGE, byte for byte, and the same date for the same segment.
    let a = guided(&live(20));
    let b = guided(&live(21));
    let c = guided(&live(23));
    assert_eq!(dateranges(&a), dateranges(&b));
    assert_eq!(dateranges(&a), dateranges(&c));
    let date_of = |out: &str, seg: &str| -> String {
        let lines: Vec<&str> = out.lines().collect();
        let i = lines.iter().position(|l| *l == seg).unwrap();
        lines[..i]
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix(PROGRAM_DATE_TIME))
            .unwrap()
            .to_string()
    };
    assert_eq!(date_of(&a, "seg25.ts"), date_of(&c, "seg25.ts"));
    // Another "instance": the same input gives the same bytes.
    assert_eq!(guided(&live(21)), b);
}

#[test]
fn a_break_whose_start_left_the_window_gets_no_interstitial() {
    let out = guided(&live(24));
    assert!(dateranges(&out).is_empty(), "{out}");
}

#[test]
fn origin_dates_are_used_and_not_added() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:100\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-12-03T15:00:00.000+01:00\n#EXTINF:6.006,\na.ts\n\
        #EXT-X-CUE-OUT:30\n#EXTINF:6.006,\nb.ts\n#EXTINF:6.006,\nc.ts\n";
    let out = guided(text);
    assert_eq!(out.matches(PROGRAM_DATE_TIME).count(), 1, "{out}");
    let dr = dateranges(&out);
    assert_eq!(dr.len(), 1);
    // 14:00:00 UTC + 6.006 s.
    assert!(
        dr[0].contains("START-DATE=\"2026-12-03T14:00:06.006Z\",DURATION=30,"),
        "{}",
        dr[0]
    );
}

#[test]
fn vod_pre_mid_and_post_rolls() {
    let mut text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n".to_string();
    for k in 0..6 {
        if k == 0 || k == 3 {
            text.push_str("#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n");
        }
        text.push_str(&format!("#EXTINF:2.5,\ns{k}.ts\n"));
    }
    text.push_str("#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n#EXT-X-ENDLIST\n");
    let out = guided(&text);
    let dr = dateranges(&out);
    assert_eq!(dr.len(), 3, "{out}");
    assert!(dr[0].contains("START-DATE=\"2000-01-01T00:00:00.000Z\""));
    assert!(dr[0].ends_with("X-RESUME-OFFSET=0,X-RESTRICT=\"SKIP,JUMP\",CUE=\"PRE\""));
    assert!(dr[1].contains("START-DATE=\"2000-01-01T00:00:07.500Z\""));
    assert!(dr[1].ends_with("X-RESUME-OFFSET=0,X-RESTRICT=\"SKIP,JUMP\""));
    assert!(dr[2].contains("START-DATE=\"2000-01-01T00:00:15.000Z\""));
    assert!(dr[2].ends_with("CUE=\"POST\""));
    for d in &dr {
        assert!(!d.contains("X-SNAP"), "VOD has no snap: {d}");
        assert!(d.contains("DURATION=30,"), "{d}");
    }
    // The post-roll is written before the last segment (dated by it).
    let lines: Vec<&str> = out.lines().collect();
    let post = lines
        .iter()
        .position(|l| l.contains("CUE=\"POST\""))
        .unwrap();
    assert_eq!(lines[post + 3], "s5.ts");
    assert!(out.ends_with("#EXT-X-ENDLIST\n"));
}

#[test]
fn dates_parse_and_format() {
    assert_eq!(format_date_ms(GUIDED_EPOCH_MS), "2000-01-01T00:00:00.000Z");
    assert_eq!(parse_date_ms("2000-01-01T00:00:00Z"), Some(GUIDED_EPOCH_MS));
    assert_eq!(
        parse_date_ms("2000-01-01T01:00:00.250+01:00"),
        Some(GUIDED_EPOCH_MS + 250)
    );
    assert_eq!(
        parse_date_ms("1999-12-31T23:30:00-0030"),
        Some(GUIDED_EPOCH_MS)
    );
    for ms in [0, GUIDED_EPOCH_MS, 1_796_000_123_456] {
        assert_eq!(parse_date_ms(&format_date_ms(ms)), Some(ms));
    }
    for bad in [
        "",
        "2000-01-01",
        "2000-13-01T00:00:00Z",
        "x-01-01T00:00Z",
        "2000-01-01T00:00:00+1",
    ] {
        assert_eq!(parse_date_ms(bad), None, "{bad}");
    }
}
