//! A pack as one file: a `.tar.gz` holding the folder `<slug>/` with `tenant.toml`, the logo,
//! plugin modules, datasets and page templates. An exported tenant applies elsewhere with
//! `sportello tenant apply <file>`; an admin imports one as the tenant's next version.
//!
//! An archive is read in memory and trusted with nothing: only regular files inside the one
//! folder, no path that climbs out of it, each file and the whole within their caps, checked
//! before they are read.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Component, Path};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use super::{MANIFEST, PackError};

/// A pack's files by their path inside the pack (`tenant.toml`, `plugins/rule.wasm`).
pub type PackFiles = BTreeMap<String, Vec<u8>>;

/// The most an archive may unpack to: every plugin and dataset at their caps would not fit, a
/// real tenant does.
pub const MAX_ARCHIVE_BYTES: u64 = 40 * 1024 * 1024;
const MAX_ENTRIES: usize = 500;

fn refused(reason: impl Into<String>) -> PackError {
    PackError::new("(archive)", "(archive)", reason)
}

/// Packs `files` under the folder `slug`. Times are left at zero, so that the same
/// configuration always makes the same archive.
pub fn pack_archive(slug: &str, files: &PackFiles) -> Result<Vec<u8>, PackError> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, format!("{slug}/{path}"), bytes.as_slice())
            .map_err(|e| refused(format!("cannot write {path:?}: {e}")))?;
    }
    let encoder = builder.into_inner().map_err(|e| refused(e.to_string()))?;
    let mut bytes = encoder.finish().map_err(|e| refused(e.to_string()))?;
    bytes.flush().map_err(|e| refused(e.to_string()))?;
    Ok(bytes)
}

/// The folder an archive holds and its files.
pub fn unpack_archive(archive: &[u8]) -> Result<(String, PackFiles), PackError> {
    // Whatever the entries' headers claim (long names are read whole by `tar`), the stream
    // itself stops past the cap: a small archive cannot unpack to gigabytes.
    let stream = GzDecoder::new(archive).take(MAX_ARCHIVE_BYTES + 1024 * 1024);
    let mut tar = tar::Archive::new(stream);
    let entries = tar.entries().map_err(|e| refused(format!("not a .tar.gz archive: {e}")))?;
    let mut folder: Option<String> = None;
    let mut files = PackFiles::new();
    let mut total = 0u64;
    for (count, entry) in entries.enumerate() {
        if count >= MAX_ENTRIES {
            return Err(refused(format!("more than {MAX_ENTRIES} entries")));
        }
        let entry = entry.map_err(|e| refused(format!("damaged archive: {e}")))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return Err(refused("only plain files and folders may be in a pack (no links)"));
        }
        let path = entry.path().map_err(|e| refused(format!("unreadable name: {e}")))?.into_owned();
        let (top, inner) = split(&path)?;
        match &folder {
            Some(seen) if *seen != top => return Err(refused("a pack archive holds one folder")),
            Some(_) => {}
            None => folder = Some(top),
        }
        let size = entry.header().size().map_err(|e| refused(e.to_string()))?;
        total = total.saturating_add(size);
        if total > MAX_ARCHIVE_BYTES {
            return Err(refused("the archive unpacks to more than 40 MiB"));
        }
        let mut bytes = Vec::new();
        entry.take(size).read_to_end(&mut bytes).map_err(|e| refused(format!("damaged archive: {e}")))?;
        files.insert(inner, bytes);
    }
    let folder = folder.ok_or_else(|| refused("the archive is empty"))?;
    if !files.contains_key(MANIFEST) {
        return Err(refused(format!("no {folder}/{MANIFEST} in the archive")));
    }
    Ok((folder, files))
}

/// `slug/inner/path` as (`slug`, `inner/path`), refusing anything that is not a plain relative
/// path inside one folder.
fn split(path: &Path) -> Result<(String, String), PackError> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => {
                parts.push(part.to_str().ok_or_else(|| refused("names must be UTF-8"))?.to_owned());
            }
            Component::CurDir => {}
            _ => return Err(refused(format!("{:?} leaves the pack's folder", path.display().to_string()))),
        }
    }
    match parts.split_first() {
        Some((top, rest)) if !rest.is_empty() => Ok((top.clone(), rest.join("/"))),
        _ => Err(refused("files must be inside the pack's folder")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive_of(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
        for (path, bytes, kind) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_entry_type(*kind);
            header.set_mode(0o644);
            // Write the name raw: `append_data` itself refuses `..`, an attacker's tool would not.
            let name = header.as_old_mut().name.as_mut();
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *bytes).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn a_pack_goes_out_and_comes_back_the_same() {
        let files = PackFiles::from([
            (MANIFEST.to_owned(), b"slug = \"demo\"".to_vec()),
            ("plugins/rule.wasm".to_owned(), vec![0, 97, 115, 109]),
        ]);
        let archive = pack_archive("demo", &files).unwrap();
        assert_eq!(pack_archive("demo", &files).unwrap(), archive, "the same every time");
        assert_eq!(unpack_archive(&archive).unwrap(), ("demo".to_owned(), files));
    }

    #[test]
    fn archives_that_leave_their_folder_or_link_are_refused() {
        let file = tar::EntryType::Regular;
        for (entries, why) in [
            (vec![("demo/../../etc/passwd", b"x".as_slice(), file)], "leaves the pack's folder"),
            (vec![("/etc/passwd", b"x".as_slice(), file)], "leaves the pack's folder"),
            (
                vec![("demo/tenant.toml", b"x".as_slice(), file), ("other/tenant.toml", b"x".as_slice(), file)],
                "one folder",
            ),
            (vec![("tenant.toml", b"x".as_slice(), file)], "inside the pack's folder"),
            (vec![("demo/logo.svg", b"".as_slice(), tar::EntryType::Symlink)], "no links"),
            (vec![("demo/logo.svg", b"x".as_slice(), file)], "no demo/tenant.toml"),
        ] {
            let error = unpack_archive(&archive_of(&entries)).unwrap_err();
            assert!(error.reason.contains(why), "{entries:?}: {error}");
        }
        assert!(unpack_archive(b"not gzip at all").is_err());
    }
}
