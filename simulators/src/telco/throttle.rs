//! The telco's own sending limit: a token bucket of recipients per second, on tokio's clock
//! (so the paused clock drives it in tests). A request that would take more recipients than
//! are left is refused whole and takes none.

use std::sync::Mutex;

use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct RateLimit {
    per_second: f64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// Recipients that may be accepted now; at most one second's worth.
    tokens: f64,
    filled_at: Instant,
}

impl RateLimit {
    /// Starts full: a second's worth of recipients may go at once.
    pub(crate) fn new(per_second: u32) -> Self {
        RateLimit {
            per_second: f64::from(per_second),
            bucket: Mutex::new(Bucket {
                tokens: f64::from(per_second),
                filled_at: Instant::now(),
            }),
        }
    }

    /// Takes `recipients` from the bucket if that many are left.
    pub(crate) fn admit(&self, recipients: usize) -> bool {
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(bucket.filled_at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.per_second);
        bucket.filled_at = now;
        let wanted = recipients as f64;
        if wanted <= bucket.tokens {
            bucket.tokens -= wanted;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn recipients_are_counted_against_a_refilling_second() {
        let limit = RateLimit::new(5);
        // (wait before, recipients, admitted)
        let steps = [
            (0, 3, true),
            (0, 3, false),
            (0, 2, true),
            (0, 1, false),
            (200, 1, true),
            (400, 3, false),
            (200, 3, true),
            (5_000, 6, false),
            (0, 5, true),
        ];
        for (index, (wait_ms, recipients, admitted)) in steps.into_iter().enumerate() {
            tokio::time::advance(Duration::from_millis(wait_ms)).await;
            assert_eq!(limit.admit(recipients), admitted, "step {index}");
        }
    }
}
