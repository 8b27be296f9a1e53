//! The menu versions a preview can walk, and the checks each must pass first: those of
//! `mgov menus check` (the file itself, its root-menu position among the current services,
//! and its agency's actions), so a draft that would be refused is refused here with the same
//! messages.
//!
//! A version is found, in this order, among the drafts pasted into the page, the versions
//! loaded, the service's file under `menus_dir` (changed but not reloaded), and the versions
//! published to the store. Checked versions are kept in a small cache of recent drafts; the
//! gateway's own menus are never changed.

use super::local_only;
use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::ServiceId;
use crate::menus::{version_of, Menu, MenuError, MenuSet};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Checked versions kept for previews; an older one is checked again when dialled.
const MAX_DRAFTS: usize = 32;

/// How errors name a pasted menu file.
const PASTED: &str = "draft.toml";

#[derive(Default)]
pub struct Drafts {
    /// Most recently kept last.
    recent: Mutex<VecDeque<Arc<Menu>>>,
}

impl Drafts {
    fn get(&self, service: &ServiceId, version: &str) -> Option<Arc<Menu>> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent
            .iter()
            .find(|m| m.id() == service && m.version() == version)
            .cloned()
    }

    fn keep(&self, menu: Arc<Menu>) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|m| !(m.id() == menu.id() && m.version() == menu.version()));
        if recent.len() == MAX_DRAFTS {
            recent.pop_front();
        }
        recent.push_back(menu);
    }
}

/// Why a version cannot be previewed.
pub enum Refusal {
    /// No such version anywhere.
    Unknown(String),
    /// It exists but would be refused; each problem as `mgov menus check` prints it.
    Problems(Vec<String>),
    Failed(ApiError),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unknown(message) => ApiError::not_found(message).into_response(),
            Refusal::Problems(problems) => {
                let body = serde_json::json!({
                    "error": "menu_has_problems",
                    "message": format!("the menu has {} problem(s)", problems.len()),
                    "problems": problems,
                });
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
            Refusal::Failed(e) => e.into_response(),
        }
    }
}

fn problems(errors: Vec<MenuError>) -> Refusal {
    Refusal::Problems(errors.iter().map(ToString::to_string).collect())
}

#[derive(Deserialize)]
pub(super) struct Pasted {
    /// The whole menu file.
    toml: String,
}

/// `POST /phone/drafts` with `{"toml": "..."}`: checks a pasted menu file and keeps it for
/// previews. Answers `{service, version}`, or 422 with every problem.
pub(super) async fn check(
    State(gw): State<AppState>,
    Extension(drafts): Extension<Arc<Drafts>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    pasted: Result<Json<Pasted>, JsonRejection>,
) -> Result<Response, Refusal> {
    local_only(&gw, peer, &headers).map_err(Refusal::Failed)?;
    let Json(pasted) = pasted.map_err(|e| Refusal::Failed(ApiError::bad_request(e.body_text())))?;
    let menu = Menu::parse_with_limit(&pasted.toml, PASTED, gw.config.min_screen_limit)
        .map_err(problems)?;
    let menu = Arc::new(menu);
    preview_menus(&gw, &menu)?;
    drafts.keep(menu.clone());
    let body = serde_json::json!({ "service": menu.id().as_str(), "version": menu.version() });
    Ok(Json(body).into_response())
}

/// The menus a preview of `service` at `version` walks: the gateway's current ones with that
/// version in its service's place.
pub(super) async fn preview_of(
    gw: &AppState,
    drafts: &Drafts,
    service: &ServiceId,
    version: &str,
) -> Result<MenuSet, Refusal> {
    let menu = match drafts.get(service, version) {
        Some(menu) => menu,
        None => {
            let menu = find(gw, service, version).await?;
            drafts.keep(menu.clone());
            menu
        }
    };
    preview_menus(gw, &menu)
}

async fn find(gw: &AppState, service: &ServiceId, version: &str) -> Result<Arc<Menu>, Refusal> {
    if let Some(menu) = gw.menus.current().get(service, version) {
        return Ok(menu.clone());
    }
    let limit = gw.config.min_screen_limit;
    let path = gw.config.menus_dir.join(format!("{service}.toml"));
    if let Ok(source) = tokio::fs::read_to_string(&path).await {
        if version_of(&source) == version {
            let file = path.display().to_string();
            let menu = Menu::parse_with_limit(&source, &file, limit).map_err(problems)?;
            if let Some(misnamed) = crate::menus::file_name_error(&path, &menu) {
                return Err(Refusal::Problems(vec![misnamed.to_string()]));
            }
            return Ok(Arc::new(menu));
        }
    }
    let stored = crate::menus::store::get_menu_source(&gw.db, service, version)
        .await
        .map_err(|e| Refusal::Failed(ApiError::internal(e)))?;
    match stored {
        Some(source) => {
            let file = format!("{service}.toml (published {version})");
            Ok(Arc::new(
                Menu::parse_with_limit(&source, &file, limit).map_err(problems)?,
            ))
        }
        None => Err(Refusal::Unknown(format!(
            "service {service} has no version {version:?} loaded, on disk or published"
        ))),
    }
}

/// The gateway's current menus with `menu` current for its service, refused as loading it
/// would be: a root-menu position another service holds, or an action its agency does not
/// offer.
pub(super) fn preview_menus(gw: &AppState, menu: &Arc<Menu>) -> Result<MenuSet, Refusal> {
    let mut menus = MenuSet::clone(&gw.menus.current());
    menus.insert(menu.clone()).map_err(|e| problems(vec![e]))?;
    let registered: crate::menus::RegisteredAgencies = gw
        .agencies
        .snapshot()
        .values()
        .map(|a| a.as_ref())
        .collect();
    let errors = menu.check_agencies(&registered);
    if errors.is_empty() {
        Ok(menus)
    } else {
        Err(problems(errors))
    }
}
