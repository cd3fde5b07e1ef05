//! Sessions: ids, what a session remembers, and the store behind a trait.
//!
//! I/O (the store). In memory by default ([`MemoryStore`], moka with idle expiry);
//! [`RedisStore`] when several instances serve the same sessions.

pub mod id;
pub mod redis_store;
pub mod store;
pub mod timed;

pub use id::SessionId;
pub use redis_store::RedisStore;
pub use store::{Beacon, DecidedAd, Decision, MemoryStore, ReportingMode, Session, SessionStore};
pub use timed::TimedStore;
