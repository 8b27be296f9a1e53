//! Which claimed messages a STOP holds back, asked just before they are sent: a number that
//! sent STOP gets no direct send or broadcast, and a broadcast goes only to numbers still
//! subscribed to its topic, and not at all once cancelled. Replies, notifications and results answer something the citizen
//! did, and are not held back.

use crate::db::{on_both, Db, DbError, OpExt};
use crate::sms::message::Purpose;
use crate::sms::store::dispatch::Claimed;
use std::collections::{HashMap, HashSet};

pub const OPTED_OUT: &str = "the recipient opted out (STOP)";
pub const LEFT_TOPIC: &str = "the recipient is no longer subscribed to the topic";
use crate::sms::broadcasts::store::CANCELLED;

/// The claimed messages not to send, by id, with why.
pub async fn held_back(
    db: &Db,
    claimed: &[Claimed],
) -> Result<HashMap<String, &'static str>, DbError> {
    let heeding: Vec<&Claimed> = claimed
        .iter()
        .filter(|m| Purpose::heeds_opt_out(&m.purpose))
        .collect();
    if heeding.is_empty() {
        return Ok(HashMap::new());
    }
    let mut numbers: Vec<&str> = heeding.iter().map(|m| m.recipient.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let opted_out = opted_out(db, &numbers).await?;
    let mut broadcasts: Vec<&str> = heeding
        .iter()
        .filter_map(|m| m.broadcast_id.as_deref())
        .collect();
    broadcasts.sort_unstable();
    broadcasts.dedup();
    let (subscribed, cancelled) = if broadcasts.is_empty() {
        (HashSet::new(), HashSet::new())
    } else {
        (
            subscriptions(db, &numbers).await?,
            cancelled(db, &broadcasts).await?,
        )
    };
    let mut held = HashMap::new();
    for message in heeding {
        if message
            .broadcast_id
            .as_ref()
            .is_some_and(|b| cancelled.contains(b))
        {
            held.insert(message.id.clone(), CANCELLED);
        } else if opted_out.contains(&message.recipient) {
            held.insert(message.id.clone(), OPTED_OUT);
        } else if let Some(topic) = &message.topic_id {
            if !subscribed.contains(&(message.recipient.clone(), topic.clone())) {
                held.insert(message.id.clone(), LEFT_TOPIC);
            }
        }
    }
    Ok(held)
}

/// `($1, $2, ...)` for `count` values, on either backend.
fn placeholders(count: usize) -> String {
    let list: Vec<String> = (1..=count).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

async fn opted_out(db: &Db, numbers: &[&str]) -> Result<HashSet<String>, DbError> {
    let sql = format!(
        "SELECT msisdn FROM opt_outs WHERE msisdn IN {}",
        placeholders(numbers.len())
    );
    let rows: Vec<String> = on_both!(db, pool => {
        let mut query = sqlx::query_scalar(&sql);
        for number in numbers {
            query = query.bind(*number);
        }
        query.fetch_all(pool).await
    })
    .op("find_opt_outs")?;
    Ok(rows.into_iter().collect())
}

async fn subscriptions(db: &Db, numbers: &[&str]) -> Result<HashSet<(String, String)>, DbError> {
    let sql = format!(
        "SELECT msisdn, topic_id FROM subscriptions WHERE msisdn IN {}",
        placeholders(numbers.len())
    );
    let rows: Vec<(String, String)> = on_both!(db, pool => {
        let mut query = sqlx::query_as(&sql);
        for number in numbers {
            query = query.bind(*number);
        }
        query.fetch_all(pool).await
    })
    .op("find_subscriptions")?;
    Ok(rows.into_iter().collect())
}

async fn cancelled(db: &Db, broadcasts: &[&str]) -> Result<HashSet<String>, DbError> {
    let sql = format!(
        "SELECT id FROM broadcasts WHERE status = 'cancelled' AND id IN {}",
        placeholders(broadcasts.len())
    );
    let rows: Vec<String> = on_both!(db, pool => {
        let mut query = sqlx::query_scalar(&sql);
        for id in broadcasts {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })
    .op("find_cancelled_broadcasts")?;
    Ok(rows.into_iter().collect())
}

/// A dispatcher's batch, checked against STOP when claimed and again, for the whole batch in
/// one query, for messages that waited for their telco's pace: at most one query per
/// `every`, however many messages wait.
pub struct StopCheck<'a> {
    claimed: &'a [Claimed],
    every: std::time::Duration,
    last: tokio::sync::Mutex<(tokio::time::Instant, HashMap<String, &'static str>)>,
}

impl<'a> StopCheck<'a> {
    /// Checks `claimed` now.
    pub async fn new(
        db: &Db,
        claimed: &'a [Claimed],
        every: std::time::Duration,
    ) -> Result<Self, DbError> {
        let held = held_back(db, claimed).await?;
        Ok(Self {
            claimed,
            every,
            last: tokio::sync::Mutex::new((tokio::time::Instant::now(), held)),
        })
    }

    /// Why `id` is held back as of the last check.
    pub async fn held(&self, id: &str) -> Option<&'static str> {
        self.last.lock().await.1.get(id).copied()
    }

    /// Why `id` is held back, checking the batch again if the last check is older than
    /// `every`.
    pub async fn held_now(&self, db: &Db, id: &str) -> Result<Option<&'static str>, DbError> {
        let mut last = self.last.lock().await;
        if last.0.elapsed() >= self.every {
            *last = (
                tokio::time::Instant::now(),
                held_back(db, self.claimed).await?,
            );
        }
        Ok(last.1.get(id).copied())
    }
}
