//! The session store contract, checked on the in-memory store and on a real
//! Redis: both must behave the same, since any instance may serve any session.

#[path = "common/redis_server.rs"]
mod redis_server;
#[path = "common/serve.rs"]
mod serve;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use splicepoint::session::{Decision, MemoryStore, RedisStore, Session, SessionId, SessionStore};
use splicepoint::stitch::{BreakDone, BreakRecord};

fn session() -> Session {
    Session {
        id: SessionId::generate(),
        uuid: "u-1".into(),
        channel: "c".into(),
        player_params: BTreeMap::from([("pod".into(), "two".into())]),
        user_agent: "UA".into(),
        client_ip: "203.0.113.7".into(),
        referer: String::new(),
        master_url: Some("https://origin.example/master.m3u8".into()),
        reporting: Default::default(),
        created_unix: 1_700_000_000,
        suppression: None,
    }
}

fn decision(avail: f64) -> Decision {
    Decision {
        ads: Vec::new(),
        avail_duration: avail,
        failure: None,
    }
}

fn record(id: &str, start: u64, anchor: u64, done: Option<u64>) -> BreakRecord {
    BreakRecord {
        break_id: id.into(),
        origin_start_msn: start,
        out_start_msn: start + 100,
        out_cc_before: 3,
        planned: 16.5,
        anchor_msn: anchor,
        anchor_offset: (anchor - start) as f64 * 2.002,
        done: done.map(|end| BreakDone {
            origin_end_msn: end,
            msn_adjust: 2,
            cc_adjust: 2,
        }),
        filler: None,
    }
}

/// Everything the server relies on, for any store.
async fn contract(store: &dyn SessionStore) {
    let s = session();
    let id = s.id.clone();
    let unknown = SessionId::generate();
    assert!(store.get(&id).await.is_none());
    store.create(s.clone()).await;
    assert_eq!(store.get(&id).await.as_deref(), Some(&s));
    assert!(store.get(&unknown).await.is_none());

    // Decisions: the first one stands.
    assert!(store.decision(&id, "b1").await.is_none());
    let first = store
        .put_decision_if_absent(&id, "b1", decision(30.0))
        .await;
    assert_eq!(first.avail_duration, 30.0);
    let second = store
        .put_decision_if_absent(&id, "b1", decision(99.0))
        .await;
    assert_eq!(second.avail_duration, 30.0, "the first decision stands");
    assert_eq!(
        store.decision(&id, "b1").await.unwrap().avail_duration,
        30.0
    );
    store
        .put_decision_if_absent(&id, "a0", decision(10.0))
        .await;
    let all: Vec<(String, f64)> = store
        .decisions(&id)
        .await
        .iter()
        .map(|(b, d)| (b.clone(), d.avail_duration))
        .collect();
    assert_eq!(all, [("a0".into(), 10.0), ("b1".into(), 30.0)]);
    // Unknown session: the caller's own decision, nothing stored.
    let own = store
        .put_decision_if_absent(&unknown, "b1", decision(7.0))
        .await;
    assert_eq!(own.avail_duration, 7.0);
    assert!(store.decisions(&unknown).await.is_empty());

    // Values: set_once is true once.
    assert!(store.set_once(&id, "beacon:b1:0:start", "1").await);
    assert!(!store.set_once(&id, "beacon:b1:0:start", "2").await);
    assert_eq!(
        store.value(&id, "beacon:b1:0:start").await.as_deref(),
        Some("1")
    );
    assert!(!store.set_once(&unknown, "k", "v").await);
    store.set_value(&id, "beacon:b1:0:zz", "x").await;
    store.set_value(&id, "other", "y").await;
    store.set_value(&id, "other", "z").await;
    assert_eq!(store.value(&id, "other").await.as_deref(), Some("z"));
    assert_eq!(
        store.values(&id, "beacon:b1:").await,
        [
            ("beacon:b1:0:start".to_string(), "1".to_string()),
            ("beacon:b1:0:zz".to_string(), "x".to_string())
        ]
    );
    // value_or_insert: the first value stands, and is what every caller gets.
    assert_eq!(
        store.value_or_insert(&id, "preroll", "82").await.as_deref(),
        Some("82")
    );
    assert_eq!(
        store.value_or_insert(&id, "preroll", "90").await.as_deref(),
        Some("82")
    );
    assert!(store
        .value_or_insert(&unknown, "preroll", "1")
        .await
        .is_none());
    store.set_value(&unknown, "k", "v").await;
    assert!(store.value(&unknown, "k").await.is_none());

    // Records: first numbering stands, anchor only forward, done set once.
    store
        .merge_records(&id, vec![record("b1", 10, 11, None)])
        .await;
    let mut changed = record("b1", 10, 15, Some(20));
    changed.out_start_msn = 999;
    store.merge_records(&id, vec![changed]).await;
    store
        .merge_records(&id, vec![record("b1", 10, 12, Some(30))])
        .await;
    let got = store.records(&id).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].out_start_msn, 110, "first numbering stands");
    assert_eq!(got[0].anchor_msn, 15, "anchor moves forward only");
    assert_eq!(got[0].anchor_offset, 5.0 * 2.002);
    assert_eq!(got[0].done.unwrap().origin_end_msn, 20, "done is set once");
    assert_eq!(got[0].planned, 16.5);
    // Only the newest 16 completed records are kept; open ones always.
    let many: Vec<BreakRecord> = (0..20u64)
        .map(|k| {
            record(
                &format!("k{k:02}"),
                100 + 20 * k,
                100 + 20 * k,
                Some(110 + 20 * k),
            )
        })
        .chain([record("open", 1000, 1001, None)])
        .collect();
    store.merge_records(&id, many).await;
    let kept = store.records(&id).await;
    assert_eq!(kept.iter().filter(|r| r.done.is_some()).count(), 16);
    assert!(kept.iter().any(|r| r.break_id == "open"));
    assert!(kept
        .iter()
        .all(|r| r.break_id != "b1" && r.break_id != "k03"));
    assert!(kept.iter().any(|r| r.break_id == "k04"));
    store
        .merge_records(&unknown, vec![record("b1", 1, 1, None)])
        .await;
    assert!(store.records(&unknown).await.is_empty());
    forgetting(store).await;
}

/// A live session forgets the breaks that ended a window ago: records,
/// decisions and every value of theirs go in the one write, the newest
/// completed break stays (the numbering goes on from it), and the count of
/// forgotten breaks is kept for the next break's index.
async fn forgetting(store: &dyn SessionStore) {
    let s = session();
    let id = s.id.clone();
    store.create(s).await;
    let breaks = [("old", 10, 20), ("mid", 30, 40), ("new", 50, 60)];
    for (b, start, end) in breaks {
        store.put_decision_if_absent(&id, b, decision(30.0)).await;
        let hex_id = splicepoint::session::id::hex(b.as_bytes());
        for key in [
            format!("adstart/{hex_id}/0"),
            format!("filler/{hex_id}"),
            format!("beacon/{b}/0/start"),
        ] {
            assert!(store.set_once(&id, &key, "1").await);
        }
        store
            .merge_records(&id, vec![record(b, start, start, Some(end))])
            .await;
    }
    store
        .merge_records(&id, vec![record("open", 70, 70, None)])
        .await;
    assert!(store.set_once(&id, "timeline", "1:0").await);
    let forget = |before| splicepoint::session::store::Changes {
        forget_before: Some(before),
        ..Default::default()
    };
    // Nothing ended before 15: nothing forgotten.
    store.apply(&id, forget(15)).await;
    let snap = store.snapshot(&id).await.unwrap();
    assert_eq!(snap.records.len(), 4);
    assert!(!snap.values.contains_key("forgotten"));
    // "old" and "mid" ended before 45: forgotten; "new" and "open" stay.
    store.apply(&id, forget(45)).await;
    let snap = store.snapshot(&id).await.unwrap();
    let mut ids: Vec<_> = snap.records.iter().map(|r| r.break_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["new", "open"]);
    let mut decided: Vec<_> = snap.decisions.keys().map(String::as_str).collect();
    decided.sort();
    assert_eq!(decided, ["new"]);
    assert_eq!(snap.values.get("forgotten").map(String::as_str), Some("2"));
    for b in ["old", "mid"] {
        assert!(store.decision(&id, b).await.is_none(), "{b} decision");
        assert!(store.values(&id, &format!("beacon/{b}/")).await.is_empty());
        let hex_id = splicepoint::session::id::hex(b.as_bytes());
        assert!(store
            .values(&id, &format!("adstart/{hex_id}/"))
            .await
            .is_empty());
        assert!(store
            .value(&id, &format!("filler/{hex_id}"))
            .await
            .is_none());
    }
    let hex_new = splicepoint::session::id::hex(b"new");
    assert!(store
        .value(&id, &format!("filler/{hex_new}"))
        .await
        .is_some());
    assert!(store.value(&id, "beacon/new/0/start").await.is_some());
    assert!(store.value(&id, "timeline").await.is_some());
    // Again: nothing left to forget, the count stands.
    store.apply(&id, forget(45)).await;
    let snap = store.snapshot(&id).await.unwrap();
    assert_eq!(snap.records.len(), 2);
    assert_eq!(snap.values.get("forgotten").map(String::as_str), Some("2"));
}

#[tokio::test]
async fn memory_store_keeps_the_contract() {
    contract(&MemoryStore::default()).await;
}

#[tokio::test]
async fn redis_store_keeps_the_contract() {
    let Some(redis) = redis_server::RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&redis.url, "test:").await.unwrap();
    contract(&store).await;
    assert_eq!(store.errors(), 0);
}

/// Two stores on one Redis (two instances) see one session: a decision or a
/// beacon claim made through one holds for the other, even under a race.
#[tokio::test]
async fn two_instances_share_decisions_and_claims() {
    let Some(redis) = redis_server::RedisServer::start() else {
        return;
    };
    let a: Arc<dyn SessionStore> = Arc::new(RedisStore::connect(&redis.url, "p:").await.unwrap());
    let b: Arc<dyn SessionStore> = Arc::new(RedisStore::connect(&redis.url, "p:").await.unwrap());
    let s = session();
    let id = s.id.clone();
    a.create(s.clone()).await;
    assert_eq!(b.get(&id).await.as_deref(), Some(&s));
    let d = b.put_decision_if_absent(&id, "b1", decision(30.0)).await;
    assert_eq!(d.avail_duration, 30.0);
    assert_eq!(
        a.put_decision_if_absent(&id, "b1", decision(1.0))
            .await
            .avail_duration,
        30.0
    );
    // 50 concurrent claims of one beacon from both instances: exactly one wins.
    let mut tasks = Vec::new();
    for n in 0..50 {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            store.set_once(&id, "beacon:x", &n.to_string()).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
}

/// Redis going away: every call answers within its timeout, as if the data
/// were absent, and counts the failure; nothing panics.
#[tokio::test]
async fn redis_outage_degrades_without_panics() {
    let Some(mut redis) = redis_server::RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&redis.url, "o:").await.unwrap();
    let s = session();
    let id = s.id.clone();
    store.create(s).await;
    assert!(store.get(&id).await.is_some());
    redis.stop();
    let t0 = Instant::now();
    assert!(store.get(&id).await.is_none());
    assert!(!store.set_once(&id, "k", "v").await);
    assert!(store.records(&id).await.is_empty());
    let d = store.put_decision_if_absent(&id, "b", decision(5.0)).await;
    assert_eq!(d.avail_duration, 5.0);
    assert!(store.errors() >= 4, "errors counted: {}", store.errors());
    // Bounded: a handful of timeouts and reconnect attempts, not a hang.
    assert!(t0.elapsed() < Duration::from_secs(20));
}

/// Over HTTP, a Redis outage is a 503 with a JSON reason, never a 404 that would
/// make a player give up on a session that still exists.
#[tokio::test]
async fn redis_outage_is_a_503_not_an_unknown_session() {
    let Some(mut redis) = redis_server::RedisServer::start() else {
        return;
    };
    let store = Arc::new(RedisStore::connect(&redis.url, "h:").await.unwrap());
    let channel = splicepoint::config::PlaybackConfig {
        origin: "http://127.0.0.1:9/origin/".into(),
        ads_url: "http://127.0.0.1:9/vast".into(),
        ..Default::default()
    }
    .validate("test", "c")
    .unwrap();
    let state = splicepoint::server::AppState::with_store(
        Arc::new([("c".to_string(), Arc::new(channel))].into()),
        store.clone(),
    );
    let proxy = serve::serve(splicepoint::server::router(state)).await;
    let mut s = session();
    s.channel = "c".into();
    let id = s.id.clone();
    store.create(s).await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let proxy = proxy.clone();
        async move {
            let r = http.get(format!("{proxy}{path}")).send().await.unwrap();
            let status = r.status().as_u16();
            let body: serde_json::Value =
                serde_json::from_str(&r.text().await.unwrap()).unwrap_or_default();
            (status, body)
        }
    };
    assert_eq!(get(format!("/v1/tracking/{id}")).await.0, 200);
    let unknown = SessionId::generate();
    assert_eq!(get(format!("/v1/tracking/{unknown}")).await.0, 404);
    redis.stop();
    for path in [
        format!("/v1/tracking/{id}"),
        format!("/v1/manifest/c/{id}/live/index.m3u8"),
        format!("/v1/dash/c/{id}/live/manifest.mpd"),
    ] {
        let (status, body) = get(path.clone()).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["error"], "session_store_unavailable", "{path}");
    }
}
