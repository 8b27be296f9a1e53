//! The durable-store contract: every case runs on Postgres (`store::postgres::*`, a fresh
//! database each) and on SQLite (`store::sqlite::*`, a temporary file each). The transaction
//! log's intents and their reconciliation are in `intents`.

use crate::support::db::{agency, msisdn, session, transaction};
use mgov::agencies::store::{
    find_api_key, get_agency, insert_api_key, list_agencies, revoke_api_key, upsert_agency,
};
use mgov::agencies::Agency;
use mgov::backoffice::store::{
    count_transactions_by_outcome, get_transaction, insert_transaction, write_outcomes,
    TransactionOutcome, TransactionRecord,
};
use mgov::db::carriers::{last_carriers, remember};
use mgov::db::citizens::{get_language, set_language};
use mgov::db::{Db, DbError};
use mgov::ids::{AgencyId, ServiceId, TelcoId, TransactionId};
use mgov::language::Language;
use mgov::menus::store::{get_menu_source, latest_menu_version, publish_menu_version};
use mgov::telcos::store::{get_telco, list_telcos, upsert_telco};
use mgov::telcos::{Telco, TelcoCredentials, WireFormat};
use mgov::ussd::store::{
    insert_session_record, insert_session_records, recent_session_records, SessionRecord,
};

/// Generates, for each case, one test per backend.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod postgres {
            use crate::support::db::{drop_postgres, fresh_postgres};
            $(
                #[tokio::test]
                async fn $case() {
                    let (db, url) = fresh_postgres().await;
                    // Run the case as a task so that the database is dropped even when it
                    // fails, then fail with the case's own panic.
                    let outcome = tokio::spawn(super::$case(db.clone())).await;
                    drop_postgres(db, &url).await;
                    if let Err(e) = outcome {
                        std::panic::resume_unwind(e.into_panic());
                    }
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let (db, _dir, _url) = crate::support::db::fresh_sqlite().await;
                    super::$case(db).await;
                }
            )*
        }
    };
}

mod follow_ups;
mod intents;
mod outbox;
mod sms_report;

contract!(
    migrating_twice_is_harmless,
    telcos_round_trip,
    agencies_round_trip,
    api_keys_are_found_by_prefix_until_revoked,
    transactions_round_trip_with_exact_amounts,
    amounts_are_kept_to_two_places,
    a_repeated_transaction_id_is_stored_once,
    five_hundred_transactions_in_one_batch,
    session_records_round_trip,
    menu_versions_are_published_once,
    language_choice_is_upserted,
    the_latest_carrier_of_a_number_is_kept,
);

async fn migrating_twice_is_harmless(db: Db) {
    set_language(&db, &msisdn("255754123456"), Language::SWAHILI)
        .await
        .unwrap();
    db.migrate().await.expect("second migrate");
    db.migrate().await.expect("third migrate");
    db.ping().await.unwrap();
    let kept = get_language(&db, &msisdn("255754123456")).await.unwrap();
    assert_eq!(
        kept,
        Some(Language::SWAHILI),
        "migrating again must keep the data"
    );
}

async fn telcos_round_trip(db: Db) {
    let mut vodacom = Telco {
        id: TelcoId::parse("vodacom-tz").unwrap(),
        wire_format: WireFormat::Hubtel,
        credentials: Some(TelcoCredentials {
            username: "vodacom".into(),
            secret_sha256: "ab".repeat(32),
        }),
        allowed_networks: vec![
            "196.41.0.0/16".parse().unwrap(),
            "2001:db8::/32".parse().unwrap(),
        ],
        screen_limit: 160,
        max_hops_per_second: std::num::NonZeroU32::new(300).unwrap(),
        sms: None,
    };
    let demo = Telco {
        id: TelcoId::parse("africastalking").unwrap(),
        wire_format: WireFormat::AfricasTalking,
        credentials: None,
        allowed_networks: vec![],
        screen_limit: 182,
        max_hops_per_second: mgov::telcos::DEFAULT_MAX_HOPS_PER_SECOND,
        sms: None,
    };
    upsert_telco(&db, &vodacom).await.unwrap();
    upsert_telco(&db, &demo).await.unwrap();
    assert_eq!(
        get_telco(&db, &vodacom.id).await.unwrap(),
        Some(vodacom.clone())
    );
    assert_eq!(get_telco(&db, &demo.id).await.unwrap(), Some(demo.clone()));

    vodacom.screen_limit = 182;
    vodacom.max_hops_per_second = std::num::NonZeroU32::new(1_200).unwrap();
    vodacom.allowed_networks.pop();
    upsert_telco(&db, &vodacom).await.unwrap();
    assert_eq!(list_telcos(&db).await.unwrap(), vec![demo, vodacom]);
    let unknown = TelcoId::parse("nobody").unwrap();
    assert_eq!(get_telco(&db, &unknown).await.unwrap(), None);
}

async fn agencies_round_trip(db: Db) {
    let mut dawasa = agency("dawasa");
    let bare = Agency {
        actions: vec![],
        callback_url: None,
        sender_ids: Vec::new(),
        webhook_every_status: false,
        ..agency("brela")
    };
    upsert_agency(&db, &dawasa).await.unwrap();
    upsert_agency(&db, &bare).await.unwrap();
    assert_eq!(
        get_agency(&db, &dawasa.id).await.unwrap(),
        Some(dawasa.clone())
    );

    dawasa.actions.push("cases.status".into());
    dawasa.signing_secret = "rotated".into();
    upsert_agency(&db, &dawasa).await.unwrap();
    // Besides the gateway's own agency, which sends its help replies.
    let listed = list_agencies(&db).await.unwrap();
    let gateway = AgencyId::parse("mgov").unwrap();
    assert_eq!(
        listed
            .iter()
            .filter(|a| a.id != gateway)
            .cloned()
            .collect::<Vec<_>>(),
        vec![bare, dawasa.clone()]
    );
    assert!(listed
        .iter()
        .any(|a| a.id == gateway && a.backoffice_url.is_empty()));

    dawasa.actions = vec!["a,b".into()];
    let err = upsert_agency(&db, &dawasa).await.unwrap_err();
    assert!(matches!(err, DbError::Invalid { .. }), "{err}");
}

async fn api_keys_are_found_by_prefix_until_revoked(db: Db) {
    let dawasa = agency("dawasa");
    upsert_agency(&db, &dawasa).await.unwrap();
    insert_api_key(&db, &dawasa.id, "mk_a1b2c", "hash-1")
        .await
        .unwrap();
    let found = find_api_key(&db, "mk_a1b2c").await.unwrap();
    assert_eq!(found, Some((dawasa.id.clone(), "hash-1".to_string())));
    assert_eq!(find_api_key(&db, "mk_zzzzz").await.unwrap(), None);

    let taken = insert_api_key(&db, &dawasa.id, "mk_a1b2c", "hash-2")
        .await
        .unwrap_err();
    assert!(taken.is_unique_violation(), "{taken}");
    let orphan = AgencyId::parse("nobody").unwrap();
    assert!(
        insert_api_key(&db, &orphan, "mk_orph0", "h").await.is_err(),
        "foreign key"
    );

    assert!(revoke_api_key(&db, "mk_a1b2c").await.unwrap());
    assert!(!revoke_api_key(&db, "mk_a1b2c").await.unwrap());
    assert_eq!(find_api_key(&db, "mk_a1b2c").await.unwrap(), None);
}

async fn transactions_round_trip_with_exact_amounts(db: Db) {
    let big = transaction(Some("45000.00"));
    let small = transaction(Some("0.10"));
    let failed = TransactionRecord {
        service: None,
        session_key: None,
        outcome: TransactionOutcome::Timeout,
        attempts: 3,
        reference: None,
        error: Some("back office did not answer in 5s".into()),
        ..transaction(None)
    };
    for record in [&big, &small, &failed] {
        assert!(insert_transaction(&db, record).await.unwrap());
        let stored = get_transaction(&db, &record.id).await.unwrap();
        assert_eq!(stored.as_ref(), Some(record));
    }
    let amount = |r: TransactionRecord| r.amount.unwrap().to_string();
    assert_eq!(
        amount(get_transaction(&db, &big.id).await.unwrap().unwrap()),
        "45000.00"
    );
    assert_eq!(
        amount(get_transaction(&db, &small.id).await.unwrap().unwrap()),
        "0.10"
    );
    let unknown = TransactionId::generate();
    assert_eq!(get_transaction(&db, &unknown).await.unwrap(), None);
}

async fn amounts_are_kept_to_two_places(db: Db) {
    let cases = [
        ("45000", "45000.00"),
        ("12.345", "12.35"),
        ("-0.005", "-0.01"),
        ("7.1", "7.10"),
    ];
    for (given, kept) in cases {
        let record = transaction(Some(given));
        insert_transaction(&db, &record).await.unwrap();
        let stored = get_transaction(&db, &record.id).await.unwrap().unwrap();
        assert_eq!(stored.amount.unwrap().to_string(), kept, "{given}");
    }
}

async fn a_repeated_transaction_id_is_stored_once(db: Db) {
    let first = transaction(Some("45000.00"));
    assert!(insert_transaction(&db, &first).await.unwrap());
    let retry = TransactionRecord {
        outcome: TransactionOutcome::Failed,
        attempts: 2,
        ..first.clone()
    };
    assert!(
        !insert_transaction(&db, &retry).await.unwrap(),
        "second insert must be refused"
    );
    assert_eq!(get_transaction(&db, &first.id).await.unwrap(), Some(first));
    let counts = count_transactions_by_outcome(&db).await.unwrap();
    assert_eq!(counts, vec![("ok".to_string(), 1)]);
}

async fn five_hundred_transactions_in_one_batch(db: Db) {
    let settled = &TransactionOutcome::ALL[1..];
    let records: Vec<TransactionRecord> = (0..500)
        .map(|i| TransactionRecord {
            outcome: settled[i % 5],
            latency_ms: i as i64,
            ..transaction(Some(&format!("{i}.{:02}", i % 100)))
        })
        .collect();
    assert_eq!(write_outcomes(&db, &[]).await.unwrap(), 0);
    assert_eq!(write_outcomes(&db, &records).await.unwrap(), 500);
    assert_eq!(
        write_outcomes(&db, &records).await.unwrap(),
        0,
        "ids already stored"
    );

    let counts = count_transactions_by_outcome(&db).await.unwrap();
    let expected: Vec<(String, i64)> = ["failed", "not_found", "ok", "rejected", "timeout"]
        .iter()
        .map(|o| (o.to_string(), 100))
        .collect();
    assert_eq!(counts, expected);
    for i in [0, 249, 499] {
        let stored = get_transaction(&db, &records[i].id).await.unwrap();
        assert_eq!(stored.as_ref(), Some(&records[i]));
    }
}

async fn session_records_round_trip(db: Db) {
    let first = session(0);
    insert_session_record(&db, &first).await.unwrap();
    assert_eq!(
        recent_session_records(&db, 10).await.unwrap(),
        vec![first.clone()]
    );
    assert_eq!(first.msisdn_masked, "2557****3456");

    let batch: Vec<SessionRecord> = (1..=500).map(session).collect();
    assert_eq!(insert_session_records(&db, &batch).await.unwrap(), 500);
    let recent = recent_session_records(&db, 1000).await.unwrap();
    assert_eq!(recent.len(), 501);
    assert_eq!(recent[0], batch[499], "newest first");
    assert_eq!(recent[500], first);
}

async fn menu_versions_are_published_once(db: Db) {
    let maji = ServiceId::parse("maji").unwrap();
    let dawasa = AgencyId::parse("dawasa").unwrap();
    let v1 = "[service]\nid = \"maji\"\n";
    assert!(publish_menu_version(&db, &maji, "a1", &dawasa, v1)
        .await
        .unwrap());
    assert!(
        !publish_menu_version(&db, &maji, "a1", &dawasa, v1)
            .await
            .unwrap(),
        "idempotent"
    );
    let changed = publish_menu_version(&db, &maji, "a1", &dawasa, "other")
        .await
        .unwrap_err();
    assert!(matches!(changed, DbError::Conflict { .. }), "{changed}");
    assert_eq!(
        get_menu_source(&db, &maji, "a1").await.unwrap().as_deref(),
        Some(v1)
    );

    assert!(publish_menu_version(&db, &maji, "b2", &dawasa, "v2")
        .await
        .unwrap());
    assert_eq!(
        latest_menu_version(&db, &maji).await.unwrap(),
        Some(("b2".to_string(), "v2".to_string()))
    );
    assert_eq!(get_menu_source(&db, &maji, "c3").await.unwrap(), None);
    let other = ServiceId::parse("kodi").unwrap();
    assert_eq!(latest_menu_version(&db, &other).await.unwrap(), None);
}

async fn language_choice_is_upserted(db: Db) {
    let citizen = msisdn("0754123456");
    assert_eq!(get_language(&db, &citizen).await.unwrap(), None);
    set_language(&db, &citizen, Language::SWAHILI)
        .await
        .unwrap();
    assert_eq!(
        get_language(&db, &citizen).await.unwrap(),
        Some(Language::SWAHILI)
    );
    set_language(&db, &citizen, Language::ENGLISH)
        .await
        .unwrap();
    assert_eq!(
        get_language(&db, &citizen).await.unwrap(),
        Some(Language::ENGLISH)
    );
    assert_eq!(
        get_language(&db, &msisdn("255700000001")).await.unwrap(),
        None
    );
}

async fn the_latest_carrier_of_a_number_is_kept(db: Db) {
    let (a, b) = (msisdn("255754000001"), msisdn("255754000002"));
    let tigo = TelcoId::parse("tigo").unwrap();
    let vodacom = TelcoId::parse("vodacom").unwrap();
    // One batch naming a number twice keeps its later sighting.
    remember(
        &db,
        &[
            (&a, &tigo, 2_000),
            (&a, &vodacom, 1_000),
            (&b, &tigo, 1_000),
        ],
    )
    .await
    .unwrap();
    // A node writing late an older sighting changes nothing; a newer one wins.
    remember(&db, &[(&a, &vodacom, 1_500), (&b, &vodacom, 3_000)])
        .await
        .unwrap();
    let found = last_carriers(&db, &[a.as_str(), b.as_str(), "255754000003"])
        .await
        .unwrap();
    let want = [
        (a.as_str().to_string(), "tigo".to_string()),
        (b.as_str().to_string(), "vodacom".to_string()),
    ];
    assert_eq!(found, want.into_iter().collect());
}
