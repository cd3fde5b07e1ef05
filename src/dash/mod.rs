//! DASH: a lossless MPD tree, SCTE-35 event streams → breaks, and the multi-period
//! splice.
//!
//! Pure. See ISO/IEC 23009-1 (MPD) and SCTE 214-1 (SCTE-35 in DASH).

pub mod mpd;
pub mod rewrite;
pub mod xml;

pub use mpd::{find_breaks, segment_duration, DashBreak};
pub use rewrite::{prepare_ad, splice_mpd, DashAd, DashFill, MpdContext};
pub use xml::{parse, write, Document, Element};
