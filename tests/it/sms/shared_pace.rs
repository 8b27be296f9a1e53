//! Two nodes share one telco's parts-per-second limit through Redis, on a clock the test
//! sets, so that what is granted when is exact.

use crate::support::redis::TestRedis;
use mgov::ids::TelcoId;
use mgov::sms::dispatch::shared_pace::{Grant, SharedLimits};
use std::num::NonZeroU32;
use std::time::Duration;

async fn node(redis: &TestRedis) -> SharedLimits {
    SharedLimits::new(redis.sessions(60_000).await.connection(), &redis.prefix)
}

#[tokio::test]
async fn two_nodes_together_stay_within_one_telcos_limit() {
    let redis = TestRedis::new();
    let (a, b) = (node(&redis).await, node(&redis).await);
    let vodacom = TelcoId::parse("vodacom").unwrap();
    let rate = NonZeroU32::new(100).unwrap(); // one part every 10 ms; a burst of 10 parts
    let t0: i64 = 1_800_000_000_000_000;
    let ms = |n: i64| t0 + n * 1_000;

    // A takes a whole ten-part message at once; B, at the same moment, must wait one interval.
    assert_eq!(
        a.grant(&vodacom, rate, 10, Some(t0)).await.unwrap(),
        Grant::Granted
    );
    assert_eq!(
        b.grant(&vodacom, rate, 1, Some(t0)).await.unwrap(),
        Grant::Wait(Duration::from_millis(10))
    );
    assert_eq!(
        b.grant(&vodacom, rate, 1, Some(ms(10))).await.unwrap(),
        Grant::Granted
    );
    assert_eq!(
        a.grant(&vodacom, rate, 1, Some(ms(10))).await.unwrap(),
        Grant::Wait(Duration::from_millis(10))
    );

    // Both ask for a part every millisecond for a second: together they get the limit.
    let mut granted = 0;
    for step in 11..1_011 {
        for node in [&a, &b] {
            if node.grant(&vodacom, rate, 1, Some(ms(step))).await.unwrap() == Grant::Granted {
                granted += 1;
            }
        }
    }
    assert_eq!(
        granted, 100,
        "one second at 100 parts/s shared by two nodes"
    );

    // Another telco's limit is its own.
    let tigo = TelcoId::parse("tigo").unwrap();
    assert_eq!(
        b.grant(&tigo, rate, 10, Some(ms(1_011))).await.unwrap(),
        Grant::Granted
    );
    assert!(redis
        .keys()
        .await
        .iter()
        .any(|k| k.ends_with("sms:pace:tigo")));
}
