//! What a session remembers, and where.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::future::Cache;
use serde::{Deserialize, Serialize};

use super::SessionId;
use crate::stitch::BreakRecord;

/// A boxed future, for the object-safe store trait.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How long an idle session lives.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// Completed break records kept per session (older ones no longer matter once the
/// window has moved past them).
pub(crate) const KEEP_DONE_RECORDS: usize = 16;

/// A viewer's session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// `[session.uuid]`.
    pub uuid: String,
    /// The playback configuration it belongs to.
    pub channel: String,
    /// Query parameters of the session-creating request: `[player_params.*]`.
    pub player_params: BTreeMap<String, String>,
    /// `[session.user_agent]`.
    pub user_agent: String,
    /// `[session.client_ip]`.
    pub client_ip: String,
    /// `[session.referer]`.
    pub referer: String,
    /// The origin multivariant playlist (HLS) or MPD (DASH) the session started
    /// from, if any: the content the transcoder matches.
    pub master_url: Option<String>,
    /// Who reports ad impressions: us (server) or the player (client).
    #[serde(default)]
    pub reporting: ReportingMode,
    /// When it was created, Unix seconds.
    #[serde(default)]
    pub created_unix: u64,
    /// The session's own avail suppression (explicit sessions), over the
    /// configuration's.
    #[serde(default)]
    pub suppression: Option<crate::config::AvailSuppression>,
    /// A guided (SGAI) session: HLS interstitials instead of stitched ads (issue #15).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub guided: bool,
}

/// Who fires the VAST beacons.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportingMode {
    /// splicepoint fires them as the player fetches ad segments (the default).
    #[default]
    Server,
    /// The player fires them from the tracking API.
    Client,
}

/// One ad chosen for a break.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecidedAd {
    /// VAST Ad@id.
    pub ad_id: Option<String>,
    /// Creative@id.
    pub creative_id: Option<String>,
    /// VAST duration, seconds.
    pub duration: f64,
    /// The creative's HLS playlist (multivariant or media), if it has one.
    pub media_url: Option<String>,
    /// The creative's DASH MPD, if it has one.
    pub dash_url: Option<String>,
    /// VAST UniversalAdId (`registry:value`), where given.
    #[serde(default)]
    pub universal_ad_id: Option<String>,
    /// The best progressive media file (to transcode), where given.
    #[serde(default)]
    pub file_url: Option<String>,
    /// The VAST 4 Mezzanine, where given.
    #[serde(default)]
    pub mezzanine_url: Option<String>,
    /// Impression URLs (wrappers first).
    #[serde(default)]
    pub impressions: Vec<String>,
    /// Error URLs (wrappers first).
    #[serde(default)]
    pub error_urls: Vec<String>,
    /// Linear tracking events (wrappers first).
    #[serde(default)]
    pub tracking: Vec<Beacon>,
    /// Click-through URL.
    #[serde(default)]
    pub click_through: Option<String>,
    /// Click-tracking URLs.
    #[serde(default)]
    pub click_tracking: Vec<String>,
    /// VAST AdSystem.
    #[serde(default)]
    pub ad_system: Option<String>,
    /// VAST AdTitle.
    #[serde(default)]
    pub ad_title: Option<String>,
    /// Companion ads, for the player to show (client-side tracking API).
    #[serde(default)]
    pub companions: Vec<crate::vast::Companion>,
    /// Ad verifications (wrappers' first), for the player's measurement SDK.
    #[serde(default)]
    pub verifications: Vec<crate::vast::Verification>,
}

/// A VAST tracking event: when and where to report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Beacon {
    /// `start`, `firstQuartile`, `midpoint`, `thirdQuartile`, `complete`, `progress`...
    pub event: String,
    /// `offset` of a `progress` event, as written.
    #[serde(default)]
    pub offset: Option<String>,
    /// The URL.
    pub url: String,
}

/// The ads for one (session, break), decided once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The ads, in play order, fitted to the avail. Shared: every decision
    /// that holds the same ad (same creative, same beacons) holds one copy
    /// ([`intern_ad`]).
    #[serde(with = "shared_ads")]
    pub ads: Vec<Arc<DecidedAd>>,
    /// Avail duration the decision was made for, seconds.
    pub avail_duration: f64,
    /// Why there are no ads, when the ADS failed.
    pub failure: Option<String>,
}

/// Everything a manifest request reads from the session store, in one call: the
/// session, its break records, its decisions, and the values its plan reads
/// ([`PLAN_VALUES`]).
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The session.
    pub session: Arc<Session>,
    /// Its break records, by origin start.
    pub records: Vec<BreakRecord>,
    /// Its decisions, by break id.
    pub decisions: HashMap<String, Arc<Decision>>,
    /// Its values whose keys start with one of [`PLAN_VALUES`].
    pub values: BTreeMap<String, String>,
}

/// The state changes of one manifest request, written in one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Break records to merge (see [`SessionStore::merge_records`]).
    pub records: Vec<BreakRecord>,
    /// Values to set.
    pub values: Vec<(String, String)>,
    /// Values to set unless set (the first writer wins).
    pub once: Vec<(String, String)>,
    /// Forget completed breaks that ended before this origin media sequence
    /// number (all but the newest completed one): their records, decisions and
    /// values. See [`merge_records`].
    pub forget_before: Option<u64>,
    /// Breaks to forget by id (DASH, which keeps no records): their decisions
    /// and values.
    pub forget: Vec<String>,
}

impl Changes {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
            && self.values.is_empty()
            && self.once.is_empty()
            && self.forget_before.is_none()
            && self.forget.is_empty()
    }
}

/// Keys (or key prefixes) of the session values a manifest request reads: the
/// player timeline anchor, the live pre-roll join points, ad start positions.
pub const PLAN_VALUES: &[&str] = &[
    crate::stitch::request::TIMELINE,
    crate::stitch::request::HLS_PREROLL_AT,
    crate::stitch::request::DASH_PREROLL_AT,
    crate::stitch::request::AD_START,
    crate::stitch::request::FILLER,
    crate::stitch::request::FORGOTTEN,
];

/// Whether a value key is one a manifest request reads.
pub fn is_plan_value(key: &str) -> bool {
    PLAN_VALUES.iter().any(|p| key.starts_with(p))
}

/// Distinct ads held by live decisions, keyed by their JSON form: thousands of
/// sessions given the same ads hold one copy of them.
static ADS: Mutex<Option<Interner>> = Mutex::new(None);

struct Interner {
    ads: HashMap<String, std::sync::Weak<DecidedAd>>,
    purge_at: usize,
}

/// The one shared copy of `ad`: an equal ad that a live decision holds, or
/// this one, now shared.
pub fn intern_ad(ad: DecidedAd) -> Arc<DecidedAd> {
    let Ok(key) = serde_json::to_string(&ad) else {
        return Arc::new(ad);
    };
    let mut guard = ADS.lock().unwrap_or_else(|e| e.into_inner());
    let interner = guard.get_or_insert_with(|| Interner {
        ads: HashMap::new(),
        purge_at: 1024,
    });
    if let Some(shared) = interner.ads.get(&key).and_then(std::sync::Weak::upgrade) {
        return shared;
    }
    let shared = Arc::new(ad);
    interner.ads.insert(key, Arc::downgrade(&shared));
    if interner.ads.len() >= interner.purge_at {
        // Ads no decision holds any more go; the next purge waits until the map
        // has doubled, so purging stays amortized O(1) per ad.
        interner.ads.retain(|_, w| w.strong_count() > 0);
        interner.purge_at = (interner.ads.len() * 2).max(1024);
    }
    shared
}

/// Serde for shared ads: written as plain ads, read back interned.
mod shared_ads {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::{intern_ad, DecidedAd};

    pub fn serialize<S: Serializer>(ads: &[Arc<DecidedAd>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ads.iter().map(|a| &**a))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Arc<DecidedAd>>, D::Error> {
        Ok(Vec::<DecidedAd>::deserialize(d)?
            .into_iter()
            .map(intern_ad)
            .collect())
    }
}

/// The session store.
pub trait SessionStore: Send + Sync {
    /// Store a new session.
    fn create(&self, session: Session) -> BoxFuture<'_, ()>;
    /// Everything a manifest request needs of a session, in one read (one
    /// round trip in a shared store); `None` for an unknown session (or an
    /// unreachable store: see [`SessionStore::available`]). Keeps the session alive.
    fn snapshot(&self, id: &SessionId) -> BoxFuture<'_, Option<Snapshot>>;
    /// Write a request's changes in one call: records merged, values set, `once`
    /// values set unless set. Returns the values that stand for the `once` keys.
    fn apply(&self, id: &SessionId, changes: Changes) -> BoxFuture<'_, BTreeMap<String, String>>;
    /// Calls that reached the store (round trips in a shared store) since start.
    fn round_trips(&self) -> u64;
    /// A session by id.
    fn get(&self, id: &SessionId) -> BoxFuture<'_, Option<Arc<Session>>>;
    /// The decision for a break, if made.
    fn decision(&self, id: &SessionId, break_id: &str) -> BoxFuture<'_, Option<Arc<Decision>>>;
    /// Store a decision unless one exists; returns the one that stands.
    fn put_decision_if_absent(
        &self,
        id: &SessionId,
        break_id: &str,
        decision: Decision,
    ) -> BoxFuture<'_, Arc<Decision>>;
    /// The session's break records.
    fn records(&self, id: &SessionId) -> BoxFuture<'_, Vec<BreakRecord>>;
    /// Merge updated records: the first numbering written for a break stands, the
    /// anchor only moves forward, completion is set once.
    fn merge_records(&self, id: &SessionId, updates: Vec<BreakRecord>) -> BoxFuture<'_, ()>;
    /// Every decision of the session, by break id.
    fn decisions(&self, id: &SessionId) -> BoxFuture<'_, Vec<(String, Arc<Decision>)>>;
    /// Set `key` to `value` unless it is set: true for the first caller only, false
    /// for every later one (and for an unknown session). Beacons use it to fire
    /// once per session, whichever instance serves the segment.
    fn set_once(&self, id: &SessionId, key: &str, value: &str) -> BoxFuture<'_, bool>;
    /// Set `key` to `value` unless it is set, and return the value that stands
    /// (`None` for an unknown session): what the first caller wrote, whichever
    /// instance it was. One round trip in a shared store.
    fn value_or_insert(
        &self,
        id: &SessionId,
        key: &str,
        value: &str,
    ) -> BoxFuture<'_, Option<String>>;
    /// Set `key` to `value`.
    fn set_value(&self, id: &SessionId, key: &str, value: &str) -> BoxFuture<'_, ()>;
    /// The value of `key`.
    fn value(&self, id: &SessionId, key: &str) -> BoxFuture<'_, Option<String>>;
    /// Every (key, value) whose key starts with `prefix`, sorted by key.
    fn values(&self, id: &SessionId, prefix: &str) -> BoxFuture<'_, Vec<(String, String)>>;
    /// Operations that failed (a shared store's outages) since start.
    fn errors(&self) -> u64 {
        0
    }
    /// Whether the last operation reached the store (false during an outage of
    /// a shared store, so "absent" can be told from "unreachable").
    fn available(&self) -> bool {
        true
    }
    /// Sessions this store holds, when it can say cheaply (the in-memory store;
    /// `None` for a shared one): for a gauge.
    fn held(&self) -> BoxFuture<'_, Option<u64>> {
        Box::pin(async { None })
    }
    /// Store a new session, or refuse it when the store's budget is spent by
    /// sessions in use (a store without a budget of its own always accepts).
    fn try_create(&self, session: Session) -> BoxFuture<'_, Result<(), StoreFull>> {
        Box::pin(async move {
            self.create(session).await;
            Ok(())
        })
    }
}

/// The session store's byte budget is spent by sessions in use: none idle long
/// enough to be evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("session store full")]
pub struct StoreFull;

/// Estimated bytes an idle session holds in the memory store: the entry, its
/// strings, the cache's node. Calibrated against RSS (README, Operations); a
/// session's later state (decisions, break records) is bounded apart.
pub fn session_weight(s: &Session) -> u32 {
    // Measured: 20,000 idle sessions with four short parameters, 1,681 B of RSS each.
    const FIXED: usize = 1_200;
    const STRING: usize = 24 + 16;
    let params: usize = s
        .player_params
        .iter()
        .map(|(k, v)| k.len() + v.len() + 2 * STRING + 16)
        .sum();
    let strings = [&s.uuid, &s.channel, &s.user_agent, &s.client_ip, &s.referer]
        .iter()
        .map(|t| t.len())
        .sum::<usize>()
        + s.master_url.as_ref().map_or(0, |m| m.len() + STRING);
    u32::try_from(FIXED + params + strings).unwrap_or(u32::MAX)
}

/// Bytes of a session's player parameters as the per-session limit counts them:
/// names and values.
pub fn params_bytes(params: &BTreeMap<String, String>) -> usize {
    params.iter().map(|(k, v)| k.len() + v.len()).sum()
}

#[derive(Default)]
struct State {
    decisions: SmallMap<Arc<Decision>>,
    records: Vec<BreakRecord>,
    values: SmallMap<String>,
}

/// A map of few entries as one sorted vector: a session holds a handful of
/// decisions and values, and a tree or hash table would weigh more than they do.
#[derive(Debug)]
struct SmallMap<V>(Vec<(String, V)>);

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> SmallMap<V> {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    fn insert(&mut self, key: String, value: V) {
        match self.find(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => {
                self.0.insert(i, (key, value));
                // Held for the session's life: no room for entries that may not come.
                self.0.shrink_to_fit();
            }
        }
    }

    /// The value of `key`, inserting `value` when there is none.
    fn or_insert(&mut self, key: String, value: impl FnOnce() -> V) -> &V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key, value()));
                self.0.shrink_to_fit();
                i
            }
        };
        &self.0[i].1
    }

    /// Entries in key order from the first key at or after `from`.
    fn from(&self, from: &str) -> impl Iterator<Item = &(String, V)> {
        let i = self.find(from).unwrap_or_else(|i| i);
        self.0[i..].iter()
    }
}

struct Entry {
    session: Arc<Session>,
    state: Mutex<State>,
    /// Last use, milliseconds since the store's epoch.
    last_used: AtomicU64,
    /// [`session_weight`] at creation.
    weight: u32,
}

/// In-memory store: moka with idle expiry, and a byte budget. Cheap to clone.
///
/// The budget: each session weighs [`session_weight`]; when a new one does not
/// fit, the least recently used sessions idle for at least `evict_idle` are
/// evicted; when that is not enough (every session is in use), the new session is
/// refused ([`StoreFull`], a 503 for the player).
#[derive(Clone)]
pub struct MemoryStore {
    sessions: Cache<SessionId, Arc<Entry>>,
    calls: Arc<AtomicU64>,
    budget: Arc<Budget>,
}

struct Budget {
    /// Weight of the sessions held (an eviction listener subtracts).
    bytes: Arc<AtomicU64>,
    max_bytes: u64,
    evict_idle: Duration,
    epoch: std::time::Instant,
    /// One eviction scan at a time.
    scan: tokio::sync::Mutex<()>,
}

impl Budget {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

/// Default session store budget, bytes.
pub const DEFAULT_STORE_MAX_BYTES: u64 = 1024 * 1024 * 1024;
/// Default: sessions idle this long may be evicted to make room.
pub const DEFAULT_EVICT_IDLE: Duration = Duration::from_secs(30);

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(SESSION_IDLE, DEFAULT_STORE_MAX_BYTES)
    }
}

impl MemoryStore {
    /// A store whose sessions expire after `idle` without use, holding at most
    /// `max_bytes` of sessions.
    pub fn new(idle: Duration, max_bytes: u64) -> Self {
        Self::with_budget(idle, max_bytes, DEFAULT_EVICT_IDLE)
    }

    /// [`MemoryStore::new`], evicting sessions idle at least `evict_idle` to make room.
    pub fn with_budget(idle: Duration, max_bytes: u64, evict_idle: Duration) -> Self {
        let bytes = Arc::new(AtomicU64::new(0));
        let held = bytes.clone();
        Self {
            sessions: Cache::builder()
                .time_to_idle(idle)
                .eviction_listener(move |_, e: Arc<Entry>, _| {
                    held.fetch_sub(u64::from(e.weight), Ordering::Relaxed);
                })
                .build(),
            calls: Arc::default(),
            budget: Arc::new(Budget {
                bytes,
                max_bytes,
                evict_idle,
                epoch: std::time::Instant::now(),
                scan: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Estimated bytes of the sessions held.
    pub async fn weighted_size(&self) -> u64 {
        self.sessions.run_pending_tasks().await;
        self.budget.bytes.load(Ordering::Relaxed)
    }

    /// Sessions held.
    pub async fn session_count(&self) -> u64 {
        self.sessions.run_pending_tasks().await;
        self.sessions.entry_count()
    }

    /// Make room for `weight` more bytes: expired sessions go, then the least
    /// recently used of those idle at least `evict_idle`, down to 15/16 of the
    /// budget so that scans stay rare. False when that is not enough.
    async fn make_room(&self, weight: u64) -> bool {
        let b = &self.budget;
        let fits = || b.bytes.load(Ordering::Relaxed) + weight <= b.max_bytes;
        if fits() {
            return true;
        }
        let _scan = b.scan.lock().await;
        self.sessions.run_pending_tasks().await;
        if fits() {
            return true;
        }
        let now = b.now_ms();
        let idle_ms = b.evict_idle.as_millis() as u64;
        let mut idle: Vec<(u64, Arc<SessionId>, u64)> = self
            .sessions
            .iter()
            .filter_map(|(id, e)| {
                let used = e.last_used.load(Ordering::Relaxed);
                (now.saturating_sub(used) >= idle_ms).then(|| (used, id, u64::from(e.weight)))
            })
            .collect();
        idle.sort_unstable_by_key(|(used, _, _)| *used);
        let target = b.max_bytes - b.max_bytes / 16;
        let mut held = b.bytes.load(Ordering::Relaxed);
        for (_, id, w) in idle {
            if held + weight <= target {
                break;
            }
            self.sessions.invalidate(&*id).await;
            held = held.saturating_sub(w);
        }
        self.sessions.run_pending_tasks().await;
        fits()
    }
}

/// Merge `updates` into `records` (see [`SessionStore::merge_records`]), then
/// forget the completed breaks that no longer matter, and return their ids: with
/// `forget_before`, those that ended before that origin media sequence number
/// (see [`crate::stitch::request::forget_before`]); and beyond the newest
/// [`KEEP_DONE_RECORDS`] completed ones, the oldest.
/// The caller drops their decisions and values too ([`forget_break_state`]).
pub fn merge_records(
    records: &mut Vec<BreakRecord>,
    updates: Vec<BreakRecord>,
    forget_before: Option<u64>,
) -> Vec<String> {
    for u in updates {
        match records.iter_mut().find(|r| r.break_id == u.break_id) {
            None => records.push(u),
            Some(r) => {
                if u.anchor_msn > r.anchor_msn {
                    r.anchor_msn = u.anchor_msn;
                    r.anchor_offset = u.anchor_offset;
                }
                if r.done.is_none() {
                    r.done = u.done;
                }
            }
        }
    }
    let mut forgotten = Vec::new();
    if let Some(before) = forget_before {
        records.retain(|r| match r.done {
            Some(d) if d.origin_end_msn < before => {
                forgotten.push(r.break_id.clone());
                false
            }
            _ => true,
        });
    }
    let done = records.iter().filter(|r| r.done.is_some()).count();
    if done > KEEP_DONE_RECORDS {
        records.sort_by_key(|r| r.origin_start_msn);
        let mut drop = done - KEEP_DONE_RECORDS;
        records.retain(|r| {
            if drop > 0 && r.done.is_some() {
                drop -= 1;
                forgotten.push(r.break_id.clone());
                false
            } else {
                true
            }
        });
    }
    records.shrink_to_fit();
    forgotten
}

/// Drop what a session holds for the forgotten breaks `ids` (see
/// [`merge_records`], or named): their records, decisions and values
/// ([`crate::stitch::request::break_value_prefixes`]), and
/// count them in the `forgotten` value, so later breaks keep their index.
fn forget_break_state(state: &mut State, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    let prefixes: Vec<String> = ids
        .iter()
        .flat_map(|id| crate::stitch::request::break_value_prefixes(id))
        .collect();
    state.records.retain(|r| !ids.contains(&r.break_id));
    state.decisions.0.retain(|(k, _)| !ids.contains(k));
    state
        .values
        .0
        .retain(|(k, _)| !prefixes.iter().any(|p| k.starts_with(p.as_str())));
    let key = crate::stitch::request::FORGOTTEN;
    let before: u64 = state
        .values
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    state
        .values
        .insert(key.to_string(), (before + ids.len() as u64).to_string());
    state.decisions.0.shrink_to_fit();
    state.values.0.shrink_to_fit();
}

impl MemoryStore {
    /// The entry of a session, counting the call and the use.
    async fn entry(&self, id: &SessionId) -> Option<Arc<Entry>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let e = self.sessions.get(id).await?;
        e.last_used.store(self.budget.now_ms(), Ordering::Relaxed);
        Some(e)
    }
}

impl SessionStore for MemoryStore {
    fn snapshot(&self, id: &SessionId) -> BoxFuture<'_, Option<Snapshot>> {
        let id = id.clone();
        Box::pin(async move {
            let entry = self.entry(&id).await?;
            let state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
            Some(Snapshot {
                session: entry.session.clone(),
                records: state.records.clone(),
                decisions: state
                    .decisions
                    .0
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                values: state
                    .values
                    .0
                    .iter()
                    .filter(|(k, _)| is_plan_value(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            })
        })
    }

    fn apply(&self, id: &SessionId, changes: Changes) -> BoxFuture<'_, BTreeMap<String, String>> {
        let id = id.clone();
        Box::pin(async move {
            let mut standing = BTreeMap::new();
            let Some(entry) = self.entry(&id).await else {
                return standing;
            };
            let mut state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
            let mut forgotten = Vec::new();
            if !changes.records.is_empty() || changes.forget_before.is_some() {
                forgotten =
                    merge_records(&mut state.records, changes.records, changes.forget_before);
            }
            for id in changes.forget {
                if state.decisions.contains_key(&id) && !forgotten.contains(&id) {
                    forgotten.push(id);
                }
            }
            forget_break_state(&mut state, &forgotten);
            for (k, v) in changes.values {
                state.values.insert(k, v);
            }
            for (k, v) in changes.once {
                let v = state.values.or_insert(k.clone(), || v).clone();
                standing.insert(k, v);
            }
            standing
        })
    }

    fn held(&self) -> BoxFuture<'_, Option<u64>> {
        Box::pin(async move { Some(self.session_count().await) })
    }

    fn round_trips(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn create(&self, session: Session) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _ = self.try_create(session).await;
        })
    }

    fn try_create(&self, session: Session) -> BoxFuture<'_, Result<(), StoreFull>> {
        Box::pin(async move {
            let weight = session_weight(&session);
            if !self.make_room(u64::from(weight)).await {
                return Err(StoreFull);
            }
            let entry = Arc::new(Entry {
                session: Arc::new(session),
                state: Mutex::new(State::default()),
                last_used: AtomicU64::new(self.budget.now_ms()),
                weight,
            });
            self.budget
                .bytes
                .fetch_add(u64::from(weight), Ordering::Relaxed);
            self.sessions.insert(entry.session.id.clone(), entry).await;
            Ok(())
        })
    }

    fn get(&self, id: &SessionId) -> BoxFuture<'_, Option<Arc<Session>>> {
        let id = id.clone();
        Box::pin(async move { self.entry(&id).await.map(|e| e.session.clone()) })
    }

    fn decision(&self, id: &SessionId, break_id: &str) -> BoxFuture<'_, Option<Arc<Decision>>> {
        let (id, break_id) = (id.clone(), break_id.to_string());
        Box::pin(async move {
            let entry = self.entry(&id).await?;
            let state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
            state.decisions.get(&break_id).cloned()
        })
    }

    fn put_decision_if_absent(
        &self,
        id: &SessionId,
        break_id: &str,
        decision: Decision,
    ) -> BoxFuture<'_, Arc<Decision>> {
        let (id, break_id) = (id.clone(), break_id.to_string());
        Box::pin(async move {
            let Some(entry) = self.entry(&id).await else {
                return Arc::new(decision);
            };
            let mut state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
            state
                .decisions
                .or_insert(break_id, || Arc::new(decision))
                .clone()
        })
    }

    fn records(&self, id: &SessionId) -> BoxFuture<'_, Vec<BreakRecord>> {
        let id = id.clone();
        Box::pin(async move {
            match self.entry(&id).await {
                Some(entry) => entry
                    .state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .records
                    .clone(),
                None => Vec::new(),
            }
        })
    }

    fn decisions(&self, id: &SessionId) -> BoxFuture<'_, Vec<(String, Arc<Decision>)>> {
        let id = id.clone();
        Box::pin(async move {
            let Some(entry) = self.entry(&id).await else {
                return Vec::new();
            };
            let state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
            let all: Vec<_> = state.decisions.0.clone();
            all
        })
    }

    fn set_once(&self, id: &SessionId, key: &str, value: &str) -> BoxFuture<'_, bool> {
        let (id, key, value) = (id.clone(), key.to_string(), value.to_string());
        Box::pin(async move {
            let Some(entry) = self.entry(&id).await else {
                return false;
            };
            let mut state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.values.contains_key(&key) {
                return false;
            }
            state.values.insert(key, value);
            true
        })
    }

    fn value_or_insert(
        &self,
        id: &SessionId,
        key: &str,
        value: &str,
    ) -> BoxFuture<'_, Option<String>> {
        let (id, key, value) = (id.clone(), key.to_string(), value.to_string());
        Box::pin(async move {
            let entry = self.entry(&id).await?;
            let mut state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
            Some(state.values.or_insert(key, || value).clone())
        })
    }

    fn set_value(&self, id: &SessionId, key: &str, value: &str) -> BoxFuture<'_, ()> {
        let (id, key, value) = (id.clone(), key.to_string(), value.to_string());
        Box::pin(async move {
            if let Some(entry) = self.entry(&id).await {
                let mut state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
                state.values.insert(key, value);
            }
        })
    }

    fn value(&self, id: &SessionId, key: &str) -> BoxFuture<'_, Option<String>> {
        let (id, key) = (id.clone(), key.to_string());
        Box::pin(async move {
            let entry = self.entry(&id).await?;
            let state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
            state.values.get(&key).cloned()
        })
    }

    fn values(&self, id: &SessionId, prefix: &str) -> BoxFuture<'_, Vec<(String, String)>> {
        let (id, prefix) = (id.clone(), prefix.to_string());
        Box::pin(async move {
            let Some(entry) = self.entry(&id).await else {
                return Vec::new();
            };
            let state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
            state
                .values
                .from(&prefix)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .cloned()
                .collect()
        })
    }

    fn merge_records(&self, id: &SessionId, updates: Vec<BreakRecord>) -> BoxFuture<'_, ()> {
        let id = id.clone();
        Box::pin(async move {
            if let Some(entry) = self.entry(&id).await {
                let mut state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
                let forgotten = merge_records(&mut state.records, updates, None);
                forget_break_state(&mut state, &forgotten);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ad(url: &str) -> DecidedAd {
        DecidedAd {
            ad_id: Some("a".into()),
            creative_id: None,
            duration: 10.0,
            media_url: Some(url.into()),
            dash_url: None,
            universal_ad_id: None,
            file_url: None,
            mezzanine_url: None,
            impressions: vec!["http://t.example/imp".into()],
            error_urls: vec![],
            tracking: vec![],
            click_through: None,
            click_tracking: vec![],
            ad_system: None,
            ad_title: None,
            companions: vec![],
            verifications: vec![],
        }
    }

    #[test]
    fn equal_ads_are_held_once() {
        let a = intern_ad(ad("http://ads.example/interned-1.m3u8"));
        let b = intern_ad(ad("http://ads.example/interned-1.m3u8"));
        let c = intern_ad(ad("http://ads.example/interned-2.m3u8"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        // Read back from the store's JSON, a decision shares them too.
        let d = Decision {
            ads: vec![a.clone()],
            avail_duration: 10.0,
            failure: None,
        };
        let back: Decision = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert!(Arc::ptr_eq(&back.ads[0], &a));
        assert_eq!(back, d);
        // Once no decision holds it, a new one is made.
        drop((a, b, d, back));
        let again = intern_ad(ad("http://ads.example/interned-1.m3u8"));
        assert_eq!(Arc::strong_count(&again), 1);
    }
}
