//! The work directory: spooled fetches and local archives, named only from validated segment
//! ids, written atomically (temp file, fsync, rename, fsync of the directory).

use crate::id::SegmentId;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct WorkDir {
    root: PathBuf,
}

impl WorkDir {
    pub fn new(root: &Path) -> WorkDir {
        WorkDir {
            root: root.to_path_buf(),
        }
    }

    /// Path of the spooled Warp 10 text of a segment, relative to the work directory.
    pub fn spool_rel(id: &SegmentId) -> String {
        format!("spool/{id}.gts")
    }

    /// Path of the local archive of a segment, relative to the work directory.
    pub fn archive_rel(id: &SegmentId, extension: &str) -> String {
        format!("archive/{id}.{extension}")
    }

    /// Resolves a relative path produced by `spool_rel`/`archive_rel`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes `path` atomically: `fill` writes into a temp file in the same directory, which is
    /// then fsynced and renamed over `path`. On error nothing is left behind.
    pub fn write_atomic<T>(path: &Path, fill: impl FnOnce(&mut std::fs::File) -> Result<T>) -> Result<T> {
        let dir = path.parent().context("atomic write target has no parent directory")?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(dir)
            .with_context(|| format!("creating temp file in {}", dir.display()))?;
        let out = fill(tmp.as_file_mut())?;
        tmp.as_file_mut().flush()?;
        tmp.as_file()
            .sync_all()
            .with_context(|| format!("fsync of temp file for {}", path.display()))?;
        tmp.persist(path)
            .map_err(|e| e.error)
            .with_context(|| format!("renaming temp file to {}", path.display()))?;
        sync_dir(dir)?;
        Ok(out)
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("fsync of directory {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_nothing_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b.txt");
        let r: Result<()> = WorkDir::write_atomic(&target, |f| {
            f.write_all(b"partial")?;
            anyhow::bail!("boom")
        });
        assert!(r.is_err());
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 0);
        WorkDir::write_atomic(&target, |f| Ok(f.write_all(b"ok")?)).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"ok");
    }
}
