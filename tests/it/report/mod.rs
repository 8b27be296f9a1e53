//! `mgov report` over dialogues played through the gateway, on Postgres (with Redis) and on
//! SQLite: completed, abandoned at different states by idle expiry, by the telco and by the
//! citizen, left after going back to the root menu, and failed at a back office that does
//! not answer. The library and the binary
//! must say the same, in text and in JSON, and an agency's report holds only its own rows.

pub(crate) mod sms;
mod world;

use crate::support::gateway::msisdn;
use chrono::{Duration, SubsecRound, Utc};
use mgov::ids::AgencyId;
use mgov::reports::{build_report, Report, ReportQuery};
use mgov::sessions::now_ms;
use mgov::telcos::WireFormat::{AfricasTalking, Hubtel};
use serde_json::{json, Value};
use world::{Backend, ReportWorld};

/// Plays the dialogues every test here reports on; returns when all are recorded.
async fn play_dialogues(w: &ReportWorld) {
    // 1. Completed: a bill and its control number.
    let mut completed = w.gw.phone(AfricasTalking, &msisdn());
    completed.dial("*152*00#").await.unwrap();
    for key in ["1", "1", "12345678"] {
        completed.press(key).await.unwrap();
    }
    assert!(completed.press("1").await.unwrap().ends);

    // 2. Left idle at the account prompt, and 4. left idle on the service's first screen.
    let mut idle_at_account = w.gw.phone(Hubtel, &msisdn());
    idle_at_account.dial("*152*00#").await.unwrap();
    idle_at_account.press("1").await.unwrap();
    idle_at_account.press("1").await.unwrap();
    let mut idle_at_home = w.gw.phone(Hubtel, &msisdn());
    idle_at_home.dial("*152*00#").await.unwrap();
    idle_at_home.press("1").await.unwrap();

    // 3. The telco ends it (its timer ran out) while the bill is on screen.
    let number = msisdn();
    let mut telco_ended = w.gw.phone(AfricasTalking, &number);
    telco_ended.dial("*152*00#").await.unwrap();
    for key in ["1", "1", "12345678"] {
        telco_ended.press(key).await.unwrap();
    }
    w.telco_times_out(&telco_ended, &number, 4).await;

    // 5. The citizen reaches the account prompt, goes back, and hangs up.
    let number = msisdn();
    let mut went_back = w.gw.phone(Hubtel, &number);
    went_back.dial("*152*00#").await.unwrap();
    for key in ["1", "1", "0"] {
        went_back.press(key).await.unwrap();
    }
    w.citizen_hangs_up(&went_back, &number, 5).await;

    // 6. An application status at a back office that answers 500 to everything.
    let mut failed = w.gw.phone(AfricasTalking, &msisdn());
    failed.dial("*152*00#").await.unwrap();
    failed.press("2").await.unwrap();
    let sorry = failed.press("123").await.unwrap();
    assert!(sorry.ends && sorry.text.contains("baadaye"), "{sorry:?}");

    // 7. Dialled and left on the root menu, and 8. left there after going home from Maji.
    let mut went_home = w.gw.phone(AfricasTalking, &msisdn());
    went_home.dial("*152*00#").await.unwrap();
    went_home.press("1").await.unwrap();
    went_home.press("00").await.unwrap();
    let mut root_only = w.gw.phone(Hubtel, &msisdn());
    root_only.dial("*152*00#").await.unwrap();

    let gateway = &w.gw.running.gateway;
    assert_eq!(
        gateway.dialogues.reap_expired_at(now_ms() + 181_000).await,
        4
    );
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    assert_eq!(gateway.journal().flush(deadline).await, 0, "all recorded");
}

/// What the dialogues above must show, without the latency (measured, not known).
fn expected_services() -> Value {
    json!([
        {"agency": "dawasa", "services": [{
            "service": "maji",
            "dialogues": {"started": 6, "completed": 1, "failed": 0, "unavailable": 0,
                "abandoned": {"total": 5, "idle_timeout": 3, "telco_ended": 1, "by_citizen": 1}},
            "funnel": [
                {"state": "home", "reached": 6, "stopped": 2,
                    "ended": {"abandoned": 1, "user_cancelled": 1}},
                {"state": "account", "reached": 4, "stopped": 1, "ended": {"abandoned": 1}},
                {"state": "fetch_bill", "reached": 2, "stopped": 0, "ended": {}},
                {"state": "show_bill", "reached": 2, "stopped": 1, "ended": {"telco_timeout": 1}},
                {"state": "control_number", "reached": 1, "stopped": 0, "ended": {}},
                {"state": "pay_now", "reached": 1, "stopped": 0, "ended": {"completed": 1}},
                {"state": null, "reached": 0, "stopped": 1, "ended": {"abandoned": 1}},
            ],
            "transactions": [
                {"action": "bills.fetch", "outcome": "ok", "count": 2},
                {"action": "payments.control_number", "outcome": "ok", "count": 1},
            ],
        }]},
        {"agency": "rita", "services": [{
            "service": "kesi",
            "dialogues": {"started": 1, "completed": 0, "failed": 1, "unavailable": 0,
                "abandoned": {"total": 0, "idle_timeout": 0, "telco_ended": 0, "by_citizen": 0}},
            "funnel": [
                {"state": "case_id", "reached": 1, "stopped": 0, "ended": {}},
                {"state": "fetch_status", "reached": 1, "stopped": 0, "ended": {}},
                {"state": "try_later", "reached": 1, "stopped": 1, "ended": {"failed": 1}},
            ],
            "transactions": [{"action": "cases.status", "outcome": "failed", "count": 1}],
        }]},
        {"agency": null, "services": [{
            "service": null,
            "dialogues": {"started": 1, "completed": 0, "failed": 0, "unavailable": 0,
                "abandoned": {"total": 1, "idle_timeout": 1, "telco_ended": 0, "by_citizen": 0}},
            "funnel": [],
            "transactions": [],
        }]},
    ])
}

/// The report's agencies as JSON, each service's latency checked and taken out: the calls
/// answered per action are known, their milliseconds are not.
fn without_latency(report: &Report, calls: &[(&str, u64)]) -> Value {
    let mut agencies = serde_json::to_value(&report.agencies).unwrap();
    let mut seen = Vec::new();
    for agency in agencies.as_array_mut().unwrap() {
        for service in agency["services"].as_array_mut().unwrap() {
            let latency = service.as_object_mut().unwrap().remove("latency").unwrap();
            for l in latency.as_array().unwrap() {
                let (p50, p95) = (l["p50_ms"].as_f64().unwrap(), l["p95_ms"].as_f64().unwrap());
                assert!(0.0 <= p50 && p50 <= p95, "{l}");
                seen.push((
                    l["action"].as_str().unwrap().to_string(),
                    l["calls"].as_u64().unwrap(),
                ));
            }
        }
    }
    let calls: Vec<_> = calls.iter().map(|(a, n)| (a.to_string(), *n)).collect();
    assert_eq!(seen, calls);
    agencies
}

async fn report_shows_each_services_dialogues_funnel_and_transactions(backend: Backend) {
    let w = ReportWorld::start(backend).await;
    // Whole seconds: the binary is given the same start as an RFC 3339 time.
    let since = (Utc::now() - Duration::minutes(1)).trunc_subsecs(0);
    play_dialogues(&w).await;
    let db = &w.gw.running.gateway.db;

    let all = build_report(
        db,
        &ReportQuery {
            agency: None,
            since,
        },
    )
    .await
    .unwrap();
    let answered = [
        ("bills.fetch", 2),
        ("payments.control_number", 1),
        ("cases.status", 1),
    ];
    assert_eq!(without_latency(&all, &answered), expected_services());
    let text = all.to_string();
    let maji_funnel = "\
    Funnel:
      state                     reached  stopped  ended there
      home                            6        2  abandoned 1, user_cancelled 1
      account                         4        1  abandoned 1
      fetch_bill                      2        0
      show_bill                       2        1  telco_timeout 1
      control_number                  1        0
      pay_now                         1        0  completed 1
      (outside the service)           -        1  abandoned 1
    Transactions:
      bills.fetch              ok 2
";
    let maji_dialogues = "  Service maji\n    Dialogues: 6 started, 1 completed, 5 abandoned \
        (idle timeout 3, telco ended 1, by the citizen 1), 0 failed, 0 unavailable\n";
    assert!(text.contains(maji_dialogues), "{text}");
    assert!(text.contains(maji_funnel), "{text}");
    assert!(
        text.contains("\nNo service chosen (ended on the root menu)\n  Dialogues: 1 started"),
        "{text}"
    );

    // The binary prints what the library builds, in both formats.
    let since_arg = since.to_rfc3339();
    let printed = w.mgov_report(&["--since", &since_arg]);
    assert_eq!(after_first_line(&printed), after_first_line(&text));
    let printed = w.mgov_report(&["--since", &since_arg, "--format", "json"]);
    let mut printed: Value = serde_json::from_str(&printed).unwrap();
    let mut built = serde_json::to_value(&all).unwrap();
    assert!(printed["until"].as_str().is_some());
    for report in [&mut printed, &mut built] {
        report.as_object_mut().unwrap().remove("until");
    }
    assert_eq!(printed, built);
    assert_eq!(printed["since"], json!(since_arg.replace("+00:00", "Z")));

    // An agency's report holds its own services and transactions only.
    let expected = expected_services();
    for (i, agency) in ["dawasa", "rita"].into_iter().enumerate() {
        let query = ReportQuery {
            agency: Some(AgencyId::parse(agency).unwrap()),
            since,
        };
        let own = build_report(db, &query).await.unwrap();
        assert_eq!(own.agency.as_deref(), Some(agency));
        let calls: &[(&str, u64)] = if agency == "dawasa" {
            &answered[..2]
        } else {
            &answered[2..]
        };
        assert_eq!(without_latency(&own, calls), json!([expected[i]]));
        let printed = w.mgov_report(&[
            "--agency", agency, "--since", &since_arg, "--format", "json",
        ]);
        let printed: Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(
            printed["agencies"],
            serde_json::to_value(&own.agencies).unwrap()
        );
    }

    // A later start leaves everything out.
    let later = build_report(
        db,
        &ReportQuery {
            agency: None,
            since: Utc::now(),
        },
    )
    .await
    .unwrap();
    assert!(later.agencies.is_empty(), "{later:?}");
    assert!(later
        .to_string()
        .ends_with("\nNo dialogues or transactions in this period.\n\nNo SMS in this period.\n"));
    w.stop().await;
}

fn after_first_line(text: &str) -> &str {
    text.split_once('\n').map_or("", |(_, rest)| rest)
}

#[tokio::test]
async fn report_on_postgres() {
    report_shows_each_services_dialogues_funnel_and_transactions(Backend::Postgres).await;
}

#[tokio::test]
async fn report_on_sqlite() {
    report_shows_each_services_dialogues_funnel_and_transactions(Backend::Sqlite).await;
}

#[tokio::test]
async fn bad_report_arguments_are_named() {
    let w = ReportWorld::start(Backend::Sqlite).await;
    for (args, expected) in [
        (
            &["--since", "7x"][..],
            "mgov report: --since \"7x\": the unit must be d (days), h (hours) or m (minutes)",
        ),
        (
            &["--since", "2026-13-01"][..],
            "mgov report: --since \"2026-13-01\": not a span or a time",
        ),
        (&["--agency", "Nobody Here"][..], "mgov report: --agency: "),
        (
            &["--agency", "nobody"][..],
            "mgov report: --agency: agency nobody is not registered",
        ),
    ] {
        let (code, stderr) = w.mgov_report_fails(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(expected), "{args:?}: {stderr}");
    }
    w.stop().await;
}
