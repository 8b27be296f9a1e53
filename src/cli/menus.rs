//! `mgov menus check`: every problem of every menu file in one run, one line each
//! (`file:line: problem`), then a summary. The agencies and their actions are checked against
//! what `serve` would see: the configured database, or on the embedded default the demo
//! agencies it seeds and those already in its SQLite file. The report goes to stdout when the
//! menus pass and to stderr when they do not; the exit status is non-zero on any error, and
//! when the agencies could not be read.

use crate::config::Config;
use crate::db::{Db, DbError};
use crate::menus::{MenuCheck, MenuSet, RegisteredAgencies};
use std::path::PathBuf;
use std::process::ExitCode;

pub async fn check(mut config: Config, dir: Option<PathBuf>) -> ExitCode {
    if let Some(dir) = dir {
        config.menus_dir = dir;
    }
    let (agencies, agencies_line) = match agencies_at_start(&config).await {
        Ok((agencies, source)) => (
            Some(agencies),
            format!("agencies: checked against {source}"),
        ),
        Err(why) => (None, format!("agencies: not checked, {why}")),
    };
    let check = MenuSet::check_dir(
        &config.menus_dir,
        config.min_screen_limit,
        agencies.as_ref(),
    );
    let report = report(&check, &agencies_line, agencies.is_some());
    // Menus that pass but could not be checked against their agencies are not known to
    // serve: saying "ok" would send the operator to a `serve` that refuses them.
    if check.errors.is_empty() && agencies.is_some() {
        println!("{report}");
        ExitCode::SUCCESS
    } else {
        eprintln!("{report}");
        ExitCode::FAILURE
    }
}

/// Every problem and warning by file and line, the agencies line, and the summary.
fn report(check: &MenuCheck, agencies_line: &str, agencies_checked: bool) -> String {
    let mut lines: Vec<(&str, Option<usize>, String)> = check
        .errors
        .iter()
        .map(|e| (e.file.as_str(), e.line, e.to_string()))
        .chain(
            check
                .warnings
                .iter()
                .map(|w| (w.file.as_str(), w.line, w.as_warning().to_string())),
        )
        .collect();
    lines.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut out: Vec<String> = lines.into_iter().map(|(_, _, line)| line).collect();
    out.push(agencies_line.to_string());
    let warnings = match check.warnings.len() {
        0 => String::new(),
        1 => " (1 warning)".to_string(),
        n => format!(" ({n} warnings)"),
    };
    let summary = if let Some(menus) = check.menus() {
        let services: Vec<String> = menus
            .services_by_position()
            .iter()
            .map(|m| format!("{} v{}", m.id(), m.version()))
            .collect();
        if agencies_checked {
            format!("ok: {}{warnings}", services.join(", "))
        } else {
            format!(
                "not known to serve: {}{warnings} read without a problem, but their agencies could not be checked",
                services.join(", ")
            )
        }
    } else {
        let problems = check.errors.len();
        let files = check.files_with_errors();
        format!(
            "{problems} problem{} in {files} file{}{warnings}",
            plural(problems),
            plural(files)
        )
    };
    out.push(summary);
    out.join("\n")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The agencies a gateway started with `config` would check its menus against, read without
/// creating, migrating or seeding anything; with a phrase saying where they came from.
async fn agencies_at_start(config: &Config) -> Result<(RegisteredAgencies, String), String> {
    if config.database_url.is_some() {
        let agencies = read_agencies(&config.effective_database_url())
            .await
            .map_err(|e| format!("the database cannot be read: {e}"))?;
        return Ok((agencies, "the Postgres database".into()));
    }
    let file = config.sqlite_path.display().to_string();
    let mut agencies = RegisteredAgencies::new();
    let mut sources = Vec::new();
    if config.demo_enabled() {
        let demo = crate::app::demo_agencies();
        let ids: Vec<String> = demo.ids().map(|id| id.to_string()).collect();
        sources.push(format!("the demo agencies ({})", ids.join(", ")));
        agencies.add_all(demo);
    }
    if config.sqlite_path.exists() {
        let stored = read_agencies(&config.effective_database_url())
            .await
            .map_err(|e| format!("{file} cannot be read: {e}"))?;
        sources.push(format!("those registered in {file}"));
        agencies.add_all(stored);
    }
    let source = match sources.is_empty() {
        true => format!("none ({file} does not exist yet and demo is off)"),
        false => sources.join(" and "),
    };
    Ok((agencies, format!("the embedded default: {source}")))
}

async fn read_agencies(url: &str) -> Result<RegisteredAgencies, DbError> {
    let db = Db::connect(url).await?;
    let agencies = crate::agencies::store::list_agencies(&db).await;
    db.close().await;
    Ok(agencies?.iter().collect())
}
