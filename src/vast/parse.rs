//! VAST parser: XML text in, [`Vast`] out. Pure, no I/O.
//!
//! Reads VAST 2.0, 3.0, 4.0, 4.1 and 4.2 (and the VAST 1.0 `<VideoAdServingTemplate>`
//! shape) with quick-xml events, in two steps: build a small element tree, then pick out
//! the elements the model needs (IAB VAST 4.2 element definitions). Parsing is deliberately loose:
//! namespace prefixes are dropped, element and attribute names match case-insensitively,
//! unknown elements are ignored, CDATA and surrounding whitespace are trimmed away, and an
//! unknown entity such as a bare `&` in a URL is kept as written. It only fails when the
//! XML itself is broken or the root is not a VAST element.
//!
//! Companions and verifications are read as written: an element missing its resource is
//! kept (a wrapper's companion legitimately holds tracking only), while a resource or
//! tracking URL with no text is dropped.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::model::{
    Ad, AdBody, Companion, Creative, ExecutableResource, InLine, JavaScriptResource, Linear,
    MediaFile, StaticResource, TrackingEvent, Vast, Verification, Wrapper,
};

/// Elements nested deeper than this are skipped (not stored), which bounds memory and
/// recursion on hostile input. Real VAST stays under 15 levels.
const MAX_DEPTH: usize = 64;

/// Longest entity name we try to decode (`&#x10FFFF;` is 8 characters between `&` and `;`).
const MAX_ENTITY_LEN: usize = 10;

/// Root element names accepted: VAST 2.0+ and VAST 1.0.
const ROOT_VAST: &str = "VAST";
const ROOT_VAST1: &str = "VideoAdServingTemplate";

/// The verification list element (VAST 4.1+ `<AdVerifications>`), which is also the
/// `Extension@type` of the VAST 3 extension that holds one.
const AD_VERIFICATIONS: &str = "AdVerifications";

/// Why a document could not be read as VAST.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VastError {
    /// The XML is not well-formed.
    #[error("malformed XML at byte {position}: {message}")]
    Xml {
        /// Byte offset in the input where the error was found.
        position: u64,
        /// Parser message.
        message: String,
    },
    /// The root element is not `<VAST>` (or VAST 1.0 `<VideoAdServingTemplate>`).
    #[error("root element is <{0}>, not <VAST>")]
    NotVast(String),
    /// The input holds no element at all (empty, whitespace or only comments).
    #[error("document has no root element")]
    NoRoot,
    /// The input ends before the root element is closed (a truncated response).
    #[error("document ends inside <{open}>")]
    UnexpectedEof {
        /// Name of the innermost element still open.
        open: String,
    },
}

/// Parses a VAST response.
///
/// # Errors
///
/// [`VastError`] when the XML is malformed or truncated, or the root is not VAST.
/// An unusable `<Ad>` (neither `<InLine>` nor `<Wrapper>`) is skipped, not an error.
pub fn parse_vast(xml: &str) -> Result<Vast, VastError> {
    let root = read_tree(xml.trim_start_matches('\u{feff}'))?;
    if !(root.is(ROOT_VAST) || root.is(ROOT_VAST1)) {
        return Err(VastError::NotVast(root.name));
    }
    let version = root.attr_string("version");
    // VAST 4 states `allowMultipleAds` defaults to false; VAST 3 gave no default and
    // VAST 2 had no such attribute, so older wrappers keep every ad.
    let allow_multiple_ads_default = !version.as_deref().is_some_and(is_vast4_or_later);
    Ok(Vast {
        ads: root
            .children("Ad")
            .filter_map(|ad| parse_ad(ad, allow_multiple_ads_default))
            .collect(),
        version,
        errors: urls(root.children("Error")),
    })
}

/// Parses a VAST time (`<Duration>`, `offset`): `HH:MM:SS` or `HH:MM:SS.mmm`, in seconds.
///
/// Spaces around the value and around each field are tolerated, and, as some ad servers
/// send it, a bare number of seconds (`"30"`, `"15.5"`). Returns `None` for anything else,
/// including `n%` offsets and negative or non-finite values.
pub fn parse_duration(s: &str) -> Option<f64> {
    let parts: Vec<&str> = s.trim().split(':').map(str::trim).collect();
    let secs = match parts.as_slice() {
        [h, m, sec] => whole_number(h)? * 3600.0 + whole_number(m)? * 60.0 + decimal_seconds(sec)?,
        [sec] => decimal_seconds(sec)?,
        _ => return None,
    };
    secs.is_finite().then_some(secs)
}

/// A run of ASCII digits as `f64` (`f64` so huge hour counts cannot overflow).
fn whole_number(s: &str) -> Option<f64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `SS`, `SS.mmm` or `SS.`: digits with at most one dot, digits first.
fn decimal_seconds(s: &str) -> Option<f64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) {
        return None;
    }
    s.parse().ok()
}

// === tree ===

/// One XML element, reduced to what extraction needs.
#[derive(Debug, Default)]
struct Element {
    /// Local name (prefix dropped).
    name: String,
    /// Attributes by local name, values unescaped.
    attrs: Vec<(String, String)>,
    /// Concatenated direct text and CDATA content, unescaped, untrimmed.
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn from_start(start: &BytesStart<'_>) -> Self {
        let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        let mut attrs = Vec::new();
        for attr in start.attributes().with_checks(false) {
            // A malformed attribute ends the list; the element itself is still usable.
            let Ok(attr) = attr else { break };
            let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
            let value = unescape_lenient(&String::from_utf8_lossy(&attr.value)).into_owned();
            attrs.push((key, value));
        }
        Self {
            name,
            attrs,
            ..Self::default()
        }
    }

    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Direct children with this name.
    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(name))
    }

    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(name))
    }

    /// Children of every `<outer>` child named `inner` (`<Creatives><Creative>`).
    fn grandchildren<'a>(
        &'a self,
        outer: &'a str,
        inner: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children(outer).flat_map(move |c| c.children(inner))
    }

    fn text(&self) -> &str {
        self.text.trim()
    }

    /// Trimmed text of the first child `name`, if not empty.
    fn child_text(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(Element::text)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    fn attr_string(&self, name: &str) -> Option<String> {
        self.attr(name).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    fn attr_u32(&self, name: &str) -> Option<u32> {
        self.attr(name).and_then(parse_u32)
    }

    /// `true`/`1` or `false`/`0` (any case); `default` when absent or anything else.
    fn attr_bool(&self, name: &str, default: bool) -> bool {
        match self.attr(name) {
            Some(v) if v == "1" || v.eq_ignore_ascii_case("true") => true,
            Some(v) if v == "0" || v.eq_ignore_ascii_case("false") => false,
            _ => default,
        }
    }

    /// URLs held by a URL element: its own text, or, VAST 1.0 style, each `<URL>` child.
    fn urls(&self) -> Vec<String> {
        let mut nested = self.children("URL").peekable();
        if nested.peek().is_some() {
            nested
                .map(Element::text)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        } else {
            let text = self.text();
            if text.is_empty() {
                Vec::new()
            } else {
                vec![text.to_owned()]
            }
        }
    }

    fn first_url(&self) -> Option<String> {
        self.urls().into_iter().next()
    }
}

/// A number attribute; tolerates a fractional value (`"500.0"`) by rounding.
fn parse_u32(s: &str) -> Option<u32> {
    let s = s.trim();
    s.parse::<u32>().ok().or_else(|| {
        let f: f64 = s.parse().ok()?;
        // The range check makes the cast exact enough and never saturating by surprise.
        (f.is_finite() && (0.0..=f64::from(u32::MAX)).contains(&f)).then(|| f.round() as u32)
    })
}

/// All URLs of a list of URL elements, empties dropped.
fn urls<'a>(elements: impl Iterator<Item = &'a Element>) -> Vec<String> {
    elements.flat_map(Element::urls).collect()
}

/// The trimmed text of each element, empties dropped.
fn texts<'a>(elements: impl Iterator<Item = &'a Element>) -> Vec<String> {
    elements
        .map(Element::text)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads the root element and its subtree. Stops at the end of the root, so trailing
/// content after it is ignored.
fn read_tree(xml: &str) -> Result<Element, VastError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    // Open elements below MAX_DEPTH that are not stored.
    let mut skipped: usize = 0;
    loop {
        let event = reader.read_event().map_err(|e| VastError::Xml {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(start) => {
                if skipped > 0 || stack.len() >= MAX_DEPTH {
                    skipped += 1;
                } else {
                    stack.push(Element::from_start(&start));
                }
            }
            Event::Empty(start) => {
                if skipped > 0 || stack.len() >= MAX_DEPTH {
                    continue;
                }
                let element = Element::from_start(&start);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                if skipped > 0 {
                    skipped -= 1;
                    continue;
                }
                // quick-xml checks end names, so an End always matches the top of the stack.
                if let Some(element) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => return Ok(element),
                    }
                }
            }
            Event::Text(text) => {
                if let (0, Some(top)) = (skipped, stack.last_mut()) {
                    top.text
                        .push_str(&unescape_lenient(&String::from_utf8_lossy(&text)));
                }
            }
            Event::CData(data) => {
                if let (0, Some(top)) = (skipped, stack.last_mut()) {
                    top.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::Eof => {
                return Err(match stack.pop() {
                    Some(open) => VastError::UnexpectedEof { open: open.name },
                    None => VastError::NoRoot,
                });
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// Decodes the five XML entities and numeric character references; anything else
/// (a bare `&` in a query string, an HTML entity) is kept verbatim.
fn unescape_lenient(raw: &str) -> Cow<'_, str> {
    if !raw.contains('&') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= MAX_ENTITY_LEN)
            .and_then(|semi| Some((decode_entity(&after[..semi])?, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn decode_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

// === extraction ===

/// Whether a `VAST@version` is 4.0 or later.
fn is_vast4_or_later(version: &str) -> bool {
    version
        .trim()
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major >= 4)
}

fn parse_ad(ad: &Element, allow_multiple_ads_default: bool) -> Option<Ad> {
    let body = ad.children.iter().find_map(|c| {
        if c.is("InLine") {
            Some(AdBody::InLine(parse_inline(c)))
        } else if c.is("Wrapper") {
            Some(AdBody::Wrapper(parse_wrapper(
                c,
                allow_multiple_ads_default,
            )))
        } else {
            None
        }
    })?;
    Some(Ad {
        id: ad.attr_string("id"),
        sequence: ad.attr_u32("sequence"),
        body,
    })
}

fn parse_inline(inline: &Element) -> InLine {
    let mut creatives: Vec<Creative> = inline
        .grandchildren("Creatives", "Creative")
        .map(parse_creative)
        .collect();
    // VAST 1.0: a single <Video> directly in <InLine>, with <TrackingEvents> beside it.
    if let Some(video) = inline.child("Video") {
        let mut linear = parse_linear(video);
        linear.tracking.extend(parse_tracking(inline));
        creatives.push(Creative {
            id: None,
            ad_id: video.child_text("AdID"),
            sequence: None,
            universal_ad_id: None,
            linear: Some(linear),
            // VAST 1.0 also puts <CompanionAds> directly in <InLine>.
            companions: parse_companions(inline, None),
            companion_required: None,
        });
    }
    InLine {
        ad_system: inline.child_text("AdSystem"),
        ad_title: inline.child_text("AdTitle"),
        impressions: urls(inline.children("Impression")),
        errors: urls(inline.children("Error")),
        creatives,
        verifications: parse_verifications(inline),
    }
}

fn parse_wrapper(wrapper: &Element, allow_multiple_ads_default: bool) -> Wrapper {
    // VAST 1.0 (and some 2.0 servers) spell it <VASTAdTagURL><URL>.
    let ad_tag_uri = wrapper
        .children("VASTAdTagURI")
        .chain(wrapper.children("VASTAdTagURL"))
        .find_map(Element::first_url)
        .unwrap_or_default();
    Wrapper {
        ad_tag_uri,
        impressions: urls(wrapper.children("Impression")),
        errors: urls(wrapper.children("Error")),
        creatives: wrapper
            .grandchildren("Creatives", "Creative")
            .map(parse_creative)
            .collect(),
        verifications: parse_verifications(wrapper),
        follow_additional_wrappers: wrapper.attr_bool("followAdditionalWrappers", true),
        allow_multiple_ads: wrapper.attr_bool("allowMultipleAds", allow_multiple_ads_default),
        fallback_on_no_ad: wrapper.attr_bool("fallbackOnNoAd", false),
    }
}

fn parse_creative(creative: &Element) -> Creative {
    Creative {
        id: creative.attr_string("id"),
        ad_id: creative.attr_string("adId"),
        sequence: creative.attr_u32("sequence"),
        universal_ad_id: creative.child("UniversalAdId").and_then(universal_ad_id),
        linear: creative.child("Linear").map(parse_linear),
        companions: parse_companions(
            creative,
            creative.attr("sequence").filter(|s| !s.is_empty()),
        ),
        companion_required: creative
            .child("CompanionAds")
            .and_then(|c| c.attr_string("required")),
    }
}

/// VAST 4.0 puts the value in `idValue`; 4.1+ in the text. The text wins when both exist.
fn universal_ad_id(id: &Element) -> Option<String> {
    let value = Some(id.text())
        .filter(|t| !t.is_empty())
        .or_else(|| id.attr("idValue").filter(|v| !v.is_empty()))?;
    Some(match id.attr("idRegistry").filter(|r| !r.is_empty()) {
        Some(registry) => format!("{registry}:{value}"),
        None => value.to_owned(),
    })
}

fn parse_linear(linear: &Element) -> Linear {
    let clicks = linear.child("VideoClicks");
    Linear {
        duration: linear
            .child("Duration")
            .and_then(|d| parse_duration(d.text())),
        media_files: linear
            .grandchildren("MediaFiles", "MediaFile")
            .filter_map(parse_media_file)
            .collect(),
        mezzanines: urls(linear.grandchildren("MediaFiles", "Mezzanine")),
        tracking: parse_tracking(linear),
        click_through: clicks.and_then(|c| c.children("ClickThrough").find_map(Element::first_url)),
        click_tracking: clicks
            .map(|c| urls(c.children("ClickTracking")))
            .unwrap_or_default(),
    }
}

/// `<TrackingEvents>/<Tracking>` under `parent`; one event per URL, events without a name
/// or URL dropped.
fn parse_tracking(parent: &Element) -> Vec<TrackingEvent> {
    parent
        .grandchildren("TrackingEvents", "Tracking")
        .flat_map(|tracking| {
            let event = tracking.attr_string("event");
            let offset = tracking.attr_string("offset");
            tracking.urls().into_iter().filter_map(move |url| {
                Some(TrackingEvent {
                    event: event.clone()?,
                    offset: offset.clone(),
                    url,
                })
            })
        })
        .collect()
}

fn parse_media_file(media: &Element) -> Option<MediaFile> {
    Some(MediaFile {
        url: media.first_url()?,
        delivery: media.attr_string("delivery"),
        mime_type: media.attr_string("type"),
        width: media.attr_u32("width"),
        height: media.attr_u32("height"),
        bitrate: media
            .attr_u32("bitrate")
            .or_else(|| media.attr_u32("maxBitrate")),
        codec: media.attr_string("codec"),
        id: media.attr_string("id"),
        api_framework: media.attr_string("apiFramework"),
    })
}

/// `<CompanionAds>/<Companion>` under `parent`, every `<CompanionAds>` in turn.
/// `sequence` is the `Creative@sequence` of the holding creative.
fn parse_companions(parent: &Element, sequence: Option<&str>) -> Vec<Companion> {
    parent
        .grandchildren("CompanionAds", "Companion")
        .map(|companion| parse_companion(companion, sequence))
        .collect()
}

fn parse_companion(companion: &Element, sequence: Option<&str>) -> Companion {
    let mut parsed = Companion {
        id: companion.attr_string("id"),
        width: companion.attr_string("width"),
        height: companion.attr_string("height"),
        asset_width: companion.attr_string("assetWidth"),
        asset_height: companion.attr_string("assetHeight"),
        expanded_width: companion.attr_string("expandedWidth"),
        expanded_height: companion.attr_string("expandedHeight"),
        api_framework: companion.attr_string("apiFramework"),
        // Names match case-insensitively, so this also reads VAST 3's `adSlotID`.
        ad_slot_id: companion.attr_string("adSlotId"),
        pxratio: companion.attr_string("pxratio"),
        rendering_mode: companion.attr_string("renderingMode"),
        sequence: sequence.map(str::to_owned),
        static_resources: companion
            .children("StaticResource")
            .filter_map(|resource| {
                Some(StaticResource {
                    creative_type: resource.attr_string("creativeType"),
                    url: resource.first_url()?,
                })
            })
            .collect(),
        iframe_resources: urls(companion.children("IFrameResource")),
        html_resources: texts(companion.children("HTMLResource")),
        alt_text: companion.child_text("AltText"),
        ad_parameters: companion.child_text("AdParameters"),
        click_through: companion
            .children("CompanionClickThrough")
            .find_map(Element::first_url),
        click_tracking: urls(companion.children("CompanionClickTracking")),
        tracking: parse_tracking(companion),
    };
    add_vast1_resources(companion, &mut parsed);
    parsed
}

/// VAST 1.0 names the resource kind in `Companion@resourceType` and puts the resource in
/// `<URL>` (`static`, `iframe`) or `<Code>` (`HTML`). Script resources have no place in
/// the model and are skipped.
fn add_vast1_resources(companion: &Element, parsed: &mut Companion) {
    let Some(kind) = companion.attr("resourceType") else {
        return;
    };
    if kind.eq_ignore_ascii_case("static") {
        let creative_type = companion.attr_string("creativeType");
        parsed
            .static_resources
            .extend(
                urls(companion.children("URL"))
                    .into_iter()
                    .map(|url| StaticResource {
                        creative_type: creative_type.clone(),
                        url,
                    }),
            );
    } else if kind.eq_ignore_ascii_case("iframe") {
        parsed
            .iframe_resources
            .extend(urls(companion.children("URL")));
    } else if kind.eq_ignore_ascii_case("HTML") {
        parsed
            .html_resources
            .extend(texts(companion.children("Code")));
    }
}

/// The verifications of an `<InLine>` or `<Wrapper>`: its `<AdVerifications>` (VAST 4.1+),
/// then those inside `<Extensions>/<Extension type="AdVerifications">` (the VAST 3 form).
/// An extension copy equal to a `<Verification>` already read is skipped: servers that
/// send both forms for older players mean one script, not two.
fn parse_verifications(ad: &Element) -> Vec<Verification> {
    let mut verifications: Vec<Verification> = ad
        .grandchildren(AD_VERIFICATIONS, "Verification")
        .map(parse_verification)
        .collect();
    let direct = verifications.len();
    let in_extensions = ad
        .grandchildren("Extensions", "Extension")
        .filter(|extension| {
            extension
                .attr("type")
                .is_some_and(|t| t.eq_ignore_ascii_case(AD_VERIFICATIONS))
        })
        .flat_map(|extension| extension.grandchildren(AD_VERIFICATIONS, "Verification"))
        .map(parse_verification);
    for verification in in_extensions {
        if !verifications[..direct].contains(&verification) {
            verifications.push(verification);
        }
    }
    verifications
}

fn parse_verification(verification: &Element) -> Verification {
    Verification {
        vendor: verification.attr_string("vendor"),
        javascript_resources: verification
            .children("JavaScriptResource")
            .filter_map(|resource| {
                Some(JavaScriptResource {
                    api_framework: resource.attr_string("apiFramework"),
                    browser_optional: resource.attr_string("browserOptional"),
                    url: resource.first_url()?,
                })
            })
            .collect(),
        executable_resources: verification
            .children("ExecutableResource")
            .filter_map(|resource| {
                Some(ExecutableResource {
                    api_framework: resource.attr_string("apiFramework"),
                    mime_type: resource.attr_string("type"),
                    language: resource.attr_string("language"),
                    url: resource.first_url()?,
                })
            })
            .collect(),
        tracking: parse_tracking(verification),
        parameters: verification.child_text("VerificationParameters"),
    }
}
