//! Per-segment lock objects in the destination (`locks/<id>.lock`), so that two runs — on one
//! machine or several — never work on the same segment at once, and a purge never runs
//! without a fresh lock.
//!
//! S3-compatible stores do not all offer conditional writes, so taking a lock is the
//! write-wait-check protocol restic and borg use: read the lock (refuse a live one held by
//! someone else), write ours, wait, read it back; whoever's write landed last holds it. The wait
//! is not spent idle: a lock is only *claimed* by `acquire`, and `confirm` (called by `refresh`
//! and `keep_alive`, so before anything is written outside the work directory) does the wait
//! and the check. A stale
//! lock — expired, or left on this host by a process that no longer exists (a crash, a
//! `kill -9`) — is taken over the same way.

use crate::id::SegmentId;
use crate::store::{Meta, Store};
use anyhow::{Context, Result, bail};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct LockFile {
    owner: String,
    expires: Timestamp,
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// This process, as a lock owner: `host:pid:random` (pids are reused).
fn me() -> &'static str {
    static ME: OnceLock<String> = OnceLock::new();
    ME.get_or_init(|| {
        let mut nonce = [0u8; 6];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce).expect("system random");
        let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}:{}:{nonce}", host(), std::process::id())
    })
}

impl LockFile {
    /// Alive: not expired, and not left by a dead process of this host.
    fn alive(&self) -> bool {
        if self.expires <= Timestamp::now() {
            return false;
        }
        let mut parts = self.owner.split(':');
        match (parts.next(), parts.next().and_then(|p| p.parse::<u32>().ok())) {
            (Some(h), Some(pid)) if h == host() => std::path::Path::new(&format!("/proc/{pid}")).exists(),
            _ => true,
        }
    }
}

/// A held lock; released (deleted, if still ours) on drop, unless it was taken inside a lock
/// this process already held (`all` holds the segment's lock while `purge` takes it again).
pub struct Lock<'a> {
    store: &'a dyn Store,
    id: SegmentId,
    ttl: Duration,
    nested: bool,
    renewed: std::cell::Cell<std::time::Instant>,
    /// When our claim may be read back; `None` once confirmed.
    settles_at: std::cell::Cell<Option<std::time::Instant>>,
}

/// Lock settings: how long a lock lives without renewal, how long to wait before reading our
/// write back.
#[derive(Clone, Copy, Debug)]
pub struct LockOpts {
    pub ttl: Duration,
    pub settle: Duration,
}

impl<'a> Lock<'a> {
    pub fn acquire(store: &'a dyn Store, id: &SegmentId, o: LockOpts) -> Result<Lock<'a>> {
        let k = crate::layout::lock_key(id);
        let held = read(store, &k)?;
        let live = held.as_ref().filter(|l| l.alive());
        if let Some(l) = live
            && l.owner != me()
        {
            bail!(
                "segment {id} is locked by {} until {} ({})",
                l.owner,
                l.expires,
                store.url(&k)
            );
        }
        let lock = Lock {
            store,
            id: id.clone(),
            ttl: o.ttl,
            nested: live.is_some(),
            renewed: std::cell::Cell::new(std::time::Instant::now()),
            settles_at: std::cell::Cell::new(None),
        };
        if lock.nested {
            lock.refresh()?;
        } else {
            write(store, &k, o.ttl)?;
            lock.settles_at.set(Some(std::time::Instant::now() + o.settle));
        }
        Ok(lock)
    }

    /// How long ago the lock was written or last renewed.
    pub fn age(&self) -> Duration {
        self.renewed.get().elapsed()
    }

    /// Fails unless the lock is still ours and alive; extends it. Called before anything
    /// destructive.
    pub fn refresh(&self) -> Result<()> {
        self.confirm()?;
        self.check()?;
        write(self.store, &crate::layout::lock_key(&self.id), self.ttl)?;
        self.renewed.set(std::time::Instant::now());
        Ok(())
    }

    /// Renews the lock once a third of its lifetime has passed; cheap to call between steps.
    pub fn keep_alive(&self) -> Result<()> {
        self.confirm()?;
        if self.renewed.get().elapsed() < self.ttl / 3 {
            Ok(())
        } else {
            self.refresh()
        }
    }

    /// Waits until our claim has settled, then checks that it is the one that landed.
    pub fn confirm(&self) -> Result<()> {
        if let Some(at) = self.settles_at.get() {
            std::thread::sleep(at.saturating_duration_since(std::time::Instant::now()));
            self.check()?;
            self.settles_at.set(None);
        }
        Ok(())
    }

    fn check(&self) -> Result<()> {
        let k = crate::layout::lock_key(&self.id);
        match read(self.store, &k)? {
            Some(l) if l.owner == me() && l.expires > Timestamp::now() => Ok(()),
            Some(l) if l.owner == me() => bail!("the lock of segment {} expired at {}", self.id, l.expires),
            Some(l) => bail!(
                "segment {} was locked by {} meanwhile ({})",
                self.id,
                l.owner,
                self.store.url(&k)
            ),
            None => bail!("the lock of segment {} disappeared ({})", self.id, self.store.url(&k)),
        }
    }
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        if self.nested {
            return;
        }
        let k = crate::layout::lock_key(&self.id);
        let ours = matches!(read(self.store, &k), Ok(Some(l)) if l.owner == me());
        if ours && let Err(e) = self.store.delete(&k) {
            crate::log::warn(&format!("could not release the lock of segment {}: {e:#}", self.id));
        }
    }
}

fn read(store: &dyn Store, k: &str) -> Result<Option<LockFile>> {
    if store.head(k)?.is_none() {
        return Ok(None);
    }
    let mut text = String::new();
    match store
        .get(k)
        .and_then(|mut r| Ok(std::io::Read::read_to_string(&mut r, &mut text)?))
    {
        Ok(_) => {}
        // Released between the HEAD and the GET.
        Err(_) if store.head(k)?.is_none() => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading lock {}", store.url(k))),
    }
    serde_json::from_str(&text)
        .map(Some)
        .with_context(|| format!("lock object {} is not a warp-offload lock", store.url(k)))
}

fn write(store: &dyn Store, k: &str, ttl: Duration) -> Result<()> {
    let lock = LockFile {
        owner: me().to_string(),
        expires: Timestamp::now() + SignedDuration::try_from(ttl).context("lock TTL out of range")?,
    };
    store
        .put_bytes(k, serde_json::to_string(&lock)?.as_bytes(), &Meta::new())
        .with_context(|| format!("writing lock {}", store.url(k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a lock held by `owner` that expires `secs` from now (negative: expired).
    fn plant(store: &dyn Store, id: &SegmentId, owner: &str, secs: i64) {
        let lock = LockFile {
            owner: owner.to_string(),
            expires: Timestamp::now() + SignedDuration::from_secs(secs),
        };
        store
            .put_bytes(
                &crate::layout::lock_key(id),
                serde_json::to_string(&lock).unwrap().as_bytes(),
                &Meta::new(),
            )
            .unwrap();
    }

    fn opts() -> LockOpts {
        LockOpts {
            ttl: Duration::from_secs(60),
            settle: Duration::from_millis(1),
        }
    }

    #[test]
    fn exclusive_reentrant_released_and_stale_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::fs::FsStore::new(dir.path()).unwrap();
        let id = SegmentId::new("seg-1").unwrap();
        let lock = Lock::acquire(&store, &id, opts()).unwrap();
        lock.refresh().unwrap();
        drop(Lock::acquire(&store, &id, opts()).expect("re-entrant for the same process"));
        lock.refresh().expect("the inner lock did not release the outer one");
        drop(lock);
        assert!(store.head(&crate::layout::lock_key(&id)).unwrap().is_none(), "released");

        plant(&store, &id, "elsewhere:1:abc", 60);
        let err = format!("{:#}", Lock::acquire(&store, &id, opts()).err().unwrap());
        assert!(err.contains("locked by elsewhere:1:abc"), "{err}");

        plant(&store, &id, "dead:2:def", -1);
        drop(Lock::acquire(&store, &id, opts()).expect("an expired lock is taken over"));

        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = child.id();
        child.wait().unwrap();
        plant(&store, &id, &format!("{}:{dead_pid}:0", host()), 60);
        let lock = Lock::acquire(&store, &id, opts()).expect("a lock left by a dead local process is taken over");
        plant(&store, &id, "elsewhere:1:abc", 60);
        assert!(
            lock.refresh().is_err(),
            "a lock taken by someone else is no longer fresh"
        );
        drop(lock);
        assert!(
            store.head(&crate::layout::lock_key(&id)).unwrap().is_some(),
            "someone else's lock is not released by us"
        );
    }

    #[test]
    fn a_claim_overwritten_before_it_settles_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::fs::FsStore::new(dir.path()).unwrap();
        let id = SegmentId::new("seg-2").unwrap();
        let lock = Lock::acquire(&store, &id, opts()).unwrap();
        plant(&store, &id, "elsewhere:1:abc", 60);
        let err = format!("{:#}", lock.confirm().unwrap_err());
        assert!(err.contains("locked by elsewhere:1:abc meanwhile"), "{err}");
        assert!(
            lock.keep_alive().is_err() && lock.refresh().is_err(),
            "nothing may be written after losing"
        );
        drop(lock);
        assert!(
            store.head(&crate::layout::lock_key(&id)).unwrap().is_some(),
            "the winner's lock stays"
        );
    }
}
