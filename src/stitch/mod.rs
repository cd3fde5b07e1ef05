//! Splicing: the pure decisions that turn an origin playlist, its breaks and the
//! session's ads into the personalized playlist.
//!
//! Pure. [`plan`] holds the live/VOD splice with the continuity rules of DESIGN.md
//! ("Live HLS: staying consistent across refreshes").

pub mod guided;
pub mod plan;
pub mod request;

pub use plan::{
    effective_break_ids, first_position, splice_media, unmarked_break, AdRef, AdRendition,
    AdSegment, AdUri, BreakDone, BreakFill, BreakRecord, FillerStart, SpliceInput, SpliceOutput,
};
