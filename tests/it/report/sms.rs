//! The SMS part of `mgov report` on Postgres and on SQLite, over messages written at known
//! times (so that the medians are known): every agency's figures and the gateway's own, in
//! text and JSON, and one agency's alone with `--agency`. [`seed_sms`] and [`expected_sms`]
//! also serve the store's contract test (`store::sms_report`).

use super::world::{Backend, ReportWorld};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use mgov::db::{Db, Timestamp};
use serde_json::{json, Value};

/// Runs one statement on whichever backend `$db` is.
macro_rules! execute {
    ($db:expr, $query:expr) => {
        match $db {
            Db::Postgres(pool) => $query.execute(pool).await.map(|_| ()),
            Db::Sqlite(pool) => $query.execute(pool).await.map(|_| ()),
        }
        .expect("the seed row is written")
    };
}

/// When seeded messages fall due and expire (in 2096): a running gateway's dispatcher and
/// router leave them as they are, so that their statuses stay what the figures expect.
const LATER_MS: i64 = 4_000_000_000_000;

/// An outgoing message accepted at `created`, in `status`, delivered `delivered_after_ms`
/// after acceptance when given.
async fn message(
    db: &Db,
    (id, agency, created): (&str, &str, DateTime<Utc>),
    status: &str,
    parts: i32,
    delivered_after_ms: Option<i64>,
) {
    execute!(
        db,
        sqlx::query(
            "INSERT INTO messages (id, agency_id, recipient, text, encoding, parts, status,
                 due_ms, expires_ms, created_at, updated_at)
             VALUES ($1, $2, '255754000001', 'Habari', 'gsm7', $3, $4, $6, $6, $5, $5)",
        )
        .bind(id)
        .bind(agency)
        .bind(parts)
        .bind(status)
        .bind(Timestamp(created))
        .bind(LATER_MS)
    );
    if let Some(after) = delivered_after_ms {
        let at = Timestamp(created + Duration::milliseconds(after));
        execute!(
            db,
            sqlx::query(
                "INSERT INTO message_events (message_id, status, at) VALUES ($1, 'delivered', $2)"
            )
            .bind(id)
            .bind(at)
        );
    }
}

/// An incoming message received at `received` and routed as given (`None` outcome: not
/// routed yet).
async fn incoming(
    db: &Db,
    (id, agency, received): (&str, Option<&str>, DateTime<Utc>),
    keyword: Option<&str>,
    outcome: Option<&str>,
) {
    let status = if outcome.is_some() {
        "done"
    } else {
        "received"
    };
    execute!(
        db,
        sqlx::query(
            "INSERT INTO inbound_messages (id, telco_id, telco_message_id, sender, sender_is_number,
                 shortcode, text, status, due_ms, keyword, agency_id, outcome, received_at)
             VALUES ($1, 'africastalking', $1, '255754000001', TRUE, '15200', 'x', $2, $7, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(status)
        .bind(keyword)
        .bind(agency)
        .bind(outcome)
        .bind(Timestamp(received))
        .bind(LATER_MS)
    );
}

/// SMS traffic of `dawasa`, `rita` and the gateway (`mgov`) in the hour from `from`, and a
/// message of each kind just before it and at its end, which no report of that hour counts.
pub(crate) async fn seed_sms(db: &Db, from: DateTime<Utc>) {
    let at = |ms: i64| from + Duration::milliseconds(ms);
    let hour = 3_600_000;
    let before = from - Duration::microseconds(1);
    // dawasa: delivered after 1, 3, 2 and 10 s (median 2.5 s), and one in each other status.
    let delivered = [
        (0, 1, 1_000),
        (60_000, 2, 3_000),
        (120_000, 1, 2_000),
        (180_000, 3, 10_000),
    ];
    for (i, (created, parts, after)) in delivered.into_iter().enumerate() {
        let id = format!("msg_d{i}");
        message(
            db,
            (&id, "dawasa", at(created)),
            "delivered",
            parts,
            Some(after),
        )
        .await;
    }
    for (i, (status, parts)) in [("failed", 1), ("expired", 1), ("queued", 2), ("sent", 1)]
        .into_iter()
        .enumerate()
    {
        let id = format!("msg_d{}", i + 10);
        message(
            db,
            (&id, "dawasa", at(1_000 * i as i64)),
            status,
            parts,
            None,
        )
        .await;
    }
    // Outside the hour, delivered at once: they would move the median.
    message(
        db,
        ("msg_d_before", "dawasa", before),
        "delivered",
        1,
        Some(1),
    )
    .await;
    message(
        db,
        ("msg_d_end", "dawasa", at(hour)),
        "delivered",
        1,
        Some(1),
    )
    .await;
    // rita: three delivered (median 0.7 s), one failed.
    for (i, after) in [500, 90_000, 700].into_iter().enumerate() {
        let id = format!("msg_r{i}");
        message(
            db,
            (&id, "rita", at(10 + i as i64)),
            "delivered",
            1,
            Some(after),
        )
        .await;
    }
    message(db, ("msg_r_failed", "rita", at(40)), "failed", 1, None).await;
    // The gateway's reply to a citizen who asked for help.
    message(db, ("msg_g0", "mgov", at(50)), "delivered", 1, Some(250)).await;

    let forwarded = Some("forwarded");
    for (i, (keyword, outcome)) in [
        ("KODI", forwarded),
        ("KODI", forwarded),
        ("TAX", forwarded),
        ("MAJI", Some("answered")),
        ("MAJI", Some("failed")),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("mo_d{i}");
        incoming(
            db,
            (&id, Some("dawasa"), at(i as i64)),
            Some(keyword),
            outcome,
        )
        .await;
    }
    incoming(
        db,
        ("mo_d_before", Some("dawasa"), before),
        Some("KODI"),
        forwarded,
    )
    .await;
    incoming(
        db,
        ("mo_d_end", Some("dawasa"), at(hour)),
        Some("KODI"),
        forwarded,
    )
    .await;
    incoming(db, ("mo_r0", Some("rita"), at(5)), Some("CHETI"), forwarded).await;
    for (i, (keyword, outcome)) in [
        (None, Some("help")),
        (None, Some("help")),
        (Some("MSAADA"), Some("help")),
        (None, Some("ignored")),
        (None, None),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("mo_g{i}");
        incoming(db, (&id, None, at(6 + i as i64)), keyword, outcome).await;
    }
}

/// The figures [`seed_sms`] gives for its hour, by whose they are (`gateway` for the
/// gateway's own).
pub(crate) fn expected_sms(whose: &str) -> Value {
    match whose {
        "dawasa" => json!({
            "received": {"total": 5, "by_outcome": {"answered": 1, "failed": 1, "forwarded": 3},
                "by_keyword": [
                    {"keyword": "KODI", "count": 2, "by_outcome": {"forwarded": 2}},
                    {"keyword": "MAJI", "count": 2, "by_outcome": {"answered": 1, "failed": 1}},
                    {"keyword": "TAX", "count": 1, "by_outcome": {"forwarded": 1}},
                ]},
            "sent": {"total": 8, "parts": 12,
                "by_status": {"delivered": 4, "expired": 1, "failed": 1, "queued": 1, "sent": 1},
                "delivery_rate": 4.0 / 6.0, "median_delivery_ms": 2500.0},
        }),
        "rita" => json!({
            "received": {"total": 1, "by_outcome": {"forwarded": 1},
                "by_keyword": [{"keyword": "CHETI", "count": 1, "by_outcome": {"forwarded": 1}}]},
            "sent": {"total": 4, "parts": 4, "by_status": {"delivered": 3, "failed": 1},
                "delivery_rate": 0.75, "median_delivery_ms": 700.0},
        }),
        "gateway" => json!({
            "received": {"total": 5, "by_outcome": {"help": 3, "ignored": 1, "pending": 1},
                "by_keyword": [
                    {"keyword": null, "count": 4, "by_outcome": {"help": 2, "ignored": 1, "pending": 1}},
                    {"keyword": "MSAADA", "count": 1, "by_outcome": {"help": 1}},
                ]},
            "sent": {"total": 1, "parts": 1, "by_status": {"delivered": 1},
                "delivery_rate": 1.0, "median_delivery_ms": 250.0},
        }),
        other => panic!("no figures for {other}"),
    }
}

/// One agency's entry of the report's `sms.agencies`.
fn agency_entry(agency: &str) -> Value {
    let mut entry = expected_sms(agency);
    entry["agency"] = json!(agency);
    entry
}

const TEXT: &str = "
No dialogues or transactions in this period.

SMS
  Agency dawasa
    Received 5: answered 1, failed 1, forwarded 3
      KODI                          2: forwarded 2
      MAJI                          2: answered 1, failed 1
      TAX                           1: forwarded 1
    Sent 8 (parts 12): delivered 4, expired 1, failed 1, queued 1, sent 1
    Delivered 66.7% of the 6 in a final status; median time to delivery 2500.0 ms
  Agency rita
    Received 1: forwarded 1
      CHETI                         1: forwarded 1
    Sent 4 (parts 4): delivered 3, failed 1
    Delivered 75.0% of the 4 in a final status; median time to delivery 700.0 ms
  The gateway's own (messages no service took, and its replies)
    Received 5: help 3, ignored 1, pending 1
      (no keyword)                  4: help 2, ignored 1, pending 1
      MSAADA                        1: help 1
    Sent 1 (parts 1): delivered 1
    Delivered 100.0% of the 1 in a final status; median time to delivery 250.0 ms
";

async fn sms_report_for_every_agency_and_one(backend: Backend) {
    let w = ReportWorld::start(backend).await;
    // Whole seconds: the binary is given the start as an RFC 3339 time. The seeded hour
    // ends in the future, which `mgov report` (up to now) leaves out with the rest.
    let since = (Utc::now() - Duration::minutes(10)).trunc_subsecs(0);
    seed_sms(&w.gw.running.gateway.db, since).await;
    let since_arg = since.to_rfc3339();

    let printed = w.mgov_report(&["--since", &since_arg]);
    let (_, body) = printed.split_once('\n').unwrap();
    assert_eq!(body, TEXT, "{printed}");

    let printed = w.mgov_report(&["--since", &since_arg, "--format", "json"]);
    let printed: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(printed["agencies"], json!([]));
    assert_eq!(
        printed["sms"],
        json!({
            "agencies": [agency_entry("dawasa"), agency_entry("rita")],
            "gateway": expected_sms("gateway"),
        })
    );

    // One agency: its own figures, and nothing of the others or of the gateway.
    let printed = w.mgov_report(&[
        "--agency", "rita", "--since", &since_arg, "--format", "json",
    ]);
    let printed: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(
        printed["sms"],
        json!({"agencies": [agency_entry("rita")], "gateway": null})
    );
    let printed = w.mgov_report(&["--agency", "rita", "--since", &since_arg]);
    assert!(printed.contains("\n  Agency rita\n"), "{printed}");
    assert!(
        !printed.contains("dawasa") && !printed.contains("gateway's own"),
        "{printed}"
    );
    w.stop().await;
}

#[tokio::test]
async fn sms_report_on_postgres() {
    sms_report_for_every_agency_and_one(Backend::Postgres).await;
}

#[tokio::test]
async fn sms_report_on_sqlite() {
    sms_report_for_every_agency_and_one(Backend::Sqlite).await;
}
