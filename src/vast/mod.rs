//! VAST (Video Ad Serving Template) responses: model and parser. Pure, no I/O, no clock.
//!
//! [`parse_vast`] turns the XML an ad server returns into a [`Vast`]: its `<Ad>`s, each an
//! [`InLine`] ad with linear creatives and media files, or a [`Wrapper`] pointing to the
//! next VAST response. Creatives also carry their [`Companion`] ads, and both ad kinds
//! their [`Verification`]s (Open Measurement scripts), for the player. Following wrappers
//! needs I/O and lives in `crate::ads::resolve`.
//!
//! Spec: IAB Tech Lab, VAST 4.2 (<https://iabtechlab.com/standards/vast/>), its XML element
//! definitions; VAST 2.0 and 3.0 documents share the same core shape.

mod model;
mod parse;
#[cfg(test)]
mod tests;

pub use model::{
    Ad, AdBody, Companion, Creative, ExecutableResource, InLine, JavaScriptResource, Linear,
    MediaFile, StaticResource, TrackingEvent, Vast, Verification, Wrapper,
};
pub use parse::{parse_duration, parse_vast, VastError};
