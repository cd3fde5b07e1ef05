//! Shared state. Cheap to clone: every field is an `Arc` or a handle to shared
//! internals, so each request gets its own copy of the handles.

use std::sync::{Arc, RwLock};

use moka::future::Cache;

use crate::config::{Channel, Channels};
use crate::error::Error;
use crate::events::Metrics;
use crate::hls::rewrite::VariantTarget;
use crate::origin::client::http_client;
use crate::origin::OriginCache;
use crate::session::store::Snapshot;
use crate::session::{Decision, MemoryStore, Session, SessionId, SessionStore};
use crate::stitch::AdRendition;
use crate::transcode::Transcoder;

/// How long a resolved ad rendition or variant target is reused before it is
/// resolved again from the manifest cache (which follows the origin).
const RESOLVED_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    /// Playback configurations by name (swapped whole on reload).
    pub channels: Arc<RwLock<Channels>>,
    /// The HTTP client (origin, ADS, ad playlists).
    pub http: reqwest::Client,
    /// Shared manifest cache.
    pub origin: OriginCache,
    /// Session store.
    pub sessions: Arc<dyn SessionStore>,
    /// In-flight ad decisions, so concurrent variants of one session make one ADS call.
    pub decisions_inflight: Cache<(SessionId, String), Arc<Decision>>,
    /// Ad (and slate, bumper) renditions resolved for a content variant, by
    /// (configuration, playlist URL, variant): a request whose ads are known costs one lookup
    /// per ad instead of URL parsing and two manifest cache reads.
    pub renditions: Cache<(String, String, VariantTarget), Arc<AdRendition>>,
    /// What a session's multivariant playlist says of a media playlist, by
    /// (configuration, multivariant URL, media playlist path).
    pub targets: Cache<(String, String, String), VariantTarget>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The configuration directory (serve mode): where the admin API writes.
    pub config_dir: Option<std::path::PathBuf>,
    /// The admin API's bearer token; `None`: the API is off.
    pub admin_token: Option<Arc<str>>,
    /// Ad transcoding: job pool and stored renditions.
    pub transcoder: Transcoder,
}

impl AppState {
    /// State over `channels` with the in-memory session store.
    pub fn new(channels: Channels) -> Self {
        Self::with_store(channels, Arc::new(MemoryStore::default()))
    }

    /// State over `channels` with the given session store.
    pub fn with_store(channels: Channels, sessions: Arc<dyn SessionStore>) -> Self {
        let http = http_client();
        let metrics = Arc::new(Metrics::default());
        let settings = crate::config::TranscodeSettings::from_env().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "Bad transcoder settings; using the defaults.");
            Default::default()
        });
        let transcoder = Transcoder::new(settings, http.clone(), metrics.clone());
        Self {
            channels: Arc::new(RwLock::new(channels)),
            origin: OriginCache::new(http.clone(), metrics.clone()),
            http,
            sessions,
            decisions_inflight: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
            renditions: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(RESOLVED_TTL)
                .build(),
            targets: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(RESOLVED_TTL)
                .build(),
            transcoder,
            metrics,
            config_dir: None,
            admin_token: None,
        }
    }

    /// A session by id: 404 when there is none, 503 when the session store
    /// cannot be reached (a Redis outage is not an unknown session).
    pub async fn session(&self, id: &SessionId) -> Result<Arc<Session>, Error> {
        match self.sessions.get(id).await {
            Some(s) => Ok(s),
            None if !self.sessions.available() => Err(Error::StoreUnavailable),
            None => Err(Error::UnknownSession),
        }
    }

    /// Everything a manifest request needs of a session, in one read: 404 when
    /// there is no such session, 503 when the session store cannot be reached.
    pub async fn snapshot(&self, id: &SessionId) -> Result<Snapshot, Error> {
        match self.sessions.snapshot(id).await {
            Some(s) => Ok(s),
            None if !self.sessions.available() => Err(Error::StoreUnavailable),
            None => Err(Error::UnknownSession),
        }
    }

    /// Store a new session: 503 when the session store cannot be reached.
    pub async fn create_session(&self, session: Session) -> Result<(), Error> {
        self.sessions.create(session).await;
        if self.sessions.available() {
            Ok(())
        } else {
            Err(Error::StoreUnavailable)
        }
    }

    /// A channel by name.
    pub fn channel(&self, name: &str) -> Option<Arc<Channel>> {
        let channels = self.channels.read().unwrap_or_else(|e| e.into_inner());
        channels.get(name).cloned()
    }
}
