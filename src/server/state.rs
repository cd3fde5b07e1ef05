//! Shared state. Cheap to clone: every field is an `Arc` or a handle to shared
//! internals, so each request gets its own copy of the handles.

use std::sync::{Arc, RwLock};

use moka::future::Cache;

use crate::config::{Channel, Channels, Limits};
use crate::error::Error;
use crate::events::Metrics;
use crate::hls::rewrite::VariantTarget;
use crate::origin::client::http_client;
use crate::origin::OriginCache;
use crate::session::store::Snapshot;
use crate::session::{Decision, MemoryStore, Session, SessionId, SessionStore, TimedStore};
use crate::stitch::AdRendition;
use crate::transcode::Transcoder;

/// How long a resolved ad rendition or variant target is reused before it is
/// resolved again from the manifest cache (which follows the origin).
const RESOLVED_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// The limits in the environment, or the defaults when they are bad (said once).
fn env_limits() -> Limits {
    Limits::from_env().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "Bad limits; using the defaults.");
        Limits::default()
    })
}

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
    /// Ad (and slate, bumper) MPDs prepared for DASH, by (configuration, URL).
    pub dash_ads: Cache<(String, String), Arc<crate::dash::DashAd>>,
    /// What a session's multivariant playlist says of a media playlist, by
    /// (configuration, multivariant URL, media playlist path).
    pub targets: Cache<(String, String, String), VariantTarget>,
    /// Guided (SGAI) media playlists, by (configuration, origin URL, file name):
    /// the origin manifest each was written from and the text every guided
    /// session of it gets (written again when the origin copy changes).
    pub guided: Cache<String, (Arc<crate::origin::Fetched>, Arc<str>)>,
    /// Metric families (`/metrics`).
    pub metrics: Arc<Metrics>,
    /// The configuration directory (serve mode): where the admin API writes.
    pub config_dir: Option<std::path::PathBuf>,
    /// The admin API's bearer token; `None`: the API is off.
    pub admin_token: Option<Arc<str>>,
    /// Ad transcoding: job pool and stored renditions.
    pub transcoder: Transcoder,
    /// What one client may make this process hold (issue #13).
    pub limits: Arc<Limits>,
}

impl AppState {
    /// State over `channels` with the in-memory session store, limits from the
    /// environment.
    pub fn new(channels: Channels) -> Self {
        Self::with_limits(channels, None, env_limits())
    }

    /// State over `channels` with the given session store, limits from the
    /// environment.
    pub fn with_store(channels: Channels, sessions: Arc<dyn SessionStore>) -> Self {
        Self::with_limits(channels, Some(sessions), env_limits())
    }

    /// State over `channels` with the given session store (default: in memory,
    /// within `limits`) and limits.
    pub fn with_limits(
        channels: Channels,
        sessions: Option<Arc<dyn SessionStore>>,
        limits: Limits,
    ) -> Self {
        let metrics = Arc::new(Metrics::default());
        let sessions = sessions.unwrap_or_else(|| {
            Arc::new(MemoryStore::with_budget(
                crate::session::store::SESSION_IDLE,
                limits.session_store_max_bytes,
                limits.session_evict_idle,
            ))
        });
        let sessions: Arc<dyn SessionStore> = Arc::new(TimedStore::new(sessions, metrics.clone()));
        let http = http_client();
        let settings = crate::config::TranscodeSettings::from_env().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "Bad transcoder settings; using the defaults.");
            Default::default()
        });
        let transcoder = Transcoder::new(settings, http.clone(), metrics.clone());
        Self {
            channels: Arc::new(RwLock::new(channels)),
            origin: OriginCache::with_budget(
                http.clone(),
                metrics.clone(),
                limits.origin_cache_max_bytes,
            ),
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
            dash_ads: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(RESOLVED_TTL)
                .build(),
            targets: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(RESOLVED_TTL)
                .build(),
            guided: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(RESOLVED_TTL)
                .build(),
            transcoder,
            metrics,
            config_dir: None,
            admin_token: None,
            limits: Arc::new(limits),
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

    /// Store a new session: 400 when its player parameters weigh more than the
    /// limit, 503 when the session store is full or cannot be reached.
    pub async fn create_session(&self, session: Session) -> Result<(), Error> {
        let max = self.limits.session_params_max_bytes;
        if crate::session::store::params_bytes(&session.player_params) > max {
            return Err(Error::BadRequest(format!(
                "player parameters exceed {max} bytes (names and values)"
            )));
        }
        if self.sessions.try_create(session).await.is_err() {
            return Err(Error::StoreFull);
        }
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
