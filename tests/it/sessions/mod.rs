//! The session-store contract: every backend runs the same tests (`memory::*`, `redis::*`).
//! The hop cases (leases, tombstones, a number's dialogues) are in `leases`.
//! Expiry is driven by explicit `now` values, never by sleeping.

use mgov::ids::{ServiceId, TelcoId};
use mgov::language::Language;
use mgov::msisdn::Msisdn;
use mgov::sessions::{LastHop, Location, Millis, Session, SessionStore};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const IDLE: Millis = 60_000;
const T0: Millis = 1_700_000_000_000;

type Store = Arc<dyn SessionStore>;

/// Generates one test per contract case for each backend.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod memory {
            use mgov::sessions::memory::MemorySessions;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(std::sync::Arc::new(MemorySessions::new(super::IDLE))).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::support::redis::with_store(super::IDLE, super::$case).await;
                }
            )*
        }
    };
}

mod leases;

contract!(
    round_trip_keeps_every_field,
    missing_key_is_none,
    idle_session_is_not_loaded_but_is_taken,
    save_refreshes_the_deadline,
    remove_returns_the_session_once,
    concurrent_removes_yield_one_session,
    take_expired_respects_limit_and_leaves_live_ones,
    concurrent_reapers_take_each_session_once,
    count_follows_saves_and_removes,
    ping_answers,
);

pub(crate) fn session(key: &str, last_seen_ms: Millis) -> Session {
    let maji = ServiceId::parse("maji").unwrap();
    let at = |state: &str| Location::Service {
        service: maji.clone(),
        version: "3".to_string(),
        state: state.to_string(),
    };
    Session {
        key: key.to_string(),
        telco: TelcoId::parse("africastalking").unwrap(),
        msisdn: Msisdn::parse("+255754123456", "255").unwrap(),
        service_code: "*152*00#".to_string(),
        network: Some("vodacom".to_string()),
        language: Language::SWAHILI,
        location: at("confirm"),
        home: Location::Root,
        page: 2,
        paged_notice: None,
        history: vec![Location::Root, at("account")],
        vars: BTreeMap::from([
            ("account".to_string(), json!("12345678")),
            (
                "bill".to_string(),
                json!({ "amount": "15000.00", "currency": "TZS", "lines": [1, 2.5, null, true] }),
            ),
        ]),
        consumed: "5*12345678".to_string(),
        steps: 2,
        last: Some(LastHop {
            sequence: Some(3),
            screen: "Bili: TZS 15,000.00\n1. Lipa".to_string(),
            ends: false,
        }),
        hops: 3,
        service: Some(maji.clone()),
        reached: vec!["home".into(), "account".into()],
        started_at_ms: last_seen_ms - 20_000,
        last_seen_ms,
    }
}

fn keys(sessions: &[Session]) -> Vec<String> {
    let mut keys: Vec<String> = sessions.iter().map(|s| s.key.clone()).collect();
    keys.sort();
    keys
}

async fn round_trip_keeps_every_field(store: Store) {
    let saved = session("africastalking:ATUid_1", T0);
    store.save(&saved).await.unwrap();
    assert_eq!(
        store.load(&saved.key, T0).await.unwrap(),
        Some(saved.clone())
    );
    assert_eq!(
        store.load(&saved.key, T0 + IDLE - 1).await.unwrap(),
        Some(saved)
    );
}

async fn missing_key_is_none(store: Store) {
    assert_eq!(store.load("africastalking:nobody", T0).await.unwrap(), None);
    assert_eq!(store.remove("africastalking:nobody").await.unwrap(), None);
}

async fn idle_session_is_not_loaded_but_is_taken(store: Store) {
    let saved = session("t:idle", T0);
    store.save(&saved).await.unwrap();
    assert!(store.load("t:idle", T0 + IDLE - 1).await.unwrap().is_some());
    assert_eq!(store.load("t:idle", T0 + IDLE).await.unwrap(), None);
    assert_eq!(store.load("t:idle", T0 + 10 * IDLE).await.unwrap(), None);
    // An idle session waits for the reaper, which takes it exactly when it is due.
    assert_eq!(store.count().await.unwrap(), 1);
    assert!(store
        .take_expired(T0 + IDLE - 1, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.take_expired(T0 + IDLE, 10).await.unwrap(),
        vec![saved]
    );
    assert!(store.take_expired(T0 + IDLE, 10).await.unwrap().is_empty());
    assert_eq!(store.count().await.unwrap(), 0);
}

async fn save_refreshes_the_deadline(store: Store) {
    store.save(&session("t:busy", T0)).await.unwrap();
    let later = Session {
        hops: 4,
        ..session("t:busy", T0 + 30_000)
    };
    store.save(&later).await.unwrap();
    assert_eq!(
        store.load("t:busy", T0 + IDLE).await.unwrap(),
        Some(later.clone())
    );
    // The first save's deadline is stale and must not take the refreshed session.
    assert!(store.take_expired(T0 + IDLE, 10).await.unwrap().is_empty());
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(
        store.take_expired(T0 + 30_000 + IDLE, 10).await.unwrap(),
        vec![later]
    );
    assert!(store
        .take_expired(T0 + 100 * IDLE, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn remove_returns_the_session_once(store: Store) {
    let saved = session("t:bye", T0);
    store.save(&saved).await.unwrap();
    assert_eq!(store.remove("t:bye").await.unwrap(), Some(saved));
    assert_eq!(store.remove("t:bye").await.unwrap(), None);
    assert_eq!(store.load("t:bye", T0).await.unwrap(), None);
    assert!(store
        .take_expired(T0 + 100 * IDLE, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.count().await.unwrap(), 0);
}

async fn concurrent_removes_yield_one_session(store: Store) {
    store.save(&session("t:race", T0)).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.remove("t:race").await.unwrap() })
        })
        .collect();
    let mut got = 0;
    for task in tasks {
        got += task.await.unwrap().is_some() as usize;
    }
    assert_eq!(
        got, 1,
        "exactly one of 20 concurrent removes gets the session"
    );
}

async fn take_expired_respects_limit_and_leaves_live_ones(store: Store) {
    let now = T0 + IDLE;
    let expired: Vec<Session> = (0..5)
        .map(|i| session(&format!("t:old{i}"), T0 - i))
        .collect();
    let live: Vec<Session> = (0..3)
        .map(|i| session(&format!("t:new{i}"), T0 + 1 + i))
        .collect();
    for s in expired.iter().chain(&live) {
        store.save(s).await.unwrap();
    }
    assert!(store.take_expired(now, 0).await.unwrap().is_empty());
    let mut taken = Vec::new();
    for want in [2, 2, 1, 0] {
        let batch = store.take_expired(now, 2).await.unwrap();
        assert_eq!(batch.len(), want);
        taken.extend(batch);
    }
    assert_eq!(keys(&taken), keys(&expired));
    for s in &live {
        assert_eq!(store.load(&s.key, now).await.unwrap().as_ref(), Some(s));
    }
    assert_eq!(store.count().await.unwrap(), 3);
}

async fn concurrent_reapers_take_each_session_once(store: Store) {
    let now = T0 + IDLE;
    let expired: Vec<Session> = (0..200)
        .map(|i| session(&format!("t:old{i:03}"), T0 - i))
        .collect();
    for s in &expired {
        store.save(s).await.unwrap();
    }
    for i in 0..10 {
        store
            .save(&session(&format!("t:new{i}"), now))
            .await
            .unwrap();
    }
    let reapers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut taken = Vec::new();
                loop {
                    let batch = store.take_expired(now, 7).await.unwrap();
                    if batch.is_empty() {
                        return taken;
                    }
                    taken.extend(batch);
                }
            })
        })
        .collect();
    let mut taken = Vec::new();
    for reaper in reapers {
        taken.extend(reaper.await.unwrap());
    }
    let distinct: BTreeSet<&str> = taken.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(distinct.len(), taken.len(), "a session was taken twice");
    assert_eq!(keys(&taken), keys(&expired));
    assert_eq!(store.count().await.unwrap(), 10);
}

async fn count_follows_saves_and_removes(store: Store) {
    assert_eq!(store.count().await.unwrap(), 0);
    store.save(&session("t:a", T0)).await.unwrap();
    store.save(&session("t:b", T0)).await.unwrap();
    store.save(&session("t:a", T0 + 1)).await.unwrap();
    assert_eq!(store.count().await.unwrap(), 2);
    store.remove("t:a").await.unwrap();
    assert_eq!(store.count().await.unwrap(), 1);
}

async fn ping_answers(store: Store) {
    store.ping().await.unwrap();
}

/// Redis-only behaviour: failure modes and the key layout.
mod redis_only {
    use super::{session, IDLE, T0};
    use crate::support::redis::TestRedis;
    use mgov::sessions::redis::RedisSessions;
    use mgov::sessions::{SessionError, SessionStore};
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn connecting_to_a_closed_port_fails_fast() {
        let started = Instant::now();
        let outcome = tokio::time::timeout(
            Duration::from_secs(5),
            RedisSessions::connect("redis://127.0.0.1:1", "mgov-test:", IDLE),
        )
        .await
        .expect("connect hung on a closed port");
        assert!(
            matches!(outcome, Err(SessionError::Unavailable(_))),
            "expected Unavailable"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn connecting_to_a_silent_server_times_out() {
        // Accepts connections and never answers, like a hung Redis.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let started = Instant::now();
        let outcome = tokio::time::timeout(
            Duration::from_secs(5),
            RedisSessions::connect(&format!("redis://{addr}"), "mgov-test:", IDLE),
        )
        .await
        .expect("connect hung on a silent server");
        assert!(
            matches!(outcome, Err(SessionError::Unavailable(_))),
            "expected Unavailable"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "took {:?}",
            started.elapsed()
        );
        hold.abort();
    }

    #[tokio::test]
    async fn keys_sit_under_the_prefix_and_vanished_keys_are_dropped() {
        let redis = TestRedis::new();
        let store = redis.sessions(IDLE).await;
        store.save(&session("t:a", T0)).await.unwrap();
        store.save(&session("t:b", T0)).await.unwrap();
        let p = &redis.prefix;
        let keys = redis.keys().await;
        let number_set = keys
            .iter()
            .find(|k| k.starts_with(&format!("{p}n:")))
            .expect("the number's set of dialogues")
            .clone();
        assert!(
            !number_set.contains("255754123456"),
            "no full number in a key name"
        );
        assert_eq!(
            keys,
            [
                format!("{p}deadlines"),
                number_set.clone(),
                format!("{p}s:t:a"),
                format!("{p}s:t:b")
            ]
        );
        // As if the TTL safety net had removed `t:a` before any reaper ran.
        let deleted: i64 = redis::cmd("DEL")
            .arg(format!("{p}s:t:a"))
            .query_async(&mut redis.raw().await)
            .await
            .unwrap();
        assert_eq!(deleted, 1);
        let taken = store.take_expired(T0 + IDLE, 1).await.unwrap();
        assert_eq!(
            taken.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(),
            ["t:b"]
        );
        assert_eq!(store.count().await.unwrap(), 0);
        // The deadline set is empty, so Redis drops it; `t:b` leaves a tombstone, and the
        // vanished `t:a` stays in its number's set until that set's own TTL or the next count.
        assert_eq!(redis.keys().await, [number_set, format!("{p}t:t:b")]);
        redis.cleanup().await;
    }
}
