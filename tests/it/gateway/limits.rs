//! Hop rate limits: each telco's own ceiling, and each number's allowance per telco.

use crate::support::gateway::{embedded, embedded_with, msisdn};
use mgov::ids::TelcoId;
use mgov::telcos::store::{get_telco, upsert_telco};
use mgov::telcos::WireFormat;
use std::num::NonZeroU32;

const TOO_FAST: &str = "Maombi mengi mno kwa muda mfupi";

#[tokio::test]
async fn a_telco_over_its_own_hop_limit_gets_too_fast_while_another_is_served() {
    let gw = embedded().await;
    let db = &gw.running.gateway.db;
    let id = TelcoId::parse("africastalking").unwrap();
    let mut telco = get_telco(db, &id).await.unwrap().unwrap();
    telco.max_hops_per_second = NonZeroU32::new(1).unwrap();
    upsert_telco(db, &telco).await.unwrap();
    gw.running.gateway.refresh_directories().await.unwrap();

    // Every dial comes from a fresh number, so only the telco's own limit can refuse it.
    let dial = |format| {
        let mut phone = gw.phone(format, &msisdn());
        async move { phone.dial("*152*00#").await.unwrap() }
    };
    let first = dial(WireFormat::AfricasTalking).await;
    assert!(!first.ends && first.text.contains("1. Maji"), "{first:?}");
    // One hop a second with a burst of one: of twenty dials sent at once, all but one are
    // over the limit unless the gateway took nineteen seconds to check them, so the test
    // does not depend on how fast a busy machine answers.
    let screens =
        futures_util::future::join_all((0..20).map(|_| dial(WireFormat::AfricasTalking))).await;
    let refused = screens.into_iter().find(|screen| screen.ends);
    let refused = refused.expect("one of twenty dials at once is over one hop a second");
    assert!(refused.text.contains(TOO_FAST), "{refused:?}");

    for _ in 0..20 {
        let screen = dial(WireFormat::Hubtel).await;
        assert!(
            !screen.ends && screen.text.contains("1. Maji"),
            "{screen:?}"
        );
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_number_flooded_through_one_telco_is_still_served_through_another() {
    let gw = embedded_with(|c| c.rate_limit.hops_per_minute_per_msisdn = 2).await;
    let number = msisdn();
    let mut flooded = gw.phone(WireFormat::AfricasTalking, &number);
    for _ in 0..2 {
        let screen = flooded.dial("*152*00#").await.unwrap();
        assert!(!screen.ends, "{screen:?}");
    }
    let refused = flooded.dial("*152*00#").await.unwrap();
    assert!(
        refused.ends && refused.text.contains(TOO_FAST),
        "{refused:?}"
    );

    let mut other = gw.phone(WireFormat::Hubtel, &number);
    let served = other.dial("*152*00#").await.unwrap();
    assert!(
        !served.ends && served.text.contains("1. Maji"),
        "{served:?}"
    );
    gw.stop().await;
}
