//! Tenant packs: a folder `tenants/<slug>/` with `tenant.toml` and a logo, parsed and validated
//! into a `TenantConfig`. The format is documented in `docs/tenant-pack.md`.

mod accessibility;
mod archive;
mod diff;
mod edit;
mod file;
mod logo;
mod modules;
mod settings;
mod validate;

use std::path::{Path, PathBuf};

use crate::plugin_host::Dataset;

pub use accessibility::{AccessibilityDraft, accessibility};
pub use archive::{MAX_ARCHIVE_BYTES, PackFiles, pack_archive, unpack_archive};
pub use diff::{Change, Item, diff};
pub use edit::{
    ClosureDraft, EditError, FieldDraft, IntervalDraft, Manifest, OfficeDraft, PluginChoice, ReasonDraft, ServiceDraft,
    WEEKDAYS, drafts,
};
pub use logo::{LogoError, LogoKind, MAX_LOGO_BYTES, check_logo};
pub use settings::{LimitsDraft, MailDraft, SettingsDraft, settings};
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
pub const MAX_PLUGIN_BYTES: usize = 8 * 1024 * 1024;
/// Datasets above this size are refused.
pub const MAX_DATASET_BYTES: usize = 16 * 1024 * 1024;
/// Page templates above this size are refused.
const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// Where a pack keeps the page templates that replace the built-in ones.
pub const TEMPLATES_DIR: &str = "templates";

pub const MANIFEST: &str = "tenant.toml";

impl PackSource {
    /// Reads the pack folder `dir`: its `tenant.toml` and the files it names, each within its cap.
    pub fn read(dir: &Path) -> Result<(Self, crate::domain::TenantConfig), PackError> {
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let (mut source, config) = Self::from_files(folder, read_folder(dir)?, &dir.display().to_string())?;
        source.dir = dir.to_owned();
        Ok((source, config))
    }

    /// A pack from its files in memory (an archive): the manifest validated, the folder named
    /// after its slug, and every file it names present and within its cap. `origin` names the
    /// pack in errors.
    pub fn from_files(
        folder: &str,
        mut files: PackFiles,
        origin: &str,
    ) -> Result<(Self, crate::domain::TenantConfig), PackError> {
        let file = format!("{origin}/{MANIFEST}");
        let manifest = files.remove(MANIFEST).ok_or_else(|| PackError::new(&file, "(file)", "missing"))?;
        let manifest =
            String::from_utf8(manifest).map_err(|_| PackError::new(&file, "(file)", "must be UTF-8 text"))?;
        let config = parse_config(&manifest).map_err(|mut e| {
            e.file = file.clone();
            e
        })?;
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
                let bytes = files
                    .remove(name)
                    .ok_or_else(|| PackError::new(&file, "branding.logo", format!("{name:?} is not in the pack")))?;
                let kind = check_logo(&bytes).map_err(|e| PackError::new(&file, "branding.logo", e.to_string()))?;
                Some((bytes, kind.content_type().to_owned()))
            }
        };
        let mut named = Vec::new();
        for (index, plugin) in config.plugins.iter().enumerate() {
            let key = format!("plugins[{index}].file");
            let bytes = files
                .get(&plugin.file)
                .ok_or_else(|| PackError::new(&file, &key, format!("{:?} is not in the pack", plugin.file)))?;
            if bytes.len() > MAX_PLUGIN_BYTES {
                return Err(PackError::new(&file, &key, "a plugin module must be at most 8 MiB"));
            }
            named.push((plugin.file.clone(), bytes.clone()));
        }
        for (index, (_, path)) in config.datasets.iter().enumerate() {
            let key = format!("datasets[{index}].file");
            let bytes =
                files.get(path).ok_or_else(|| PackError::new(&file, &key, format!("{path:?} is not in the pack")))?;
            if bytes.len() > MAX_DATASET_BYTES {
                return Err(PackError::new(&file, &key, "a dataset must be at most 16 MiB"));
            }
            Dataset::from_csv(bytes).map_err(|reason| PackError::new(&file, &key, format!("{path}: {reason}")))?;
            named.push((path.clone(), bytes.clone()));
        }
        for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with(&format!("{TEMPLATES_DIR}/"))) {
            named.push((path.clone(), checked_template(&format!("{origin}/{path}"), path, bytes)?));
        }
        named.sort();
        named.dedup_by(|a, b| a.0 == b.0);
        Ok((Self { dir: PathBuf::from(folder), manifest, logo, files: named }, config))
    }

    /// The pack as an archive: what `sportello tenant apply` and an import read back.
    pub fn archive(&self, slug: &str) -> Result<Vec<u8>, PackError> {
        let mut files = PackFiles::new();
        files.insert(MANIFEST.to_owned(), self.manifest.clone().into_bytes());
        if let (Some((bytes, _)), Some(name)) = (&self.logo, logo_name(&self.manifest)) {
            files.insert(name, bytes.clone());
        }
        files.extend(self.files.iter().cloned());
        pack_archive(slug, &files)
    }
}

/// The logo's file name a manifest gives.
fn logo_name(manifest: &str) -> Option<String> {
    parse_config(manifest).ok().and_then(|c| c.branding.logo)
}

/// Reads what a pack folder may hold: the manifest, images beside it (the logo), and the
/// plugins, datasets and templates folders; each file refused above its cap before it is read.
fn read_folder(dir: &Path) -> Result<PackFiles, PackError> {
    let mut files = PackFiles::new();
    let place = dir.display().to_string();
    let manifest = std::fs::read(dir.join(MANIFEST))
        .map_err(|e| PackError::new(format!("{place}/{MANIFEST}"), "(file)", e.to_string()))?;
    files.insert(MANIFEST.to_owned(), manifest);
    let folders: [(&str, &[&str], u64); 4] = [
        ("", &["svg", "png", "jpg", "jpeg", "webp"], MAX_LOGO_BYTES as u64),
        ("plugins", &["wasm"], MAX_PLUGIN_BYTES as u64),
        ("datasets", &["csv"], MAX_DATASET_BYTES as u64),
        (TEMPLATES_DIR, &["hbs"], MAX_TEMPLATE_BYTES as u64),
    ];
    for (folder, extensions, cap) in folders {
        let Ok(entries) = std::fs::read_dir(dir.join(folder)) else { continue };
        // Plain files only: a link could point anywhere on the server.
        let plain = |p: &PathBuf| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file());
        for path in entries.filter_map(Result::ok).map(|e| e.path()).filter(plain) {
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
            let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
            if !extensions.contains(&extension.as_str()) {
                continue;
            }
            let shown = path.display().to_string();
            let size = std::fs::metadata(&path).map_err(|e| PackError::new(&shown, "(file)", e.to_string()))?.len();
            if size > cap {
                return Err(PackError::new(&shown, "(file)", format!("larger than {} KiB", cap / 1024)));
            }
            let bytes = std::fs::read(&path).map_err(|e| PackError::new(&shown, "(file)", e.to_string()))?;
            let key = if folder.is_empty() { name } else { format!("{folder}/{name}") };
            files.insert(key, bytes);
        }
    }
    Ok(files)
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

/// A page template (`templates/<name>.hbs`) checked to compile: templates are stored with the
/// configuration, so every instance renders the same version of them.
fn checked_template(shown: &str, path: &str, bytes: &[u8]) -> Result<Vec<u8>, PackError> {
    let name = path.strip_prefix(&format!("{TEMPLATES_DIR}/")).and_then(|n| n.strip_suffix(".hbs")).unwrap_or_default();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        return Err(PackError::new(shown, "(file)", "a template is named like `details.hbs`"));
    }
    if bytes.len() > MAX_TEMPLATE_BYTES {
        return Err(PackError::new(shown, "(file)", "a template must be at most 64 KiB"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| PackError::new(shown, "(file)", "must be UTF-8 text"))?;
    handlebars::Template::compile(text).map_err(|e| PackError::new(shown, "(template)", e.to_string()))?;
    Ok(bytes.to_vec())
}
