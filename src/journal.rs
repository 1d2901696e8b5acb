//! Per-segment state in the work directory: the latest record of each segment, written
//! atomically after every stage, so that `all` resumes after a crash where it stopped.

use crate::id::SegmentId;
use crate::manifest::{self, Segment};
use crate::workdir::WorkDir;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;

pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub fn new(work: &WorkDir) -> Journal {
        Journal {
            dir: work.path("state"),
        }
    }

    fn path(&self, id: &SegmentId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The last saved record of `id`, if any. A corrupt state file is an error, never a reason
    /// to assume anything about the segment.
    pub fn load(&self, id: &SegmentId) -> Result<Option<Segment>> {
        let path = self.path(id);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading state file {}", path.display())),
        };
        let seg = manifest::parse_line(text.trim_end()).with_context(|| {
            format!(
                "state file {} is corrupt; remove it to start the segment over",
                path.display()
            )
        })?;
        anyhow::ensure!(&seg.id == id, "state file {} holds segment {}", path.display(), seg.id);
        Ok(Some(seg))
    }

    /// Drops the saved state of `id`: the next run starts it over (or from the destination's
    /// committed record).
    pub fn forget(&self, id: &SegmentId) -> Result<()> {
        match std::fs::remove_file(self.path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing the state of segment {id}"))
            }
            _ => Ok(()),
        }
    }

    pub fn save(&self, seg: &Segment) -> Result<()> {
        let path = self.path(&seg.id);
        WorkDir::write_atomic(&path, |f| {
            serde_json::to_writer(&mut *f, seg)?;
            f.write_all(b"\n")?;
            Ok(())
        })
        .with_context(|| format!("saving state of segment {}", seg.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{Source, TimeUnit};

    #[test]
    fn save_load_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(&WorkDir::new(dir.path()));
        let seg = Segment::new(
            &Source::new("http://127.0.0.1:1", TimeUnit::Us).unwrap(),
            "a{}",
            "2026-10-01T00:00:00Z".parse().unwrap(),
            "2026-10-02T00:00:00Z".parse().unwrap(),
        );
        assert!(j.load(&seg.id).unwrap().is_none());
        j.forget(&seg.id).unwrap();
        j.save(&seg).unwrap();
        assert_eq!(j.load(&seg.id).unwrap(), Some(seg.clone()));
        std::fs::write(j.path(&seg.id), "{\"v\":1,").unwrap();
        let err = format!("{:#}", j.load(&seg.id).unwrap_err());
        assert!(err.contains("corrupt"), "{err}");
        j.forget(&seg.id).unwrap();
        assert!(j.load(&seg.id).unwrap().is_none());
    }
}
