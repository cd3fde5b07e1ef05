//! A simulated live origin and ad renditions for splice tests, shared by the
//! crate's own tests (`stitch::plan`) and the integration tests.

use std::collections::HashMap;
use std::sync::Arc;

use splicepoint::breaks::AdBreak;
use splicepoint::hls::MediaPlaylist;
use splicepoint::stitch::{effective_break_ids, AdRendition, AdSegment, BreakFill, BreakRecord};

/// An ad (or slate) rendition: `durations`, fMP4 (with EXT-X-MAP) or TS.
pub fn rendition(name: &str, durations: &[f64], fmp4: bool) -> Arc<AdRendition> {
    Arc::new(AdRendition {
        segments: durations
            .iter()
            .enumerate()
            .map(|(i, d)| AdSegment {
                uri: format!(
                    "https://ads.example/{name}/{i}.{}",
                    if fmp4 { "m4s" } else { "ts" }
                ),
                duration: *d,
                extinf: format!("#EXTINF:{d:.3},"),
                discontinuity: false,
                lines: if fmp4 && i == 0 {
                    vec![format!(
                        "#EXT-X-MAP:URI=\"https://ads.example/{name}/init.mp4\""
                    )]
                } else {
                    Vec::new()
                },
            })
            .collect(),
    })
}

/// A live origin: segment k lasts 6 s or 5.005 s (or whole seconds); breaks are
/// (first segment, segments, announced duration).
#[derive(Debug, Clone)]
pub struct Origin {
    pub window: u64,
    pub breaks: Vec<(u64, u64, f64)>,
    pub discontinuities: Vec<u64>,
    /// `None`: no EXT-X-VERSION tag.
    pub version: Option<u64>,
    pub integer_durations: bool,
    pub encrypted: bool,
}

impl Origin {
    fn dur(&self, k: u64) -> String {
        match (self.integer_durations, k % 7 == 3) {
            (true, _) => "6".into(),
            (false, true) => "5.005".into(),
            (false, false) => "6.000".into(),
        }
    }

    pub fn playlist(&self, last: u64, ended: bool) -> String {
        let first = last.saturating_sub(self.window - 1);
        let dseq = self.discontinuities.iter().filter(|d| **d < first).count();
        let mut s = String::from("#EXTM3U\n");
        if let Some(v) = self.version {
            s.push_str(&format!("#EXT-X-VERSION:{v}\n"));
        }
        s.push_str(&format!(
            "#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:{first}\n#EXT-X-DISCONTINUITY-SEQUENCE:{dseq}\n"
        ));
        if self.encrypted {
            s.push_str("#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k\"\n");
        }
        for k in first..=last {
            if self.discontinuities.contains(&k) {
                s.push_str("#EXT-X-DISCONTINUITY\n");
            }
            for &(start, len, d) in &self.breaks {
                if k == start {
                    s.push_str(&format!("#EXT-X-CUE-OUT:{d}\n"));
                } else if k > start && k < start + len {
                    s.push_str(&format!("#EXT-X-CUE-OUT-CONT:Duration={d}\n"));
                } else if k == start + len {
                    s.push_str("#EXT-X-CUE-IN\n");
                }
            }
            s.push_str(&format!(
                "#EXTINF:{},\nhttp://origin.example/seg{k}.ts\n",
                self.dur(k)
            ));
        }
        if ended {
            s.push_str("#EXT-X-ENDLIST\n");
        }
        s
    }
}

pub fn fills_for(
    pl: &MediaPlaylist,
    breaks: &[AdBreak],
    records: &[BreakRecord],
    ads: &[Arc<AdRendition>],
    slate: Option<Arc<AdRendition>>,
) -> HashMap<String, BreakFill> {
    effective_break_ids(pl, breaks, records)
        .into_iter()
        .zip(breaks)
        .filter_map(|(id, b)| {
            let id = id?;
            let planned = records
                .iter()
                .find(|r| r.break_id == id)
                .map(|r| r.planned)
                .or(b.duration)
                .unwrap_or(30.0);
            Some((
                id,
                BreakFill {
                    ads: ads.to_vec(),
                    slate: slate.clone(),
                    planned,
                    ..Default::default()
                },
            ))
        })
        .collect()
}
