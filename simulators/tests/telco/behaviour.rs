//! What the telco does on its own: the outcome mix, duplicate and early reports, throttling,
//! duplicate messages, retries, delays and shutdown.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::rig::Rig;
use crate::{at_form, kannel_query, NUMBER};

#[tokio::test]
async fn a_seeded_mix_deals_exactly_its_weights_and_repeats_with_the_seed() {
    async fn run(seed: u64) -> BTreeMap<String, String> {
        let mut rig = Rig::start(&[], |settings, _| {
            settings.outcomes = "delivered=5,failed=3,expired=1,rejected=1".parse().unwrap();
            settings.seed = Some(seed);
        })
        .await;
        for n in 0..20 {
            let (status, _) = rig
                .at_send("key", &at_form(NUMBER, &format!("message {n}")))
                .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let reports = rig.reports(20).await;
        let stats = rig.settled_stats().await;
        let expected = json!({"Success": 10, "Failed": 6, "Expired": 2, "Rejected": 2});
        assert_eq!(stats["reports_sent"]["africastalking"], expected);
        for report in reports
            .iter()
            .filter(|r| ["Failed", "Rejected"].contains(&r.field("status")))
        {
            assert!(!report.field("failureReason").is_empty(), "{report:?}");
        }
        let by_id = reports
            .iter()
            .map(|r| (r.field("id").to_owned(), r.field("status").to_owned()));
        by_id.collect()
    }
    let first = run(42).await;
    assert_eq!(first.len(), 20);
    assert_eq!(run(42).await, first);
}

#[tokio::test]
async fn a_duplicate_share_of_one_sends_every_report_twice() {
    let mut rig = Rig::start(&[], |settings, _| settings.duplicate_report_rate = 1.0).await;
    let (status, _) = rig.at_send("key", &at_form(NUMBER, "Habari")).await;
    assert_eq!(status, StatusCode::CREATED);
    let reports = rig.reports(2).await;
    assert_eq!(reports[0].fields, reports[1].fields);
    let stats = rig.settled_stats().await;
    assert_eq!(
        stats["reports_sent"]["africastalking"],
        json!({"Success": 2})
    );
    assert_eq!(stats["reports_duplicated"], 1);
}

#[tokio::test]
async fn reports_picked_to_go_early_arrive_before_the_answer() {
    let mut rig = Rig::start(&[], |settings, _| settings.early_report_rate = 1.0).await;
    let (status, body) = rig.at_send("key", &at_form(NUMBER, "Habari")).await;
    rig.events.lock().unwrap().push("answer".to_owned());
    assert_eq!(status, StatusCode::CREATED);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        rig.next_report().await.field("id"),
        body["SMSMessageData"]["Recipients"][0]["messageId"]
    );

    let dlr_url = format!("{}/sms/kannel/dlr?type=%d", rig.gateway);
    let (status, _) = rig
        .kannel_send(&kannel_query("Habari", "1", &dlr_url))
        .await;
    rig.events.lock().unwrap().push("answer".to_owned());
    assert_eq!(status, StatusCode::ACCEPTED);
    let events = rig.events.lock().unwrap().clone();
    let expected = [
        "report /sms/africastalking/dlr",
        "answer",
        "report /sms/kannel/dlr",
        "answer",
    ];
    assert_eq!(events, expected);
    assert_eq!(rig.get("/stats").await["reports_before_answer"], 2);
}

#[tokio::test]
async fn throttling_answers_429_or_503_and_is_counted() {
    let rig = Rig::start(&[], |settings, _| settings.throttle_rate = 1.0).await;
    let at = rig.at_send("key", &at_form(NUMBER, "a")).await;
    assert_eq!(
        at,
        (
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests".to_owned()
        )
    );
    let kannel = rig.kannel_send(&kannel_query("a", "0", "")).await;
    assert_eq!(
        kannel,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporal failure, try again later.".to_owned()
        )
    );
    assert_eq!(rig.get("/stats").await["throttled"], 2);

    let limited = Rig::start(&[], |settings, _| settings.max_per_second = Some(2)).await;
    let three = format!("{NUMBER},+255754000001,+255754000002");
    assert_eq!(
        limited.at_send("key", &at_form(&three, "a")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let two = format!("{NUMBER},+255754000001");
    assert_eq!(
        limited.at_send("key", &at_form(&two, "a")).await.0,
        StatusCode::CREATED
    );
    let stats = limited.get("/stats").await;
    assert_eq!(
        (stats["throttled"].clone(), stats["recipients"].clone()),
        (json!(1), json!(2))
    );
}

#[tokio::test]
async fn a_repeated_message_counts_as_a_duplicate() {
    let rig = Rig::start(&[], |settings, _| settings.at_report_url = None).await;
    for _ in 0..2 {
        assert_eq!(
            rig.at_send("key", &at_form(NUMBER, "Habari")).await.0,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        rig.kannel_send(&kannel_query("Habari", "0", "")).await.0,
        StatusCode::ACCEPTED
    );
    let stats = rig.get("/stats").await;
    assert_eq!(
        (
            stats["unique_messages"].clone(),
            stats["duplicates"].clone()
        ),
        (json!(2), json!(1))
    );
    let messages = rig.get("/messages?to=255754123456").await;
    let flags: Vec<(&Value, &Value)> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (&m["format"], &m["duplicate"]))
        .collect();
    let (at, kannel) = (json!("africastalking"), json!("kannel"));
    let (new, repeat) = (json!(false), json!(true));
    assert_eq!(flags, [(&at, &new), (&at, &repeat), (&kannel, &new)]);
}

#[tokio::test]
async fn refused_reports_are_retried_then_given_up() {
    let mut rig = Rig::start(&[500, 200, 503, 503], |settings, _| {
        settings.report_attempts = 2
    })
    .await;
    let (status, _) = rig.at_send("key", &at_form(NUMBER, "first")).await;
    assert_eq!(status, StatusCode::CREATED);
    let first = rig.reports(2).await;
    assert_eq!(first[0].fields, first[1].fields);
    let (status, _) = rig.at_send("key", &at_form(NUMBER, "second")).await;
    assert_eq!(status, StatusCode::CREATED);
    rig.reports(2).await;
    let stats = rig.settled_stats().await;
    assert_eq!(
        stats["reports_sent"]["africastalking"],
        json!({"Success": 1})
    );
    assert_eq!(stats["report_attempts_failed"], 3);
    assert_eq!(stats["reports_abandoned"], 1);
}

#[tokio::test(start_paused = true)]
async fn reports_wait_their_delay_and_retries_back_off() {
    let mut rig = Rig::start(&[500], |settings, _| {
        settings.report_delay = "30s".parse().unwrap();
        settings.report_backoff = Duration::from_secs(10);
        settings.report_timeout = Duration::from_secs(3600);
    })
    .await;
    let sent = tokio::time::Instant::now();
    assert_eq!(
        rig.at_send("key", &at_form(NUMBER, "a")).await.0,
        StatusCode::CREATED
    );
    rig.next_report().await;
    let refused = sent.elapsed();
    assert!(refused >= Duration::from_secs(30), "{refused:?}");
    rig.next_report().await;
    let retried = sent.elapsed() - refused;
    assert!(retried >= Duration::from_secs(10), "{retried:?}");
}

#[tokio::test(start_paused = true)]
async fn stopping_the_simulator_drops_pending_reports() {
    let mut rig = Rig::start(&[], |settings, _| {
        settings.report_delay = "60m".parse().unwrap()
    })
    .await;
    assert_eq!(
        rig.at_send("key", &at_form(NUMBER, "a")).await.0,
        StatusCode::CREATED
    );
    rig.server.abort();
    tokio::time::sleep(Duration::from_secs(2 * 3600)).await;
    // A request of the test's own, after the report's time: it must be the first to arrive.
    rig.http
        .get(format!("{}/probe", rig.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(rig.next_report().await.path, "/probe");
    assert!(!rig.report_waiting());
}
