//! Where S3 credentials, region and endpoint come from, picked as the AWS CLI and SDKs pick them.
//!
//! Credentials: `--s3-profile` (its keys, environment keys ignored), else `AWS_ACCESS_KEY_ID` /
//! `AWS_SECRET_ACCESS_KEY` (`AWS_SESSION_TOKEN`), else the profile (`AWS_PROFILE`, else
//! `default`) of the shared credentials file, then of the config file, else the container
//! credentials endpoint (`AWS_CONTAINER_CREDENTIALS_*`), else instance metadata (unless
//! `AWS_EC2_METADATA_DISABLED=true`). The files are `AWS_SHARED_CREDENTIALS_FILE` and
//! `AWS_CONFIG_FILE`, by default `~/.aws/credentials` and `~/.aws/config`. Region and endpoint:
//! flag, then variables, then the config file's profile, then AWS.
//!
//! Resolving reads files only; the network (container or instance credentials) is used by
//! `Creds::load`, and only when nothing else provided keys. A profile named by `--s3-profile` or
//! `AWS_PROFILE` must exist, so that a typo is not silently replaced by other credentials.
//! Secrets never enter a message: errors name the variable, the profile and the file.

use crate::store::{Addressing, S3Config};
use anyhow::{Context, Result, anyhow, bail};
use ini::{Ini, ParseOption, Properties};
use s3::creds::Credentials;
use s3::creds::error::CredentialsError;
use std::path::PathBuf;
use std::time::Duration;

/// Looks up an environment variable (the process environment, except in tests).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// How to reach the store and sign for it.
#[derive(Debug)]
pub struct Settings {
    pub endpoint: String,
    pub region: String,
    pub path_style: bool,
    pub creds: Creds,
}

/// The credentials, or where to fetch them.
pub enum Creds {
    Keys {
        access: String,
        secret: String,
        session: Option<String>,
        /// Where they were found, for messages: a variable name or a profile and its file.
        from: String,
    },
    Container,
    /// Tried last; `missing` is the error to give when this is not an EC2 instance.
    InstanceMetadata {
        missing: String,
    },
}

impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Creds(from {})", self.source())
    }
}

impl Creds {
    /// Where the credentials come from, for messages (never a value).
    pub fn source(&self) -> String {
        match self {
            Creds::Keys { from, .. } => from.clone(),
            Creds::Container => "the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*)".into(),
            Creds::InstanceMetadata { .. } => "the instance metadata service".into(),
        }
    }

    /// The credentials to sign with; container and instance credentials are fetched here,
    /// within `timeout`.
    pub fn load(&self, timeout: Duration) -> Result<Credentials> {
        s3::creds::set_request_timeout(Some(timeout));
        match self {
            Creds::Keys {
                access,
                secret,
                session,
                from,
            } => Credentials::new(Some(access), Some(secret), None, session.as_deref(), None)
                .map_err(|_| anyhow!("S3 credentials from {from} are unusable")),
            Creds::Container => Credentials::from_container_credentials_provider()
                .map_err(|e| anyhow!("S3 credentials from {}: {e}", self.source())),
            Creds::InstanceMetadata { missing } => Credentials::from_instance_metadata_v2(false)
                .or_else(|_| Credentials::from_instance_metadata(false))
                .map_err(|e| match e {
                    CredentialsError::NotEc2 => anyhow!("{missing}"),
                    e => anyhow!("S3 credentials from {}: {e}", self.source()),
                }),
        }
    }
}

/// Endpoint, region, addressing style and credentials from flags, the environment and the
/// shared files.
pub fn resolve(opts: &S3Config, env: Env) -> Result<Settings> {
    let (profile, named_by) = match (&opts.s3_profile, env("AWS_PROFILE")) {
        (Some(p), _) => (p.clone(), Some("--s3-profile")),
        (None, Some(p)) => (p, Some("AWS_PROFILE")),
        (None, None) => ("default".to_string(), None),
    };
    let files = Files {
        credentials: SharedFile::load(file_path(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials"))?,
        config: SharedFile::load(file_path(env, "AWS_CONFIG_FILE", "config"))?,
        config_section: if profile == "default" {
            profile.clone()
        } else {
            format!("profile {profile}")
        },
        profile,
    };
    if let Some(how) = named_by
        && files.profile != "default"
        && files.in_credentials().is_none()
        && files.in_config().is_none()
    {
        bail!(
            "S3 profile {:?} (from {how}) not found: no [{}] in {} and no [{}] in {}",
            files.profile,
            files.profile,
            files.credentials.name(),
            files.config_section,
            files.config.name()
        );
    }
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| files.config_value("region"))
        .unwrap_or_else(|| "us-east-1".to_string());
    let endpoint = opts
        .s3_endpoint
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| files.services_s3_endpoint())
        .or_else(|| files.config_value("endpoint_url"))
        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    let endpoint = endpoint.trim_end_matches('/').to_string();
    let path_style = match opts.s3_addressing {
        Addressing::Path => true,
        Addressing::Virtual => false,
        Addressing::Auto => {
            let host = endpoint
                .parse::<http::Uri>()
                .ok()
                .and_then(|u| u.host().map(str::to_string));
            !host.is_some_and(|h| h == "amazonaws.com" || h.ends_with(".amazonaws.com"))
        }
    };
    let creds = credentials(&files, named_by == Some("--s3-profile"), env)?;
    Ok(Settings {
        endpoint,
        region,
        path_style,
        creds,
    })
}

fn credentials(files: &Files, profile_flag: bool, env: Env) -> Result<Creds> {
    // As `aws --profile`: a profile given on the command line wins over keys in the environment.
    if !profile_flag {
        match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(access), Some(secret)) => {
                return Ok(Creds::Keys {
                    access,
                    secret,
                    session: env("AWS_SESSION_TOKEN"),
                    from: "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY".into(),
                });
            }
            (Some(_), None) => bail!("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
            (None, Some(_)) => bail!("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"),
            (None, None) => {}
        }
    }
    let sections = [
        (&files.credentials, files.in_credentials()),
        (&files.config, files.in_config()),
    ];
    // The AWS tools would assume a role, call SSO or run a process for these: using plain keys
    // found beside them, or other credentials, would act as someone else.
    for (file, section) in &sections {
        const UNSUPPORTED: [&str; 5] = [
            "role_arn",
            "credential_process",
            "sso_session",
            "sso_start_url",
            "web_identity_token_file",
        ];
        if let Some(key) = section.and_then(|s| UNSUPPORTED.into_iter().find(|k| s.contains_key(k))) {
            bail!(
                "S3 profile {:?} in {} uses {key}, which warp-offload does not support: give the profile \
                 aws_access_key_id and aws_secret_access_key, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                files.profile,
                file.name()
            );
        }
    }
    for (file, section) in sections {
        let Some(section) = section else { continue };
        let get = |k: &str| section.get(k).map(str::trim).filter(|v| !v.is_empty());
        let from = format!("profile {:?} in {}", files.profile, file.name());
        match (get("aws_access_key_id"), get("aws_secret_access_key")) {
            (Some(access), Some(secret)) => {
                return Ok(Creds::Keys {
                    access: access.to_string(),
                    secret: secret.to_string(),
                    session: get("aws_session_token").map(str::to_string),
                    from,
                });
            }
            (Some(_), None) => bail!("S3 {from} has aws_access_key_id but no aws_secret_access_key"),
            (None, Some(_)) => bail!("S3 {from} has aws_secret_access_key but no aws_access_key_id"),
            (None, None) => {}
        }
    }
    if env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some() || env("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some() {
        return Ok(Creds::Container);
    }
    let missing = format!(
        "S3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN if any), \
         or give profile {:?} aws_access_key_id and aws_secret_access_key in {}",
        files.profile,
        files.credentials.name()
    );
    if env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        bail!("{missing} (instance metadata is off: AWS_EC2_METADATA_DISABLED)");
    }
    Ok(Creds::InstanceMetadata {
        missing: format!("{missing}; this is not an EC2 instance, and no container credentials are set"),
    })
}

/// `VAR` (a leading `~/` is the home directory), else `~/.aws/NAME`; none without a home.
fn file_path(env: Env, var: &str, name: &str) -> Option<PathBuf> {
    let home = env("HOME");
    match env(var) {
        Some(p) => match (p.strip_prefix("~/"), &home) {
            (Some(rest), Some(home)) => Some(PathBuf::from(home).join(rest)),
            _ => Some(PathBuf::from(p)),
        },
        None => home.map(|h| PathBuf::from(h).join(".aws").join(name)),
    }
}

/// The two shared files and the profile's section names in them.
struct Files {
    profile: String,
    /// `[profile NAME]` in the config file, `[default]` for the default profile.
    config_section: String,
    credentials: SharedFile,
    config: SharedFile,
}

impl Files {
    fn in_credentials(&self) -> Option<&Properties> {
        self.credentials.section(&self.profile)
    }

    fn in_config(&self) -> Option<&Properties> {
        self.config.section(&self.config_section)
    }

    fn config_value(&self, key: &str) -> Option<String> {
        let value = self.in_config()?.get(key)?.trim();
        (!value.is_empty()).then(|| value.to_string())
    }

    /// `endpoint_url` of the `s3` entry of the `[services NAME]` section the profile names:
    ///
    /// ```ini
    /// [services local]
    /// s3 =
    ///   endpoint_url = http://127.0.0.1:8333
    /// ```
    fn services_s3_endpoint(&self) -> Option<String> {
        let services = self.config_value("services")?;
        let nested = self.config.section(&format!("services {services}"))?.get("s3")?;
        nested.lines().find_map(|line| {
            let (k, v) = line.split_once('=')?;
            (k.trim() == "endpoint_url" && !v.trim().is_empty()).then(|| v.trim().to_string())
        })
    }
}

/// A shared file, absent or parsed.
struct SharedFile {
    path: Option<PathBuf>,
    ini: Option<Ini>,
}

impl SharedFile {
    fn load(path: Option<PathBuf>) -> Result<SharedFile> {
        let Some(p) = &path else {
            return Ok(SharedFile { path, ini: None });
        };
        let text = match std::fs::read_to_string(p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SharedFile { path, ini: None }),
            Err(e) => return Err(e).with_context(|| format!("reading {}", p.display())),
        };
        // No quotes or escapes (a secret is taken as written); indented lines continue the
        // value above, as the nested `s3 =` entries of the AWS files.
        let opt = ParseOption {
            enabled_quote: false,
            enabled_escape: false,
            enabled_indented_mutiline_value: true,
            enabled_preserve_key_leading_whitespace: false,
        };
        // The parser's message can quote the line: give only its position.
        let ini = Ini::load_from_str_opt(&text, opt).map_err(|e| {
            anyhow!(
                "{}: not an AWS shared file: syntax error at line {}",
                p.display(),
                e.line
            )
        })?;
        Ok(SharedFile { path, ini: Some(ini) })
    }

    fn section(&self, name: &str) -> Option<&Properties> {
        self.ini.as_ref()?.section(Some(name))
    }

    /// The path, for messages.
    fn name(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "~/.aws (HOME is not set)".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(endpoint: Option<&str>, addressing: Addressing, profile: Option<&str>) -> S3Config {
        S3Config {
            s3_endpoint: endpoint.map(str::to_string),
            s3_addressing: addressing,
            s3_profile: profile.map(str::to_string),
            part_size: 16 << 20,
            s3_retries: 1,
            s3_timeout: 1,
            ca_cert: None,
        }
    }

    /// An environment of `vars`, with HOME in a temp dir holding the shared files given.
    struct World {
        home: tempfile::TempDir,
        vars: Vec<(String, String)>,
    }

    impl World {
        fn new(vars: &[(&str, &str)]) -> World {
            let home = tempfile::tempdir().unwrap();
            let mut vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            vars.push(("HOME".into(), home.path().display().to_string()));
            // Never ask the network from a unit test.
            vars.push(("AWS_EC2_METADATA_DISABLED".into(), "true".into()));
            World { home, vars }
        }

        fn file(self, name: &str, text: &str) -> World {
            let dir = self.home.path().join(".aws");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), text).unwrap();
            self
        }

        fn resolve(&self, opts: &S3Config) -> Result<Settings> {
            let env = |name: &str| self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            resolve(opts, &env)
        }

        fn path(&self, name: &str) -> String {
            self.home.path().join(".aws").join(name).display().to_string()
        }
    }

    fn keys(s: &Settings) -> (&str, &str, Option<&str>, &str) {
        match &s.creds {
            Creds::Keys {
                access,
                secret,
                session,
                from,
            } => (access, secret, session.as_deref(), from),
            other => panic!("not keys: {other:?}"),
        }
    }

    const CREDENTIALS: &str = "\
[default]
aws_access_key_id = default-id
aws_secret_access_key = default-secret

[prod]
aws_access_key_id = prod-id
aws_secret_access_key = prod/secret+with=signs
aws_session_token = prod-session
";

    const CONFIG: &str = "\
[default]
region = eu-west-3

[profile prod]
region = fr-par
endpoint_url = https://s3.fr-par.example
services = local

[profile svc]
aws_access_key_id = svc-id
aws_secret_access_key = svc-secret
services = local

[services local]
dynamodb =
  endpoint_url = http://127.0.0.1:8000
s3 =
  endpoint_url = http://127.0.0.1:8333
";

    #[test]
    fn endpoint_region_and_addressing_follow_the_aws_conventions() {
        let keys = [("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s")];
        let none = World::new(&keys);
        let s = none.resolve(&opts(None, Addressing::Auto, None)).unwrap();
        assert_eq!(
            (s.endpoint.as_str(), s.region.as_str(), s.path_style),
            ("https://s3.us-east-1.amazonaws.com", "us-east-1", false)
        );
        let both = World::new(&[
            keys[0],
            keys[1],
            ("AWS_ENDPOINT_URL", "http://a:1"),
            ("AWS_ENDPOINT_URL_S3", "http://b:2/"),
            ("AWS_DEFAULT_REGION", "eu-west-3"),
        ]);
        let s = both.resolve(&opts(None, Addressing::Auto, None)).unwrap();
        assert_eq!(
            (s.endpoint.as_str(), s.region.as_str(), s.path_style),
            ("http://b:2", "eu-west-3", true)
        );
        let s = both
            .resolve(&opts(Some("https://c"), Addressing::Virtual, None))
            .unwrap();
        assert_eq!((s.endpoint.as_str(), s.path_style), ("https://c", false));
        let region = World::new(&[
            keys[0],
            keys[1],
            ("AWS_REGION", "fr-par"),
            ("AWS_DEFAULT_REGION", "eu-west-3"),
        ]);
        let s = region.resolve(&opts(None, Addressing::Path, None)).unwrap();
        assert_eq!(
            (s.endpoint.as_str(), s.region.as_str(), s.path_style),
            ("https://s3.fr-par.amazonaws.com", "fr-par", true)
        );
    }

    #[test]
    fn the_config_file_gives_region_and_endpoint_after_flags_and_variables() {
        let w = World::new(&[("AWS_PROFILE", "prod")])
            .file("credentials", CREDENTIALS)
            .file("config", CONFIG);
        let auto = opts(None, Addressing::Auto, None);
        // services' s3 endpoint_url wins over the profile's endpoint_url, as in the AWS SDKs.
        let s = w.resolve(&auto).unwrap();
        assert_eq!(
            (s.endpoint.as_str(), s.region.as_str()),
            ("http://127.0.0.1:8333", "fr-par")
        );
        let s = w.resolve(&opts(Some("https://flag"), Addressing::Auto, None)).unwrap();
        assert_eq!(s.endpoint, "https://flag");
        let plain = World::new(&[("AWS_PROFILE", "prod")])
            .file("credentials", CREDENTIALS)
            .file("config", &CONFIG.replace("services = local\n", ""));
        assert_eq!(plain.resolve(&auto).unwrap().endpoint, "https://s3.fr-par.example");
        let mut w = w;
        w.vars.push(("AWS_ENDPOINT_URL".into(), "http://env:1".into()));
        w.vars.push(("AWS_DEFAULT_REGION".into(), "env-region".into()));
        let s = w.resolve(&auto).unwrap();
        assert_eq!((s.endpoint.as_str(), s.region.as_str()), ("http://env:1", "env-region"));
        // The default profile is [default] in the config file too.
        let d = World::new(&[]).file("credentials", CREDENTIALS).file("config", CONFIG);
        let s = d.resolve(&auto).unwrap();
        assert_eq!(
            (s.endpoint.as_str(), s.region.as_str()),
            ("https://s3.eu-west-3.amazonaws.com", "eu-west-3")
        );
    }

    #[test]
    fn credentials_precedence_flag_environment_credentials_file_config_file() {
        let env_keys = [("AWS_ACCESS_KEY_ID", "env-id"), ("AWS_SECRET_ACCESS_KEY", "env-secret")];
        let auto = opts(None, Addressing::Auto, None);
        let w = World::new(&[env_keys[0], env_keys[1], ("AWS_PROFILE", "prod")])
            .file("credentials", CREDENTIALS)
            .file("config", CONFIG);
        let s = w.resolve(&auto).unwrap();
        assert_eq!(
            keys(&s),
            ("env-id", "env-secret", None, "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
        );
        // --s3-profile wins over the environment's keys (as `aws --profile`).
        let s = w.resolve(&opts(None, Addressing::Auto, Some("prod"))).unwrap();
        let from = format!("profile \"prod\" in {}", w.path("credentials"));
        assert_eq!(
            keys(&s),
            ("prod-id", "prod/secret+with=signs", Some("prod-session"), from.as_str())
        );
        let w = World::new(&[("AWS_PROFILE", "prod")])
            .file("credentials", CREDENTIALS)
            .file("config", CONFIG);
        assert_eq!(keys(&w.resolve(&auto).unwrap()).0, "prod-id");
        let w = World::new(&[]).file("credentials", CREDENTIALS);
        assert_eq!(keys(&w.resolve(&auto).unwrap()).0, "default-id");
        // Keys in the config file come after the credentials file.
        let w = World::new(&[("AWS_PROFILE", "svc")])
            .file("credentials", CREDENTIALS)
            .file("config", CONFIG);
        let s = w.resolve(&auto).unwrap();
        let from = format!("profile \"svc\" in {}", w.path("config"));
        assert_eq!(keys(&s), ("svc-id", "svc-secret", None, from.as_str()));
        // Files named by variables, `~/` meaning the home directory.
        let w = World::new(&[
            ("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds"),
            ("AWS_PROFILE", "prod"),
        ]);
        std::fs::create_dir_all(w.home.path().join("elsewhere")).unwrap();
        std::fs::write(w.home.path().join("elsewhere/creds"), CREDENTIALS).unwrap();
        assert_eq!(keys(&w.resolve(&auto).unwrap()).0, "prod-id");
    }

    #[test]
    fn container_then_instance_credentials_only_when_nothing_else_gave_keys() {
        let auto = opts(None, Addressing::Auto, None);
        let full = ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds");
        let w = World::new(&[full]);
        assert!(matches!(w.resolve(&auto).unwrap().creds, Creds::Container));
        let w = World::new(&[full]).file("credentials", CREDENTIALS);
        assert_eq!(keys(&w.resolve(&auto).unwrap()).0, "default-id");
        let mut w = World::new(&[]);
        w.vars.retain(|(k, _)| k != "AWS_EC2_METADATA_DISABLED");
        assert!(matches!(
            w.resolve(&auto).unwrap().creds,
            Creds::InstanceMetadata { .. }
        ));
        let off = World::new(&[]);
        let err = format!("{:#}", off.resolve(&auto).unwrap_err());
        assert!(err.starts_with("S3 credentials missing"), "{err}");
        assert!(err.contains(&off.path("credentials")), "{err}");
    }

    #[test]
    fn bad_profiles_are_named_with_their_file_never_with_a_value() {
        let auto = opts(None, Addressing::Auto, None);
        let err = |w: &World, o: &S3Config| format!("{:#}", w.resolve(o).unwrap_err());
        let w = World::new(&[("AWS_PROFILE", "nope")]).file("credentials", CREDENTIALS);
        let e = err(&w, &auto);
        assert!(e.contains("\"nope\" (from AWS_PROFILE) not found"), "{e}");
        assert!(
            e.contains(&w.path("credentials")) && e.contains(&w.path("config")),
            "{e}"
        );
        let e = err(&w, &opts(None, Addressing::Auto, Some("typo")));
        assert!(e.contains("\"typo\" (from --s3-profile) not found"), "{e}");
        let w = World::new(&[]).file("credentials", "[default]\naws_access_key_id = half-id\n");
        let e = err(&w, &auto);
        assert!(e.contains("has aws_access_key_id but no aws_secret_access_key"), "{e}");
        assert!(!e.contains("half-id"), "{e}");
        let w = World::new(&[("AWS_ACCESS_KEY_ID", "only-id")]);
        assert!(err(&w, &auto).contains("AWS_SECRET_ACCESS_KEY is not"));
        let w = World::new(&[("AWS_PROFILE", "role")])
            .file(
                "credentials",
                "[role]\naws_access_key_id = a\naws_secret_access_key = canary\n",
            )
            .file("config", "[profile role]\nrole_arn = arn:aws:iam::1:role/x\n");
        let e = err(&w, &auto);
        assert!(e.contains("uses role_arn, which warp-offload does not support"), "{e}");
        let w = World::new(&[]).file("credentials", "[default\naws_secret_access_key = canary-secret\n");
        let e = err(&w, &auto);
        assert!(
            e.contains(&w.path("credentials")) && e.contains("syntax error at line"),
            "{e}"
        );
        assert!(!e.contains("canary"), "{e}");
        let s = World::new(&[]).file(
            "credentials",
            "[default]\naws_access_key_id = i\naws_secret_access_key = canary\n",
        );
        let shown = format!("{:?}", s.resolve(&auto).unwrap());
        assert!(!shown.contains("canary"), "{shown}");
    }
}
