//! A [`SessionStore`] that times every call of the store it wraps
//! (`splicepoint_session_store_duration_seconds{op}`): with Redis, one call is one
//! round trip.
//!
//! I/O shell: it only measures; every call goes to the inner store unchanged.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use super::store::{BoxFuture, Changes, Snapshot, StoreFull};
use super::{Decision, Session, SessionId, SessionStore};
use crate::events::Metrics;
use crate::stitch::BreakRecord;

/// The store, timed. Cheap to clone.
#[derive(Clone)]
pub struct TimedStore {
    inner: Arc<dyn SessionStore>,
    metrics: Arc<Metrics>,
}

impl TimedStore {
    /// Time `inner`'s calls into `metrics`.
    pub fn new(inner: Arc<dyn SessionStore>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn timed<'a, T: 'a>(
        &'a self,
        op: &'static str,
        call: impl Future<Output = T> + Send + 'a,
    ) -> BoxFuture<'a, T> {
        let start = Instant::now();
        Box::pin(async move {
            let out = call.await;
            self.metrics
                .session_store(op, start.elapsed().as_secs_f64());
            out
        })
    }
}

impl SessionStore for TimedStore {
    fn create(&self, session: Session) -> BoxFuture<'_, ()> {
        self.timed("create", self.inner.create(session))
    }
    fn snapshot(&self, id: &SessionId) -> BoxFuture<'_, Option<Snapshot>> {
        self.timed("snapshot", self.inner.snapshot(id))
    }
    fn apply(&self, id: &SessionId, changes: Changes) -> BoxFuture<'_, BTreeMap<String, String>> {
        self.timed("apply", self.inner.apply(id, changes))
    }
    fn round_trips(&self) -> u64 {
        self.inner.round_trips()
    }
    fn get(&self, id: &SessionId) -> BoxFuture<'_, Option<Arc<Session>>> {
        self.timed("get", self.inner.get(id))
    }
    fn decision(&self, id: &SessionId, break_id: &str) -> BoxFuture<'_, Option<Arc<Decision>>> {
        self.timed("decision", self.inner.decision(id, break_id))
    }
    fn put_decision_if_absent(
        &self,
        id: &SessionId,
        break_id: &str,
        decision: Decision,
    ) -> BoxFuture<'_, Arc<Decision>> {
        self.timed(
            "put_decision",
            self.inner.put_decision_if_absent(id, break_id, decision),
        )
    }
    fn records(&self, id: &SessionId) -> BoxFuture<'_, Vec<BreakRecord>> {
        self.timed("records", self.inner.records(id))
    }
    fn merge_records(&self, id: &SessionId, updates: Vec<BreakRecord>) -> BoxFuture<'_, ()> {
        self.timed("merge_records", self.inner.merge_records(id, updates))
    }
    fn decisions(&self, id: &SessionId) -> BoxFuture<'_, Vec<(String, Arc<Decision>)>> {
        self.timed("decisions", self.inner.decisions(id))
    }
    fn set_once(&self, id: &SessionId, key: &str, value: &str) -> BoxFuture<'_, bool> {
        self.timed("set_once", self.inner.set_once(id, key, value))
    }
    fn value_or_insert(
        &self,
        id: &SessionId,
        key: &str,
        value: &str,
    ) -> BoxFuture<'_, Option<String>> {
        self.timed(
            "value_or_insert",
            self.inner.value_or_insert(id, key, value),
        )
    }
    fn set_value(&self, id: &SessionId, key: &str, value: &str) -> BoxFuture<'_, ()> {
        self.timed("set_value", self.inner.set_value(id, key, value))
    }
    fn value(&self, id: &SessionId, key: &str) -> BoxFuture<'_, Option<String>> {
        self.timed("value", self.inner.value(id, key))
    }
    fn values(&self, id: &SessionId, prefix: &str) -> BoxFuture<'_, Vec<(String, String)>> {
        self.timed("values", self.inner.values(id, prefix))
    }
    fn errors(&self) -> u64 {
        self.inner.errors()
    }
    fn available(&self) -> bool {
        self.inner.available()
    }
    fn held(&self) -> BoxFuture<'_, Option<u64>> {
        self.inner.held()
    }
    fn try_create(&self, session: Session) -> BoxFuture<'_, Result<(), StoreFull>> {
        self.timed("create", self.inner.try_create(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::MemoryStore;

    #[tokio::test]
    async fn every_call_is_timed_and_passed_on() {
        let metrics = Arc::new(Metrics::default());
        let store = TimedStore::new(Arc::new(MemoryStore::default()), metrics.clone());
        let id = SessionId::parse("0123456789abcdef0123456789abcdef").unwrap();
        assert!(store.snapshot(&id).await.is_none());
        assert!(!store.set_once(&id, "k", "v").await);
        let text = metrics.render(store.held().await, store.errors());
        assert!(
            text.contains("splicepoint_session_store_duration_seconds_count{op=\"snapshot\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("splicepoint_session_store_duration_seconds_count{op=\"set_once\"} 1\n")
        );
        assert!(text.contains("splicepoint_sessions_active 0\n"), "{text}");
    }
}
