//! Sessions: ids, what a session remembers, and the store behind a trait.
//!
//! I/O (the store). In memory by default ([`MemoryStore`], moka with idle expiry);
//! the trait is the seam for a shared store (Redis) when several instances serve
//! the same sessions.

pub mod id;
pub mod store;

pub use id::SessionId;
pub use store::{Beacon, DecidedAd, Decision, MemoryStore, ReportingMode, Session, SessionStore};
