//! `serve`: a read-only Warp 10 fetch/find endpoint over a destination's archives
//! (`crate::read::endpoints`), on loopback unless told it sits behind a TLS-terminating proxy.

use crate::archive::crypt::MasterKey;
use crate::cli::ServeArgs;
use crate::exit::Usage;
use crate::read::endpoints::Endpoints;
use crate::store;
use anyhow::{Context, Result};
use std::io::Write;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;

pub fn run(a: ServeArgs) -> Result<()> {
    store::init_tls(&a.s3)?;
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
    let store = store::open(&a.from, &a.s3)?;
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
