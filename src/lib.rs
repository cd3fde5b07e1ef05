//! splicepoint: a server-side ad insertion (SSAI) manifest proxy.
//!
//! # Layout
//!
//! Pure modules (no I/O, no clock; data in, data out):
//! - [`hls`]: line-preserving HLS model, break markers, URL rewriting.
//! - [`breaks`]: the common ad-break model and pod fitting.
//! - [`stitch`]: the splice of ads into a media playlist, with the live
//!   continuity bookkeeping.
//! - [`vast`]: VAST 2/3/4 parsing.
//! - [`scte35`]: SCTE-35 cues: decoder (binary, base64, hex, DASH XML), encoder,
//!   and the rules that turn cues into breaks.
//! - [`config`]: playback configurations (TOML), validation.
//! - [`conformance`]: the HLS and MPD rules a manifest writer can break, checked on
//!   manifest text.
//! - [`urls`]: URL parsing for outside text, with the DNS host-length cap.
//!
//! I/O modules (thin, async):
//! - [`origin`]: origin fetches with timeouts, size caps, a shared coalescing cache.
//! - [`ads`]: ADS URL templates, VAST wrapper resolution, ad decisions.
//! - [`session`]: the session store (in memory by default).
//! - [`server`]: axum routes, headers, errors to HTTP.
//! - [`demo`]: the built-in demo origin and demo ad server.
//! - [`transcode`]: MP4/mezzanine creatives made to match the content (ffmpeg), stored.
//! - [`tracking`]: ad reporting: beacons (server-side) and the tracking document.
//! - [`events`]: the metric families on `/metrics` (prometheus-client).
//! - [`inspect`]: `splicepoint inspect`: decoded cues and the breaks of a manifest.
//! - [`validate`]: `splicepoint validate`: fetch a manifest and its renditions (again
//!   with `--watch`), report the [`conformance`] problems.

// The crate by its own name, so test support shared with the integration
// tests (tests/common) compiles inside it too.
#[cfg(test)]
extern crate self as splicepoint;

pub mod ads;
pub mod breaks;
pub mod config;
pub mod conformance;
pub mod dash;
pub mod demo;
pub mod error;
pub mod events;
pub mod hls;
pub mod inspect;
pub mod origin;
pub mod scte35;
pub mod server;
pub mod session;
pub mod stitch;
pub mod tracking;
pub mod transcode;
pub mod urls;
pub mod validate;
pub mod vast;
