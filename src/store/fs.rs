//! A local directory as a destination: `key` is the file `dir/key`, its metadata a sidecar
//! `.NAME.meta.json` beside it. Writes go to a temp file that is fsynced and renamed; the old
//! sidecar is removed before the rename and the new one renamed after it, so a crash leaves at
//! worst an object without metadata, never an object with another object's metadata.

use super::{Meta, ObjectInfo, Store, check_key};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, Write};
use std::path::{Path, PathBuf};

pub struct FsStore {
    root: PathBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sidecar {
    size: u64,
    meta: Meta,
}

impl FsStore {
    pub fn new(root: &Path) -> Result<FsStore> {
        let root = std::path::absolute(root).with_context(|| format!("resolving directory {}", root.display()))?;
        Ok(FsStore { root })
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn sidecar(path: &Path) -> PathBuf {
        let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        path.with_file_name(format!(".{name}.meta.json"))
    }

    /// Writes `key` from `fill` with the protocol in the module comment.
    fn write(&self, key: &str, meta: &Meta, fill: impl FnOnce(&mut File) -> Result<u64>) -> Result<()> {
        let path = self.path(key)?;
        let dir = path.parent().context("object path has no parent")?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))?;
        let mut data = temp_in(dir)?;
        let size = fill(data.as_file_mut())?;
        data.as_file()
            .sync_all()
            .with_context(|| format!("fsync of temp file for {}", path.display()))?;
        let mut side = temp_in(dir)?;
        serde_json::to_writer(
            side.as_file_mut(),
            &Sidecar {
                size,
                meta: meta.clone(),
            },
        )
        .context("writing metadata sidecar")?;
        side.as_file().sync_all().context("fsync of metadata sidecar")?;
        let side_path = Self::sidecar(&path);
        match std::fs::remove_file(&side_path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing {}", side_path.display()));
            }
            _ => sync_dir(dir)?,
        }
        data.persist(&path)
            .map_err(|e| e.error)
            .with_context(|| format!("renaming temp file to {}", path.display()))?;
        side.persist(&side_path)
            .map_err(|e| e.error)
            .with_context(|| format!("renaming sidecar to {}", side_path.display()))?;
        sync_dir(dir)
    }
}

impl std::fmt::Debug for FsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FsStore({})", self.root.display())
    }
}

impl Store for FsStore {
    fn destination(&self) -> super::Destination {
        super::Destination::Dir(self.root.clone())
    }

    fn url(&self, key: &str) -> String {
        if key.is_empty() {
            format!("file://{}", self.root.display())
        } else {
            format!("file://{}", self.root.join(key).display())
        }
    }

    fn put_file(&self, key: &str, path: &Path, meta: &Meta) -> Result<Option<String>> {
        let mut src = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        self.write(key, meta, |out| {
            std::io::copy(&mut src, out).with_context(|| format!("copying {} to {}", path.display(), self.url(key)))
        })
        .with_context(|| format!("storing {}", self.url(key)))?;
        Ok(None)
    }

    fn put_bytes(&self, key: &str, data: &[u8], meta: &Meta) -> Result<()> {
        self.write(key, meta, |out| {
            out.write_all(data)?;
            Ok(data.len() as u64)
        })
        .with_context(|| format!("storing {}", self.url(key)))
    }

    fn get(&self, key: &str) -> Result<Box<dyn Read + Send + '_>> {
        let path = self.path(key)?;
        let file = File::open(&path).with_context(|| format!("opening {}", self.url(key)))?;
        Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, file)))
    }

    fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        let path = self.path(key)?;
        let what = || format!("reading {} bytes at {offset} of {}", len, self.url(key));
        let mut file = File::open(&path).with_context(what)?;
        file.seek(std::io::SeekFrom::Start(offset)).with_context(what)?;
        let mut data = Vec::with_capacity(usize::try_from(len).with_context(what)?);
        file.take(len).read_to_end(&mut data).with_context(what)?;
        if data.len() as u64 != len {
            bail!("{}: the object ends before the range {offset}+{len}", self.url(key));
        }
        Ok(data)
    }

    fn head(&self, key: &str) -> Result<Option<ObjectInfo>> {
        let path = self.path(key)?;
        let size = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.url(key))),
        };
        let side_path = Self::sidecar(&path);
        let meta = match std::fs::read(&side_path) {
            Ok(bytes) => {
                let side: Sidecar = serde_json::from_slice(&bytes)
                    .with_context(|| format!("invalid metadata sidecar {}", side_path.display()))?;
                // A sidecar that does not describe this file's size belongs to another version.
                if side.size == size { side.meta } else { Meta::new() }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Meta::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", side_path.display())),
        };
        Ok(Some(ObjectInfo { size, meta }))
    }

    fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        for p in [Self::sidecar(&path), path.clone()] {
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("deleting {}", self.url(key))),
            }
        }
        Ok(())
    }

    fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>> {
        // Walk only the directory the prefix names, not the whole tree.
        let start = match prefix.rfind('/') {
            Some(i) => self.root.join(&prefix[..i]),
            None => self.root.clone(),
        };
        let mut out = Vec::new();
        walk(&self.root, &start, prefix, &mut out)?;
        out.sort();
        Ok(out)
    }
}

fn walk(root: &Path, dir: &Path, prefix: &str, out: &mut Vec<(String, u64)>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .with_context(|| format!("reading {}", path.display()))?;
        if kind.is_dir() {
            walk(root, &path, prefix, out)?;
        } else if kind.is_file() {
            let rel = path.strip_prefix(root).expect("walked below the root");
            let key = rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
            if key.starts_with(prefix) && check_key(&key).is_ok() {
                let size = entry
                    .metadata()
                    .with_context(|| format!("reading {}", path.display()))?
                    .len();
                out.push((key, size));
            }
        }
    }
    Ok(())
}

fn temp_in(dir: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("creating temp file in {}", dir.display()))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("fsync of directory {}", dir.display()))
}
