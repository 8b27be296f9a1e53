//! The group-commit journal: every record a hop was told is written is there, exactly once,
//! however many hops write at the same time.

use crate::support::db::{drop_postgres, fresh_postgres, fresh_sqlite, session, transaction};
use mgov::backoffice::store::{count_transactions_by_outcome, get_transaction};
use mgov::db::journal::{Journal, Record};
use mgov::db::Db;
use mgov::ussd::store::recent_session_records;

async fn concurrent_writes_all_land_once(db: &Db) {
    let journal = Journal::start(db.clone());
    let records: Vec<_> = (0..400).map(|_| transaction(Some("45000.00"))).collect();
    let writes = records.iter().cloned().map(|r| {
        let journal = journal.clone();
        tokio::spawn(async move { journal.write(Record::Transaction(r)).await })
    });
    let sessions = (0..50).map(|i| {
        let journal = journal.clone();
        tokio::spawn(async move { journal.write(Record::Session(session(i))).await })
    });
    for handle in writes.chain(sessions).collect::<Vec<_>>() {
        handle.await.unwrap().expect("committed");
    }
    // Every acknowledged record is readable right away, and none twice.
    for r in &records {
        assert_eq!(get_transaction(db, &r.id).await.unwrap().as_ref(), Some(r));
    }
    assert_eq!(
        count_transactions_by_outcome(db).await.unwrap(),
        [("ok".to_string(), 400)]
    );
    assert_eq!(recent_session_records(db, 100).await.unwrap().len(), 50);
    // Writing a transaction again (a retried batch) does not add a row.
    journal
        .write(Record::Transaction(records[0].clone()))
        .await
        .unwrap();
    assert_eq!(
        count_transactions_by_outcome(db).await.unwrap(),
        [("ok".to_string(), 400)]
    );
}

#[tokio::test]
async fn journal_on_postgres() {
    let (db, url) = fresh_postgres().await;
    concurrent_writes_all_land_once(&db).await;
    drop_postgres(db, &url).await;
}

#[tokio::test]
async fn journal_on_sqlite() {
    let (db, _dir, _url) = fresh_sqlite().await;
    concurrent_writes_all_land_once(&db).await;
}
