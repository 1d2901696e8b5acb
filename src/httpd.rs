//! A small HTTP/1.1 server for the Warp 10 endpoints of the fake and of `serve`: keep-alive
//! connections, one thread each, request bodies streamed (Content-Length or chunked), responses
//! either whole or chunked as written.
//!
//! Not `tiny_http`: its chunked encoder writes the terminating chunk whenever the body ends,
//! even on error, and it gives no hold on the socket. The fake must be able to end a body
//! without the terminator and to reset the connection, as Jetty does when a handler fails after
//! output started (docs/WARP10.md#errors).

use anyhow::{Context, Result, bail};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

pub struct Request {
    pub method: String,
    pub path: String,
    /// Query parameters, form-decoded (`+` is a space), in order.
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Warp 10 booleans: present means on, whatever the value.
    pub fn flag(&self, name: &str) -> bool {
        self.param(name).is_some()
    }
}

/// Serves `handle` on every request of every connection accepted on `listener`, forever.
pub fn serve<H>(listener: TcpListener, name: &'static str, handle: H)
where
    H: Fn(&Request, &mut dyn BufRead, &mut Responder) -> io::Result<()> + Send + Sync + 'static,
{
    let handle = std::sync::Arc::new(handle);
    for conn in listener.incoming() {
        let Ok(stream) = conn else { continue };
        let handle = std::sync::Arc::clone(&handle);
        std::thread::spawn(move || {
            if let Err(e) = connection(stream, &*handle) {
                crate::log::debug(name, None, &format!("connection ended: {e:#}"));
            }
        });
    }
}

fn connection<H>(stream: TcpStream, handle: &H) -> Result<()>
where
    H: Fn(&Request, &mut dyn BufRead, &mut Responder) -> io::Result<()>,
{
    stream.set_nodelay(true).ok();
    let mut reader = BufReader::with_capacity(64 << 10, stream.try_clone().context("cloning the socket")?);
    loop {
        let Some((req, body_len, close)) = read_head(&mut reader)? else {
            return Ok(());
        };
        if req
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            (&stream).write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let mut responder = Responder {
            stream: &stream,
            state: State::Idle,
            close,
            clock_skew_s: 0,
            trickle: Duration::ZERO,
        };
        let mut body: Box<dyn BufRead + '_> = match body_len {
            BodyLen::Fixed(n) => Box::new((&mut reader).take(n)),
            BodyLen::Chunked => Box::new(BufReader::new(ChunkedReader {
                inner: &mut reader,
                left: 0,
                done: false,
            })),
        };
        handle(&req, &mut body, &mut responder)?;
        io::copy(&mut body, &mut io::sink()).context("draining the request body")?;
        drop(body);
        match responder.state {
            State::Idle => bail!("handler sent no response to {} {}", req.method, req.path),
            State::Chunked(_) => responder.finish()?,
            State::Done | State::Aborted => {}
        }
        if responder.close || matches!(responder.state, State::Aborted) {
            return Ok(());
        }
    }
}

enum BodyLen {
    Fixed(u64),
    Chunked,
}

fn read_head(reader: &mut impl BufRead) -> Result<Option<(Request, BodyLen, bool)>> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    let request_line = String::from_utf8_lossy(&line).trim().to_string();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("bad request line {request_line:?}");
    };
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            bail!("connection closed inside the request head");
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if text.is_empty() {
            break;
        }
        let (k, v) = text
            .split_once(':')
            .with_context(|| format!("bad header line {text:?}"))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let req = Request {
        method: method.to_string(),
        path: path.to_string(),
        query,
        headers,
    };
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        BodyLen::Chunked
    } else {
        let len = req.header("content-length").unwrap_or("0");
        BodyLen::Fixed(len.parse().with_context(|| format!("bad Content-Length {len:?}"))?)
    };
    let close = version == "HTTP/1.0"
        || req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
    Ok(Some((req, body, close)))
}

struct ChunkedReader<'a, R> {
    inner: &'a mut R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Read for ChunkedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("chunked body: {what}"));
        if self.done {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            self.inner.read_line(&mut line)?;
            let size = line.trim().split(';').next().unwrap_or_default();
            self.left = u64::from_str_radix(size, 16).map_err(|_| bad("bad chunk size"))?;
            if self.left == 0 {
                loop {
                    line.clear();
                    if self.inner.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                self.done = true;
                return Ok(0);
            }
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(bad("connection closed inside a chunk"));
        }
        self.left -= n as u64;
        if self.left == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
        }
        Ok(n)
    }
}

enum State {
    Idle,
    /// Streaming a chunked body; the pause applies before each chunk.
    Chunked(Duration),
    Done,
    Aborted,
}

/// Writes the response to one request.
pub struct Responder<'a> {
    stream: &'a TcpStream,
    state: State,
    close: bool,
    /// Seconds added to the clock in the `Date` header (the `clock_skew_s` fault).
    clock_skew_s: i64,
    /// Pause before each body byte, sent alone (the `trickle_ms` fault); zero sends at once.
    trickle: Duration,
}

fn head(status: u16, headers: &[(&str, &str)], extra: &str, clock_skew_s: i64) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Internal Server Error",
    };
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    let date = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(clock_skew_s))
        .and_then(|t| jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&t));
    if let Ok(date) = date {
        out.push_str(&format!("Date: {date}\r\n"));
    }
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(extra);
    out.push_str("\r\n");
    out.into_bytes()
}

impl Responder<'_> {
    pub fn set_clock_skew(&mut self, seconds: i64) {
        self.clock_skew_s = seconds;
    }

    /// A plain-text message (an error) as the whole response.
    pub fn text(&mut self, status: u16, msg: &str) -> io::Result<()> {
        self.send(status, &[("Content-Type", "text/plain")], format!("{msg}\n").as_bytes())
    }

    pub fn set_trickle(&mut self, pause: Duration) {
        self.trickle = pause;
    }

    /// Writes body bytes: at once, or one at a time under the trickle fault, each as its own
    /// chunk when `chunked`.
    fn body(&self, data: &[u8], chunked: bool) -> io::Result<()> {
        let mut stream = self.stream;
        let pieces: Vec<&[u8]> = if self.trickle.is_zero() {
            vec![data]
        } else {
            data.chunks(1).collect()
        };
        for piece in pieces {
            if !self.trickle.is_zero() {
                std::thread::sleep(self.trickle);
            }
            if chunked {
                stream.write_all(format!("{:x}\r\n", piece.len()).as_bytes())?;
            }
            stream.write_all(piece)?;
            if chunked {
                stream.write_all(b"\r\n")?;
            }
        }
        Ok(())
    }

    /// A whole response with a Content-Length.
    pub fn send(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> io::Result<()> {
        let out = head(
            status,
            headers,
            &format!("Content-Length: {}\r\n", body.len()),
            self.clock_skew_s,
        );
        self.stream.write_all(&out)?;
        self.body(body, false)?;
        self.state = State::Done;
        Ok(())
    }

    /// Starts a chunked response; then `chunk` for each piece and `finish` (or `abort`).
    pub fn start(&mut self, status: u16, headers: &[(&str, &str)], pause: Duration) -> io::Result<()> {
        self.stream.write_all(&head(
            status,
            headers,
            "Transfer-Encoding: chunked\r\n",
            self.clock_skew_s,
        ))?;
        self.state = State::Chunked(pause);
        Ok(())
    }

    /// Sends one chunk now (empty input sends nothing: an empty chunk would end the body).
    pub fn chunk(&mut self, data: &[u8]) -> io::Result<()> {
        let State::Chunked(pause) = self.state else {
            panic!("chunk() before start()")
        };
        if data.is_empty() {
            return Ok(());
        }
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        self.body(data, true)
    }

    /// Ends a chunked body cleanly.
    pub fn finish(&mut self) -> io::Result<()> {
        (&mut &*self.stream).write_all(b"0\r\n\r\n")?;
        self.state = State::Done;
        Ok(())
    }

    /// Resets the connection (RST, no terminating chunk): what a client sees when Jetty aborts.
    pub fn abort(&mut self) -> io::Result<()> {
        // Linger 0: closing the socket (when the connection ends, right after) sends a RST.
        socket2::SockRef::from(self.stream).set_linger(Some(Duration::ZERO))?;
        self.state = State::Aborted;
        Ok(())
    }
}
