mod archive;
mod cli;
mod cmd;
mod completeness;
mod digest;
mod error;
mod exit;
mod fake;
mod gts;
mod httpd;
mod id;
mod interrupt;
mod journal;
mod layout;
mod lock;
mod log;
mod manifest;
mod net;
mod notify;
mod plan;
mod progress;
mod read;
mod rerun;
mod retry;
mod secret;
mod stage;
mod store;
mod time;
mod warp10;
mod workdir;

use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some(msg) = cli::secret_in_argv(std::env::args_os()) {
        eprintln!("warp-offload: {msg}");
        return ExitCode::from(exit::USAGE);
    }
    let cli = match cmd::help::parse() {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let g = &cli.global;
    let verbosity = if g.quiet { -1 } else { g.verbose as i8 };
    log::init(verbosity, g.log_format, g.progress, g.stats_interval);
    interrupt::install();
    net::set_allow_insecure_http(g.allow_insecure_http);
    // ureq brings rustls with ring, rust-s3 (attohttpc) with aws-lc-rs: with both compiled in,
    // rustls cannot pick a provider by itself and would panic on the first https request.
    let _ = rustls::crypto::ring::default_provider().install_default();

    match cmd::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            log::error(&format!("{e:#}"));
            ExitCode::from(if e.downcast_ref::<error::Interrupted>().is_some() {
                interrupt::EXIT
            } else if e.downcast_ref::<error::Mismatch>().is_some() {
                exit::MISMATCH
            } else if e.downcast_ref::<error::Usage>().is_some() {
                exit::USAGE
            } else {
                exit::ERROR
            })
        }
    }
}
