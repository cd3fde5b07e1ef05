//! Origin manifests: fetched with a timeout and a size cap, parsed once, cached and
//! shared by every session.
//!
//! I/O. [`client`] does one HTTP fetch; [`cache`] coalesces concurrent requests for
//! the same URL into one fetch per refresh interval and keeps the last good
//! manifest to stand in for a failing origin.

pub mod cache;
pub mod client;
pub mod internal;

pub use cache::{Fetched, Manifest, OriginCache, ParsedMedia, ParsedMpd, Purpose};
pub use client::{fetch_text, FetchFailure};
