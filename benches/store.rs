//! The session store's share of a live playlist request: read the session, its
//! break records and a decision, merge the records back. In memory and on a real
//! Redis on 127.0.0.1 (started here; skipped with a message when `redis-server`
//! is not installed). Run: `cargo bench --bench store`.

#[path = "../tests/common/redis_server.rs"]
mod redis_server;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use splicepoint::session::{Decision, MemoryStore, RedisStore, Session, SessionId, SessionStore};
use splicepoint::stitch::BreakRecord;
use tokio::runtime::Runtime;

fn main() {
    divan::main();
}

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

/// A session with one decided break and one record, as during a live break.
async fn seeded(store: &dyn SessionStore) -> SessionId {
    let id = SessionId::generate();
    store
        .create(Session {
            id: id.clone(),
            uuid: "u".into(),
            channel: "c".into(),
            player_params: BTreeMap::new(),
            user_agent: "bench".into(),
            client_ip: "203.0.113.7".into(),
            referer: String::new(),
            master_url: None,
            reporting: Default::default(),
            created_unix: 0,
            suppression: None,
            guided: false,
        })
        .await;
    store
        .put_decision_if_absent(
            &id,
            "b1",
            Decision {
                ads: Vec::new(),
                avail_duration: 30.0,
                failure: None,
            },
        )
        .await;
    store.merge_records(&id, vec![record(100)]).await;
    id
}

fn record(anchor: u64) -> BreakRecord {
    BreakRecord {
        break_id: "b1".into(),
        origin_start_msn: 100,
        out_start_msn: 100,
        out_cc_before: 0,
        planned: 30.0,
        anchor_msn: anchor,
        anchor_offset: (anchor - 100) as f64 * 2.0,
        done: None,
        filler: None,
    }
}

async fn request(store: &dyn SessionStore, id: &SessionId, n: u64) {
    let session = store.get(id).await;
    let records = store.records(id).await;
    let decision = store.decision(id, "b1").await;
    assert!(session.is_some() && !records.is_empty() && decision.is_some());
    store.merge_records(id, vec![record(100 + n % 8)]).await;
}

#[divan::bench]
fn memory(b: divan::Bencher) {
    let rt = runtime();
    let store = MemoryStore::default();
    let id = rt.block_on(seeded(&store));
    let mut n = 0;
    b.bench_local(|| {
        n += 1;
        rt.block_on(request(&store, &id, n))
    });
}

#[divan::bench]
fn redis(b: divan::Bencher) {
    let Some(server) = redis_server::RedisServer::start() else {
        return;
    };
    let rt = runtime();
    let store: Arc<dyn SessionStore> = Arc::new(
        rt.block_on(RedisStore::connect(&server.url, "bench:"))
            .unwrap(),
    );
    let id = rt.block_on(seeded(store.as_ref()));
    let mut n = 0;
    b.bench_local(|| {
        n += 1;
        rt.block_on(request(store.as_ref(), &id, n))
    });
    drop(server);
}
