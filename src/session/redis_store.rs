//! Redis session store: what several instances share, so that any of them
//! answers any request of any session the same way (DESIGN.md, "stateless").
//!
//! One hash per session, `{prefix}{id}`, expiring after [`SESSION_IDLE`] without a
//! read of the session:
//!
//! | field | value |
//! |---|---|
//! | `session` | the [`Session`], JSON |
//! | `d:{break}` | the [`Decision`] for a break, JSON, written once (`HSETNX`) |
//! | `r:{break}` | a [`BreakRecord`]'s first numbering, JSON, written once |
//! | `a:{break}` | its anchor, `"{msn} {offset}"`, moved forward only |
//! | `x:{break}` | its [`BreakDone`](crate::stitch::BreakDone), JSON, written once |
//! | `v:{key}` | a value ([`SessionStore::set_once`] and friends) |
//!
//! Every rule that must hold across instances (first decision stands, a beacon
//! claimed once, records merged monotonically) is one Lua script, so it is atomic
//! in Redis. A manifest request costs one round trip ([`SNAPSHOT`]) when nothing
//! changes and two when it does ([`APPLY`]). The session and its decisions never
//! change once written, so this instance keeps them after the first read and
//! the snapshot script returns them only when they are new here.
//!
//! Failures: each command has a timeout ([`RESPONSE_TIMEOUT`]); an error is logged
//! and counted, the call answers as if the data were absent, and
//! [`SessionStore::available`] turns false until a command succeeds again, so the
//! server answers 503 rather than "unknown session". For beacons it means "not
//! claimed": a Redis outage loses beacons rather than double-counting them (an
//! impression is counted at most once).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use super::store::{
    BoxFuture, Changes, Decision, Session, SessionStore, Snapshot, KEEP_DONE_RECORDS, PLAN_VALUES,
    SESSION_IDLE,
};
use super::SessionId;
use crate::stitch::{BreakDone, BreakRecord};

/// Longest wait for one Redis reply.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// Longest wait to (re)connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Key prefix unless configured.
pub const DEFAULT_PREFIX: &str = "splicepoint:s:";

/// `HSETNX` a field of an existing session; returns the value that stands, or
/// nil when the session does not exist. ARGV: field, value, idle ms.
const SET_IF_ABSENT: &str = r"
if redis.call('HEXISTS', KEYS[1], 'session') == 0 then return false end
local set = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return {set, redis.call('HGET', KEYS[1], ARGV[1])}
";

/// `HSET` a field of an existing session. ARGV: field, value.
const SET: &str = r"
if redis.call('HEXISTS', KEYS[1], 'session') == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
";

/// The fields of a session hash whose names start with one of ARGV, with their
/// values (flat: field, value, ...): a live request reads its records without
/// the decisions and beacon claims beside them.
const FIELDS_WITH_PREFIX: &str = r"
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local f = all[i]
  for _, p in ipairs(ARGV) do
    if string.sub(f, 1, #p) == p then
      table.insert(out, f)
      table.insert(out, all[i + 1])
      break
    end
  end
end
return out
";

/// A manifest request's read (see [`SessionStore::snapshot`]): keeps the session
/// alive and returns, flat (field, value, ...), the session (when `ARGV[2]` is
/// `1`), its records, its decisions (an empty value for those whose break id
/// is among `ARGV[4..]`: this instance has them already) and the values whose
/// keys start with one of the `ARGV[3]` prefixes (`|`-separated). Nil for an
/// unknown session. ARGV: idle ms, want session, value prefixes, known decisions.
const SNAPSHOT: &str = r"
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return false end
local known = {}
for i = 4, #ARGV do known['d:' .. ARGV[i]] = true end
local prefixes = {}
for p in string.gmatch(ARGV[3], '[^|]+') do table.insert(prefixes, 'v:' .. p) end
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local f = all[i]
  local kind = string.sub(f, 1, 2)
  local keep = false
  local value = all[i + 1]
  if f == 'session' then
    keep = ARGV[2] == '1'
  elseif kind == 'r:' or kind == 'a:' or kind == 'x:' then
    keep = true
  elseif kind == 'd:' then
    keep = true
    if known[f] then value = '' end
  elseif kind == 'v:' then
    for _, p in ipairs(prefixes) do
      if string.sub(f, 1, #p) == p then keep = true break end
    end
  end
  if keep then
    table.insert(out, f)
    table.insert(out, value)
  end
end
return out
";

/// A manifest request's write (see [`SessionStore::apply`]): break records merged
/// (see [`SessionStore::merge_records`]), completed breaks forgotten as
/// [`merge_records`](super::store::merge_records) says (those that ended before
/// `before`; beyond the newest `keep`, the oldest) with their
/// decisions and values, then values set, then values set unless set; returns the
/// standing values of the latter (flat: key, value, ...) and the forgotten break ids. ARGV: keep, before (0:
/// none), record count, 4 per record (break id, record JSON, anchor
/// `"{msn} {offset}"`, done JSON or ""), value count, 2 per value, once count, 2
/// per once value.
const APPLY: &str = r"
local key = KEYS[1]
if redis.call('HEXISTS', key, 'session') == 0 then return {{}, {}} end
local before = tonumber(ARGV[2])
local forget = {}
local n = tonumber(ARGV[3])
local i = 4
for _ = 1, n do
  local id = ARGV[i]
  redis.call('HSETNX', key, 'r:' .. id, ARGV[i + 1])
  local new = ARGV[i + 2]
  local cur = redis.call('HGET', key, 'a:' .. id)
  if not cur or tonumber(string.match(cur, '^%S+')) < tonumber(string.match(new, '^%S+')) then
    redis.call('HSET', key, 'a:' .. id, new)
  end
  if ARGV[i + 3] ~= '' then redis.call('HSETNX', key, 'x:' .. id, ARGV[i + 3]) end
  i = i + 4
end
if n > 0 or before > 0 then
  local keep = tonumber(ARGV[1])
  local done = {}
  for _, f in ipairs(redis.call('HKEYS', key)) do
    if string.sub(f, 1, 2) == 'x:' then
      local id = string.sub(f, 3)
      local rec = redis.call('HGET', key, 'r:' .. id)
      local start = 0
      if rec then start = cjson.decode(rec)['origin_start_msn'] or 0 end
      local fin = cjson.decode(redis.call('HGET', key, f))['origin_end_msn'] or 0
      table.insert(done, {id, start, fin})
    end
  end
  local kept = {}
  for _, d in ipairs(done) do
    if d[3] < before then
      table.insert(forget, d[1])
    else
      table.insert(kept, d)
    end
  end
  if #kept > keep then
    table.sort(kept, function(a, b) return a[2] < b[2] end)
    for m = 1, #kept - keep do table.insert(forget, kept[m][1]) end
  end
  if #forget > 0 then
    local prefixes = {}
    for _, id in ipairs(forget) do
      redis.call('HDEL', key, 'r:' .. id, 'a:' .. id, 'x:' .. id, 'd:' .. id)
      local hex = string.gsub(id, '.', function(c) return string.format('%02x', string.byte(c)) end)
      table.insert(prefixes, 'v:adstart/' .. hex .. '/')
      table.insert(prefixes, 'v:filler/' .. hex)
      table.insert(prefixes, 'v:beacon/' .. id .. '/')
    end
    for _, f in ipairs(redis.call('HKEYS', key)) do
      for _, p in ipairs(prefixes) do
        if string.sub(f, 1, #p) == p then redis.call('HDEL', key, f) break end
      end
    end
    redis.call('HINCRBY', key, 'v:forgotten', #forget)
  end
end
local nv = tonumber(ARGV[i])
i = i + 1
for _ = 1, nv do
  redis.call('HSET', key, 'v:' .. ARGV[i], ARGV[i + 1])
  i = i + 2
end
local no = tonumber(ARGV[i])
i = i + 1
local out = {}
for _ = 1, no do
  local f = 'v:' .. ARGV[i]
  redis.call('HSETNX', key, f, ARGV[i + 1])
  table.insert(out, ARGV[i])
  table.insert(out, redis.call('HGET', key, f))
  i = i + 2
end
return {out, forget}
";

/// What this instance keeps of a session it served: the session itself (it
/// never changes once created) and the decisions it has read (they never
/// change once written), so a request's one read transfers neither again.
#[derive(Default)]
struct Local {
    session: Option<Arc<Session>>,
    decisions: HashMap<String, Arc<Decision>>,
}

/// The Redis store. Cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    con: ConnectionManager,
    prefix: Arc<str>,
    idle_ms: u64,
    decisions: Cache<(SessionId, String), Arc<Decision>>,
    local: Cache<SessionId, Arc<std::sync::Mutex<Local>>>,
    round_trips: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    available: Arc<AtomicBool>,
    set_if_absent: Arc<Script>,
    set: Arc<Script>,
    fields: Arc<Script>,
    snapshot: Arc<Script>,
    apply: Arc<Script>,
}

impl RedisStore {
    /// Connect to `url` (`redis://host:port/db`, `rediss://` not built in). Fails
    /// when Redis cannot be reached now; later outages are retried per command.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let con = client.get_connection_manager_with_config(config).await?;
        Ok(Self {
            con,
            prefix: prefix.into(),
            idle_ms: SESSION_IDLE.as_millis() as u64,
            decisions: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(SESSION_IDLE)
                .build(),
            local: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(SESSION_IDLE)
                .build(),
            round_trips: Arc::default(),
            errors: Arc::default(),
            available: Arc::new(AtomicBool::new(true)),
            set_if_absent: Arc::new(Script::new(SET_IF_ABSENT)),
            set: Arc::new(Script::new(SET)),
            fields: Arc::new(Script::new(FIELDS_WITH_PREFIX)),
            snapshot: Arc::new(Script::new(SNAPSHOT)),
            apply: Arc::new(Script::new(APPLY)),
        })
    }

    fn key(&self, id: &SessionId) -> String {
        format!("{}{}", self.prefix, id)
    }

    /// Log and count a failure; `None` for the caller to fall back on. Every
    /// round trip ends here, so it counts them too.
    fn failed<T, E: std::fmt::Display>(&self, what: &str, result: Result<T, E>) -> Option<T> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(v) => {
                self.available.store(true, Ordering::Relaxed);
                Some(v)
            }
            Err(e) => {
                self.available.store(false, Ordering::Relaxed);
                self.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, op = what, "Session store (Redis) failed.");
                None
            }
        }
    }

    /// The session's fields starting with one of `prefixes`.
    async fn fields(&self, id: &SessionId, prefixes: &[&str]) -> HashMap<String, String> {
        let mut con = self.con.clone();
        let mut call = self.fields.key(self.key(id));
        for p in prefixes {
            call.arg(*p);
        }
        let r: redis::RedisResult<Vec<String>> = call.invoke_async(&mut con).await;
        let flat = self.failed("fields", r).unwrap_or_default();
        let mut out = HashMap::with_capacity(flat.len() / 2);
        let mut it = flat.into_iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            out.insert(f, v);
        }
        out
    }

    async fn set_if_absent(
        &self,
        id: &SessionId,
        field: &str,
        value: &str,
    ) -> Option<(bool, String)> {
        let mut con = self.con.clone();
        let r: redis::RedisResult<Option<(i64, String)>> = self
            .set_if_absent
            .key(self.key(id))
            .arg(field)
            .arg(value)
            .invoke_async(&mut con)
            .await;
        self.failed("set_if_absent", r)
            .flatten()
            .map(|(set, v)| (set == 1, v))
    }
}

/// Records from a session hash's fields (see the module docs).
fn records_from(fields: &HashMap<String, String>) -> Vec<BreakRecord> {
    let mut records: Vec<BreakRecord> = fields
        .iter()
        .filter_map(|(f, v)| {
            let id = f.strip_prefix("r:")?;
            let mut r: BreakRecord = serde_json::from_str(v).ok()?;
            if let Some((msn, offset)) = fields
                .get(&format!("a:{id}"))
                .and_then(|a| a.split_once(' '))
            {
                if let (Ok(msn), Ok(offset)) = (msn.parse(), offset.parse()) {
                    r.anchor_msn = msn;
                    r.anchor_offset = offset;
                }
            }
            r.done = fields
                .get(&format!("x:{id}"))
                .and_then(|x| serde_json::from_str::<BreakDone>(x).ok());
            Some(r)
        })
        .collect();
    records.sort_by_key(|r| r.origin_start_msn);
    records
}

impl SessionStore for RedisStore {
    /// Commands that failed (timeouts, connection loss, bad data) since start.
    fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn available(&self) -> bool {
        self.available.load(Ordering::Relaxed)
    }

    fn create(&self, session: Session) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let Ok(json) = serde_json::to_string(&session) else {
                return;
            };
            let key = self.key(&session.id);
            let mut con = self.con.clone();
            let r: redis::RedisResult<()> = redis::pipe()
                .atomic()
                .cmd("HSET")
                .arg(&key)
                .arg("session")
                .arg(json)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(self.idle_ms)
                .ignore()
                .query_async(&mut con)
                .await;
            self.failed("create", r);
        })
    }

    fn get(&self, id: &SessionId) -> BoxFuture<'_, Option<Arc<Session>>> {
        let id = id.clone();
        Box::pin(async move {
            let key = self.key(&id);
            let mut con = self.con.clone();
            // Reading a session keeps it alive.
            let r: redis::RedisResult<(Option<String>,)> = redis::pipe()
                .cmd("HGET")
                .arg(&key)
                .arg("session")
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(self.idle_ms)
                .ignore()
                .query_async(&mut con)
                .await;
            let json = self.failed("get", r)?.0?;
            match serde_json::from_str::<Session>(&json) {
                Ok(s) if s.id == id => Some(Arc::new(s)),
                _ => {
                    // Reachable but unreadable (another version's data): counted,
                    // and the session is treated as unknown.
                    self.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(session_id = %id, "Unreadable session in Redis.");
                    None
                }
            }
        })
    }

    fn decision(&self, id: &SessionId, break_id: &str) -> BoxFuture<'_, Option<Arc<Decision>>> {
        let cache_key = (id.clone(), break_id.to_string());
        Box::pin(async move {
            if let Some(d) = self.decisions.get(&cache_key).await {
                return Some(d);
            }
            let mut con = self.con.clone();
            let r: redis::RedisResult<Option<String>> = redis::cmd("HGET")
                .arg(self.key(&cache_key.0))
                .arg(format!("d:{}", cache_key.1))
                .query_async(&mut con)
                .await;
            let json = self.failed("decision", r)??;
            let d = Arc::new(serde_json::from_str::<Decision>(&json).ok()?);
            self.decisions.insert(cache_key, d.clone()).await;
            Some(d)
        })
    }

    fn put_decision_if_absent(
        &self,
        id: &SessionId,
        break_id: &str,
        decision: Decision,
    ) -> BoxFuture<'_, Arc<Decision>> {
        let cache_key = (id.clone(), break_id.to_string());
        Box::pin(async move {
            let Ok(json) = serde_json::to_string(&decision) else {
                return Arc::new(decision);
            };
            let field = format!("d:{}", cache_key.1);
            let standing = match self.set_if_absent(&cache_key.0, &field, &json).await {
                Some((true, _)) => Arc::new(decision),
                Some((false, other)) => match serde_json::from_str::<Decision>(&other) {
                    Ok(d) => Arc::new(d),
                    Err(_) => return Arc::new(decision),
                },
                // Unknown session or Redis down: this request uses its own.
                None => return Arc::new(decision),
            };
            self.decisions.insert(cache_key, standing.clone()).await;
            standing
        })
    }

    fn records(&self, id: &SessionId) -> BoxFuture<'_, Vec<BreakRecord>> {
        let id = id.clone();
        Box::pin(async move { records_from(&self.fields(&id, &["r:", "a:", "x:"]).await) })
    }

    fn merge_records(&self, id: &SessionId, updates: Vec<BreakRecord>) -> BoxFuture<'_, ()> {
        let id = id.clone();
        Box::pin(async move {
            let changes = Changes {
                records: updates,
                ..Changes::default()
            };
            self.apply(&id, changes).await;
        })
    }

    fn snapshot(&self, id: &SessionId) -> BoxFuture<'_, Option<Snapshot>> {
        let id = id.clone();
        Box::pin(async move {
            let local = self
                .local
                .get_with(id.clone(), async { Arc::default() })
                .await;
            let (session, known) = {
                let l = local.lock().unwrap_or_else(|e| e.into_inner());
                (l.session.clone(), l.decisions.clone())
            };
            let mut con = self.con.clone();
            let mut call = self.snapshot.key(self.key(&id));
            call.arg(self.idle_ms)
                .arg(if session.is_some() { "0" } else { "1" })
                .arg(PLAN_VALUES.join("|"));
            for break_id in known.keys() {
                call.arg(break_id);
            }
            let r: redis::RedisResult<Option<Vec<String>>> = call.invoke_async(&mut con).await;
            let flat = self.failed("snapshot", r)??;
            let mut fields = HashMap::with_capacity(flat.len() / 2);
            let mut it = flat.into_iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                fields.insert(f, v);
            }
            let session = match session {
                Some(s) => s,
                None => {
                    let json = fields.get("session")?;
                    match serde_json::from_str::<Session>(json) {
                        Ok(s) if s.id == id => Arc::new(s),
                        _ => {
                            self.errors.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(session_id = %id, "Unreadable session in Redis.");
                            return None;
                        }
                    }
                }
            };
            let mut decisions = HashMap::new();
            let mut values = std::collections::BTreeMap::new();
            for (f, v) in &fields {
                if let Some(b) = f.strip_prefix("d:") {
                    let d = match known.get(b) {
                        Some(d) => d.clone(),
                        None => match serde_json::from_str::<Decision>(v) {
                            Ok(d) => Arc::new(d),
                            Err(_) => continue,
                        },
                    };
                    decisions.insert(b.to_string(), d);
                } else if let Some(k) = f.strip_prefix("v:") {
                    values.insert(k.to_string(), v.clone());
                }
            }
            {
                let mut l = local.lock().unwrap_or_else(|e| e.into_inner());
                l.session = Some(session.clone());
                // Forgotten breaks' decisions are no longer in Redis.
                l.decisions.retain(|b, _| decisions.contains_key(b));
                for (b, d) in &decisions {
                    l.decisions.entry(b.clone()).or_insert_with(|| d.clone());
                }
            }
            Some(Snapshot {
                session,
                records: records_from(&fields),
                decisions,
                values,
            })
        })
    }

    fn apply(
        &self,
        id: &SessionId,
        changes: Changes,
    ) -> BoxFuture<'_, std::collections::BTreeMap<String, String>> {
        let id = id.clone();
        Box::pin(async move {
            let mut con = self.con.clone();
            let mut call = self.apply.key(self.key(&id));
            call.arg(KEEP_DONE_RECORDS)
                .arg(changes.forget_before.unwrap_or(0))
                .arg(changes.records.len());
            for u in &changes.records {
                let record = serde_json::to_string(u).unwrap_or_default();
                let done = u
                    .done
                    .and_then(|d| serde_json::to_string(&d).ok())
                    .unwrap_or_default();
                call.arg(&u.break_id)
                    .arg(record)
                    .arg(format!("{} {}", u.anchor_msn, u.anchor_offset))
                    .arg(done);
            }
            call.arg(changes.values.len());
            for (k, v) in &changes.values {
                call.arg(k).arg(v);
            }
            call.arg(changes.once.len());
            for (k, v) in &changes.once {
                call.arg(k).arg(v);
            }
            let r: redis::RedisResult<(Vec<Option<String>>, Vec<String>)> =
                call.invoke_async(&mut con).await;
            let (flat, forgotten) = self.failed("apply", r).unwrap_or_default();
            if !forgotten.is_empty() {
                for b in &forgotten {
                    self.decisions.invalidate(&(id.clone(), b.clone())).await;
                }
                if let Some(local) = self.local.get(&id).await {
                    let mut l = local.lock().unwrap_or_else(|e| e.into_inner());
                    l.decisions.retain(|b, _| !forgotten.contains(b));
                }
            }
            let mut standing = std::collections::BTreeMap::new();
            let mut it = flat.into_iter();
            while let (Some(Some(k)), Some(Some(v))) = (it.next(), it.next()) {
                standing.insert(k, v);
            }
            standing
        })
    }

    fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    fn decisions(&self, id: &SessionId) -> BoxFuture<'_, Vec<(String, Arc<Decision>)>> {
        let id = id.clone();
        Box::pin(async move {
            let mut all: Vec<(String, Arc<Decision>)> = self
                .fields(&id, &["d:"])
                .await
                .into_iter()
                .filter_map(|(f, v)| {
                    let break_id = f.strip_prefix("d:")?.to_string();
                    Some((break_id, Arc::new(serde_json::from_str(&v).ok()?)))
                })
                .collect();
            all.sort_by(|a, b| a.0.cmp(&b.0));
            all
        })
    }

    fn set_once(&self, id: &SessionId, key: &str, value: &str) -> BoxFuture<'_, bool> {
        let (id, field, value) = (id.clone(), format!("v:{key}"), value.to_string());
        Box::pin(async move {
            matches!(
                self.set_if_absent(&id, &field, &value).await,
                Some((true, _))
            )
        })
    }

    fn value_or_insert(
        &self,
        id: &SessionId,
        key: &str,
        value: &str,
    ) -> BoxFuture<'_, Option<String>> {
        let (id, field, value) = (id.clone(), format!("v:{key}"), value.to_string());
        Box::pin(async move {
            self.set_if_absent(&id, &field, &value)
                .await
                .map(|(_, standing)| standing)
        })
    }

    fn set_value(&self, id: &SessionId, key: &str, value: &str) -> BoxFuture<'_, ()> {
        let (id, field, value) = (id.clone(), format!("v:{key}"), value.to_string());
        Box::pin(async move {
            let mut con = self.con.clone();
            let r: redis::RedisResult<i64> = self
                .set
                .key(self.key(&id))
                .arg(field)
                .arg(value)
                .invoke_async(&mut con)
                .await;
            self.failed("set_value", r);
        })
    }

    fn value(&self, id: &SessionId, key: &str) -> BoxFuture<'_, Option<String>> {
        let (id, field) = (id.clone(), format!("v:{key}"));
        Box::pin(async move {
            let mut con = self.con.clone();
            let r: redis::RedisResult<Option<String>> = redis::cmd("HGET")
                .arg(self.key(&id))
                .arg(field)
                .query_async(&mut con)
                .await;
            self.failed("value", r)?
        })
    }

    fn values(&self, id: &SessionId, prefix: &str) -> BoxFuture<'_, Vec<(String, String)>> {
        let (id, prefix) = (id.clone(), format!("v:{prefix}"));
        Box::pin(async move {
            let mut all: Vec<(String, String)> = self
                .fields(&id, &[&prefix])
                .await
                .into_iter()
                .filter_map(|(f, v)| Some((f.strip_prefix("v:")?.to_string(), v)))
                .collect();
            all.sort();
            all
        })
    }
}
