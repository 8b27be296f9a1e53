//! Checking menu files: one file into a [`Menu`] with every problem found in it, a folder
//! into a [`MenuCheck`] with every problem of every file, sorted by file and line. A problem
//! suppresses only the checks it makes meaningless (a TOML syntax error, the rest of its
//! file; an unreadable state, the graph beyond it), never the other files or states.

use super::check::check_menu;
use super::compile::compile;
use super::error::{MenuError, Source};
use super::model::Menu;
use super::raw::RawFile;
use super::registered::{agency_errors, RegisteredAgencies};
use super::set::MenuSet;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

/// One file: the menu as far as it could be built (whenever `[service]` could be read),
/// its problems and its warnings.
pub(super) struct FileCheck {
    pub menu: Option<Menu>,
    pub errors: Vec<MenuError>,
    pub warnings: Vec<MenuError>,
}

pub(super) fn check_source(source: &str, file: &str, min_screen_limit: usize) -> FileCheck {
    let src = Source { text: source, file };
    let raw = match RawFile::parse(source) {
        Ok(raw) => raw,
        Err(e) => {
            return FileCheck {
                menu: None,
                errors: vec![src.toml_error(&e)],
                warnings: Vec::new(),
            }
        }
    };
    let compiled = compile(raw, &src, version_of(source));
    let mut errors = compiled.errors;
    if let Some(menu) = &compiled.menu {
        errors.extend(check_menu(
            menu,
            &src,
            &compiled.declared,
            &compiled.broken,
            min_screen_limit,
        ));
    }
    let mut warnings = compiled.warnings;
    sort(&mut errors);
    sort(&mut warnings);
    FileCheck {
        menu: compiled.menu.filter(|_| compiled.header_read),
        errors,
        warnings,
    }
}

/// First 12 hex characters of the SHA-256 of the file.
pub(crate) fn version_of(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))[..12].to_string()
}

/// By file, then line; problems on one line stay in the order they were found.
fn sort(problems: &mut [MenuError]) {
    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
}

/// What a check of a menu folder found.
#[derive(Debug)]
pub struct MenuCheck {
    /// Every menu whose `[service]` could be read, errors or not; given out only when
    /// there is no error, so that a `Menu` in hand has passed every check.
    menus: MenuSet,
    /// Every problem of every file, by file and line.
    pub errors: Vec<MenuError>,
    /// What is allowed but probably a mistake (an input that accepts anything).
    pub warnings: Vec<MenuError>,
}

impl MenuCheck {
    /// The menus when there is no error, else every error.
    pub fn into_result(self) -> Result<MenuSet, Vec<MenuError>> {
        if self.errors.is_empty() {
            Ok(self.menus)
        } else {
            Err(self.errors)
        }
    }

    /// The menus, when there is no error.
    pub fn menus(&self) -> Option<&MenuSet> {
        self.errors.is_empty().then_some(&self.menus)
    }

    /// How many files the errors are in.
    pub fn files_with_errors(&self) -> usize {
        let mut files: Vec<&str> = self.errors.iter().map(|e| e.file.as_str()).collect();
        files.dedup();
        files.len()
    }
}

impl MenuSet {
    /// Checks every `*.toml` in `dir`, and each menu's agency and actions against `agencies`
    /// when they are known, reporting every problem of every file at once.
    pub fn check_dir(
        dir: impl AsRef<Path>,
        min_screen_limit: usize,
        agencies: Option<&RegisteredAgencies>,
    ) -> MenuCheck {
        let mut check = MenuCheck {
            menus: MenuSet::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        let dir = dir.as_ref();
        let io_error = |file: &Path, e: std::io::Error| MenuError {
            file: file.display().to_string(),
            line: None,
            state: None,
            problem: format!("cannot read: {e}"),
        };
        let mut paths: Vec<_> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect(),
            Err(e) => {
                check.errors.push(io_error(dir, e));
                return check;
            }
        };
        paths.sort();
        for path in paths {
            let file = path.display().to_string();
            let found = match std::fs::read_to_string(&path) {
                Ok(source) => check_source(&source, &file, min_screen_limit),
                Err(e) => FileCheck {
                    menu: None,
                    errors: vec![io_error(&path, e)],
                    warnings: Vec::new(),
                },
            };
            check.errors.extend(found.errors);
            check.warnings.extend(found.warnings);
            let Some(menu) = found.menu else { continue };
            check.errors.extend(file_name_error(&path, &menu));
            if let Some(agencies) = agencies {
                check.errors.extend(agency_errors(&menu, agencies));
            }
            // A menu with errors joins the set too, so that a position it shares with another
            // file is found in the same run; the set is only used when there is no error.
            if let Some(other) = check.menus.current(menu.id()) {
                let problem = format!(
                    "service {:?} is also defined in {}",
                    menu.id().as_str(),
                    other.file()
                );
                check.errors.push(at_id(&menu, problem));
            } else if let Err(e) = check.menus.insert(Arc::new(menu)) {
                check.errors.push(e);
            }
        }
        sort(&mut check.errors);
        sort(&mut check.warnings);
        check
    }
}

/// `menu` read from `path`, refused unless the file is named after its service (the file
/// name is how operators find a service's menu). Used by the phone page's previews too.
pub(crate) fn file_name_error(path: &Path, menu: &Menu) -> Option<MenuError> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    (stem != menu.id().as_str()).then(|| {
        let problem = format!(
            "service {:?} must be in a file named {}.toml",
            menu.id().as_str(),
            menu.id()
        );
        at_id(menu, problem)
    })
}

/// A problem with the service as a whole, at its `id =` line.
fn at_id(menu: &Menu, problem: String) -> MenuError {
    MenuError {
        file: menu.file().to_string(),
        line: Some(menu.id_line),
        state: None,
        problem,
    }
}
