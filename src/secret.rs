//! Secrets (tokens, keys, webhook URLs): loaded from a file or an environment variable, never
//! from argv, and never printed: `Debug` and `Display` show `[REDACTED]`.

use anyhow::{Context, Result, bail};
use std::fmt;
use std::path::Path;

#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that must send it (an HTTP header, a signer).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Loads from `file` when given, else from the environment variable `env`.
    /// `what` names the secret in errors (never its value).
    pub fn load(file: Option<&Path>, env: &str, what: &str) -> Result<Option<Secret>> {
        if let Some(path) = file {
            return Secret::from_file(path, what).map(Some);
        }
        match std::env::var(env) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(Secret(v.trim().to_string()))),
            Ok(_) => bail!("{what}: environment variable {env} is empty"),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => bail!("{what}: environment variable {env} is not UTF-8"),
        }
    }

    pub fn from_file(path: &Path, what: &str) -> Result<Secret> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {what} from {}", path.display()))?;
        warn_if_readable_by_others(path, what);
        let value = text.trim();
        if value.is_empty() {
            bail!("{what}: file {} is empty", path.display());
        }
        if value.contains('\n') {
            bail!("{what}: file {} holds more than one line", path.display());
        }
        Ok(Secret(value.to_string()))
    }

    /// Like [`Secret::load`] but the secret is mandatory.
    pub fn require(file: Option<&Path>, env: &str, flag: &str, what: &str) -> Result<Secret> {
        Secret::load(file, env, what)?.with_context(|| format!("{what} missing: use {flag} FILE or set {env}"))
    }
}

/// The Warp 10 read token: `--read-token-file` or `WARP10_READ_TOKEN`.
pub fn read_token(file: Option<&Path>) -> Result<Secret> {
    Secret::require(file, "WARP10_READ_TOKEN", "--read-token-file", "Warp 10 read token")
}

/// The Warp 10 write token: `--write-token-file` or `WARP10_WRITE_TOKEN`.
pub fn write_token(file: Option<&Path>) -> Result<Secret> {
    Secret::require(file, "WARP10_WRITE_TOKEN", "--write-token-file", "Warp 10 write token")
}

#[cfg(unix)]
pub(crate) fn warn_if_readable_by_others(path: &Path, what: &str) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        crate::log::warn(&format!(
            "{what} file {} is readable by group or others (chmod 600 it)",
            path.display()
        ));
    }
}

#[cfg(not(unix))]
pub(crate) fn warn_if_readable_by_others(_: &Path, _: &str) {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Tests write their secret files as a user should: readable by the owner only (no warning).
#[cfg(test)]
pub(crate) fn write_private(path: &Path, contents: impl AsRef<[u8]>) {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).unwrap().write_all(contents.as_ref()).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed_and_loaded_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tok");
        write_private(&p, "canary-123\n");
        let s = Secret::from_file(&p, "read token").unwrap();
        assert_eq!(s.expose(), "canary-123");
        assert!(!format!("{s:?} {s}").contains("canary"));
        write_private(&p, "\n");
        assert!(Secret::from_file(&p, "read token").is_err());
        let err = format!(
            "{:#}",
            Secret::from_file(&dir.path().join("none"), "read token").unwrap_err()
        );
        assert!(err.contains("read token"));
    }
}
