//! Tenant packs: a folder `tenants/<slug>/` with `tenant.toml` and a logo, parsed and validated
//! into a `TenantConfig`. The format is documented in `docs/tenant-pack.md`.

mod diff;
mod edit;
mod file;
mod logo;
mod settings;
mod validate;

use std::path::{Path, PathBuf};

use crate::plugin_host::Dataset;

pub use diff::{Change, Item, diff};
pub use edit::{ClosureDraft, EditError, IntervalDraft, Manifest, OfficeDraft, ServiceDraft, WEEKDAYS, drafts};
pub use logo::{LogoError, LogoKind, MAX_LOGO_BYTES, check_logo};
pub use settings::{LimitsDraft, SettingsDraft, settings};
pub use validate::parse_config;

/// A pack problem, located precisely: the file, the key inside it, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {key}: {reason}")]
pub struct PackError {
    pub file: String,
    pub key: String,
    pub reason: String,
}

impl PackError {
    pub fn new(file: impl Into<String>, key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { file: file.into(), key: key.into(), reason: reason.into() }
    }
}

/// A pack read from disk: its manifest text and logo, not yet checked against the database.
#[derive(Clone, Debug)]
pub struct PackSource {
    pub dir: PathBuf,
    pub manifest: String,
    pub logo: Option<(Vec<u8>, String)>,
    /// Plugin modules, datasets and page templates, by their path in the pack, in path order.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Plugin modules above this size are refused.
const MAX_PLUGIN_BYTES: usize = 8 * 1024 * 1024;
/// Datasets above this size are refused.
const MAX_DATASET_BYTES: usize = 16 * 1024 * 1024;
/// Page templates above this size are refused.
const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// Where a pack keeps the page templates that replace the built-in ones.
pub const TEMPLATES_DIR: &str = "templates";

pub const MANIFEST: &str = "tenant.toml";

impl PackSource {
    /// Reads `dir/tenant.toml` and the logo it names; the manifest is validated too.
    pub fn read(dir: &Path) -> Result<(Self, crate::domain::TenantConfig), PackError> {
        let manifest_path = dir.join(MANIFEST);
        let file = manifest_path.display().to_string();
        let manifest =
            std::fs::read_to_string(&manifest_path).map_err(|e| PackError::new(&file, "(file)", e.to_string()))?;
        let config = parse_config(&manifest).map_err(|mut e| {
            e.file = file.clone();
            e
        })?;
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if folder != config.slug.as_str() {
            return Err(PackError::new(
                &file,
                "slug",
                format!("{:?} must match the folder name {folder:?}", config.slug.as_str()),
            ));
        }
        let logo = match &config.branding.logo {
            None => None,
            Some(name) => {
                if name.contains(['/', '\\']) || name.starts_with('.') {
                    return Err(PackError::new(&file, "branding.logo", "must be a file name inside the pack folder"));
                }
                let path = dir.join(name);
                let cannot_read =
                    |e: std::io::Error| PackError::new(&file, "branding.logo", format!("cannot read {name:?}: {e}"));
                if std::fs::metadata(&path).map_err(cannot_read)?.len() > MAX_LOGO_BYTES as u64 {
                    return Err(PackError::new(&file, "branding.logo", LogoError::TooLarge.to_string()));
                }
                let bytes = std::fs::read(&path).map_err(cannot_read)?;
                let kind = check_logo(&bytes).map_err(|e| PackError::new(&file, "branding.logo", e.to_string()))?;
                Some((bytes, kind.content_type().to_owned()))
            }
        };
        let mut files = Vec::new();
        for (index, plugin) in config.plugins.iter().enumerate() {
            let key = format!("plugins[{index}].file");
            let bytes = std::fs::read(dir.join(&plugin.file))
                .map_err(|e| PackError::new(&file, &key, format!("cannot read {:?}: {e}", plugin.file)))?;
            if bytes.len() > MAX_PLUGIN_BYTES {
                return Err(PackError::new(&file, &key, "a plugin module must be at most 8 MiB"));
            }
            files.push((plugin.file.clone(), bytes));
        }
        for (index, (_, path)) in config.datasets.iter().enumerate() {
            let key = format!("datasets[{index}].file");
            let bytes = std::fs::read(dir.join(path))
                .map_err(|e| PackError::new(&file, &key, format!("cannot read {path:?}: {e}")))?;
            if bytes.len() > MAX_DATASET_BYTES {
                return Err(PackError::new(&file, &key, "a dataset must be at most 16 MiB"));
            }
            Dataset::from_csv(&bytes).map_err(|reason| PackError::new(&file, &key, format!("{path}: {reason}")))?;
            files.push((path.clone(), bytes));
        }
        files.extend(read_templates(dir)?);
        files.sort();
        Ok((Self { dir: dir.to_owned(), manifest, logo, files }, config))
    }
}

impl PackSource {
    /// A pack edited in place: new manifest text over the files and logo already stored. Plugin
    /// modules and datasets the manifest names must be among them (they are uploaded on their
    /// own); files it no longer names are dropped, templates kept.
    pub fn edited(
        slug: &str,
        manifest: &str,
        stored_files: &[(String, Vec<u8>)],
        stored_logo: Option<(Vec<u8>, String)>,
    ) -> Result<(Self, crate::domain::TenantConfig), PackError> {
        let config = parse_config(manifest)?;
        if config.slug.as_str() != slug {
            return Err(PackError::new(MANIFEST, "slug", format!("stays {slug:?}: a tenant's address cannot change")));
        }
        let stored = |path: &str| stored_files.iter().find(|(p, _)| p == path).cloned();
        let mut files = Vec::new();
        for (index, plugin) in config.plugins.iter().enumerate() {
            let file = stored(&plugin.file).ok_or_else(|| {
                PackError::new(MANIFEST, format!("plugins[{index}].file"), format!("{:?} is not uploaded", plugin.file))
            })?;
            files.push(file);
        }
        for (index, (_, path)) in config.datasets.iter().enumerate() {
            let file = stored(path).ok_or_else(|| {
                PackError::new(MANIFEST, format!("datasets[{index}].file"), format!("{path:?} is not uploaded"))
            })?;
            files.push(file);
        }
        files.extend(stored_files.iter().filter(|(p, _)| p.starts_with(&format!("{TEMPLATES_DIR}/"))).cloned());
        files.sort();
        files.dedup_by(|a, b| a.0 == b.0);
        let logo = match (&config.branding.logo, stored_logo) {
            (None, _) => None,
            (Some(_), Some(logo)) => Some(logo),
            (Some(name), None) => {
                return Err(PackError::new(MANIFEST, "branding.logo", format!("{name:?} is not uploaded")));
            }
        };
        let source = Self { dir: PathBuf::from(slug), manifest: manifest.to_owned(), logo, files };
        Ok((source, config))
    }
}

/// The pack's page templates (`templates/<name>.hbs`), each checked to compile: they are stored
/// with the configuration, so every instance renders the same version of them.
fn read_templates(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, PackError> {
    let folder = dir.join(TEMPLATES_DIR);
    let Ok(entries) = std::fs::read_dir(&folder) else { return Ok(Vec::new()) };
    let mut templates = Vec::new();
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let file = path.display().to_string();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".hbs")) else {
            continue;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
            return Err(PackError::new(&file, "(file)", "a template is named like `details.hbs`"));
        }
        let bytes = std::fs::read(&path).map_err(|e| PackError::new(&file, "(file)", e.to_string()))?;
        if bytes.len() > MAX_TEMPLATE_BYTES {
            return Err(PackError::new(&file, "(file)", "a template must be at most 64 KiB"));
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| PackError::new(&file, "(file)", "must be UTF-8 text"))?;
        handlebars::Template::compile(text).map_err(|e| PackError::new(&file, "(template)", e.to_string()))?;
        templates.push((format!("{TEMPLATES_DIR}/{name}.hbs"), bytes));
    }
    Ok(templates)
}
