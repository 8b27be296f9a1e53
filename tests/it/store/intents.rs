//! Intents in the transaction log: a pending row written before a call, settled by its
//! outcome whichever write lands first, and claimed by one reconciler at a time.

use crate::support::db::{now, transaction};
use chrono::{Duration, Utc};
use mgov::backoffice::pending::{claim_due, count_pending, list_pending};
use mgov::backoffice::store::{
    get_transaction, write_intents, write_outcomes, TransactionOutcome, TransactionRecord,
};
use mgov::db::Db;
use std::collections::BTreeSet;

contract!(
    an_outcome_settles_its_intent_in_either_order,
    a_settled_answer_is_never_replaced,
    concurrent_claims_share_the_due_rows,
);

fn intent() -> TransactionRecord {
    TransactionRecord {
        outcome: TransactionOutcome::Pending,
        latency_ms: 0,
        attempts: 0,
        amount: None,
        currency: None,
        reference: None,
        completed_at: None,
        reconcile_at: Some(now() - Duration::seconds(1)),
        ..transaction(None)
    }
}

async fn an_outcome_settles_its_intent_in_either_order(db: Db) {
    let first = intent();
    let answer = TransactionRecord {
        reconcile_at: None,
        ..transaction(Some("45000.00"))
    };
    let answer = TransactionRecord {
        id: first.id.clone(),
        created_at: first.created_at,
        ..answer
    };
    write_intents(&db, std::slice::from_ref(&first))
        .await
        .unwrap();
    assert_eq!(
        list_pending(&db, 10).await.unwrap(),
        std::slice::from_ref(&first)
    );
    write_outcomes(&db, std::slice::from_ref(&answer))
        .await
        .unwrap();
    assert_eq!(
        get_transaction(&db, &first.id).await.unwrap(),
        Some(answer.clone())
    );
    // The intent arriving again (a retried batch) changes nothing.
    write_intents(&db, std::slice::from_ref(&first))
        .await
        .unwrap();
    assert_eq!(get_transaction(&db, &first.id).await.unwrap(), Some(answer));

    // The other order: the outcome lands before its intent.
    let late_intent = intent();
    let early = TransactionRecord {
        id: late_intent.id.clone(),
        outcome: TransactionOutcome::Failed,
        error: Some("not called: intent not committed within the hop's budget".into()),
        reconcile_at: None,
        ..late_intent.clone()
    };
    write_outcomes(&db, std::slice::from_ref(&early))
        .await
        .unwrap();
    write_intents(&db, std::slice::from_ref(&late_intent))
        .await
        .unwrap();
    assert_eq!(get_transaction(&db, &early.id).await.unwrap(), Some(early));
    assert_eq!(count_pending(&db).await.unwrap(), 0);
}

async fn a_settled_answer_is_never_replaced(db: Db) {
    let failed = TransactionRecord {
        outcome: TransactionOutcome::Timeout,
        reference: None,
        amount: None,
        currency: None,
        ..transaction(None)
    };
    write_outcomes(&db, std::slice::from_ref(&failed))
        .await
        .unwrap();
    // The same step asked again later gets the real answer: it replaces the failure.
    let answered = TransactionRecord {
        id: failed.id.clone(),
        created_at: failed.created_at,
        late: true,
        ..transaction(Some("45000.00"))
    };
    assert_eq!(
        write_outcomes(&db, std::slice::from_ref(&answered))
            .await
            .unwrap(),
        1
    );
    // A failure never replaces an answer, nor does a pending row.
    let again = TransactionRecord {
        outcome: TransactionOutcome::Failed,
        ..answered.clone()
    };
    assert_eq!(
        write_outcomes(&db, &[again, intent_for(&answered)])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        get_transaction(&db, &failed.id).await.unwrap(),
        Some(answered)
    );
}

fn intent_for(record: &TransactionRecord) -> TransactionRecord {
    TransactionRecord {
        id: record.id.clone(),
        ..intent()
    }
}

async fn concurrent_claims_share_the_due_rows(db: Db) {
    let due: Vec<TransactionRecord> = (0..40).map(|_| intent()).collect();
    let not_yet = TransactionRecord {
        reconcile_at: Some(now() + Duration::hours(1)),
        ..intent()
    };
    write_intents(&db, &due).await.unwrap();
    write_intents(&db, std::slice::from_ref(&not_yet))
        .await
        .unwrap();
    let now = Utc::now();
    let lease_until = now + Duration::minutes(5);
    let claims: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { claim_due(&db, now, lease_until, 15).await.unwrap() })
        })
        .collect();
    let mut claimed = Vec::new();
    for claim in claims {
        claimed.extend(claim.await.unwrap());
    }
    let ids: BTreeSet<_> = claimed.iter().map(|t| t.id.to_string()).collect();
    assert_eq!(claimed.len(), 40, "every due row claimed");
    assert_eq!(ids.len(), 40, "and each by one claimer only");
    assert!(!ids.contains(not_yet.id.as_str()));
    assert!(
        claim_due(&db, now, lease_until, 100)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    let after_lease = claim_due(&db, lease_until, lease_until + Duration::minutes(5), 100)
        .await
        .unwrap();
    assert_eq!(after_lease.len(), 40, "due again once the lease runs out");
}
