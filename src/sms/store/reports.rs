//! Delivery reports against the outbox: a report moves its message at most once to a final
//! status; a report about an id the send call has not returned yet is kept and matched
//! when it is.

use super::events::{insert_event, record_change, StatusChange, WebhookRoutes, CHANGE_COLUMNS};
use crate::db::{on_both, BeginWrite, Db, DbError, OpExt, Timestamp};
use crate::ids::TelcoId;
use crate::sms::channel::{DeliveryReport, ReportFor};
use crate::sms::message::{ReportedStatus, Status};

/// What a report did.
#[derive(Debug, Clone)]
pub enum ReportOutcome {
    /// It made its message final.
    Final(Box<StatusChange>),
    /// It said the message is still on its way; written in the history.
    InTransit,
    /// Its message was already final (a repeated or late report): nothing changed.
    AlreadyFinal,
    /// It names a telco id no message has yet: kept until the send call returns it.
    Early,
    /// It names a message that does not exist.
    Unknown,
}

impl ReportOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReportOutcome::Final(_) => "final",
            ReportOutcome::InTransit => "in_transit",
            ReportOutcome::AlreadyFinal => "repeat",
            ReportOutcome::Early => "early",
            ReportOutcome::Unknown => "unknown",
        }
    }
}

/// Applies one report from `telco`.
pub async fn apply_report(
    db: &Db,
    telco: &TelcoId,
    report: &DeliveryReport,
    routes: &dyn WebhookRoutes,
    now_ms: i64,
) -> Result<ReportOutcome, DbError> {
    let mut outcomes = apply_reports(db, &[(telco, report)], routes, now_ms).await?;
    Ok(outcomes.pop().expect("one outcome per report"))
}

/// Applies reports that came together, in one transaction; each one's outcome in order.
pub async fn apply_reports(
    db: &Db,
    reports: &[(&TelcoId, &DeliveryReport)],
    routes: &dyn WebhookRoutes,
    now_ms: i64,
) -> Result<Vec<ReportOutcome>, DbError> {
    let outcomes = apply_all(db, reports, routes, now_ms).await?;
    // A send may have recorded its telco id between our look-up and our insert, and missed
    // the kept report: look again now that it is committed.
    let mut kept: std::collections::BTreeMap<&TelcoId, Vec<String>> = Default::default();
    for ((telco, report), outcome) in reports.iter().zip(&outcomes) {
        if let (ReportOutcome::Early, ReportFor::Telco(id)) = (outcome, &report.message) {
            kept.entry(*telco).or_default().push(id.clone());
        }
    }
    for (telco, ids) in kept {
        match_early_reports(db, telco, &ids, routes, now_ms).await?;
    }
    Ok(outcomes)
}

async fn apply(
    db: &Db,
    telco: &TelcoId,
    report: &DeliveryReport,
    routes: &dyn WebhookRoutes,
    now_ms: i64,
) -> Result<ReportOutcome, DbError> {
    let mut outcomes = apply_all(db, &[(telco, report)], routes, now_ms).await?;
    Ok(outcomes.pop().expect("one outcome per report"))
}

/// Applies `reports` in one transaction (one commit for many reports that came together),
/// in an order every node shares so that two batches lock their messages alike. Returns
/// each report's outcome, in the order given.
pub async fn apply_all(
    db: &Db,
    reports: &[(&TelcoId, &DeliveryReport)],
    routes: &dyn WebhookRoutes,
    now_ms: i64,
) -> Result<Vec<ReportOutcome>, DbError> {
    let now = Timestamp::now();
    let finish = format!(
        "UPDATE messages SET status = $2, telco_id = COALESCE(telco_id, $3), updated_at = $4,
                last_error = CASE WHEN $2 = 'delivered' THEN last_error ELSE $5 END
         WHERE id = $1 AND status NOT IN ('delivered', 'failed', 'expired', 'cancelled')
         RETURNING {CHANGE_COLUMNS}"
    );
    let mut order: Vec<usize> = (0..reports.len()).collect();
    order.sort_by_key(|&i| {
        let (telco, report) = reports[i];
        match &report.message {
            ReportFor::Ours(id) => (String::new(), id.as_str().to_string()),
            ReportFor::Telco(id) => (telco.to_string(), id.clone()),
        }
    });
    let mut outcomes: Vec<Option<ReportOutcome>> = vec![None; reports.len()];
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            for &i in &order {
                let (telco, report) = reports[i];
                let found: Option<(String, String)> = match &report.message {
                    ReportFor::Ours(id) => {
                        sqlx::query_as("SELECT id, status FROM messages WHERE id = $1")
                            .bind(id.as_str())
                            .fetch_optional(&mut *tx)
                            .await?
                    }
                    ReportFor::Telco(telco_message_id) => {
                        sqlx::query_as(
                            "SELECT id, status FROM messages WHERE telco_id = $1 AND telco_message_id = $2",
                        )
                        .bind(telco.as_str())
                        .bind(telco_message_id)
                        .fetch_optional(&mut *tx)
                        .await?
                    }
                };
                let Some((id, status)) = found else {
                    let ReportFor::Telco(telco_message_id) = &report.message else {
                        outcomes[i] = Some(ReportOutcome::Unknown);
                        continue;
                    };
                    let status = match report.status {
                        ReportedStatus::Final(s) => s.as_str(),
                        ReportedStatus::InTransit => "in_transit",
                    };
                    sqlx::query(
                        "INSERT INTO early_reports (telco_id, telco_message_id, status, detail, received_at)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(telco.as_str())
                    .bind(telco_message_id)
                    .bind(status)
                    .bind(&report.detail)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    outcomes[i] = Some(ReportOutcome::Early);
                    continue;
                };
                if Status::parse(&status).is_some_and(Status::is_final) {
                    outcomes[i] = Some(ReportOutcome::AlreadyFinal);
                    continue;
                }
                outcomes[i] = Some(match report.status {
                    ReportedStatus::InTransit => {
                        // A report while the send call is still out says the telco has it.
                        let current = match Status::parse(&status) {
                            Some(Status::Sending) | None => Status::Sent,
                            Some(status) => status,
                        };
                        insert_event!(tx, id.as_str(), current, Some(report.detail.as_str()), now)?;
                        ReportOutcome::InTransit
                    }
                    ReportedStatus::Final(final_status) => {
                        let changed: Option<StatusChange> = sqlx::query_as(&finish)
                            .bind(&id)
                            .bind(final_status.as_str())
                            .bind(telco.as_str())
                            .bind(now)
                            .bind(&report.detail)
                            .fetch_optional(&mut *tx)
                            .await?;
                        match changed {
                            Some(change) => {
                                record_change!(tx, &change, Some(report.detail.as_str()), routes, now, now_ms);
                                ReportOutcome::Final(Box::new(change))
                            }
                            None => ReportOutcome::AlreadyFinal,
                        }
                    }
                });
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        }
        .await
    })
    .op("apply_reports")?;
    Ok(outcomes
        .into_iter()
        .map(|o| o.expect("every report has an outcome"))
        .collect())
}

/// Applies the kept reports of `telco` about any of `telco_message_ids` whose message now
/// exists, in the order they came, and forgets them. Returns what they did.
pub async fn match_early_reports(
    db: &Db,
    telco: &TelcoId,
    telco_message_ids: &[String],
    routes: &dyn WebhookRoutes,
    now_ms: i64,
) -> Result<Vec<ReportOutcome>, DbError> {
    if telco_message_ids.is_empty() {
        return Ok(Vec::new());
    }
    let kept: Vec<(String, String, Option<String>)> = on_both!(db, pool => {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT telco_message_id, status, detail FROM early_reports WHERE telco_id = ",
        );
        qb.push_bind(telco.as_str()).push(" AND telco_message_id IN (");
        let mut list = qb.separated(", ");
        for id in telco_message_ids {
            list.push_bind(id.as_str());
        }
        qb.push(") ORDER BY received_at");
        qb.build_query_as().fetch_all(pool).await
    })
    .op("find_early_reports")?;
    let mut outcomes = Vec::new();
    for (telco_message_id, status, detail) in kept {
        let status = match Status::parse(&status) {
            Some(s) => ReportedStatus::Final(s),
            None => ReportedStatus::InTransit,
        };
        let report = DeliveryReport {
            message: ReportFor::Telco(telco_message_id.clone()),
            status,
            detail: detail.unwrap_or_default(),
        };
        let outcome = apply(db, telco, &report, routes, now_ms).await?;
        if matches!(outcome, ReportOutcome::Early) {
            continue; // still no message: it stays kept
        }
        on_both!(db, pool => {
            sqlx::query("DELETE FROM early_reports WHERE telco_id = $1 AND telco_message_id = $2")
                .bind(telco.as_str())
                .bind(&telco_message_id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
        .op("forget_early_report")?;
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Sent messages whose validity ended before `cutoff_ms` and whose final report never came
/// (a telco that gave up calling us): made `expired`, at most `limit` at a time, each with its
/// history entry and webhook. Returns how many.
pub async fn expire_unreported(
    db: &Db,
    cutoff_ms: i64,
    limit: u32,
    routes: &dyn WebhookRoutes,
    now_ms: i64,
) -> Result<usize, DbError> {
    let ids: Vec<String> = on_both!(db, pool => {
        sqlx::query_scalar(
            "SELECT id FROM messages WHERE status = 'sent' AND expires_ms < $1 ORDER BY expires_ms LIMIT $2",
        )
        .bind(cutoff_ms)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
    })
    .op("find_unreported")?;
    let telco = TelcoId::parse("none").expect("static id");
    let mut expired = 0;
    for id in ids {
        let Some(id) = crate::sms::message::MessageId::parse(&id) else {
            continue;
        };
        let report = DeliveryReport {
            message: ReportFor::Ours(id),
            status: ReportedStatus::Final(Status::Expired),
            detail: "no delivery report came within the message's validity".into(),
        };
        if let ReportOutcome::Final(_) = apply(db, &telco, &report, routes, now_ms).await? {
            expired += 1;
        }
    }
    Ok(expired)
}

/// Matches every kept report whose message has its telco id by now: the one the send path
/// would have matched had its node not died between recording the send and matching.
/// Safe on every node at once. Returns how many reports it applied.
pub async fn match_kept_reports(
    db: &Db,
    routes: &dyn WebhookRoutes,
    now_ms: i64,
) -> Result<usize, DbError> {
    let kept: Vec<(String, String)> = on_both!(db, pool => {
        sqlx::query_as(
            "SELECT DISTINCT e.telco_id, e.telco_message_id FROM early_reports e
             JOIN messages m ON m.telco_id = e.telco_id AND m.telco_message_id = e.telco_message_id
             LIMIT 1000",
        )
        .fetch_all(pool)
        .await
    })
    .op("find_matchable_reports")?;
    let mut by_telco: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (telco, id) in kept {
        by_telco.entry(telco).or_default().push(id);
    }
    let mut applied = 0;
    for (telco, ids) in by_telco {
        let Ok(telco) = TelcoId::parse(&telco) else {
            continue;
        };
        applied += match_early_reports(db, &telco, &ids, routes, now_ms)
            .await?
            .len();
    }
    Ok(applied)
}
