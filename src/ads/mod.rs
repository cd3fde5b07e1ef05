//! Ad decisions: building the ad server request and resolving its VAST answer.
//!
//! [`template`] expands the ad decision server URL template for a session and avail
//! (pure). [`resolve`] fetches the VAST response through a [`VastFetcher`], follows
//! wrapper chains and returns the playable linear ads in play order (async; its only I/O
//! is the fetcher, so it runs against an in-memory map in tests). [`decide`] ties them
//! together over HTTP for one session and avail.

pub mod decide;
pub mod resolve;
pub mod template;

pub use resolve::{
    resolve_ads, resolve_ads_capped, resolve_ads_limited, FetchError, ResolveError, ResolveLimits,
    ResolvedAd, VastFetcher, MAX_WRAPPER_DEPTH,
};
pub use template::{expand_template, TemplateVars};
