//! `GET /phone/menus`: what the page offers to dial. For each service, every version the
//! gateway has loaded, the file under `menus_dir` as it is now (with its problems when it
//! would be refused), and every version published to the store; plus the root code and the
//! registered telcos, so the page posts where a telco of each format would.

use super::drafts::{preview_menus, Refusal};
use super::local_only;
use crate::app::AppState;
use crate::error::ApiError;
use crate::menus::{version_of, Menu, MenuRegistry};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Serialize)]
pub(super) struct Listing {
    root_code: String,
    telcos: Vec<TelcoEntry>,
    services: Vec<ServiceEntry>,
}

#[derive(Serialize)]
struct TelcoEntry {
    id: String,
    format: &'static str,
    screen_limit: usize,
    /// Whether it takes callbacks without HTTP Basic (the embedded default's demo telcos).
    open: bool,
}

#[derive(Serialize)]
struct ServiceEntry {
    service: String,
    /// The version a citizen dialling now walks, if the service is loaded.
    current: Option<String>,
    versions: Vec<VersionEntry>,
}

#[derive(Serialize, Default)]
struct VersionEntry {
    version: String,
    current: bool,
    loaded: bool,
    /// The file under `menus_dir` has this content now.
    on_disk: bool,
    /// When it was published to the store, if it was.
    published_at: Option<String>,
    /// Why loading it would be refused; empty when it would load.
    problems: Vec<String>,
}

pub(super) async fn list(
    State(gw): State<AppState>,
    State(menus): State<MenuRegistry>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Json<Listing>, ApiError> {
    local_only(&gw, peer, &headers)?;
    let mut services = Versions::new();
    let menus = menus.current();
    for menu in menus.loaded() {
        let current = menus
            .current(menu.id())
            .is_some_and(|c| c.version() == menu.version());
        let e = entry(&mut services, menu.id().as_str(), menu.version());
        e.loaded = true;
        e.current = current;
    }
    for (service, source, file) in files_on_disk(&gw).await {
        let e = entry(&mut services, &service, &version_of(&source));
        e.on_disk = true;
        if !e.loaded {
            match Menu::parse_with_limit(&source, &file, gw.config.min_screen_limit) {
                Ok(menu) if menu.id().as_str() != service => e.problems.push(
                    crate::menus::file_name_error(std::path::Path::new(&file), &menu)
                        .map(|misnamed| misnamed.to_string())
                        .unwrap_or_default(),
                ),
                Ok(menu) => {
                    if let Err(Refusal::Problems(problems)) = preview_menus(&gw, &Arc::new(menu)) {
                        e.problems = problems;
                    }
                }
                Err(errors) => e.problems = errors.iter().map(ToString::to_string).collect(),
            }
        }
    }
    let published = crate::menus::store::list_menu_versions(&gw.db)
        .await
        .map_err(ApiError::internal)?;
    for p in published {
        entry(&mut services, &p.service_id, &p.version).published_at =
            Some(p.created_at.0.to_rfc3339());
    }
    let services = services
        .into_iter()
        .map(|(service, versions)| {
            let mut versions: Vec<_> = versions.into_values().collect();
            // The current version first, then the newest published.
            versions.sort_by(|a, b| {
                (b.current, b.on_disk, &b.published_at).cmp(&(
                    a.current,
                    a.on_disk,
                    &a.published_at,
                ))
            });
            ServiceEntry {
                current: versions
                    .iter()
                    .find(|v| v.current)
                    .map(|v| v.version.clone()),
                service,
                versions,
            }
        })
        .collect();
    let mut telcos: Vec<_> = gw
        .telcos
        .snapshot()
        .values()
        .map(|t| TelcoEntry {
            id: t.id.to_string(),
            format: t.wire_format.as_str(),
            screen_limit: t.screen_limit,
            open: t.credentials.is_none(),
        })
        .collect();
    telcos.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(Listing {
        root_code: gw.config.root_code.clone(),
        telcos,
        services,
    }))
}

type Versions = BTreeMap<String, BTreeMap<String, VersionEntry>>;

fn entry<'a>(services: &'a mut Versions, service: &str, version: &str) -> &'a mut VersionEntry {
    services
        .entry(service.to_string())
        .or_default()
        .entry(version.to_string())
        .or_insert_with(|| VersionEntry {
            version: version.to_string(),
            ..Default::default()
        })
}

/// Every `*.toml` under `menus_dir`: the service its name gives, its content, its path.
async fn files_on_disk(gw: &AppState) -> Vec<(String, String, String)> {
    let dir = &gw.config.menus_dir;
    let mut files = Vec::new();
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return files;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        let Some(service) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|_| path.extension().is_some_and(|x| x == "toml"))
        else {
            continue;
        };
        if let Ok(source) = tokio::fs::read_to_string(&path).await {
            files.push((service.to_string(), source, path.display().to_string()));
        }
    }
    files
}
