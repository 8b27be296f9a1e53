//! The SMS outbox on both backends: accepted batches and their idempotency keys, claims that
//! two dispatchers never share, settlements that a lapsed claim cannot make, and delivery
//! reports (early, late, repeated) that move a message to its final status exactly once, with
//! one webhook.

use crate::support::db::{agency, msisdn};
use mgov::agencies::store::upsert_agency;
use mgov::db::Db;
use mgov::ids::TelcoId;
use mgov::sms::channel::{DeliveryReport, ReportFor};
use mgov::sms::encoding::Encoding;
use mgov::sms::message::{MessageId, Purpose, ReportedStatus, Status};
use mgov::sms::store::accept::{accept, IdempotentRequest, NewMessage, Stored};
use mgov::sms::store::dispatch::{claim_due, settle, Settle, Settlement};
use mgov::sms::store::events::{StatusChange, WebhookRoutes};
use mgov::sms::store::read::get_message;
use mgov::sms::store::reports::{apply_report, match_early_reports, ReportOutcome};
use mgov::sms::store::webhooks;
use std::collections::BTreeSet;

contract!(
    a_batch_and_its_idempotency_key_are_stored_together,
    concurrent_dispatchers_never_claim_the_same_message,
    a_lapsed_claim_is_claimed_again_and_cannot_settle,
    a_report_before_the_send_answer_is_matched_once_the_id_is_known,
    repeated_and_late_reports_change_nothing_and_queue_one_webhook,
);

/// Webhooks for final statuses go to one URL.
struct FinalsTo(&'static str);

impl WebhookRoutes for FinalsTo {
    fn url_for(&self, change: &StatusChange) -> Option<String> {
        change
            .status()
            .filter(|s| s.is_final())
            .map(|_| self.0.to_string())
    }
}

const NOW: i64 = 1_800_000_000_000;

fn messages(count: usize) -> Vec<NewMessage> {
    (0..count)
        .map(|i| NewMessage {
            id: MessageId::generate(),
            recipient: msisdn(&format!("2557541{i:05}")),
            sender_id: Some("DAWASA".into()),
            text: "Bili yako: TZS 53,000.00".into(),
            encoding: Encoding::Gsm7,
            parts: 1,
            callback_url: None,
            expires_ms: NOW + 3_600_000,
            purpose: Purpose::Direct,
        })
        .collect()
}

async fn with_agency(db: &Db) -> mgov::ids::AgencyId {
    let dawasa = agency("dawasa");
    upsert_agency(db, &dawasa).await.unwrap();
    dawasa.id
}

async fn a_batch_and_its_idempotency_key_are_stored_together(db: Db) {
    let agency = with_agency(&db).await;
    let batch = messages(3);
    let request = IdempotentRequest {
        key: "order-17",
        request_sha256: "aaa",
        response: r#"{"first":true}"#,
    };
    let first = accept(&db, &agency, &batch, Some(&request), NOW)
        .await
        .unwrap();
    assert_eq!(first, Stored::Accepted);
    // The same key again stores nothing and hands back the first answer.
    let again = accept(&db, &agency, &messages(3), Some(&request), NOW)
        .await
        .unwrap();
    assert_eq!(
        again,
        Stored::Repeat {
            request_sha256: "aaa".into(),
            response: r#"{"first":true}"#.into()
        }
    );
    let claimed = claim_due(&db, NOW, NOW + 60_000, 100).await.unwrap();
    let ids: BTreeSet<_> = claimed.iter().map(|c| c.id.clone()).collect();
    let expected: BTreeSet<_> = batch.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(ids, expected, "only the first batch is stored");
    // Another agency's key of the same name is its own.
    let other = crate::support::db::agency("rita");
    upsert_agency(&db, &other).await.unwrap();
    let theirs = accept(&db, &other.id, &messages(1), Some(&request), NOW)
        .await
        .unwrap();
    assert_eq!(theirs, Stored::Accepted);
}

async fn concurrent_dispatchers_never_claim_the_same_message(db: Db) {
    let agency = with_agency(&db).await;
    accept(&db, &agency, &messages(300), None, NOW)
        .await
        .unwrap();
    let claimers = (0..4).map(|_| {
        let db = db.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = claim_due(&db, NOW, NOW + 60_000, 25).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|c| c.id));
            }
        })
    });
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let distinct: BTreeSet<_> = all.iter().collect();
    assert_eq!(all.len(), 300, "every message claimed");
    assert_eq!(distinct.len(), 300, "no message claimed twice");
}

async fn a_lapsed_claim_is_claimed_again_and_cannot_settle(db: Db) {
    let agency = with_agency(&db).await;
    let batch = messages(1);
    accept(&db, &agency, &batch, None, NOW).await.unwrap();
    let first = claim_due(&db, NOW, NOW + 60_000, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        claim_due(&db, NOW + 1_000, NOW + 61_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "held while leased"
    );
    // The first dispatcher died; after its lease another claims the message.
    let second = claim_due(&db, NOW + 60_000, NOW + 120_000, 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempts, 2);
    let telco = TelcoId::parse("africastalking").unwrap();
    let sent = |attempt, id: &str| Settle {
        id: MessageId::parse(&batch[0].id.to_string()).unwrap(),
        attempt,
        settlement: Settlement::Sent {
            telco: telco.clone(),
            telco_message_id: Some(id.into()),
        },
    };
    let stale = settle(&db, &[sent(1, "ATX-stale")], &FinalsTo("http://x/h"), NOW)
        .await
        .unwrap();
    assert!(stale.is_empty(), "a lapsed claim settles nothing");
    let current = settle(&db, &[sent(2, "ATX-2")], &FinalsTo("http://x/h"), NOW)
        .await
        .unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].telco_message_id.as_deref(), Some("ATX-2"));
}

async fn a_report_before_the_send_answer_is_matched_once_the_id_is_known(db: Db) {
    let agency = with_agency(&db).await;
    let batch = messages(1);
    accept(&db, &agency, &batch, None, NOW).await.unwrap();
    let claim = claim_due(&db, NOW, NOW + 60_000, 10)
        .await
        .unwrap()
        .remove(0);
    let telco = TelcoId::parse("africastalking").unwrap();
    let routes = FinalsTo("http://127.0.0.1:9/hooks");
    let delivered = DeliveryReport {
        message: ReportFor::Telco("ATX-early".into()),
        status: ReportedStatus::Final(Status::Delivered),
        detail: "Success".into(),
    };
    let early = apply_report(&db, &telco, &delivered, &routes, NOW)
        .await
        .unwrap();
    assert!(matches!(early, ReportOutcome::Early), "{early:?}");
    let settled = settle(
        &db,
        &[Settle {
            id: batch[0].id.clone(),
            attempt: claim.attempts,
            settlement: Settlement::Sent {
                telco: telco.clone(),
                telco_message_id: Some("ATX-early".into()),
            },
        }],
        &routes,
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(settled.len(), 1);
    let matched = match_early_reports(&db, &telco, &["ATX-early".into()], &routes, NOW)
        .await
        .unwrap();
    assert_eq!(matched.len(), 1);
    assert!(matches!(matched[0], ReportOutcome::Final(_)), "{matched:?}");
    let history = get_message(&db, &agency, batch[0].id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(history.message.status, "delivered");
    let statuses: Vec<_> = history.events.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(statuses, ["sent", "delivered"]);
    // Matched once: looking again finds nothing kept.
    let again = match_early_reports(&db, &telco, &["ATX-early".into()], &routes, NOW)
        .await
        .unwrap();
    assert!(again.is_empty());
}

async fn repeated_and_late_reports_change_nothing_and_queue_one_webhook(db: Db) {
    let agency = with_agency(&db).await;
    let batch = messages(1);
    let id = batch[0].id.clone();
    accept(&db, &agency, &batch, None, NOW).await.unwrap();
    let claim = claim_due(&db, NOW, NOW + 60_000, 10)
        .await
        .unwrap()
        .remove(0);
    let telco = TelcoId::parse("kannel").unwrap();
    let routes = FinalsTo("http://127.0.0.1:9/hooks");
    settle(
        &db,
        &[Settle {
            id: id.clone(),
            attempt: claim.attempts,
            settlement: Settlement::Sent {
                telco: telco.clone(),
                telco_message_id: None,
            },
        }],
        &routes,
        NOW,
    )
    .await
    .unwrap();
    let report = |status| DeliveryReport {
        message: ReportFor::Ours(id.clone()),
        status,
        detail: "type".into(),
    };
    let in_transit = apply_report(
        &db,
        &telco,
        &report(ReportedStatus::InTransit),
        &routes,
        NOW,
    )
    .await
    .unwrap();
    assert!(matches!(in_transit, ReportOutcome::InTransit));
    let delivered = report(ReportedStatus::Final(Status::Delivered));
    let reports = (0..3).map(|_| apply_report(&db, &telco, &delivered, &routes, NOW));
    let outcomes = futures_util::future::join_all(reports).await;
    let finals = outcomes
        .iter()
        .filter(|o| matches!(o.as_ref().unwrap(), ReportOutcome::Final(_)))
        .count();
    assert_eq!(finals, 1, "{outcomes:?}");
    let late = apply_report(
        &db,
        &telco,
        &report(ReportedStatus::Final(Status::Failed)),
        &routes,
        NOW,
    )
    .await
    .unwrap();
    assert!(matches!(late, ReportOutcome::AlreadyFinal));
    let unknown = DeliveryReport {
        message: ReportFor::Ours(MessageId::generate()),
        status: ReportedStatus::Final(Status::Delivered),
        detail: "type 1".into(),
    };
    assert!(matches!(
        apply_report(&db, &telco, &unknown, &routes, NOW)
            .await
            .unwrap(),
        ReportOutcome::Unknown
    ));

    let history = get_message(&db, &agency, id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(history.message.status, "delivered");
    let statuses: Vec<_> = history.events.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(statuses, ["sent", "sent", "delivered"]);
    let due = webhooks::claim_due(&db, NOW, NOW + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "one webhook for one final status");
    let payload: serde_json::Value = serde_json::from_str(&due[0].payload).unwrap();
    assert_eq!(payload["message_id"], id.as_str());
    assert_eq!(payload["status"], "delivered");
    // Another agency cannot read it.
    let rita = crate::support::db::agency("rita");
    upsert_agency(&db, &rita).await.unwrap();
    assert!(get_message(&db, &rita.id, id.as_str())
        .await
        .unwrap()
        .is_none());
}
