//! The SMS report's figures on both backends, over messages written at known times: exact
//! counts, medians of an even and an odd number of delivery times, a period that includes
//! its start and leaves out its end, and each agency's figures apart from the others'.

use crate::report::sms::{expected_sms, seed_sms};
use crate::support::db::agency;
use chrono::{DateTime, Duration, Utc};
use mgov::agencies::store::upsert_agency;
use mgov::db::Db;
use mgov::ids::AgencyId;
use mgov::reports::sms::{agency_sms_figures, sms_report};
use serde_json::{json, Value};

contract!(
    sms_figures_count_one_period_per_agency,
    sms_figures_of_a_quiet_period_are_zero,
);

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T06:00:00.250Z")
        .unwrap()
        .to_utc()
}

async fn with_agencies(db: &Db) {
    for id in ["dawasa", "rita"] {
        upsert_agency(db, &agency(id)).await.unwrap();
    }
}

async fn sms_figures_count_one_period_per_agency(db: Db) {
    with_agencies(&db).await;
    let from = start();
    seed_sms(&db, from).await;
    let to = from + Duration::hours(1);

    let all = sms_report(&db, None, from, to).await.unwrap();
    let mut dawasa = expected_sms("dawasa");
    dawasa["agency"] = json!("dawasa");
    let mut rita = expected_sms("rita");
    rita["agency"] = json!("rita");
    assert_eq!(
        serde_json::to_value(&all).unwrap(),
        json!({"agencies": [dawasa, rita], "gateway": expected_sms("gateway")})
    );

    // An agency's own: the same figures, and none of another's or the gateway's.
    for id in ["dawasa", "rita"] {
        let agency = AgencyId::parse(id).unwrap();
        let own = agency_sms_figures(&db, &agency, from, to).await.unwrap();
        assert_eq!(
            serde_json::to_value(&own).unwrap(),
            expected_sms(id),
            "{id}"
        );
        let report = sms_report(&db, Some(&agency), from, to).await.unwrap();
        assert_eq!(report.gateway, None);
        assert_eq!(report.agencies.len(), 1);
    }

    // A microsecond later the first message of each kind is left out: the medians move.
    let later = from + Duration::microseconds(1);
    let dawasa = AgencyId::parse("dawasa").unwrap();
    let own = agency_sms_figures(&db, &dawasa, later, to).await.unwrap();
    assert_eq!((own.sent.total, own.received.total), (6, 4), "{own:?}");
    // Left: delivered after 3, 2 and 10 s.
    assert_eq!(own.sent.median_delivery_ms, Some(3000.0));
    // Ending a microsecond before the hour's end does not change it; ending an hour and a
    // microsecond after its start takes in what came at its end.
    let longer = agency_sms_figures(&db, &dawasa, from, to + Duration::microseconds(1))
        .await
        .unwrap();
    assert_eq!((longer.sent.total, longer.received.total), (9, 6));
    // The one at the end was delivered after 1 ms: 1 ms, 1, 2, 3 and 10 s; the middle, 2 s.
    assert_eq!(longer.sent.median_delivery_ms, Some(2000.0));
}

async fn sms_figures_of_a_quiet_period_are_zero(db: Db) {
    with_agencies(&db).await;
    seed_sms(&db, start()).await;
    let from = start() + Duration::days(1);
    let to = from + Duration::hours(1);
    let all = sms_report(&db, None, from, to).await.unwrap();
    let zero: Value = json!({
        "received": {"total": 0, "by_outcome": {}, "by_keyword": []},
        "sent": {"total": 0, "parts": 0, "by_status": {}, "delivery_rate": null,
            "median_delivery_ms": null},
    });
    assert_eq!(
        serde_json::to_value(&all).unwrap(),
        json!({"agencies": [], "gateway": zero})
    );
    let dawasa = AgencyId::parse("dawasa").unwrap();
    let own = agency_sms_figures(&db, &dawasa, from, to).await.unwrap();
    assert_eq!(serde_json::to_value(&own).unwrap(), zero);
}
