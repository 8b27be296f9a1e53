//! The test Redis: a session store under a random key prefix per test, so tests share one
//! server in parallel without seeing each other's keys. An unreachable Redis fails the test
//! with a message saying how to start one; it never skips.

use mgov::sessions::redis::RedisSessions;
use mgov::sessions::SessionStore;
use std::future::Future;
use std::sync::Arc;

pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// `MGOV_TEST_REDIS_URL`, or a local server on the default port.
pub fn url() -> String {
    std::env::var("MGOV_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// One test's corner of the test Redis.
pub struct TestRedis {
    pub url: String,
    pub prefix: String,
}

impl TestRedis {
    pub fn new() -> Self {
        Self {
            url: url(),
            prefix: format!("mgov-test:{:016x}:", rand::random::<u64>()),
        }
    }

    /// A session store under this test's prefix.
    pub async fn sessions(&self, idle_timeout_ms: i64) -> RedisSessions {
        RedisSessions::connect(&self.url, &self.prefix, idle_timeout_ms)
            .await
            .unwrap_or_else(|e| panic!("{}", self.unreachable(&e)))
    }

    /// A plain connection, for looking at or tampering with keys behind the store's back.
    pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
        let client =
            redis::Client::open(self.url.as_str()).expect("MGOV_TEST_REDIS_URL is not a Redis URL");
        client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("{}", self.unreachable(&e)))
    }

    /// Every key under this test's prefix, sorted.
    pub async fn keys(&self) -> Vec<String> {
        let mut conn = self.raw().await;
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .expect("SCAN failed");
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys
    }

    /// Deletes every key under this test's prefix.
    pub async fn cleanup(&self) {
        let keys = self.keys().await;
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(&keys)
                .exec_async(&mut self.raw().await)
                .await
                .expect("DEL failed");
        }
    }

    fn unreachable(&self, err: &dyn std::fmt::Display) -> String {
        format!(
            "cannot reach the test Redis at {} ({err}). Start one with \
             `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no` \
             or point MGOV_TEST_REDIS_URL at one",
            self.url
        )
    }
}

impl Default for TestRedis {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `test` against a fresh Redis store, then deletes its keys even if the test failed.
pub async fn with_store<F, Fut>(idle_timeout_ms: i64, test: F)
where
    F: FnOnce(Arc<dyn SessionStore>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let redis = TestRedis::new();
    let store = Arc::new(redis.sessions(idle_timeout_ms).await);
    // A spawned task catches the test's panic, so the keys are cleaned up before it goes on.
    let outcome = tokio::spawn(test(store)).await;
    redis.cleanup().await;
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}
