//! HLS: a line-preserving playlist model, break markers, and URL rewriting.
//!
//! Pure. See RFC 8216 (HLS) and RFC 8216bis for the tags.

pub mod attr;
pub mod cue;
pub mod interstitial;
pub mod keys;
pub mod model;
pub mod pdt;
pub mod rendition;
pub mod rewrite;
pub mod version;

pub use model::{parse_media, parse_multivariant, parse_playlist, MediaPlaylist, Playlist};
