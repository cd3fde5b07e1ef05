use super::*;
use crate::hls::model::parse_media;

fn breaks_of(text: &str) -> Vec<AdBreak> {
    find_breaks(&parse_media(text).unwrap())
}

#[test]
fn reads_every_cue_out_form() {
    let out = |l: &str| match parse_cue(l) {
        Some(CueMarker::Out { duration, .. }) => duration,
        other => panic!("{l}: {other:?}"),
    };
    assert_eq!(out("#EXT-X-CUE-OUT:30"), Some(30.0));
    assert_eq!(out("#EXT-X-CUE-OUT:20.020"), Some(20.02));
    assert_eq!(out("#EXT-X-CUE-OUT:DURATION=30"), Some(30.0));
    assert_eq!(out("#EXT-X-CUE-OUT"), None);
    assert_eq!(
        out("#EXT-X-CUE-OUT:DURATION=15,ID=7,CUE=\"/DAl\""),
        Some(15.0)
    );
    assert_eq!(parse_cue("#EXT-X-CUE-OUT:abc"), None);
    assert_eq!(parse_cue("#EXT-X-CUE-OUT:-5"), None);
    assert_eq!(parse_cue("#EXT-X-CUE-OUTX"), None);
    assert_eq!(parse_cue("#EXT-X-CUE-IN"), Some(CueMarker::In { id: None }));
    assert_eq!(
        parse_cue("#EXT-X-CUE-OUT-CONT:ElapsedTime=7.960,Duration=50,SCTE35=/DAl"),
        Some(CueMarker::Cont {
            elapsed: Some(7.96),
            duration: Some(50.0),
            dialect: Dialect::CueOut
        })
    );
    assert_eq!(
        parse_cue("#EXT-X-CUE-OUT-CONT:12/30"),
        Some(CueMarker::Cont {
            elapsed: Some(12.0),
            duration: Some(30.0),
            dialect: Dialect::CueOut
        })
    );
}

#[test]
fn reads_daterange_markers() {
    let l = "#EXT-X-DATERANGE:ID=\"splice-1\",START-DATE=\"2024-01-01T00:00:00Z\",PLANNED-DURATION=59.993,SCTE35-OUT=0xFC002F";
    match parse_cue(l) {
        Some(CueMarker::Out { duration, id, .. }) => {
            assert_eq!(duration, Some(59.993));
            assert_eq!(id.as_deref(), Some("splice-1"));
        }
        other => panic!("{other:?}"),
    }
    let l = "#EXT-X-DATERANGE:ID=\"splice-1\",START-DATE=\"2024-01-01T00:01:00Z\",SCTE35-IN=0xFC";
    assert_eq!(
        parse_cue(l),
        Some(CueMarker::In {
            id: Some("splice-1".into())
        })
    );
    assert_eq!(
        parse_cue("#EXT-X-DATERANGE:ID=\"x\",START-DATE=\"2024-01-01T00:00:00Z\",X-AD=1"),
        None
    );
}

const LIVE: &str = "#EXTM3U
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:10
#EXTINF:6.0,
a.ts
#EXT-X-CUE-OUT:12
#EXTINF:6.0,
b.ts
#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=12
#EXTINF:6.0,
c.ts
#EXT-X-CUE-IN
#EXTINF:6.0,
d.ts
";

#[test]
fn finds_a_closed_break() {
    let b = breaks_of(LIVE);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].id, "msn-11");
    assert_eq!(b[0].start, BreakStart::At(1));
    assert_eq!(b[0].end, Some(3));
    assert_eq!(b[0].duration, Some(12.0));
    assert!(!b[0].insert);
}

#[test]
fn early_cue_in_ends_the_break() {
    let text = LIVE.replace(
        "#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=12\n",
        "#EXT-X-CUE-IN\n",
    );
    let b = breaks_of(&text);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].end, Some(2));
}

#[test]
fn duration_closes_a_break_without_cue_in() {
    let text = LIVE.replace("#EXT-X-CUE-IN\n", "");
    let b = breaks_of(&text);
    assert_eq!(b[0].end, Some(3));
}

#[test]
fn open_break_at_live_edge() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\na.ts\n#EXT-X-CUE-OUT\n#EXTINF:6.0,\nb.ts\n";
    let b = breaks_of(text);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].end, None);
    assert_eq!(b[0].duration, None);
}

#[test]
fn bare_cue_out_takes_its_duration_from_cue_in() {
    let text = LIVE
        .replace("#EXT-X-CUE-OUT:12", "#EXT-X-CUE-OUT")
        .replace("#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=12\n", "");
    let b = breaks_of(&text);
    assert_eq!(b[0].duration, Some(12.0));
}

#[test]
fn window_opening_mid_break() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:12\n#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=12\n#EXTINF:6.0,\nc.ts\n#EXT-X-CUE-IN\n#EXTINF:6.0,\nd.ts\n";
    let b = breaks_of(text);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].start, BreakStart::BeforeWindow);
    assert_eq!(b[0].end, Some(1));
    assert_eq!(b[0].elapsed_at_window_start, Some(6.0));
}

#[test]
fn vod_insertion_points() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n#EXTINF:6.0,\na.ts\n#EXT-X-CUE-OUT:0\n#EXTINF:6.0,\nb.ts\n#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n#EXT-X-ENDLIST\n";
    let b = breaks_of(text);
    assert_eq!(b.len(), 3);
    assert!(b.iter().all(|b| b.insert));
    assert_eq!(
        b.iter().map(|b| b.start).collect::<Vec<_>>(),
        vec![BreakStart::At(0), BreakStart::At(1), BreakStart::At(2)]
    );
}

#[test]
fn daterange_break_with_matching_in() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\na.ts\n#EXT-X-DATERANGE:ID=\"b1\",START-DATE=\"2024-01-01T00:00:06Z\",SCTE35-OUT=0xFC\n#EXTINF:6.0,\nb.ts\n#EXT-X-DATERANGE:ID=\"other\",START-DATE=\"2024-01-01T00:00:12Z\",SCTE35-IN=0xFC\n#EXTINF:6.0,\nc.ts\n#EXT-X-DATERANGE:ID=\"b1\",START-DATE=\"2024-01-01T00:00:18Z\",SCTE35-IN=0xFC\n#EXTINF:6.0,\nd.ts\n";
    let b = breaks_of(text);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].id, "id-b1");
    assert_eq!(b[0].end, Some(3));
    assert_eq!(b[0].dialect, Dialect::DateRange);
}

#[test]
fn malformed_marker_is_content() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-CUE-OUT:banana\n#EXTINF:6.0,\na.ts\n";
    assert!(breaks_of(text).is_empty());
}
