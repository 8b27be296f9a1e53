//! `/v1/topics`: the topics an agency's residents can subscribe to (`JIUNGE <name>` by SMS,
//! or from a USSD menu), with their subscribers. Another agency's topic is a `404`. A change
//! reaches every node within a second.

use super::services::taken_in;
use super::{invalid, AgencyCaller};
use crate::app::AppState;
use crate::error::ApiError;
use crate::sms::subscriptions::store::{
    agency_topics, delete_topic, new_topic_id, save_topic, subscribers, TopicWrite,
};
use crate::sms::subscriptions::topics::check;
use crate::sms::subscriptions::{Topic, TopicSpec};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// A topic as the API shows it.
#[derive(Serialize)]
pub struct TopicView {
    pub id: String,
    /// As citizens text it: upper case, without accents.
    pub name: String,
    pub description: serde_json::Value,
    pub subscribers: i64,
}

impl TopicView {
    fn of(topic: &Topic, subscribers: i64) -> Self {
        Self {
            id: topic.id.clone(),
            name: topic.name.clone(),
            description: serde_json::to_value(&topic.description).unwrap_or_default(),
            subscribers,
        }
    }
}

pub async fn list(
    State(gw): State<AppState>,
    caller: AgencyCaller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let topics = agency_topics(&gw.db, &caller.agency, None)
        .await
        .map_err(unavailable)?;
    let views: Vec<TopicView> = topics.iter().map(|(t, n)| TopicView::of(t, *n)).collect();
    Ok(Json(serde_json::json!({ "topics": views })))
}

pub async fn one(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
) -> Result<Json<TopicView>, ApiError> {
    let topics = agency_topics(&gw.db, &caller.agency, Some(&id))
        .await
        .map_err(unavailable)?;
    topics
        .first()
        .map(|(t, n)| Json(TopicView::of(t, *n)))
        .ok_or_else(|| not_found(&id))
}

pub async fn create(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let topic = described(&caller, new_topic_id(), body)?;
    save(&gw, &topic, false).await?;
    Ok((StatusCode::CREATED, Json(TopicView::of(&topic, 0))).into_response())
}

pub async fn replace(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<TopicView>, ApiError> {
    let topic = described(&caller, id, body)?;
    save(&gw, &topic, true).await?;
    one(State(gw), caller, Path(topic.id)).await
}

pub async fn remove(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !delete_topic(&gw.db, &caller.agency, &id)
        .await
        .map_err(unavailable)?
    {
        return Err(not_found(&id));
    }
    taken_in(&gw, "sms_topics").await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribersPage {
    /// The last number of the previous page.
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

const MOST_PER_PAGE: u32 = 1_000;

/// `GET /v1/topics/{id}/subscribers`: a page of subscribers, by number.
pub async fn subscriber_page(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
    page: Result<Query<SubscribersPage>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = page.limit.unwrap_or(100);
    if !(1..=MOST_PER_PAGE).contains(&limit) {
        return Err(invalid(format!("limit must be 1 to {MOST_PER_PAGE}")));
    }
    // The topic must be the caller's: another agency's is not found, not empty.
    let theirs = agency_topics(&gw.db, &caller.agency, Some(&id))
        .await
        .map_err(unavailable)?;
    if theirs.is_empty() {
        return Err(not_found(&id));
    }
    let after = page
        .after
        .as_deref()
        .map(|a| a.trim_start_matches('+'))
        .unwrap_or("");
    let rows = subscribers(&gw.db, &caller.agency, &id, after, limit)
        .await
        .map_err(unavailable)?;
    let next = (rows.len() == limit as usize).then(|| rows.last().map(|r| r.msisdn.clone()));
    let views: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "msisdn": format!("+{}", r.msisdn),
                "language": r.language,
                "channel": r.channel,
                "subscribed_at": r.subscribed_at.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
        })
        .collect();
    Ok(Json(
        serde_json::json!({ "subscribers": views, "next_after": next.flatten() }),
    ))
}

fn described(
    caller: &AgencyCaller,
    id: String,
    body: Result<Bytes, BytesRejection>,
) -> Result<Topic, ApiError> {
    let body = super::read_body(body)?;
    let spec: TopicSpec = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("body is not a valid topic: {e}")))?;
    let name = check(&spec).map_err(invalid)?;
    Ok(Topic {
        id,
        agency: caller.agency.clone(),
        name,
        description: spec.description,
    })
}

async fn save(gw: &AppState, topic: &Topic, replace: bool) -> Result<(), ApiError> {
    match save_topic(&gw.db, topic, replace)
        .await
        .map_err(unavailable)?
    {
        TopicWrite::Done => {
            taken_in(gw, "sms_topics").await;
            tracing::info!(agency = %topic.agency, topic = %topic.id, name = %topic.name, "topic saved");
            Ok(())
        }
        TopicWrite::Taken => Err(ApiError::new(
            StatusCode::CONFLICT,
            "topic_taken",
            format!(
                "a topic named {:?} already exists; names are unique on the gateway",
                topic.name
            ),
        )),
        TopicWrite::NotFound => Err(not_found(&topic.id)),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("no topic {id:?} of this agency"))
}

fn unavailable(e: crate::db::DbError) -> ApiError {
    tracing::error!(error = %e, "topics not read or written");
    ApiError::unavailable("topics cannot be read or written right now; retry")
}
