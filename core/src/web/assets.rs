//! Built assets: fingerprinted files listed in `manifest.json`, served with long-lived cache
//! headers, pre-compressed with gzip when the client accepts it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use poem::error::NotFoundError;
use poem::web::{Data, Path as UrlPath};
use poem::{Request, Response, handler};

use super::Web;

pub struct Assets {
    dir: PathBuf,
    /// Logical name (`app.css`) → fingerprinted file name (`app.3f2a9c1d.css`).
    manifest: HashMap<String, String>,
}

impl Assets {
    pub fn load(dir: &Path) -> Self {
        let manifest = std::fs::read_to_string(dir.join("manifest.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<HashMap<String, String>>(&text).ok())
            .unwrap_or_default();
        if manifest.is_empty() {
            tracing::warn!(dir = %dir.display(), "no built assets: pages are served unstyled (run scripts/build-assets)");
        }
        Self { dir: dir.to_owned(), manifest }
    }

    /// The URL of a logical asset, if it was built.
    pub fn url(&self, name: &str) -> Option<String> {
        self.manifest.get(name).map(|file| format!("/static/{file}"))
    }
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next().unwrap_or_default() {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "woff2" => "font/woff2",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[handler]
pub async fn serve(web: Data<&Arc<Web>>, UrlPath(file): UrlPath<String>, request: &Request) -> poem::Result<Response> {
    // Only files the manifest lists: no path tricks reach the disk.
    if !web.assets.manifest.values().any(|f| *f == file) {
        return Err(NotFoundError.into());
    }
    let gzip_ok = request.header("accept-encoding").is_some_and(|a| a.contains("gzip"));
    let path = web.assets.dir.join(&file);
    let gzipped = path.with_file_name(format!("{file}.gz"));
    let (bytes, encoded) = match (gzip_ok, std::fs::read(&gzipped)) {
        (true, Ok(bytes)) => (bytes, true),
        _ => match std::fs::read(&path) {
            Ok(bytes) => (bytes, false),
            Err(_) => return Err(NotFoundError.into()),
        },
    };
    let mut response = Response::builder()
        .content_type(content_type(&file))
        .header("Cache-Control", "public, max-age=31536000, immutable")
        .header("Vary", "Accept-Encoding");
    if encoded {
        response = response.header("Content-Encoding", "gzip");
    }
    Ok(response.body(bytes))
}
