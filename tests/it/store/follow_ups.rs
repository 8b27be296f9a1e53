//! Follow-ups (the dialogue variables a late result is rendered from) are kept while their
//! result may still be sent, and purged once their transaction is settled; the keys of
//! results sent by SMS are kept a week.

use crate::support::db::{agency, transaction};
use chrono::{Duration, Utc};
use mgov::agencies::store::upsert_agency;
use mgov::backoffice::follow_up_store::purge;
use mgov::backoffice::store::{insert_transaction, TransactionOutcome};
use mgov::db::{Db, Timestamp};

contract!(settled_follow_ups_and_old_result_keys_are_purged);

async fn remaining(db: &Db, sql: &str) -> Vec<String> {
    match db {
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
    }
}

async fn run(db: &Db, sql: &str, id: &str, at: Timestamp) {
    match db {
        Db::Postgres(pool) => sqlx::query(sql)
            .bind(id)
            .bind(at)
            .execute(pool)
            .await
            .map(|_| ()),
        Db::Sqlite(pool) => sqlx::query(sql)
            .bind(id)
            .bind(at)
            .execute(pool)
            .await
            .map(|_| ()),
    }
    .unwrap();
}

async fn settled_follow_ups_and_old_result_keys_are_purged(db: Db) {
    upsert_agency(&db, &agency("dawasa")).await.unwrap();
    let settled = transaction(None);
    let mut pending = transaction(None);
    pending.outcome = TransactionOutcome::Pending;
    for record in [&settled, &pending] {
        insert_transaction(&db, record).await.unwrap();
    }
    let now = Utc::now();
    let keep = "INSERT INTO follow_ups (transaction_id, context, created_at) VALUES ($1, '{}', $2)";
    let two_hours_ago = Timestamp(now - Duration::hours(2));
    run(&db, keep, settled.id.as_str(), two_hours_ago).await;
    run(&db, keep, pending.id.as_str(), two_hours_ago).await;
    let key = "INSERT INTO sms_results (key, message_id, created_at) VALUES ($1, 'msg_x', $2)";
    run(&db, key, "old", Timestamp(now - Duration::days(8))).await;
    run(&db, key, "recent", Timestamp(now - Duration::days(6))).await;

    // An hour and a half earlier the settled follow-up was under an hour past its settling.
    assert_eq!(
        purge(&db, now - Duration::minutes(90)).await.unwrap(),
        1,
        "the old key only"
    );
    assert_eq!(purge(&db, now).await.unwrap(), 1, "the settled follow-up");
    let kept = remaining(&db, "SELECT transaction_id FROM follow_ups").await;
    assert_eq!(
        kept,
        [pending.id.to_string()],
        "a pending call may still send its result"
    );
    let keys = remaining(&db, "SELECT key FROM sms_results").await;
    assert_eq!(keys, ["recent"]);
}
