//! The hop half of the session-store contract: a hop's lease on its dialogue, the tombstone
//! an ended or expired dialogue leaves, and the count of a number's live dialogues.

use super::{session, Store, IDLE, T0};
use mgov::msisdn::Msisdn;
use mgov::sessions::{Found, LastHop, Lease, SessionError, Tombstone};

contract!(
    a_lease_is_exclusive_until_released,
    concurrent_begins_yield_one_lease,
    a_lease_runs_out_by_itself,
    a_saved_hop_is_found_live_and_released,
    a_lost_lease_saves_and_ends_nothing,
    an_ended_dialogue_leaves_a_tombstone,
    an_idle_dialogue_is_over_when_a_hop_begins,
    the_reaper_leaves_tombstones_and_spares_leased_dialogues,
    a_numbers_live_dialogues_are_counted,
);

const LEASE: i64 = 5_000;

fn number() -> Msisdn {
    Msisdn::parse("+255754123456", "255").unwrap()
}

async fn begin(store: &Store, key: &str, now: i64) -> Option<(Lease, Found)> {
    store
        .begin_hop(key, Some(&number()), now, LEASE)
        .await
        .unwrap()
}

async fn a_lease_is_exclusive_until_released(store: Store) {
    let (lease, found) = begin(&store, "t:one", T0).await.expect("free");
    assert_eq!(found, Found::Unknown { live_for_number: 0 });
    assert!(begin(&store, "t:one", T0 + 1).await.is_none(), "held");
    assert!(
        begin(&store, "t:two", T0 + 1).await.is_some(),
        "other keys are free"
    );
    store.release(lease).await.unwrap();
    assert!(begin(&store, "t:one", T0 + 2).await.is_some(), "released");
}

async fn concurrent_begins_yield_one_lease(store: Store) {
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { begin(&store, "t:race", T0).await.is_some() })
        })
        .collect();
    let mut got = 0;
    for task in tasks {
        got += task.await.unwrap() as usize;
    }
    assert_eq!(
        got, 1,
        "exactly one of 20 concurrent hops holds the dialogue"
    );
}

async fn a_saved_hop_is_found_live_and_released(store: Store) {
    let (lease, _) = begin(&store, "t:walk", T0).await.unwrap();
    let saved = session("t:walk", T0);
    store.save_hop(lease, &saved).await.unwrap();
    assert_eq!(store.load("t:walk", T0).await.unwrap(), Some(saved.clone()));
    let (lease, found) = begin(&store, "t:walk", T0 + 1)
        .await
        .expect("released by save");
    assert_eq!(found, Found::Live(Box::new(saved)));
    store.release(lease).await.unwrap();
}

/// A lease that ran out (1 ms) and the one another hop then took.
async fn stolen(store: &Store, key: &str) -> (Lease, Lease) {
    let (stale, _) = store
        .begin_hop(key, Some(&number()), T0, 1)
        .await
        .unwrap()
        .unwrap();
    // Redis runs the lease out on its own clock: ask until it has (a few milliseconds).
    for now in T0 + 2..T0 + 5_000 {
        if let Some((fresh, _)) = begin(store, key, now).await {
            return (stale, fresh);
        }
        tokio::task::yield_now().await;
    }
    panic!("a 1 ms lease was still held");
}

async fn a_lease_runs_out_by_itself(store: Store) {
    let (_stale, fresh) = stolen(&store, "t:slow").await;
    store.release(fresh).await.unwrap();
}

async fn a_lost_lease_saves_and_ends_nothing(store: Store) {
    let (stale, fresh) = stolen(&store, "t:lost").await;
    let saved = session("t:lost", T0);
    assert!(matches!(
        store.save_hop(stale, &saved).await,
        Err(SessionError::LeaseLost)
    ));
    assert_eq!(store.load("t:lost", T0).await.unwrap(), None);
    store.save_hop(fresh, &saved).await.unwrap();

    let (stale, fresh) = stolen(&store, "t:lost").await;
    let tombstone = Tombstone::of(&saved, false);
    assert!(matches!(
        store.end_hop(stale, &tombstone, T0).await,
        Err(SessionError::LeaseLost)
    ));
    assert_eq!(
        store.load("t:lost", T0).await.unwrap(),
        Some(saved),
        "not ended"
    );
    store.release(fresh).await.unwrap();
}

async fn an_ended_dialogue_leaves_a_tombstone(store: Store) {
    let (lease, _) = begin(&store, "t:done", T0).await.unwrap();
    let mut ended = session("t:done", T0);
    store.save_hop(lease, &ended).await.unwrap();
    let (lease, _) = begin(&store, "t:done", T0 + 1).await.unwrap();
    ended.last = Some(LastHop {
        sequence: Some(5),
        screen: "Namba ya malipo: 991234567890".into(),
        ends: true,
    });
    let tombstone = Tombstone::of(&ended, false);
    store.end_hop(lease, &tombstone, T0 + 1).await.unwrap();
    assert_eq!(store.load("t:done", T0 + 1).await.unwrap(), None);
    assert_eq!(store.count().await.unwrap(), 0);
    let (lease, found) = begin(&store, "t:done", T0 + 2)
        .await
        .expect("released by end");
    assert_eq!(found, Found::Over(tombstone));
    store.release(lease).await.unwrap();
    assert!(store
        .take_expired(T0 + 10 * IDLE, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn an_idle_dialogue_is_over_when_a_hop_begins(store: Store) {
    let idle = session("t:idle", T0);
    store.save(&idle).await.unwrap();
    let (lease, found) = begin(&store, "t:idle", T0 + IDLE).await.unwrap();
    assert_eq!(found, Found::Over(Tombstone::of(&idle, true)));
    store.release(lease).await.unwrap();
}

async fn the_reaper_leaves_tombstones_and_spares_leased_dialogues(store: Store) {
    let (busy, quiet) = (session("t:busy", T0), session("t:quiet", T0));
    store.save(&busy).await.unwrap();
    store.save(&quiet).await.unwrap();
    // A hop holds `t:busy` (it began while the dialogue was live).
    let (lease, _) = begin(&store, "t:busy", T0 + IDLE - 1).await.unwrap();
    let taken = store.take_expired(T0 + IDLE, 10).await.unwrap();
    assert_eq!(taken, vec![quiet.clone()]);
    let (quiet_lease, found) = begin(&store, "t:quiet", T0 + IDLE).await.unwrap();
    assert_eq!(found, Found::Over(Tombstone::of(&quiet, true)));
    store.release(quiet_lease).await.unwrap();
    store.release(lease).await.unwrap();
    let later = store.take_expired(T0 + 2 * IDLE, 10).await.unwrap();
    assert_eq!(later, vec![busy], "taken once its hop let go");
}

async fn a_numbers_live_dialogues_are_counted(store: Store) {
    for key in ["t:n1", "t:n2"] {
        let (lease, _) = begin(&store, key, T0).await.unwrap();
        store.save_hop(lease, &session(key, T0)).await.unwrap();
    }
    let count = |found: Found| match found {
        Found::Unknown { live_for_number } => live_for_number,
        other => panic!("not a new dialogue: {other:?}"),
    };
    let (lease, found) = begin(&store, "t:n3", T0 + 1).await.unwrap();
    assert_eq!(count(found), 2);
    store.release(lease).await.unwrap();
    let (lease, _) = begin(&store, "t:n1", T0 + 1).await.unwrap();
    let tombstone = Tombstone::of(&session("t:n1", T0), false);
    store.end_hop(lease, &tombstone, T0 + 1).await.unwrap();
    let (lease, found) = begin(&store, "t:n3", T0 + 2).await.unwrap();
    assert_eq!(count(found), 1, "an ended dialogue no longer counts");
    store.release(lease).await.unwrap();
    let (lease, found) = begin(&store, "t:n3", T0 + IDLE).await.unwrap();
    assert_eq!(count(found), 0, "an idle one neither");
    store.release(lease).await.unwrap();
    let other = Msisdn::parse("+255754999999", "255").unwrap();
    let (_, found) = store
        .begin_hop("t:n4", Some(&other), T0 + 3, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count(found), 0, "another number's dialogues are its own");
}
