//! VAST document model: the parts of a VAST 2.0–4.2 response that server-side ad
//! insertion needs (linear creatives, media files, tracking URLs, wrapper links), plus
//! the companion ads and ad verifications that a client-side tracking API hands on to
//! the player.
//!
//! Pure data, no I/O. Field docs name the VAST element or attribute they come from
//! (IAB VAST 4.2 element definitions). What neither the stitcher nor the player needs
//! (non-linear ads, icons, extensions other than VAST 3 ad verifications) is skipped by
//! the parser.

use serde::{Deserialize, Serialize};

/// MIME types that mark an HLS media file (compared case-insensitively).
const HLS_MIME_TYPES: [&str; 2] = ["application/x-mpegurl", "application/vnd.apple.mpegurl"];

/// File extension of an HLS playlist (compared case-insensitively).
const HLS_EXTENSION: &[u8] = b".m3u8";

/// MIME types of interactive (script or Flash) media files that a server-side stitcher cannot play.
const SCRIPT_MIME_TYPES: [&str; 4] = [
    "application/javascript",
    "application/x-javascript",
    "text/javascript",
    "application/x-shockwave-flash",
];

/// A parsed VAST response (`<VAST>` root).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vast {
    /// `VAST@version`, as written (e.g. `"4.2"`); `None` for VAST 1.0 documents.
    pub version: Option<String>,
    /// `<Ad>` elements in document order. Ads with neither `<InLine>` nor `<Wrapper>` are skipped.
    pub ads: Vec<Ad>,
    /// Root-level `<Error>` URLs, used to report a no-ad (no-fill) response.
    pub errors: Vec<String>,
}

/// One `<Ad>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ad {
    /// `Ad@id`.
    pub id: Option<String>,
    /// `Ad@sequence`: position in an ad pod. Ads without it are stand-alone.
    pub sequence: Option<u32>,
    /// The `<InLine>` or `<Wrapper>` content.
    pub body: AdBody,
}

/// The content of an `<Ad>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum AdBody {
    /// `<InLine>`: the ad itself, with its media.
    InLine(InLine),
    /// `<Wrapper>`: a redirect to another VAST response plus extra tracking.
    Wrapper(Wrapper),
}

/// `<InLine>` ad.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InLine {
    /// `<AdSystem>` text.
    pub ad_system: Option<String>,
    /// `<AdTitle>` text.
    pub ad_title: Option<String>,
    /// `<Impression>` URLs (empty ones dropped).
    pub impressions: Vec<String>,
    /// `<Error>` URLs.
    pub errors: Vec<String>,
    /// `<Creatives>/<Creative>` in document order (a VAST 1.0 `<Video>` becomes one creative).
    pub creatives: Vec<Creative>,
    /// `<AdVerifications>/<Verification>` (VAST 4.1+), then those of a VAST 3
    /// `<Extensions>/<Extension type="AdVerifications">`.
    pub verifications: Vec<Verification>,
}

/// `<Wrapper>` ad.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wrapper {
    /// `<VASTAdTagURI>` (or VAST 1.0 `<VASTAdTagURL><URL>`), trimmed; may be relative.
    /// Empty when the wrapper has none.
    pub ad_tag_uri: String,
    /// `<Impression>` URLs.
    pub impressions: Vec<String>,
    /// `<Error>` URLs.
    pub errors: Vec<String>,
    /// `<Creatives>/<Creative>`; in a wrapper these carry tracking only, no media.
    pub creatives: Vec<Creative>,
    /// `<AdVerifications>/<Verification>` (VAST 4.1+), then those of a VAST 3
    /// `<Extensions>/<Extension type="AdVerifications">`. A player runs these in addition
    /// to the inline ad's.
    pub verifications: Vec<Verification>,
    /// `Wrapper@followAdditionalWrappers` (VAST 3+); default `true`.
    pub follow_additional_wrappers: bool,
    /// `Wrapper@allowMultipleAds` (VAST 3+): whether the response may hold a pod or
    /// several ads; when `false`, only its first stand-alone ad is used. Defaults to
    /// `false` in VAST 4+ documents, as the spec says, and to `true` in older ones (VAST 3
    /// gave no default, VAST 2 had no attribute).
    pub allow_multiple_ads: bool,
    /// `Wrapper@fallbackOnNoAd` (VAST 3+); default `false`.
    pub fallback_on_no_ad: bool,
}

/// `<Creative>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Creative {
    /// `Creative@id`.
    pub id: Option<String>,
    /// `Creative@adId` (also spelled `AdID`/`adID` in the wild).
    pub ad_id: Option<String>,
    /// `Creative@sequence`.
    pub sequence: Option<u32>,
    /// First `<UniversalAdId>`, as `"registry:value"` when `idRegistry` is set, else `"value"`.
    pub universal_ad_id: Option<String>,
    /// First `<Linear>` (or VAST 1.0 `<Video>`).
    pub linear: Option<Linear>,
    /// `<CompanionAds>/<Companion>` in document order (VAST 1.0: the `<CompanionAds>` of
    /// `<InLine>`). In a wrapper they carry tracking only.
    pub companions: Vec<Companion>,
    /// `CompanionAds@required` (VAST 3+): `all`, `any` or `none`, as written.
    pub companion_required: Option<String>,
}

/// `<Linear>` creative.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Linear {
    /// `<Duration>` in seconds, parsed by [`parse_duration`](super::parse_duration).
    pub duration: Option<f64>,
    /// `<MediaFiles>/<MediaFile>` with a non-empty URL.
    pub media_files: Vec<MediaFile>,
    /// `<MediaFiles>/<Mezzanine>` URLs (VAST 4.0+).
    pub mezzanines: Vec<String>,
    /// `<TrackingEvents>/<Tracking>`.
    pub tracking: Vec<TrackingEvent>,
    /// `<VideoClicks>/<ClickThrough>`.
    pub click_through: Option<String>,
    /// `<VideoClicks>/<ClickTracking>` URLs.
    pub click_tracking: Vec<String>,
}

/// `<MediaFile>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaFile {
    /// Element text: the media URL, trimmed.
    pub url: String,
    /// `MediaFile@delivery`: `progressive` or `streaming`.
    pub delivery: Option<String>,
    /// `MediaFile@type`: the MIME type.
    pub mime_type: Option<String>,
    /// `MediaFile@width` in pixels.
    pub width: Option<u32>,
    /// `MediaFile@height` in pixels.
    pub height: Option<u32>,
    /// `MediaFile@bitrate` in kbit/s, or `MediaFile@maxBitrate` when `bitrate` is absent.
    pub bitrate: Option<u32>,
    /// `MediaFile@codec` (RFC 6381 string in VAST 4, free text before).
    pub codec: Option<String>,
    /// `MediaFile@id`.
    pub id: Option<String>,
    /// `MediaFile@apiFramework` (e.g. `VPAID`).
    pub api_framework: Option<String>,
}

/// `<Tracking>` inside `<TrackingEvents>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingEvent {
    /// `Tracking@event`, as written (`start`, `firstQuartile`, `progress`, ...).
    pub event: String,
    /// `Tracking@offset` for `progress` events: `HH:MM:SS(.mmm)` or `n%`, as written.
    pub offset: Option<String>,
    /// Element text: the beacon URL, trimmed.
    pub url: String,
}

/// `<CompanionAds>/<Companion>`: a display ad shown beside the video by the player.
///
/// Dimensions stay text, as written: a server-side proxy passes them on, it does not
/// lay out the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Companion {
    /// `Companion@id`.
    pub id: Option<String>,
    /// `Companion@width` in pixels, as written.
    pub width: Option<String>,
    /// `Companion@height` in pixels, as written.
    pub height: Option<String>,
    /// `Companion@assetWidth`.
    pub asset_width: Option<String>,
    /// `Companion@assetHeight`.
    pub asset_height: Option<String>,
    /// `Companion@expandedWidth`.
    pub expanded_width: Option<String>,
    /// `Companion@expandedHeight`.
    pub expanded_height: Option<String>,
    /// `Companion@apiFramework` (e.g. `SIMID`, `VPAID`).
    pub api_framework: Option<String>,
    /// `Companion@adSlotId` (VAST 3 spells it `adSlotID`).
    pub ad_slot_id: Option<String>,
    /// `Companion@pxratio`.
    pub pxratio: Option<String>,
    /// `Companion@renderingMode` (VAST 4.1): `default`, `end-card` or `concurrent`.
    pub rendering_mode: Option<String>,
    /// `Creative@sequence` of the creative holding this companion, as written.
    pub sequence: Option<String>,
    /// `<StaticResource>` elements with a non-empty URL.
    pub static_resources: Vec<StaticResource>,
    /// `<IFrameResource>` URLs.
    pub iframe_resources: Vec<String>,
    /// `<HTMLResource>` text (the HTML itself, CDATA kept as text), trimmed.
    pub html_resources: Vec<String>,
    /// `<AltText>`.
    pub alt_text: Option<String>,
    /// `<AdParameters>` text.
    pub ad_parameters: Option<String>,
    /// `<CompanionClickThrough>`.
    pub click_through: Option<String>,
    /// `<CompanionClickTracking>` URLs.
    pub click_tracking: Vec<String>,
    /// `<TrackingEvents>/<Tracking>` (`creativeView`, ...).
    pub tracking: Vec<TrackingEvent>,
}

/// `<StaticResource>` of a companion: an image (or script) URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaticResource {
    /// `StaticResource@creativeType`: the MIME type (e.g. `image/png`).
    pub creative_type: Option<String>,
    /// Element text: the resource URL, trimmed.
    pub url: String,
}

/// `<AdVerifications>/<Verification>` (VAST 4.1+), or the VAST 3 form inside
/// `<Extensions>/<Extension type="AdVerifications">/<AdVerifications>`: a measurement
/// script (Open Measurement) the player loads next to the ad.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// `Verification@vendor`.
    pub vendor: Option<String>,
    /// `<JavaScriptResource>` elements with a non-empty URL.
    pub javascript_resources: Vec<JavaScriptResource>,
    /// `<ExecutableResource>` elements with a non-empty URL.
    pub executable_resources: Vec<ExecutableResource>,
    /// `<TrackingEvents>/<Tracking>` (`verificationNotExecuted`).
    pub tracking: Vec<TrackingEvent>,
    /// `<VerificationParameters>` text, passed to the script as is.
    pub parameters: Option<String>,
}

/// `<JavaScriptResource>` of a verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JavaScriptResource {
    /// `JavaScriptResource@apiFramework` (e.g. `omid`).
    pub api_framework: Option<String>,
    /// `JavaScriptResource@browserOptional`, as written (`true`/`false`).
    pub browser_optional: Option<String>,
    /// Element text: the script URL, trimmed.
    pub url: String,
}

/// `<ExecutableResource>` of a verification (VAST 4.1): a non-JavaScript executable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutableResource {
    /// `ExecutableResource@apiFramework`.
    pub api_framework: Option<String>,
    /// `ExecutableResource@type`: the MIME type.
    pub mime_type: Option<String>,
    /// `ExecutableResource@language`.
    pub language: Option<String>,
    /// Element text: the resource URL, trimmed.
    pub url: String,
}

// === impl MediaFile ===

impl MediaFile {
    /// Whether this media file is an HLS playlist: `type` is `application/x-mpegURL` or
    /// `application/vnd.apple.mpegurl` (any case), or the URL path ends in `.m3u8`.
    pub fn is_hls(&self) -> bool {
        if let Some(mime) = self.mime_type.as_deref() {
            let mime = mime.trim();
            if HLS_MIME_TYPES.iter().any(|m| mime.eq_ignore_ascii_case(m)) {
                return true;
            }
        }
        // Compare bytes: slicing the str could split a multi-byte character.
        let path = url_path(&self.url).as_bytes();
        path.len() >= HLS_EXTENSION.len()
            && path[path.len() - HLS_EXTENSION.len()..].eq_ignore_ascii_case(HLS_EXTENSION)
    }

    /// Whether this media file is an interactive unit (VPAID, JavaScript or Flash) rather
    /// than video, which a server-side stitcher cannot use.
    pub fn is_interactive(&self) -> bool {
        let vpaid = self
            .api_framework
            .as_deref()
            .is_some_and(|f| f.trim().eq_ignore_ascii_case("VPAID"));
        let script = self.mime_type.as_deref().is_some_and(|mime| {
            let mime = mime.trim();
            SCRIPT_MIME_TYPES
                .iter()
                .any(|m| mime.eq_ignore_ascii_case(m))
        });
        vpaid || script
    }
}

/// The path part of a URL: everything before the first `?` or `#`.
fn url_path(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(url: &str, mime: Option<&str>) -> MediaFile {
        MediaFile {
            url: url.to_owned(),
            delivery: None,
            mime_type: mime.map(str::to_owned),
            width: None,
            height: None,
            bitrate: None,
            codec: None,
            id: None,
            api_framework: None,
        }
    }

    #[test]
    fn is_hls_by_mime_type_any_case() {
        assert!(media("https://a/x", Some("application/x-mpegURL")).is_hls());
        assert!(media("https://a/x", Some("APPLICATION/VND.APPLE.MPEGURL")).is_hls());
        assert!(!media("https://a/x.mp4", Some("video/mp4")).is_hls());
    }

    #[test]
    fn is_hls_by_url_path() {
        assert!(media("https://a/b/master.m3u8", None).is_hls());
        assert!(media("https://a/b/master.M3U8?token=1#t", None).is_hls());
        assert!(!media("https://a/b/x.mp4?f=.m3u8", None).is_hls());
        assert!(!media("", None).is_hls());
        assert!(!media("é", None).is_hls());
        assert!(!media("https://a/ééééé", None).is_hls());
    }

    #[test]
    fn is_interactive_for_vpaid_and_script() {
        let mut m = media("https://a/x.js", Some("application/javascript"));
        assert!(m.is_interactive());
        m.mime_type = Some("video/mp4".into());
        assert!(!m.is_interactive());
        m.api_framework = Some("vpaid".into());
        assert!(m.is_interactive());
    }
}
