//! The integration tests, one binary (one link instead of one per file): a module per subcommand
//! or concern, and `support` (running the binary, fake-warp10, SeaweedFS destinations).

mod support;

mod all;
mod archive;
mod creds;
mod docs;
mod fake_warp10;
mod fetch;
mod hostile;
mod notify;
mod plan;
mod purge;
mod query;
mod reliability;
mod restore;
mod runtime;
mod s3faults;
mod s3proxy;
mod scaleout;
mod secrets;
mod serve;
mod trust;
mod upload;
mod ux;
