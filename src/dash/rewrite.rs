//! The DASH splice: content Periods split at their breaks, one ad Period per ad
//! (and slate Periods for leftover time), content resuming in a Period whose
//! `start` and `presentationTimeOffset` keep the timeline continuous.
//!
//! Pure: a parsed MPD, its breaks and the ads for them in, a new document out.
//!
//! Live (`type="dynamic"`): ads replace the break; the content resumes where the
//! ads end (slate first, when configured, up to the avail), so the presentation
//! timeline never moves and every Period keeps its id and start on every refresh.
//! VOD (`static`): ads are inserted at the events (zero-duration events, or a
//! pre-roll when there are none) and later Periods move back by the ads' duration.
//! Ad Period ids are `{period id}-{break id}-ad{n}`; content resumes in
//! `{period id}-{break id}-resume`.

use std::collections::HashMap;
use std::sync::Arc;

use url::Url;

use super::mpd::{format_duration, is_dynamic, parse_duration, period_starts, DashBreak};
use super::xml::{escape_into, write_element, write_node, Document, Element, Node};
use crate::breaks::DURATION_TOLERANCE;

/// One ad (or the slate), ready to become a Period.
#[derive(Debug, Clone, PartialEq)]
pub struct DashAd {
    /// The ad MPD's first Period (AdaptationSets with their segment addressing).
    pub period: Arc<Element>,
    /// Absolute base URL of the ad's segments (ad origin or ad CDN prefix).
    pub base_url: String,
    /// Duration, seconds.
    pub duration: f64,
}

/// What fills one break.
#[derive(Debug, Clone, Default)]
pub struct DashFill {
    /// The decided ads, in order.
    pub ads: Vec<Arc<DashAd>>,
    /// Each ad's number in its decision (`{break}-ad{n}` Period ids, ad starts), when
    /// some of the decision's ads are not played; empty: 0, 1, 2...
    pub numbers: Vec<usize>,
    /// Slate for leftover time (live).
    pub slate: Option<Arc<DashAd>>,
    /// Avail duration, seconds.
    pub planned: f64,
    /// Played before the ads (only when the break has ads).
    pub bumper_start: Option<Arc<DashAd>>,
    /// Played after the ads (only when the break has ads).
    pub bumper_end: Option<Arc<DashAd>>,
    /// Personalization threshold, seconds: a longer unfilled remainder plays the
    /// content instead of slate.
    pub slate_threshold: Option<f64>,
}

/// Per-request values.
#[derive(Debug, Clone, Default)]
pub struct MpdContext {
    /// Absolute BaseURL for content: the origin MPD's directory or the content prefix.
    pub content_base: String,
    /// The session's MPD URL, written to `<Location>` for live.
    pub location: Option<String>,
    /// `publishTime` to write for live (xs:dateTime).
    pub publish_time: Option<String>,
}

/// Prepare an ad (or slate) MPD: its first Period, its absolute base URL (moved
/// under `prefix` when set), its duration. `None` when it has no Period or no
/// duration.
pub fn prepare_ad(doc: &Document, url: &Url, prefix: Option<&str>) -> Option<DashAd> {
    let period = doc.root.child("Period")?.clone();
    let mut base = url.clone();
    for b in doc
        .root
        .children_named("BaseURL")
        .take(1)
        .chain(period.children_named("BaseURL").take(1))
    {
        base = crate::urls::join(&base, &b.text()).ok()?;
    }
    let mut base = base.join("./").ok()?.to_string();
    if let Some(prefix) = prefix {
        if let Ok(u) = crate::urls::parse(&base) {
            base = format!("{}{}", prefix.trim_end_matches('/'), u.path());
        }
    }
    let duration = period
        .attr("duration")
        .or_else(|| doc.root.attr("mediaPresentationDuration"))
        .and_then(|d| parse_duration(&d))
        .filter(|d| *d > 0.0)?;
    let mut period = period;
    period.retain_elements(|e| e.local_name() != "BaseURL");
    Some(DashAd {
        period: Arc::new(period),
        base_url: base,
        duration,
    })
}

/// The content type of an AdaptationSet: `video`, `audio`, `text`, or other.
fn content_type(set: &Element) -> String {
    if let Some(t) = set.attr("contentType") {
        return t;
    }
    let mime = set
        .attr("mimeType")
        .or_else(|| set.child("Representation").and_then(|r| r.attr("mimeType")))
        .unwrap_or_default();
    let codecs = set
        .attr("codecs")
        .or_else(|| set.child("Representation").and_then(|r| r.attr("codecs")))
        .unwrap_or_default();
    if mime.starts_with("video") {
        "video".into()
    } else if mime.starts_with("audio") {
        "audio".into()
    } else if mime.starts_with("text") || codecs.starts_with("stpp") || codecs.starts_with("wvtt") {
        "text".into()
    } else {
        mime
    }
}

fn num(e: &Element, name: &str) -> Option<f64> {
    e.attr(name).and_then(|v| v.trim().parse().ok())
}

/// The AdaptationSets of `ad` that mirror the content Period's, each with the
/// content set's id (and language), and for video only the ad representations
/// nearest to each content representation (`None`: all of them).
fn matched_sets<'a>(
    content: &'a Element,
    ad: &'a DashAd,
) -> impl Iterator<Item = (&'a Element, &'a Element, Option<Vec<bool>>)> + 'a {
    content
        .children_named("AdaptationSet")
        .filter_map(move |cset| {
            let ctype = content_type(cset);
            let aset = ad
                .period
                .children_named("AdaptationSet")
                .find(|a| content_type(a) == ctype)?;
            let keep = (ctype == "video").then(|| nearest(cset, aset)).flatten();
            Some((cset, aset, keep))
        })
}

/// For each representation of `aset`, whether it is the nearest (height, then
/// bandwidth ratio) to one of `cset`'s; `None` when none is.
fn nearest(cset: &Element, aset: &Element) -> Option<Vec<bool>> {
    let ads: Vec<(f64, f64)> = aset
        .children_named("Representation")
        .map(|r| {
            (
                num(r, "height").unwrap_or(0.0),
                num(r, "bandwidth").unwrap_or(0.0),
            )
        })
        .collect();
    let mut keep = vec![false; ads.len()];
    for crep in cset.children_named("Representation") {
        let (h, bw) = (
            num(crep, "height").unwrap_or(0.0),
            num(crep, "bandwidth").unwrap_or(1.0),
        );
        let best = ads
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| {
                let score =
                    |x: &(f64, f64)| ((x.0 - h).abs(), (x.1.max(1.0) / bw.max(1.0)).ln().abs());
                score(a)
                    .partial_cmp(&score(b))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .map(|(i, _)| i);
        if let Some(i) = best {
            keep[i] = true;
        }
    }
    keep.iter().any(|k| *k).then_some(keep)
}

/// Write an ad Period: the content Period's name, a BaseURL, the matched sets.
fn write_ad_period(out: &mut String, content: &Element, ad: &DashAd, at: &Placed, indent: &str) {
    let inner = format!("{indent}  ");
    let prefix = content.name.strip_suffix("Period").unwrap_or("");
    out.push('<');
    out.push_str(&content.name);
    push_attr(out, "id", &at.id);
    push_attr(out, "start", &format_duration(at.start));
    push_attr(out, "duration", &format_duration(ad.duration));
    out.push('>');
    out.push_str(&inner);
    out.push('<');
    out.push_str(prefix);
    out.push_str("BaseURL>");
    escape_into(out, &ad.base_url);
    out.push_str("</");
    out.push_str(prefix);
    out.push_str("BaseURL>");
    for (cset, aset, keep) in matched_sets(content, ad) {
        out.push_str(&inner);
        out.push('<');
        out.push_str(&aset.name);
        // The ad set's attributes, its id replaced by the content set's (written
        // last) and its language by the content's.
        let lang = cset.attr("lang");
        let mut lang_done = false;
        for (k, v) in &aset.attrs {
            match (k.as_str(), &lang) {
                ("id", _) => {}
                ("lang", Some(l)) => {
                    lang_done = true;
                    push_attr(out, k, l);
                }
                _ => push_raw_attr(out, k, v),
            }
        }
        if let Some(id) = cset.attr("id") {
            push_attr(out, "id", &id);
        }
        if let (Some(l), false) = (&lang, lang_done) {
            push_attr(out, "lang", l);
        }
        let mut i = 0;
        // The content set's Label/Accessibility/Role replace the ad's.
        let sep = format!("{inner}  ");
        let mut desc = descriptors::Descriptors::of(cset, aset, &sep);
        let replacing = desc.is_some();
        write_children(
            out,
            &aset.name,
            &aset.children,
            |e| {
                if e.local_name() != "Representation" {
                    return !(replacing && descriptors::is_track_descriptor(e));
                }
                i += 1;
                keep.as_ref().is_none_or(|k| k[i - 1])
            },
            |out, _, e| {
                if let Some(d) = desc.as_mut() {
                    d.before(out, e);
                }
                write_element(out, e)
            },
        );
    }
    out.push_str(indent);
    out.push_str("</");
    out.push_str(&content.name);
    out.push('>');
}

/// Segment timing inherited down the Period, AdaptationSet, Representation levels.
#[derive(Clone, Copy)]
struct Timing {
    timescale: f64,
    pto: f64,
    start_number: f64,
}

/// The shifted `(startNumber, presentationTimeOffset)` of each SegmentTemplate,
/// SegmentBase or SegmentList child of `e` (by child index), so that
/// period-relative time 0 is `offset` seconds into the original period (`startNumber`
/// only for `$Number$` templates without a timeline), and the timing the children
/// inherit.
fn shifted_segments(
    e: &Element,
    offset: f64,
    mut t: Timing,
) -> (Vec<(usize, Option<u64>, u64)>, Timing) {
    let mut shifted = Vec::new();
    for (i, n) in e.children.iter().enumerate() {
        let Node::Element(child) = n else { continue };
        let name = child.local_name();
        if !matches!(name, "SegmentTemplate" | "SegmentBase" | "SegmentList") {
            continue;
        }
        t.timescale = num(child, "timescale")
            .filter(|t| *t > 0.0)
            .unwrap_or(t.timescale);
        t.pto = num(child, "presentationTimeOffset").unwrap_or(t.pto);
        t.start_number = num(child, "startNumber").unwrap_or(t.start_number);
        let has_timeline = child.child("SegmentTimeline").is_some();
        let mut delta = (offset * t.timescale).round();
        let mut start_number = None;
        if let (Some(d), false, "SegmentTemplate") = (num(child, "duration"), has_timeline, name) {
            if d > 0.0 {
                let k = (offset * t.timescale / d).round();
                delta = k * d;
                start_number = Some((t.start_number + k) as u64);
            }
        }
        shifted.push((i, start_number, (t.pto + delta) as u64));
    }
    (shifted, t)
}

/// Write a content Period (or, below it, an AdaptationSet or Representation) with
/// its segment addressing shifted by `offset` seconds; `attrs` replaces (or, with
/// `None`, removes) attributes of `e` itself; `drop_events` leaves out its
/// EventStreams.
fn write_shifted(
    out: &mut String,
    e: &Element,
    attrs: &[(&str, Option<&str>)],
    offset: f64,
    timing: Timing,
    drop_events: bool,
) {
    out.push('<');
    out.push_str(&e.name);
    push_patched_attrs(out, &e.attrs, attrs);
    let (shifted, inherited) = if offset > 0.0 {
        shifted_segments(e, offset, timing)
    } else {
        (Vec::new(), timing)
    };
    let mut next = shifted.iter().peekable();
    write_children(
        out,
        &e.name,
        &e.children,
        |c| !(drop_events && c.local_name() == "EventStream"),
        |out, index, c| {
            if let Some(&(_, start_number, pto)) = next.next_if(|s| s.0 == index) {
                let sn = start_number.map(|n| n.to_string());
                let pto = pto.to_string();
                let mut patch = Vec::with_capacity(2);
                if let Some(sn) = &sn {
                    patch.push(("startNumber", Some(sn.as_str())));
                }
                patch.push(("presentationTimeOffset", Some(pto.as_str())));
                write_patched(out, c, &patch);
            } else if offset > 0.0 && matches!(c.local_name(), "AdaptationSet" | "Representation") {
                write_shifted(out, c, &[], offset, inherited, false);
            } else {
                write_element(out, c);
            }
        },
    );
}
/// A Period of the output, placed on the presentation timeline.
struct Placed {
    id: String,
    /// Seconds.
    start: f64,
}

/// What an origin Period becomes.
enum Piece<'a> {
    /// The Period itself, its start moved (by earlier VOD insertions) when `Some`.
    Whole(Option<f64>),
    /// Part of its content: from `offset` seconds into it, for `duration` (to its
    /// end when `None`), EventStreams only in the `first` part.
    Content {
        at: Placed,
        offset: f64,
        duration: Option<f64>,
        first: bool,
    },
    /// An ad, bumper or slate Period; `ad` is `Some((break, n))` for the fill's
    /// n-th ad.
    Ad {
        at: Placed,
        fill: &'a DashAd,
        ad: Option<(&'a str, usize)>,
    },
}

/// A spliced MPD: its text, and where each decided ad starts.
#[derive(Debug, Clone, PartialEq)]
pub struct SplicedMpd {
    /// The MPD.
    pub text: String,
    /// (break id, index of the ad in its fill, Period start in seconds as written).
    pub ad_starts: Vec<(String, usize, f64)>,
}

/// Lay out the Periods: what each origin Period becomes, and how far VOD
/// insertions moved what follows them (seconds).
fn layout<'a>(
    doc: &'a Document,
    breaks: &'a [DashBreak],
    fills: &'a HashMap<String, DashFill>,
    dynamic: bool,
) -> (Vec<Vec<Piece<'a>>>, f64) {
    let starts = period_starts(doc);
    let mut shift = 0.0;
    let mut out = Vec::with_capacity(starts.len());
    for (period_index, el) in doc.root.children_named("Period").enumerate() {
        let (_, start, duration) =
            starts
                .get(period_index)
                .copied()
                .unwrap_or((period_index, 0.0, None));
        let pid = el.attr("id").unwrap_or_else(|| format!("p{period_index}"));
        let mine: Vec<(&DashBreak, &DashFill)> = breaks
            .iter()
            .filter(|b| b.period == period_index)
            .filter_map(|b| fills.get(&b.id).map(|f| (b, f)))
            .filter(|(_, f)| !f.ads.is_empty() || f.slate.is_some())
            .collect();
        if mine.is_empty() {
            out.push(vec![Piece::Whole((shift != 0.0).then_some(start + shift))]);
            continue;
        }
        let mut c = 0.0;
        let mut prev: Option<&str> = None;
        let mut first_piece = true;
        let mut pieces: Vec<Piece<'a>> = Vec::new();
        for (b, fill) in mine {
            let insert = !dynamic && b.duration.unwrap_or(0.0) <= 0.0;
            if !insert && b.at + 0.001 < c {
                // A break signalled inside one already laid out: the first one wins
                // (as in HLS), or the Periods would overlap.
                continue;
            }
            // A break never runs past the end of its Period: the next Period starts
            // there.
            let planned = match (insert, duration) {
                (false, Some(d)) => fill.planned.min((d - b.at).max(0.0)),
                _ => fill.planned,
            };
            if b.at > c + 0.001 {
                pieces.push(Piece::Content {
                    at: Placed {
                        id: piece_id(&pid, prev, first_piece),
                        start: start + c + shift,
                    },
                    offset: c,
                    duration: Some(b.at - c),
                    first: first_piece,
                });
                first_piece = false;
            }
            let mut t = start + b.at + shift;
            let mut filled = 0.0;
            let kept: Vec<(usize, &Arc<DashAd>)> = {
                let mut total = 0.0;
                fill.ads
                    .iter()
                    .enumerate()
                    .filter(|(_, ad)| {
                        // By the ad's real length (its MPD's), live and VOD alike: a
                        // VAST that understates durations cannot lengthen a VOD
                        // insertion past its avail (HLS fits VOD the same way).
                        let fits = total + ad.duration <= planned + DURATION_TOLERANCE;
                        if fits {
                            total += ad.duration;
                        }
                        fits
                    })
                    .collect()
            };
            let place = |pieces: &mut Vec<Piece<'a>>,
                         t: &mut f64,
                         filled: &mut f64,
                         fill: &'a DashAd,
                         id: String,
                         ad: Option<(&'a str, usize)>| {
                pieces.push(Piece::Ad {
                    at: Placed { id, start: *t },
                    fill,
                    ad,
                });
                *t += fill.duration;
                *filled += fill.duration;
            };
            if let (false, Some(bumper)) = (kept.is_empty(), &fill.bumper_start) {
                let id = format!("{pid}-{}-bumper0", b.id);
                place(&mut pieces, &mut t, &mut filled, bumper, id, None);
            }
            for (i, ad) in &kept {
                let n = fill.numbers.get(*i).copied().unwrap_or(*i);
                let id = format!("{pid}-{}-ad{n}", b.id);
                place(&mut pieces, &mut t, &mut filled, ad, id, Some((&b.id, n)));
            }
            if let (false, Some(bumper)) = (kept.is_empty(), &fill.bumper_end) {
                let id = format!("{pid}-{}-bumper1", b.id);
                place(&mut pieces, &mut t, &mut filled, bumper, id, None);
            }
            let above_threshold = fill.slate_threshold.is_some_and(|th| planned - filled > th);
            if let (false, false, Some(slate)) = (insert, above_threshold, &fill.slate) {
                let mut k = 0;
                while slate.duration > 0.0
                    && filled + slate.duration <= planned + DURATION_TOLERANCE
                    && k < 500
                {
                    let id = format!("{pid}-{}-slate{k}", b.id);
                    place(&mut pieces, &mut t, &mut filled, slate, id, None);
                    k += 1;
                }
            }
            if insert {
                shift += filled;
                c = b.at;
            } else {
                c = b.at + filled;
            }
            prev = Some(&b.id);
        }
        let rest = duration.map(|d| d - c);
        if rest.is_none_or(|r| r > 0.001) {
            pieces.push(Piece::Content {
                at: Placed {
                    id: piece_id(&pid, prev, first_piece),
                    start: start + c + shift,
                },
                offset: c,
                duration: rest,
                first: first_piece,
            });
        }
        out.push(pieces);
    }
    (out, shift)
}

/// Splice the ads into the MPD and write it. Breaks without a fill pass through;
/// what the splice does not change is written as it came.
pub fn splice_mpd(
    doc: &Document,
    breaks: &[DashBreak],
    fills: &HashMap<String, DashFill>,
    ctx: &MpdContext,
) -> SplicedMpd {
    let dynamic = is_dynamic(doc);
    let (periods, shift) = layout(doc, breaks, fills, dynamic);
    let root = &doc.root;
    let indent = root
        .children
        .iter()
        .find_map(|n| match n {
            Node::Text(t) if t.trim().is_empty() && t.contains('\n') => Some(t.as_str()),
            _ => None,
        })
        .unwrap_or("\n  ");
    let mut out = String::with_capacity(4096 + 1024 * periods.iter().map(Vec::len).sum::<usize>());
    let mut ad_starts = Vec::new();
    for n in &doc.prolog {
        write_node(&mut out, n);
    }
    // The MPD's own attributes.
    let duration = (!dynamic && shift > 0.0)
        .then(|| root.attr("mediaPresentationDuration"))
        .flatten()
        .and_then(|d| parse_duration(&d))
        .map(|d| format_duration(d + shift));
    let mut patch = Vec::with_capacity(1);
    match (dynamic, &ctx.publish_time, &duration) {
        (true, Some(t), _) => patch.push(("publishTime", Some(t.as_str()))),
        (false, _, Some(d)) => patch.push(("mediaPresentationDuration", Some(d.as_str()))),
        _ => {}
    }
    out.push('<');
    out.push_str(&root.name);
    push_patched_attrs(&mut out, &root.attrs, &patch);
    out.push('>');
    // Children before the first Period, with our BaseURL and Location among them.
    let first_period = root
        .children
        .iter()
        .position(|n| matches!(n, Node::Element(e) if e.local_name() == "Period"));
    let (head, tail) = root
        .children
        .split_at(first_period.unwrap_or(root.children.len()));
    let mut before: Vec<Node> = head.iter().filter_map(|n| root_child(n, ctx)).collect();
    let period_name = tail
        .iter()
        .find_map(|n| match n {
            Node::Element(e) => Some(e.name.as_str()),
            _ => None,
        })
        .unwrap_or("Period");
    push_meta(&mut before, indent, ctx, dynamic, period_name);
    for n in &before {
        write_node(&mut out, n);
    }
    let mut periods = periods.into_iter();
    for n in tail {
        let Node::Element(el) = n else {
            write_node(&mut out, n);
            continue;
        };
        if el.local_name() != "Period" {
            if let Some(n) = root_child(n, ctx) {
                write_node(&mut out, &n);
            }
            continue;
        }
        for (i, piece) in periods.next().unwrap_or_default().into_iter().enumerate() {
            if i > 0 {
                out.push_str(indent);
            }
            match piece {
                Piece::Whole(None) => write_element(&mut out, el),
                Piece::Whole(Some(start)) => {
                    let start = format_duration(start);
                    write_patched(&mut out, el, &[("start", Some(start.as_str()))]);
                }
                Piece::Content {
                    at,
                    offset,
                    duration,
                    first,
                } => {
                    let start = format_duration(at.start);
                    let duration = duration.map(format_duration);
                    let timing = Timing {
                        timescale: 1.0,
                        pto: 0.0,
                        start_number: 1.0,
                    };
                    write_shifted(
                        &mut out,
                        el,
                        &[
                            ("id", Some(at.id.as_str())),
                            ("start", Some(start.as_str())),
                            ("duration", duration.as_deref()),
                        ],
                        offset,
                        timing,
                        !first,
                    );
                }
                Piece::Ad { at, fill, ad } => {
                    write_ad_period(&mut out, el, fill, &at, indent);
                    if let Some((b, n)) = ad {
                        // The start as a player reads it.
                        let start = parse_duration(&format_duration(at.start)).unwrap_or(at.start);
                        ad_starts.push((b.to_string(), n, start));
                    }
                }
            }
        }
    }
    out.push_str("</");
    out.push_str(&root.name);
    out.push('>');
    for n in &doc.epilog {
        write_node(&mut out, n);
    }
    SplicedMpd {
        text: out,
        ad_starts,
    }
}

/// A child of the MPD as we write it: origin patches and Locations dropped (they
/// cannot apply to our output), BaseURLs made absolute (so segments come from the
/// origin, not from us), the rest as it is.
fn root_child(n: &Node, ctx: &MpdContext) -> Option<Node> {
    let Node::Element(el) = n else {
        return Some(n.clone());
    };
    match el.local_name() {
        "PatchLocation" | "Location" => None,
        "BaseURL" => {
            let mut b = el.clone();
            let abs = crate::urls::parse(&ctx.content_base)
                .and_then(|u| crate::urls::join(&u, &el.text()))
                .map(|u| u.to_string())
                .unwrap_or_else(|_| el.text());
            b.set_text(&abs);
            Some(Node::Element(b))
        }
        _ => Some(n.clone()),
    }
}

/// ` name="value"`, the value escaped.
fn push_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_into(out, value);
    out.push('"');
}

/// ` name="value"`, the value already escaped.
fn push_raw_attr(out: &mut String, name: &str, raw: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(raw);
    out.push('"');
}

/// Attributes with `patch` applied: a patched attribute keeps its place (or is
/// removed, for `None`); a new one goes last, in the patch's order.
fn push_patched_attrs(
    out: &mut String,
    attrs: &[(String, String)],
    patch: &[(&str, Option<&str>)],
) {
    for (k, v) in attrs {
        match patch.iter().find(|(p, _)| p == k) {
            Some((_, Some(new))) => push_attr(out, k, new),
            Some((_, None)) => {}
            None => push_raw_attr(out, k, v),
        }
    }
    for (k, v) in patch {
        if let (Some(v), false) = (v, attrs.iter().any(|(a, _)| a == k)) {
            push_attr(out, k, v);
        }
    }
}

/// An element with `patch` applied to its attributes, its children as they are.
fn write_patched(out: &mut String, e: &Element, patch: &[(&str, Option<&str>)]) {
    out.push('<');
    out.push_str(&e.name);
    push_patched_attrs(out, &e.attrs, patch);
    write_children(
        out,
        &e.name,
        &e.children,
        |_| true,
        |out, _, c| write_element(out, c),
    );
}

/// The rest of an element whose start tag is open (`<name attrs`): its children,
/// leaving out the elements `keep` refuses (with the whitespace before them),
/// writing the kept ones with `element` (given their index among `children`),
/// then the end tag (`/>` when nothing was written).
fn write_children(
    out: &mut String,
    name: &str,
    children: &[Node],
    mut keep: impl FnMut(&Element) -> bool,
    mut element: impl FnMut(&mut String, usize, &Element),
) {
    let open = out.len();
    out.push('>');
    let mut pending_space: Option<&str> = None;
    for (i, n) in children.iter().enumerate() {
        match n {
            Node::Text(t) if t.trim().is_empty() => {
                if let Some(s) = pending_space.replace(t) {
                    out.push_str(s);
                }
            }
            Node::Element(e) => {
                if !keep(e) {
                    pending_space = None;
                    continue;
                }
                if let Some(s) = pending_space.take() {
                    out.push_str(s);
                }
                element(out, i, e);
            }
            other => {
                if let Some(s) = pending_space.take() {
                    out.push_str(s);
                }
                write_node(out, other);
            }
        }
    }
    if let Some(s) = pending_space {
        out.push_str(s);
    }
    if out.len() == open + 1 {
        out.truncate(open);
        out.push_str("/>");
    } else {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
}

/// The first content piece of a period keeps the period's id; later ones are named
/// after the break they follow.
fn piece_id(pid: &str, after: Option<&str>, first: bool) -> String {
    match (first, after) {
        (false, Some(b)) => format!("{pid}-{b}-resume"),
        _ => pid.to_string(),
    }
}

/// MPD-level BaseURL (when the origin had none) and Location, where the schema puts
/// them among the MPD's children (after ProgramInformation and the origin's BaseURLs,
/// before ServiceDescription and the rest). `out` holds the children before the
/// first Period.
fn push_meta(
    out: &mut Vec<Node>,
    indent: &str,
    ctx: &MpdContext,
    dynamic: bool,
    period_name: &str,
) {
    let prefix = period_name.strip_suffix("Period").unwrap_or("");
    let has_base = out
        .iter()
        .any(|n| matches!(n, Node::Element(e) if e.local_name() == "BaseURL"));
    let mut mpd = Element::new(&format!("{prefix}MPD"));
    mpd.children = std::mem::take(out);
    if !has_base {
        let mut b = Element::new(&format!("{prefix}BaseURL"));
        b.set_text(&ctx.content_base);
        insert_child(&mut mpd, b, indent);
    }
    if let (true, Some(loc)) = (dynamic, &ctx.location) {
        let mut l = Element::new(&format!("{prefix}Location"));
        l.set_text(loc);
        insert_child(&mut mpd, l, indent);
    }
    if !matches!(mpd.children.last(), Some(Node::Text(t)) if t.trim().is_empty()) {
        mpd.children.push(Node::Text(indent.to_string()));
    }
    *out = mpd.children;
}

/// Insert `child` into `parent` where the MPD schema orders it, on a line of its own.
fn insert_child(parent: &mut Element, child: Element, indent: &str) {
    let at = crate::conformance::dash::insert_position(parent, child.local_name());
    parent.children.splice(
        at..at,
        [Node::Text(indent.to_string()), Node::Element(child)],
    );
}

mod descriptors;

#[cfg(test)]
mod tests;
