//! A fault-injecting HTTP/1.1 proxy in front of the test S3 store, run in-process on a thread.
//!
//! ```ignore
//! let s3 = S3Env::from_env();   // in an #[ignore]d test: scripts/test.sh runs it
//! let proxy = S3Proxy::start(&s3.endpoint);           // listens on 127.0.0.1:0
//! // point the tool (or client) at proxy.endpoint() instead of s3.endpoint, then:
//! proxy.set(vec![
//!     Rule::new(Fault::Respond(503, SLOW_DOWN)).method("PUT").query("partNumber=").times(2),
//!     Rule::new(Fault::ReplaceBody(INTERNAL_ERROR)).method("POST").query("uploadId="),
//!     Rule::new(Fault::FlipBit(100)).method("GET").path("/segments/"),
//! ]);
//! // ... run ...
//! assert!(proxy.log().iter().any(|e| e.method == "DELETE" && e.query.contains("uploadId=")));
//! ```
//!
//! - Requests are forwarded byte for byte (the `Host` header as the client sent it), so SigV4
//!   signatures made for the proxy's address stay valid upstream. Responses are forwarded unchanged
//!   except under a body fault (`ReplaceBody`, `Truncate`, `Shorten`, `FlipBit`, `Trickle`), which
//!   re-frames them with a `Content-Length`.
//! - Keep-alive works: each client connection has its own upstream connection and thread.
//!   `Expect: 100-continue` is answered by the proxy itself (the store's own `100` is dropped).
//! - Rules are tried in order; the first one that matches the method (exact), path (substring of
//!   `/bucket/key` as sent, percent-encoded) and query (substring) and is not used up applies.
//!   `times(n)` limits a rule to its first `n` matches; without it a rule applies forever.
//!   `set` replaces all rules (and their counts) at any time; `set(vec![])` turns faults off.
//!   The faults are the variants of `Fault`; `SLOW_DOWN`, `INTERNAL_ERROR` and
//!   `REQUEST_TIME_TOO_SKEWED` are S3 error bodies for them.
//! - The log has one `LogEntry` per request, in the order they were answered, pushed before the
//!   client sees the response: connection number, method, path, query, the status the client was
//!   sent (`None` when the connection was reset instead), and the fault applied. `take_log` clears it.
//!   A request the proxy itself fails on (store unreachable, malformed HTTP) is not logged; the
//!   proxy prints why on stderr and closes the client connection.
//! - `S3Env::from_env()` reads the store from `scripts/seaweedfs.sh`'s variables (endpoint, bucket,
//!   keys); tests that need the store start with it.
//! - Dropping the proxy stops it accepting connections; open ones are served until they close.
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub const SLOW_DOWN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>\
    <Message>Please reduce your request rate.</Message></Error>";
pub const INTERNAL_ERROR: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>\
    <Message>We encountered an internal error. Please try again.</Message></Error>";
pub const REQUEST_TIME_TOO_SKEWED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\
    <Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current \
    time is too large.</Message></Error>";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this status and XML body without forwarding (the request body is read and dropped).
    Respond(u16, &'static str),
    /// Forward; if the store answers 200, send this body instead (still 200).
    ReplaceBody(&'static str),
    /// Forward the request head and the first `n` bytes of its body (as sent, chunk framing
    /// included), then reset both connections (RST, no response).
    ResetAfter(u64),
    /// Forward; send the response head with its original length but only the first `n` body
    /// bytes, then close the connection (a short read).
    Truncate(usize),
    /// Forward; send only the first `n` body bytes, declared as `Content-Length: n`.
    Shorten(usize),
    /// Forward; flip the lowest bit of the response body's byte at this offset (if there is one).
    FlipBit(usize),
    /// Wait this long before forwarding (a slow store).
    Delay(Duration),
    /// Forward; send the response head at once, then the body one byte at a time, this long
    /// apart (a store or proxy that trickles its answer).
    Trickle(Duration),
}

#[derive(Clone, Debug)]
pub struct Rule {
    fault: Fault,
    method: Option<String>,
    path: Option<String>,
    query: Option<String>,
    times: Option<usize>,
}

impl Rule {
    /// A rule applying `fault` to every request, forever; narrow it with the methods below.
    pub fn new(fault: Fault) -> Rule {
        Rule {
            fault,
            method: None,
            path: None,
            query: None,
            times: None,
        }
    }

    pub fn method(self, method: &str) -> Rule {
        Rule {
            method: Some(method.to_string()),
            ..self
        }
    }

    pub fn path(self, contains: &str) -> Rule {
        Rule {
            path: Some(contains.to_string()),
            ..self
        }
    }

    pub fn query(self, contains: &str) -> Rule {
        Rule {
            query: Some(contains.to_string()),
            ..self
        }
    }

    pub fn times(self, n: usize) -> Rule {
        Rule { times: Some(n), ..self }
    }

    fn matches(&self, method: &str, path: &str, query: &str) -> bool {
        self.times != Some(0)
            && self.method.as_ref().is_none_or(|m| m == method)
            && self.path.as_ref().is_none_or(|p| path.contains(p.as_str()))
            && self.query.as_ref().is_none_or(|q| query.contains(q.as_str()))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    /// Which client connection (numbered from 0 in accept order) carried the request.
    pub conn: usize,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: Option<u16>,
    pub fault: Option<Fault>,
}

pub struct S3Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: String,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<LogEntry>>,
    stopped: AtomicBool,
}

impl S3Proxy {
    /// Starts a proxy to `upstream` (`host:port` or `http://host:port`, which must be loopback).
    pub fn start(upstream: &str) -> S3Proxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let addrs: Vec<_> = upstream.to_socket_addrs().expect("upstream host:port").collect();
        assert!(
            addrs.iter().all(|a| a.ip().is_loopback()),
            "upstream {upstream} is not loopback"
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the S3 proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            upstream,
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for (id, client) in listener.incoming().enumerate() {
                if accepting.stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(client) = client {
                    let shared = Arc::clone(&accepting);
                    thread::spawn(move || {
                        if let Ok(conn) = Conn::new(id, client, shared) {
                            conn.serve();
                        }
                    });
                }
            }
        });
        S3Proxy { addr, shared }
    }

    /// `http://127.0.0.1:PORT`, the endpoint to give the client instead of the store's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set(&self, rules: Vec<Rule>) {
        *self.shared.rules.lock().unwrap() = rules;
    }

    pub fn log(&self) -> Vec<LogEntry> {
        self.shared.log.lock().unwrap().clone()
    }

    pub fn take_log(&self) -> Vec<LogEntry> {
        std::mem::take(&mut *self.shared.log.lock().unwrap())
    }
}

impl Drop for S3Proxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The test S3 store started by `scripts/seaweedfs.sh` (which `scripts/test.sh` runs).
#[derive(Clone, Debug)]
pub struct S3Env {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
}

impl S3Env {
    /// The store from `WARP_OFFLOAD_TEST_S3_*` (see `super::s3_var`).
    pub fn from_env() -> S3Env {
        S3Env {
            endpoint: super::s3_var("WARP_OFFLOAD_TEST_S3_ENDPOINT"),
            bucket: super::s3_var("WARP_OFFLOAD_TEST_S3_BUCKET"),
            access_key: super::s3_var("WARP_OFFLOAD_TEST_S3_ACCESS_KEY"),
            secret_key: super::s3_var("WARP_OFFLOAD_TEST_S3_SECRET_KEY"),
        }
    }
}

/// One client connection and the upstream connection it uses.
struct Conn {
    id: usize,
    shared: Arc<Shared>,
    client: TcpStream,
    from_client: BufReader<TcpStream>,
    upstream: Option<(TcpStream, BufReader<TcpStream>)>,
}

impl Conn {
    fn new(id: usize, client: TcpStream, shared: Arc<Shared>) -> io::Result<Conn> {
        client.set_nodelay(true)?;
        let from_client = BufReader::new(client.try_clone()?);
        Ok(Conn {
            id,
            shared,
            client,
            from_client,
            upstream: None,
        })
    }

    fn serve(mut self) {
        while let Ok(Some(request)) = read_head(&mut self.from_client) {
            match self.exchange(&request) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    eprintln!("s3proxy: {}: {e}", request.start);
                    break;
                }
            }
        }
    }

    /// Handles one request; `Ok(false)` when the connection must end.
    fn exchange(&mut self, request: &Head) -> io::Result<bool> {
        let mut words = request.start.split(' ');
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let fault = self.shared.fault_for(method, path, query);
        let mut entry = LogEntry {
            conn: self.id,
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            status: None,
            fault,
        };
        if let Some(Fault::Delay(pause)) = fault {
            thread::sleep(pause);
        }
        if request
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            self.client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let request_body = request.framing(false, Framing::None)?;
        if let Some(Fault::Respond(status, body)) = fault {
            copy_body(&mut self.from_client, &mut io::sink(), request_body, true)?;
            entry.status = Some(status);
            self.shared.log.lock().unwrap().push(entry);
            let length = body.len();
            let head = format!(
                "HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\nContent-Length: {length}\r\n\r\n"
            );
            self.client.write_all(head.as_bytes())?;
            if method != "HEAD" {
                self.client.write_all(body.as_bytes())?;
            }
            return Ok(true);
        }

        let up = match self.upstream.take() {
            Some(up) => up,
            None => connect(&self.shared.upstream)?,
        };
        let (to_store, from_store) = self.upstream.insert(up);
        to_store.write_all(&request.raw)?;
        if let Some(Fault::ResetAfter(n)) = fault {
            // Cut off when the limit is reached: the error is the point.
            let _ = copy_body(
                &mut self.from_client,
                &mut Cutoff { to: to_store, left: n },
                request_body,
                false,
            );
            self.shared.log.lock().unwrap().push(entry);
            reset_on_close(&self.client);
            reset_on_close(to_store);
            return Ok(false);
        }
        copy_body(&mut self.from_client, to_store, request_body, false)?;

        let response = loop {
            let head = read_head(from_store)?.ok_or(io::ErrorKind::UnexpectedEof)?;
            if !(100..200).contains(&head.status()?) {
                break head;
            }
        };
        let status = response.status()?;
        let no_body = method == "HEAD" || status == 204 || status == 304;
        let response_body = response.framing(no_body, Framing::UntilClose)?;
        entry.status = Some(status);
        self.shared.log.lock().unwrap().push(entry);
        match fault {
            Some(fault) if response_body != Framing::None && !matches!(fault, Fault::Delay(_)) => {
                let mut body = Vec::new();
                copy_body(from_store, &mut body, response_body, true)?;
                let length = rewrite(fault, status, &mut body);
                self.client.write_all(&response.with_length(length))?;
                match fault {
                    Fault::Trickle(pause) => {
                        for byte in body.chunks(1) {
                            thread::sleep(pause);
                            self.client.write_all(byte)?;
                        }
                    }
                    _ => self.client.write_all(&body)?,
                }
                if matches!(fault, Fault::Truncate(_)) {
                    return Ok(false);
                }
            }
            _ => {
                self.client.write_all(&response.raw)?;
                copy_body(from_store, &mut self.client, response_body, false)?;
            }
        }
        let keep = !request.closes() && !response.closes() && response_body != Framing::UntilClose;
        Ok(keep)
    }
}

impl Shared {
    /// The fault of the first live rule matching the request, using up one of its `times`.
    fn fault_for(&self, method: &str, path: &str, query: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap();
        let rule = rules.iter_mut().find(|r| r.matches(method, path, query))?;
        if let Some(n) = &mut rule.times {
            *n -= 1;
        }
        Some(rule.fault)
    }
}

/// Applies a body fault to a buffered response body; returns the `Content-Length` to declare.
fn rewrite(fault: Fault, status: u16, body: &mut Vec<u8>) -> usize {
    let original = body.len();
    match fault {
        Fault::ReplaceBody(replacement) if status == 200 => *body = replacement.as_bytes().to_vec(),
        Fault::Truncate(n) => {
            body.truncate(n);
            return original;
        }
        Fault::Shorten(n) => body.truncate(n),
        Fault::FlipBit(offset) => {
            if let Some(byte) = body.get_mut(offset) {
                *byte ^= 1;
            }
        }
        _ => {}
    }
    body.len()
}

/// A request or response head: its bytes as received, and parsed.
struct Head {
    raw: Vec<u8>,
    start: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn status(&self) -> io::Result<u16> {
        let code = self.start.split(' ').nth(1).and_then(|c| c.parse().ok());
        code.ok_or_else(|| invalid(format!("bad status line {:?}", self.start)))
    }

    fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    /// How the body after this head is delimited; `otherwise` when neither header says.
    fn framing(&self, no_body: bool, otherwise: Framing) -> io::Result<Framing> {
        if no_body {
            return Ok(Framing::None);
        }
        if self
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
        {
            return Ok(Framing::Chunked);
        }
        match self.header("content-length") {
            Some(v) => v
                .parse()
                .map(Framing::Length)
                .map_err(|_| invalid(format!("bad Content-Length {v:?}"))),
            None => Ok(otherwise),
        }
    }

    /// This head with its body framing replaced by `Content-Length: length`.
    fn with_length(&self, length: usize) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("transfer-encoding") {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        out.push_str(&format!("Content-Length: {length}\r\n\r\n"));
        out.into_bytes()
    }
}

/// Reads a head up to its blank line; `None` at a clean end of stream before it.
fn read_head(r: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut raw = Vec::new();
    let mut lines = Vec::new();
    loop {
        let start = raw.len();
        if r.read_until(b'\n', &mut raw)? == 0 {
            return if raw.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        let line = String::from_utf8_lossy(&raw[start..]).trim_end().to_string();
        if line.is_empty() {
            break;
        }
        if raw.len() > 1 << 16 {
            return Err(invalid("head over 64 KiB".to_string()));
        }
        lines.push(line);
    }
    let mut lines = lines.into_iter();
    let start = lines.next().ok_or_else(|| invalid("empty head".to_string()))?;
    let headers = lines
        .map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        })
        .collect::<Option<_>>()
        .ok_or_else(|| invalid(format!("bad header in {start:?}")))?;
    Ok(Some(Head { raw, start, headers }))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// Copies one body: as it is on the wire, or (`decode`) only its data.
fn copy_body(r: &mut impl BufRead, w: &mut impl Write, framing: Framing, decode: bool) -> io::Result<()> {
    match framing {
        Framing::None => Ok(()),
        Framing::Length(n) => copy_exact(r, w, n),
        Framing::UntilClose => io::copy(r, w).map(drop),
        Framing::Chunked => loop {
            let line = read_line(r)?;
            if !decode {
                w.write_all(&line)?;
            }
            let size = String::from_utf8_lossy(&line);
            let size = size.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size, 16).map_err(|_| invalid(format!("bad chunk size {size:?}")))?;
            if size == 0 {
                // The last chunk: trailers up to a blank line.
                loop {
                    let trailer = read_line(r)?;
                    if !decode {
                        w.write_all(&trailer)?;
                    }
                    if trailer.trim_ascii().is_empty() {
                        return Ok(());
                    }
                }
            }
            copy_exact(r, w, size)?;
            let end = read_line(r)?;
            if !decode {
                w.write_all(&end)?;
            }
        },
    }
}

fn read_line(r: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line)
}

fn copy_exact(r: &mut impl BufRead, w: &mut impl Write, n: u64) -> io::Result<()> {
    if io::copy(&mut r.take(n), w)? < n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// A writer that passes `left` bytes on, then fails.
struct Cutoff<'a> {
    to: &'a mut TcpStream,
    left: u64,
}

impl Write for Cutoff<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other("cut off"));
        }
        let n = self
            .to
            .write(&buf[..buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX))])?;
        self.left -= n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.to.flush()
    }
}

/// Makes closing `s` (when its last handle is dropped) send an RST instead of a FIN (SO_LINGER 0).
#[cfg(target_os = "linux")]
fn reset_on_close(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    #[repr(C)]
    struct Linger {
        onoff: i32,
        linger: i32,
    }
    unsafe extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const Linger, len: u32) -> i32;
    }
    const SOL_SOCKET: i32 = 1;
    const SO_LINGER: i32 = 13;
    let linger = Linger { onoff: 1, linger: 0 };
    // SAFETY: the descriptor is open (owned by `s`) and the option value is a live `struct linger`.
    let rc = unsafe {
        setsockopt(
            s.as_raw_fd(),
            SOL_SOCKET,
            SO_LINGER,
            &linger,
            size_of::<Linger>() as u32,
        )
    };
    assert_eq!(rc, 0, "setsockopt(SO_LINGER): {}", io::Error::last_os_error());
}

/// Elsewhere the connection just closes.
#[cfg(not(target_os = "linux"))]
fn reset_on_close(_: &TcpStream) {}

fn connect(addr: &str) -> io::Result<(TcpStream, BufReader<TcpStream>)> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let reader = BufReader::new(stream.try_clone()?);
    Ok((stream, reader))
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}
