//! `serve`: a read-only Warp 10 fetch/find endpoint over a destination's archives
//! (`crate::read::endpoints`), on loopback unless told it sits behind a TLS-terminating proxy.

use crate::archive::crypt::MasterKey;
use crate::cli::S3Opts;
use crate::error::Usage;
use crate::read::endpoints::Endpoints;
use crate::store;
use anyhow::{Context, Result};
use clap::Args;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

/// Answer Warp 10's /api/v0/fetch and /api/v0/find over a destination's archives (read-only)
#[derive(Args, Debug)]
#[command(
    after_help = "Same parameters, token sources, status codes and output formats as Warp 10 (text, fulltext, \
json), so scripts, Grafana's Warp 10 datasource and `warp-offload fetch` read archived data unchanged. The \
read token is taken from --read-token-file or WARP10_READ_TOKEN, never from the command line. Prints its URL \
on stdout once listening.

It listens on loopback only: requests carry the token in clear. To serve other hosts, put a \
TLS-terminating reverse proxy (nginx, HAProxy, Caddy) in front, listening on the network, and give \
--behind-tls-proxy with the address the proxy forwards to.

Examples:
  warp-offload serve --dest s3://metrics-archive/warp10 --read-token-file /etc/warp-offload/read.token
  curl -H \"X-Warp10-Token: $(cat read.token)\" 'http://127.0.0.1:8090/api/v0/fetch?selector=os.cpu%7Bhost%3Dweb01%7D&start=2026-10-03T00:00:00Z&end=2026-10-04T00:00:00Z'"
)]
pub struct ServeArgs {
    /// Where the archives are: s3://bucket/prefix, file:///dir or a directory path (as given to upload)
    #[arg(long, alias = "from")]
    pub dest: String,
    /// Address to listen on (loopback unless --behind-tls-proxy)
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: String,
    /// Accept a --listen address other than loopback: only behind a TLS-terminating proxy
    #[arg(long)]
    pub behind_tls_proxy: bool,
    /// File holding the read token clients must present; or set WARP10_READ_TOKEN
    #[arg(long)]
    pub read_token_file: Option<PathBuf>,
    /// Master key file for encrypted archives
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Most points one request holds in memory; beyond it the request gets a 500
    #[arg(long, default_value_t = 10_000_000)]
    pub max_points: u64,
    #[command(flatten)]
    pub s3: S3Opts,
}

pub fn run(a: ServeArgs) -> Result<()> {
    store::init_tls(&a.s3.config())?;
    let addrs: Vec<SocketAddr> = a
        .listen
        .to_socket_addrs()
        .map_err(|e| Usage(format!("--listen {:?}: {e}", a.listen)))?
        .collect();
    if !a.behind_tls_proxy && addrs.iter().any(|addr| !addr.ip().is_loopback()) {
        return Err(Usage(format!(
            "--listen {}: not a loopback address; clients send the read token in every request, so serve \
             listens on loopback only, unless a TLS-terminating proxy forwards to it (then give --behind-tls-proxy)",
            a.listen
        ))
        .into());
    }
    let token = crate::secret::read_token(a.read_token_file.as_deref())?;
    let key = a.key_file.as_deref().map(MasterKey::load).transpose()?;
    let store = store::open(&store::Destination::parse(&a.dest)?, &a.s3.config())?;
    let listener = TcpListener::bind(&addrs[..]).with_context(|| format!("listening on {}", a.listen))?;
    let addr = listener.local_addr().context("reading the listening address")?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "http://{addr}")
        .and_then(|()| stdout.flush())
        .context("writing the URL to stdout")?;
    crate::log::info(
        "serve",
        None,
        &format!("serving {} on http://{addr}", store.url("")),
        &[],
    );
    Arc::new(Endpoints::new(store, key, token, a.max_points)).serve(listener);
    Ok(())
}
