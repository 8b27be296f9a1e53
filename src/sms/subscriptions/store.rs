//! Topics, their subscribers and the numbers that sent STOP, in the durable store. A change
//! a citizen asks for by SMS is written in the transaction that finishes their message
//! ([`apply_change!`]), so that a message routed twice changes nothing twice.

use super::topics::Topic;
use crate::db::{on_both, BeginWrite, Db, DbError, OpExt, Timestamp};
use crate::ids::AgencyId;
use crate::language::Language;

/// What a citizen asked of their subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Subscribe `msisdn` to the topic, in `language`; lifts an earlier STOP.
    Join {
        topic_id: String,
        msisdn: String,
        language: Language,
        channel: &'static str,
    },
    /// Leave one topic.
    Leave { topic_id: String, msisdn: String },
    /// STOP: leave every topic and hear nothing unasked until subscribing again.
    StopAll { msisdn: String },
}

/// Writes `change` in an open transaction: `apply_change!(tx, change, now)`.
macro_rules! apply_change {
    ($tx:expr, $change:expr, $now:expr) => {{
        use $crate::sms::subscriptions::store::Change;
        match $change {
            Change::Join {
                topic_id,
                msisdn,
                language,
                channel,
            } => {
                sqlx::query(
                    "INSERT INTO subscriptions (topic_id, msisdn, language, channel, subscribed_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (topic_id, msisdn) DO UPDATE SET language = excluded.language",
                )
                .bind(topic_id)
                .bind(msisdn)
                .bind(language.code())
                .bind(*channel)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
                sqlx::query("DELETE FROM opt_outs WHERE msisdn = $1")
                    .bind(msisdn)
                    .execute(&mut *$tx)
                    .await?;
            }
            Change::Leave { topic_id, msisdn } => {
                sqlx::query("DELETE FROM subscriptions WHERE topic_id = $1 AND msisdn = $2")
                    .bind(topic_id)
                    .bind(msisdn)
                    .execute(&mut *$tx)
                    .await?;
            }
            Change::StopAll { msisdn } => {
                sqlx::query("DELETE FROM subscriptions WHERE msisdn = $1")
                    .bind(msisdn)
                    .execute(&mut *$tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO opt_outs (msisdn, at) VALUES ($1, $2)
                     ON CONFLICT (msisdn) DO UPDATE SET at = excluded.at",
                )
                .bind(msisdn)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            }
        }
    }};
}
pub(crate) use apply_change;

/// Writes `change` on its own (a subscription made from a USSD menu).
pub async fn apply(db: &Db, change: &Change) -> Result<(), DbError> {
    let now = Timestamp::now();
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            apply_change!(tx, change, now);
            tx.commit().await
        }
        .await
    })
    .op("change_subscription")
}

/// What a write to an agency's topics did.
#[derive(Debug)]
pub enum TopicWrite {
    Done,
    /// Another topic (of any agency) has this name.
    Taken,
    /// No such topic of this agency.
    NotFound,
}

#[derive(sqlx::FromRow)]
struct TopicRow {
    id: String,
    agency_id: String,
    name: String,
    descriptions: String,
}

impl TopicRow {
    fn into_topic(self) -> Result<Topic, DbError> {
        const OP: &str = "read_sms_topic";
        Ok(Topic {
            agency: AgencyId::parse(&self.agency_id).map_err(|e| DbError::corrupt(OP, e))?,
            description: serde_json::from_str(&self.descriptions)
                .map_err(|e| DbError::corrupt(OP, e))?,
            id: self.id,
            name: self.name,
        })
    }
}

/// Every agency's topics (each node's directory).
pub async fn all_topics(db: &Db) -> Result<Vec<Topic>, DbError> {
    let rows: Vec<TopicRow> = on_both!(db, pool => {
        sqlx::query_as("SELECT id, agency_id, name, descriptions FROM sms_topics ORDER BY name")
            .fetch_all(pool)
            .await
    })
    .op("list_sms_topics")?;
    rows.into_iter().map(TopicRow::into_topic).collect()
}

/// `agency`'s topics (or its topic `id`), each with its number of subscribers.
pub async fn agency_topics(
    db: &Db,
    agency: &AgencyId,
    id: Option<&str>,
) -> Result<Vec<(Topic, i64)>, DbError> {
    let rows: Vec<(String, String, String, String, i64)> = on_both!(db, pool => {
        sqlx::query_as(
            "SELECT t.id, t.agency_id, t.name, t.descriptions,
                    (SELECT COUNT(*) FROM subscriptions s WHERE s.topic_id = t.id)
             FROM sms_topics t WHERE t.agency_id = $1 AND ($2 IS NULL OR t.id = $2) ORDER BY t.name",
        )
        .bind(agency.as_str())
        .bind(id)
        .fetch_all(pool)
        .await
    })
    .op("list_agency_sms_topics")?;
    rows.into_iter()
        .map(|(id, agency_id, name, descriptions, subscribers)| {
            let row = TopicRow {
                id,
                agency_id,
                name,
                descriptions,
            };
            Ok((row.into_topic()?, subscribers))
        })
        .collect()
}

/// Stores `topic`: new, or replacing the agency's topic of that id when `replace`.
pub async fn save_topic(db: &Db, topic: &Topic, replace: bool) -> Result<TopicWrite, DbError> {
    let descriptions = serde_json::to_string(&topic.description)
        .map_err(|e| DbError::invalid("save_sms_topic", e.to_string()))?;
    let now = Timestamp::now();
    let sql = if replace {
        "UPDATE sms_topics SET name = $3, descriptions = $4, updated_at = $5
         WHERE id = $1 AND agency_id = $2"
    } else {
        "INSERT INTO sms_topics (id, agency_id, name, descriptions, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)"
    };
    let written = on_both!(db, pool => {
        sqlx::query(sql)
            .bind(&topic.id)
            .bind(topic.agency.as_str())
            .bind(&topic.name)
            .bind(&descriptions)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })
    .op("save_sms_topic");
    match written {
        Ok(0) => Ok(TopicWrite::NotFound),
        Ok(_) => Ok(TopicWrite::Done),
        Err(e) if e.is_unique_violation() => Ok(TopicWrite::Taken),
        Err(e) => Err(e),
    }
}

/// Deletes the agency's topic `id` with its subscriptions and broadcasts; whether there was one.
pub async fn delete_topic(db: &Db, agency: &AgencyId, id: &str) -> Result<bool, DbError> {
    let deleted = on_both!(db, pool => {
        sqlx::query("DELETE FROM sms_topics WHERE id = $1 AND agency_id = $2")
            .bind(id)
            .bind(agency.as_str())
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })
    .op("delete_sms_topic")?;
    Ok(deleted > 0)
}

/// One subscriber, as an agency sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscriber {
    pub msisdn: String,
    pub language: String,
    pub channel: String,
    pub subscribed_at: Timestamp,
}

/// A page of topic `id`'s subscribers (of `agency`'s topic only), by number, after `after`.
pub async fn subscribers(
    db: &Db,
    agency: &AgencyId,
    id: &str,
    after: &str,
    limit: u32,
) -> Result<Vec<Subscriber>, DbError> {
    on_both!(db, pool => {
        sqlx::query_as(
            "SELECT s.msisdn, s.language, s.channel, s.subscribed_at FROM subscriptions s
             JOIN sms_topics t ON t.id = s.topic_id
             WHERE s.topic_id = $1 AND t.agency_id = $2 AND s.msisdn > $3
             ORDER BY s.msisdn LIMIT $4",
        )
        .bind(id)
        .bind(agency.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
    })
    .op("list_subscribers")
}

/// The topics `msisdn` is subscribed to, by id.
pub async fn subscribed_topics(db: &Db, msisdn: &str) -> Result<Vec<String>, DbError> {
    on_both!(db, pool => {
        sqlx::query_scalar("SELECT topic_id FROM subscriptions WHERE msisdn = $1 ORDER BY topic_id")
            .bind(msisdn)
            .fetch_all(pool)
            .await
    })
    .op("list_subscribed_topics")
}

/// A new topic id: `top_` and a ULID.
pub fn new_topic_id() -> String {
    format!("top_{}", ulid::Ulid::new())
}
