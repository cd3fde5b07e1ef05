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
use super::xml::{Document, Element, Node};
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
        base = base.join(&b.text()).ok()?;
    }
    let mut base = base.join("./").ok()?.to_string();
    if let Some(prefix) = prefix {
        if let Ok(u) = Url::parse(&base) {
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

/// Build the AdaptationSets of an ad Period that mirror the content Period's.
fn ad_sets(content: &Element, ad: &DashAd) -> Vec<Element> {
    let mut out = Vec::new();
    for cset in content.children_named("AdaptationSet") {
        let ctype = content_type(cset);
        let Some(aset) = ad
            .period
            .children_named("AdaptationSet")
            .find(|a| content_type(a) == ctype)
        else {
            continue;
        };
        let mut set = aset.clone();
        set.remove_attr("id");
        if let Some(id) = cset.attr("id") {
            set.set_attr("id", &id);
        }
        if let Some(lang) = cset.attr("lang") {
            set.set_attr("lang", &lang);
        }
        if ctype == "video" {
            // Keep the ad representations nearest to each content representation.
            let ads: Vec<(f64, f64)> = set
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
                        let score = |x: &(f64, f64)| {
                            ((x.0 - h).abs(), (x.1.max(1.0) / bw.max(1.0)).ln().abs())
                        };
                        score(a)
                            .partial_cmp(&score(b))
                            .unwrap_or(std::cmp::Ordering::Equal)
                    })
                    .map(|(i, _)| i);
                if let Some(i) = best {
                    keep[i] = true;
                }
            }
            if keep.iter().any(|k| *k) {
                let mut i = 0;
                set.retain_elements(|e| {
                    if e.local_name() != "Representation" {
                        return true;
                    }
                    i += 1;
                    keep[i - 1]
                });
            }
        }
        out.push(set);
    }
    out
}

fn ad_period(content: &Element, ad: &DashAd, id: &str, start: f64, indent: &str) -> Element {
    let mut p = Element::new(&content.name);
    p.set_attr("id", id);
    p.set_attr("start", &format_duration(start));
    p.set_attr("duration", &format_duration(ad.duration));
    let prefix = content.name.strip_suffix("Period").unwrap_or("");
    let mut base = Element::new(&format!("{prefix}BaseURL"));
    base.set_text(&ad.base_url);
    let inner = format!("{indent}  ");
    p.children.push(Node::Text(inner.clone()));
    p.children.push(Node::Element(base));
    for set in ad_sets(content, ad) {
        p.children.push(Node::Text(inner.clone()));
        p.children.push(Node::Element(set));
    }
    p.children.push(Node::Text(indent.to_string()));
    p
}

/// Shift segment addressing so that period-relative time 0 is `offset` seconds
/// into the original period: `presentationTimeOffset` (and `startNumber` for
/// `$Number$` templates without a timeline) on every SegmentTemplate/SegmentBase.
fn shift_segments(
    e: &mut Element,
    offset: f64,
    inherited_ts: f64,
    inherited_pto: f64,
    inherited_start: f64,
) {
    let mut ts = inherited_ts;
    let mut pto = inherited_pto;
    let mut start_number = inherited_start;
    for child in e.elements_mut() {
        let name = child.local_name().to_string();
        if matches!(
            name.as_str(),
            "SegmentTemplate" | "SegmentBase" | "SegmentList"
        ) {
            ts = num(child, "timescale").filter(|t| *t > 0.0).unwrap_or(ts);
            pto = num(child, "presentationTimeOffset").unwrap_or(pto);
            start_number = num(child, "startNumber").unwrap_or(start_number);
            let has_timeline = child.child("SegmentTimeline").is_some();
            let mut delta = (offset * ts).round();
            if let (Some(d), false, "SegmentTemplate") =
                (num(child, "duration"), has_timeline, name.as_str())
            {
                if d > 0.0 {
                    let k = (offset * ts / d).round();
                    delta = k * d;
                    child.set_attr("startNumber", &format!("{}", (start_number + k) as u64));
                }
            }
            child.set_attr(
                "presentationTimeOffset",
                &format!("{}", (pto + delta) as u64),
            );
        }
    }
    for child in e.elements_mut() {
        if matches!(child.local_name(), "AdaptationSet" | "Representation") {
            shift_segments(child, offset, ts, pto, start_number);
        }
    }
}

fn content_piece(
    p: &Element,
    id: &str,
    start: f64,
    offset: f64,
    duration: Option<f64>,
    first: bool,
) -> Element {
    let mut piece = p.clone();
    piece.set_attr("id", id);
    piece.set_attr("start", &format_duration(start));
    match duration {
        Some(d) => piece.set_attr("duration", &format_duration(d)),
        None => piece.remove_attr("duration"),
    }
    if !first {
        piece.retain_elements(|e| e.local_name() != "EventStream");
    }
    if offset > 0.0 {
        shift_segments(&mut piece, offset, 1.0, 0.0, 1.0);
    }
    piece
}

/// Splice the ads into the MPD. Breaks without a fill pass through.
pub fn splice_mpd(
    doc: &Document,
    breaks: &[DashBreak],
    fills: &HashMap<String, DashFill>,
    ctx: &MpdContext,
) -> Document {
    let dynamic = is_dynamic(doc);
    let starts = period_starts(doc);
    let mut root = doc.root.clone();
    let indent = root
        .children
        .iter()
        .find_map(|n| match n {
            Node::Text(t) if t.trim().is_empty() && t.contains('\n') => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "\n  ".to_string());

    let mut shift = 0.0;
    let mut new_children = Vec::with_capacity(root.children.len() + 8);
    let mut period_index = 0;
    let mut meta_done = false;
    for node in std::mem::take(&mut root.children) {
        let Node::Element(el) = node else {
            new_children.push(node);
            continue;
        };
        match el.local_name() {
            // Patches from the origin cannot be applied to our output.
            "PatchLocation" | "Location" => continue,
            "BaseURL" => {
                // Absolute, so segments are fetched from the origin, not from us.
                let mut b = el.clone();
                let abs = Url::parse(&ctx.content_base)
                    .and_then(|u| u.join(&el.text()))
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| el.text());
                b.set_text(&abs);
                new_children.push(Node::Element(b));
                continue;
            }
            "Period" => {}
            _ => {
                new_children.push(Node::Element(el));
                continue;
            }
        }
        if !meta_done {
            push_meta(&mut new_children, &indent, ctx, dynamic, &el.name);
            meta_done = true;
        }
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
        period_index += 1;
        if mine.is_empty() {
            let mut p = el;
            if shift != 0.0 {
                p.set_attr("start", &format_duration(start + shift));
            }
            new_children.push(Node::Element(p));
            continue;
        }
        let mut c = 0.0;
        let mut prev: Option<String> = None;
        let mut first_piece = true;
        let mut pieces: Vec<Element> = Vec::new();
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
                let id = piece_id(&pid, prev.as_deref(), first_piece);
                pieces.push(content_piece(
                    &el,
                    &id,
                    start + c + shift,
                    c,
                    Some(b.at - c),
                    first_piece,
                ));
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
                        let fits = insert || total + ad.duration <= planned + DURATION_TOLERANCE;
                        if fits {
                            total += ad.duration;
                        }
                        fits
                    })
                    .collect()
            };
            let place = |pieces: &mut Vec<Element>,
                         t: &mut f64,
                         filled: &mut f64,
                         ad: &DashAd,
                         id: String| {
                pieces.push(ad_period(&el, ad, &id, *t, &indent));
                *t += ad.duration;
                *filled += ad.duration;
            };
            if !kept.is_empty() {
                if let Some(bumper) = &fill.bumper_start {
                    place(
                        &mut pieces,
                        &mut t,
                        &mut filled,
                        bumper,
                        format!("{pid}-{}-bumper0", b.id),
                    );
                }
            }
            for (n, ad) in &kept {
                place(
                    &mut pieces,
                    &mut t,
                    &mut filled,
                    ad,
                    format!("{pid}-{}-ad{n}", b.id),
                );
            }
            if !kept.is_empty() {
                if let Some(bumper) = &fill.bumper_end {
                    place(
                        &mut pieces,
                        &mut t,
                        &mut filled,
                        bumper,
                        format!("{pid}-{}-bumper1", b.id),
                    );
                }
            }
            let above_threshold = fill.slate_threshold.is_some_and(|th| planned - filled > th);
            if let (false, false, Some(slate)) = (insert, above_threshold, &fill.slate) {
                let mut k = 0;
                while slate.duration > 0.0
                    && filled + slate.duration <= planned + DURATION_TOLERANCE
                    && k < 500
                {
                    place(
                        &mut pieces,
                        &mut t,
                        &mut filled,
                        slate,
                        format!("{pid}-{}-slate{k}", b.id),
                    );
                    k += 1;
                }
            }
            if insert {
                shift += filled;
                c = b.at;
            } else {
                c = b.at + filled;
            }
            prev = Some(b.id.clone());
        }
        let rest = duration.map(|d| d - c);
        if rest.is_none_or(|r| r > 0.001) {
            let id = piece_id(&pid, prev.as_deref(), first_piece);
            pieces.push(content_piece(
                &el,
                &id,
                start + c + shift,
                c,
                rest,
                first_piece,
            ));
        }
        for (i, p) in pieces.into_iter().enumerate() {
            if i > 0 {
                new_children.push(Node::Text(indent.clone()));
            }
            new_children.push(Node::Element(p));
        }
    }
    if !meta_done {
        push_meta(&mut new_children, &indent, ctx, dynamic, "Period");
    }
    root.children = new_children;
    if dynamic {
        if let Some(t) = &ctx.publish_time {
            root.set_attr("publishTime", t);
        }
    } else if shift > 0.0 {
        if let Some(d) = root
            .attr("mediaPresentationDuration")
            .and_then(|d| parse_duration(&d))
        {
            root.set_attr("mediaPresentationDuration", &format_duration(d + shift));
        }
    }
    Document {
        prolog: doc.prolog.clone(),
        root,
        epilog: doc.epilog.clone(),
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

#[cfg(test)]
mod tests;
