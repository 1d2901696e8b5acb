//! Encryption envelope for archive objects: chunked AES-256-GCM in the STREAM construction (as in
//! age and Tink), so objects of any size are encrypted and decrypted with one chunk in memory and
//! truncation, reordering and appended data are all detected. Each object gets its own key,
//! derived from the master key and a random salt, so a (key, nonce) pair never repeats across
//! objects and no key comes near the 2^32-message limit of random GCM nonces; the key id names
//! the master key an object needs without revealing it.
//!
//! An object is a header followed by chunks. The header is plaintext and is the associated data of
//! every chunk, so changing any header byte fails the first chunk:
//!
//! | bytes | field                                                                       |
//! |-------|-----------------------------------------------------------------------------|
//! | 4     | magic `W10E`                                                                |
//! | 1     | envelope version, 1                                                         |
//! | 1     | algorithm id, 1 = AES-256-GCM                                               |
//! | 1     | log2 of the chunk size: 16, 18 or 20 (written: 20, 1 MiB)                   |
//! | 16    | key id: first 16 bytes of BLAKE3 `derive_key("w10a key-id v1", master key)` |
//! | 32    | random salt                                                                 |
//! | 7     | random nonce prefix                                                         |
//! | 1     | length n of the segment id, 1..=255                                         |
//! | n     | segment id, UTF-8                                                           |
//!
//! The segment id binds an object to its name: an object copied under another name fails.
//! Object key = HKDF-SHA256(ikm = master key, salt, info = `"w10a v1 payload"` ‖ algorithm id).
//! Chunk i = AES-256-GCM ciphertext ‖ 16-byte tag, nonce = prefix ‖ u32_be(i) ‖ final flag (0 or 1).
//! Every chunk but the last holds exactly one chunk size of plaintext; the last one is flagged final,
//! may be shorter, and is empty only when the whole plaintext is.

use anyhow::{Context, Result, anyhow, bail, ensure};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::path::Path;
use zeroize::{Zeroize, Zeroizing};

pub const MAGIC: &[u8; 4] = b"W10E";
const VERSION: u8 = 1;
const ALG_AES_256_GCM: u8 = 1;
const DEFAULT_CHUNK_LOG2: u8 = 20;
/// Chunk sizes a reader accepts: 64 KiB, 256 KiB, 1 MiB.
const ACCEPTED_CHUNK_LOG2: [u8; 3] = [16, 18, 20];
const KEY_LEN: usize = 32;
const KEY_ID_LEN: usize = 16;
const SALT_LEN: usize = 32;
const PREFIX_LEN: usize = 7;
const TAG_LEN: usize = ring::aead::MAX_TAG_LEN;
/// Header bytes before the segment id: magic, version, algorithm, chunk size, key id, salt,
/// nonce prefix, segment id length.
const FIXED_HEADER_LEN: usize = 4 + 1 + 1 + 1 + KEY_ID_LEN + SALT_LEN + PREFIX_LEN + 1;
const KEY_ID_CONTEXT: &str = "w10a key-id v1";
const PAYLOAD_INFO: &[u8] = b"w10a v1 payload";

/// Tells an encrypted object from a plain one by its first bytes.
pub fn is_encrypted(first_bytes: &[u8]) -> bool {
    first_bytes.starts_with(MAGIC)
}

/// The 32-byte master key from `--key-file`. Never printed; zeroed when dropped.
pub struct MasterKey {
    bytes: [u8; KEY_LEN],
    id: [u8; KEY_ID_LEN],
}

impl MasterKey {
    /// Reads a key file holding either 32 raw bytes or 64 hex digits with an optional newline.
    pub fn load(path: &Path) -> Result<MasterKey> {
        let raw = Zeroizing::new(
            std::fs::read(path).with_context(|| format!("reading encryption key file {}", path.display()))?,
        );
        crate::secret::warn_if_readable_by_others(path, "encryption key");
        let mut key = MasterKey {
            bytes: [0; KEY_LEN],
            id: [0; KEY_ID_LEN],
        };
        decode_key_file(&raw, &mut key.bytes).with_context(|| format!("encryption key file {}", path.display()))?;
        key.id = key_id(&key.bytes);
        Ok(key)
    }

    #[cfg(test)]
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> MasterKey {
        MasterKey {
            bytes,
            id: key_id(&bytes),
        }
    }

    /// The key id recorded in every header: names the key without revealing it.
    pub fn key_id_hex(&self) -> String {
        hex(&self.id)
    }
}

fn key_id(key: &[u8; KEY_LEN]) -> [u8; KEY_ID_LEN] {
    let derived = blake3::derive_key(KEY_ID_CONTEXT, key);
    let mut id = [0; KEY_ID_LEN];
    id.copy_from_slice(&derived[..KEY_ID_LEN]);
    id
}

/// Errors name lengths and positions only, never the file's bytes.
fn decode_key_file(raw: &[u8], out: &mut [u8; KEY_LEN]) -> Result<()> {
    let text = raw.strip_suffix(b"\n").unwrap_or(raw);
    if text.len() == 2 * KEY_LEN {
        let digit = |at: usize| {
            (text[at] as char).to_digit(16).with_context(|| {
                format!(
                    "character {} is not a hex digit (expected 32 raw bytes or 64 hex digits)",
                    at + 1
                )
            })
        };
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = (digit(2 * i)? << 4 | digit(2 * i + 1)?) as u8;
        }
        return Ok(());
    }
    if raw.len() == KEY_LEN {
        // A random key is all hex digits with probability ~1e-34: this is a hex-encoded 16-byte key.
        ensure!(
            !raw.iter().all(u8::is_ascii_hexdigit),
            "holds 32 hex digits, a 16-byte key; expected 32 raw bytes or 64 hex digits"
        );
        out.copy_from_slice(raw);
        return Ok(());
    }
    bail!(
        "expected 32 raw bytes or 64 hex digits (optionally followed by a newline), found {} bytes",
        raw.len()
    )
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.key_id_hex())
            .finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, PartialEq)]
struct Header {
    chunk_log2: u8,
    key_id: [u8; KEY_ID_LEN],
    salt: [u8; SALT_LEN],
    nonce_prefix: [u8; PREFIX_LEN],
    segment_id: String,
}

impl Header {
    fn new(
        key: &MasterKey,
        segment_id: &str,
        chunk_log2: u8,
        salt: [u8; SALT_LEN],
        nonce_prefix: [u8; PREFIX_LEN],
    ) -> Result<Header> {
        ensure!(
            (1..=255).contains(&segment_id.len()),
            "cannot encrypt for segment id {segment_id:?}: it must be 1 to 255 bytes long"
        );
        Ok(Header {
            chunk_log2,
            key_id: key.id,
            salt,
            nonce_prefix,
            segment_id: segment_id.to_owned(),
        })
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_HEADER_LEN + self.segment_id.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[VERSION, ALG_AES_256_GCM, self.chunk_log2]);
        out.extend_from_slice(&self.key_id);
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&self.nonce_prefix);
        out.push(self.segment_id.len() as u8);
        out.extend_from_slice(self.segment_id.as_bytes());
        out
    }

    /// Reads exactly one header and returns it with its bytes, which are the chunks' associated data.
    /// Every field has one encoding, so `to_bytes` gives those bytes back.
    fn read(r: &mut impl Read) -> Result<(Header, Vec<u8>)> {
        let mut raw = vec![0; FIXED_HEADER_LEN];
        let n = read_full(r, &mut raw).context("reading the encryption header")?;
        ensure!(
            is_encrypted(&raw[..n]),
            "not an encrypted archive: it does not start with W10E"
        );
        ensure!(n == FIXED_HEADER_LEN, "encryption header truncated after {n} bytes");
        let [version, alg, chunk_log2] = [raw[4], raw[5], raw[6]];
        ensure!(
            version == VERSION,
            "unsupported envelope version {version} (this build reads version {VERSION})"
        );
        ensure!(
            alg == ALG_AES_256_GCM,
            "unsupported encryption algorithm id {alg} (this build knows {ALG_AES_256_GCM}, AES-256-GCM)"
        );
        ensure!(
            chunk_log2_accepted(chunk_log2),
            "unsupported chunk size 2^{chunk_log2} (this build reads log2 sizes {ACCEPTED_CHUNK_LOG2:?})"
        );
        let id_len = usize::from(raw[FIXED_HEADER_LEN - 1]);
        ensure!(id_len > 0, "encryption header has an empty segment id");
        raw.resize(FIXED_HEADER_LEN + id_len, 0);
        let n = read_full(r, &mut raw[FIXED_HEADER_LEN..]).context("reading the encryption header")?;
        ensure!(n == id_len, "encryption header truncated in its segment id");
        let segment_id = std::str::from_utf8(&raw[FIXED_HEADER_LEN..])
            .context("segment id in the encryption header is not UTF-8")?
            .to_owned();
        let field = |at: usize, len: usize| &raw[at..at + len];
        let header = Header {
            chunk_log2,
            key_id: field(7, KEY_ID_LEN).try_into()?,
            salt: field(7 + KEY_ID_LEN, SALT_LEN).try_into()?,
            nonce_prefix: field(7 + KEY_ID_LEN + SALT_LEN, PREFIX_LEN).try_into()?,
            segment_id,
        };
        Ok((header, raw))
    }
}

fn chunk_log2_accepted(log2: u8) -> bool {
    #[cfg(test)]
    if log2 == tests::SMALL_CHUNK_LOG2 {
        return true;
    }
    ACCEPTED_CHUNK_LOG2.contains(&log2)
}

/// What sealing and opening chunks needs: the object key, the header bytes (associated data of every
/// chunk), the nonce prefix and the index of the next chunk.
struct Stream {
    key: LessSafeKey,
    aad: Vec<u8>,
    nonce_prefix: [u8; PREFIX_LEN],
    chunk_size: usize,
    next: u64,
}

impl Stream {
    fn new(master: &MasterKey, header: &Header, aad: Vec<u8>) -> Stream {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &header.salt).extract(&master.bytes);
        let okm = prk
            .expand(&[PAYLOAD_INFO, &[ALG_AES_256_GCM]], &AES_256_GCM)
            .expect("HKDF-SHA256 expands to 32 bytes");
        Stream {
            key: LessSafeKey::new(UnboundKey::from(okm)),
            aad,
            nonce_prefix: header.nonce_prefix,
            chunk_size: 1 << header.chunk_log2,
            next: 0,
        }
    }

    /// The nonce of chunk `index`; `None` past 2^32 chunks, where nonces would repeat.
    fn nonce(&self, index: u64, last: bool) -> Option<Nonce> {
        let index = u32::try_from(index).ok()?;
        let mut nonce = [0; NONCE_LEN];
        nonce[..PREFIX_LEN].copy_from_slice(&self.nonce_prefix);
        nonce[PREFIX_LEN..NONCE_LEN - 1].copy_from_slice(&index.to_be_bytes());
        nonce[NONCE_LEN - 1] = u8::from(last);
        Some(Nonce::assume_unique_for_key(nonce))
    }
}

/// Encrypts everything written to it into `inner`. Only [`EncryptWriter::finish`] writes the final
/// chunk: an object whose writer was dropped, or failed, does not decrypt.
pub struct EncryptWriter<W: Write> {
    inner: W,
    stream: Stream,
    /// Plaintext of the current chunk, then its ciphertext and tag.
    buf: Vec<u8>,
    /// A chunk was sealed but not fully written: the object can't be completed.
    broken: bool,
}

impl<W: Write> EncryptWriter<W> {
    /// Writes the header, with a fresh random salt and nonce prefix, and 1 MiB chunks.
    pub fn new(inner: W, key: &MasterKey, segment_id: &str) -> Result<Self> {
        let rng = SystemRandom::new();
        let mut salt = [0; SALT_LEN];
        let mut nonce_prefix = [0; PREFIX_LEN];
        rng.fill(&mut salt)
            .and_then(|()| rng.fill(&mut nonce_prefix))
            .map_err(|_| anyhow!("the system random number generator failed"))?;
        let header = Header::new(key, segment_id, DEFAULT_CHUNK_LOG2, salt, nonce_prefix)?;
        EncryptWriter::with_header(inner, key, header)
    }

    fn with_header(mut inner: W, key: &MasterKey, header: Header) -> Result<Self> {
        let aad = header.to_bytes();
        inner.write_all(&aad).context("writing the encryption header")?;
        let stream = Stream::new(key, &header, aad);
        let buf = Vec::with_capacity(stream.chunk_size + TAG_LEN);
        Ok(EncryptWriter {
            inner,
            stream,
            buf,
            broken: false,
        })
    }

    /// Seals and writes the final chunk, flushes, and returns the inner writer.
    pub fn finish(mut self) -> Result<W> {
        self.seal_and_write(true).context("writing the final encrypted chunk")?;
        self.inner.flush().context("flushing the encrypted object")?;
        Ok(self.inner)
    }

    fn seal_and_write(&mut self, last: bool) -> io::Result<()> {
        if self.broken {
            return Err(io::Error::other(
                "an earlier write failed, the encrypted object is incomplete",
            ));
        }
        let nonce = self
            .stream
            .nonce(self.stream.next, last)
            .ok_or_else(|| io::Error::other("object too large to encrypt: more than 2^32 chunks"))?;
        // Counted before writing: whatever happens next, this nonce is never used again.
        self.stream.next += 1;
        self.stream
            .key
            .seal_in_place_append_tag(nonce, Aad::from(&self.stream.aad), &mut self.buf)
            .expect("a chunk is far below AES-GCM's input limit");
        let written = self.inner.write_all(&self.buf);
        self.buf.clear();
        self.broken = written.is_err();
        written
    }
}

impl<W: Write> Write for EncryptWriter<W> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let len = data.len();
        while !data.is_empty() {
            // A full chunk is sealed only once more data follows: if none does, it is the final one.
            if self.buf.len() == self.stream.chunk_size {
                self.seal_and_write(false)?;
            }
            let take = data.len().min(self.stream.chunk_size - self.buf.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(len)
    }

    /// Flushes the chunks written so far; the current partial chunk waits for more data or `finish`.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Random access to an object written by [`EncryptWriter`], for ranged reads: which ciphertext
/// bytes hold a plaintext range, and their decryption, every chunk's tag verified with its index
/// and with the final flag on the object's last chunk (known from the object's size), so a chunk
/// from another place or another object, or a shortened object, fails.
pub struct RangedDecrypt {
    stream: Stream,
    header_len: u64,
    chunks: u64,
    plain_len: u64,
}

impl RangedDecrypt {
    /// From the object's first bytes (the whole header, or more) and its size; checks key and
    /// segment id as [`DecryptReader::new`] does.
    pub fn open(head: &[u8], size: u64, key: &MasterKey, segment_id: &str) -> Result<RangedDecrypt> {
        let (header, aad) = Header::read(&mut &head[..])?;
        if header.key_id != key.id {
            bail!(
                "archive encrypted with key id {}, key file has {}",
                hex(&header.key_id),
                key.key_id_hex()
            );
        }
        if header.segment_id != segment_id {
            bail!(
                "archive belongs to segment {}, not {segment_id}",
                header.segment_id.escape_debug()
            );
        }
        let header_len = aad.len() as u64;
        let stream = Stream::new(key, &header, aad);
        let full = (stream.chunk_size + TAG_LEN) as u64;
        let cipher = size
            .checked_sub(header_len)
            .filter(|&c| c >= TAG_LEN as u64)
            .context("encrypted archive truncated: no chunk after the header")?;
        let chunks = cipher.div_ceil(full);
        Ok(RangedDecrypt {
            stream,
            header_len,
            chunks,
            plain_len: cipher - chunks * TAG_LEN as u64,
        })
    }

    /// Length of the plaintext.
    pub fn plain_len(&self) -> u64 {
        self.plain_len
    }

    /// The ciphertext `(offset, len)` holding plaintext `start..end` (whole chunks).
    pub fn cipher_range(&self, start: u64, end: u64) -> (u64, u64) {
        let (size, full) = (self.stream.chunk_size as u64, (self.stream.chunk_size + TAG_LEN) as u64);
        let first = start / size;
        let last = (end.max(start + 1) - 1) / size;
        let object_end = self.header_len + self.plain_len + self.chunks * TAG_LEN as u64;
        let offset = self.header_len + first * full;
        (offset, (self.header_len + (last + 1) * full).min(object_end) - offset)
    }

    /// Plaintext `start..end` from the ciphertext that [`Self::cipher_range`] gave for it.
    pub fn decrypt(&self, start: u64, end: u64, cipher: &[u8]) -> Result<Vec<u8>> {
        ensure!(
            start <= end && end <= self.plain_len,
            "plaintext range {start}..{end} is beyond the archive's {} bytes",
            self.plain_len
        );
        let (size, full) = (self.stream.chunk_size as u64, self.stream.chunk_size + TAG_LEN);
        ensure!(
            cipher.len() as u64 == self.cipher_range(start, end).1,
            "ciphertext for {start}..{end} has the wrong length"
        );
        let first = start / size;
        let mut plain = Vec::with_capacity(cipher.len());
        for (i, chunk) in cipher.chunks(full).enumerate() {
            let index = first + i as u64;
            let last = index + 1 == self.chunks;
            let nonce = self.stream.nonce(index, last).context("more than 2^32 chunks")?;
            let mut buf = chunk.to_vec();
            let opened = self
                .stream
                .key
                .open_in_place(nonce, Aad::from(&self.stream.aad), &mut buf)
                .map_err(|_| anyhow!("chunk {index} failed authentication (wrong key, damaged or moved data)"))?;
            plain.extend_from_slice(opened);
        }
        let skip = (start - first * size) as usize;
        plain
            .get(skip..skip + (end - start) as usize)
            .map(<[u8]>::to_vec)
            .context("decrypted chunks are shorter than the range")
    }
}

/// Decrypts an object written by [`EncryptWriter`]. Returns plaintext only from chunks whose tag
/// verified, and end of file only after the verified final chunk. Every integrity failure is an
/// `InvalidData` error naming the chunk; after any error, every read fails again.
pub struct DecryptReader<R: Read> {
    inner: R,
    stream: Stream,
    /// One encrypted chunk and one byte more, which tells whether the chunk is the last one.
    buf: Vec<u8>,
    /// That extra byte, the first of the next chunk.
    lookahead: Option<u8>,
    /// Verified plaintext not yet returned: `buf[pos..end]`.
    pos: usize,
    end: usize,
    state: State,
}

enum State {
    Chunks,
    Done,
    Failed(io::ErrorKind, String),
}

impl<R: Read> DecryptReader<R> {
    /// Reads the header and checks it was written with `key` for `segment_id`.
    pub fn new(mut inner: R, key: &MasterKey, segment_id: &str) -> Result<Self> {
        let (header, aad) = Header::read(&mut inner)?;
        if header.key_id != key.id {
            bail!(
                "archive encrypted with key id {}, key file has {}",
                hex(&header.key_id),
                key.key_id_hex()
            );
        }
        if header.segment_id != segment_id {
            bail!(
                "archive belongs to segment {}, not {segment_id}",
                header.segment_id.escape_debug()
            );
        }
        let stream = Stream::new(key, &header, aad);
        let buf = vec![0; stream.chunk_size + TAG_LEN + 1];
        Ok(DecryptReader {
            inner,
            stream,
            buf,
            lookahead: None,
            pos: 0,
            end: 0,
            state: State::Chunks,
        })
    }

    /// Reads, verifies and decrypts the next chunk into `buf[pos..end]`.
    fn next_chunk(&mut self) -> io::Result<()> {
        let index = self.stream.next;
        let full = self.stream.chunk_size + TAG_LEN;
        let mut n = 0;
        if let Some(byte) = self.lookahead.take() {
            self.buf[0] = byte;
            n = 1;
        }
        n += read_full(&mut self.inner, &mut self.buf[n..])?;
        let last = n <= full;
        if !last {
            self.lookahead = Some(self.buf[full]);
            n = full;
        }
        if n == 0 {
            return Err(invalid(
                "archive truncated: no chunk after the encryption header".into(),
            ));
        }
        if n < TAG_LEN {
            return Err(invalid(format!(
                "chunk {index} truncated: {n} bytes, shorter than its {TAG_LEN}-byte tag"
            )));
        }
        if n == TAG_LEN && index > 0 {
            return Err(invalid(format!(
                "chunk {index} is an empty final chunk, allowed only when the whole archive is empty"
            )));
        }
        let nonce = self
            .stream
            .nonce(index, last)
            .ok_or_else(|| invalid("more than 2^32 chunks".into()))?;
        // A full-size last chunk may be a non-final one whose successors were cut off: keep its
        // ciphertext to tell truncation from corruption if it fails as a final chunk.
        let copy = (last && n == full).then(|| self.buf[..n].to_vec());
        match self
            .stream
            .key
            .open_in_place(nonce, Aad::from(&self.stream.aad), &mut self.buf[..n])
        {
            Ok(plaintext) => {
                self.pos = 0;
                self.end = plaintext.len();
                self.stream.next += 1;
                if last {
                    self.state = State::Done;
                }
                Ok(())
            }
            Err(_) => Err(invalid(self.authentication_failure(index, last, copy))),
        }
    }

    fn authentication_failure(&self, index: u64, last: bool, copy: Option<Vec<u8>>) -> String {
        if !last {
            return format!(
                "chunk {index} failed authentication: the archive is corrupt or tampered with, \
                 its chunks are out of order, or data follows its final chunk"
            );
        }
        if let Some(mut copy) = copy
            && let Some(nonce) = self.stream.nonce(index, false)
            && self
                .stream
                .key
                .open_in_place(nonce, Aad::from(&self.stream.aad), &mut copy)
                .is_ok()
        {
            return format!("archive truncated: chunk {index} is not the final chunk and nothing follows it");
        }
        format!(
            "final chunk {index} failed authentication: the archive is corrupt, truncated or tampered with, \
             or has bytes appended"
        )
    }
}

impl<R: Read> BufRead for DecryptReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.end {
            match &self.state {
                State::Done => break,
                State::Failed(kind, message) => return Err(io::Error::new(*kind, message.clone())),
                State::Chunks => {
                    if let Err(e) = self.next_chunk() {
                        self.state = State::Failed(e.kind(), e.to_string());
                        return Err(e);
                    }
                }
            }
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.end);
    }
}

impl<R: Read> Read for DecryptReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 64-byte chunks keep multi-chunk vectors small; readers accept them only in unit tests.
    pub(super) const SMALL_CHUNK_LOG2: u8 = 6;
    const SMALL: usize = 1 << SMALL_CHUNK_LOG2;
    const FULL: usize = SMALL + TAG_LEN;
    const SEG: &str = "seg-a";
    const HEADER_LEN: usize = FIXED_HEADER_LEN + SEG.len();

    fn key(n: u8) -> MasterKey {
        MasterKey::from_bytes([n; KEY_LEN])
    }

    /// Period 251, so no two 64-byte chunks hold the same plaintext.
    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    fn header(key: &MasterKey, chunk_log2: u8) -> Header {
        Header::new(key, SEG, chunk_log2, [0x5a; SALT_LEN], [0xa5; PREFIX_LEN]).unwrap()
    }

    fn encrypt(key: &MasterKey, chunk_log2: u8, plaintext: &[u8]) -> Vec<u8> {
        let mut w = EncryptWriter::with_header(Vec::new(), key, header(key, chunk_log2)).unwrap();
        w.write_all(plaintext).unwrap();
        w.finish().unwrap()
    }

    fn decrypt(key: &MasterKey, segment_id: &str, object: &[u8]) -> Result<Vec<u8>> {
        let mut r = DecryptReader::new(object, key, segment_id)?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn ranged_decryption_gives_every_range_and_refuses_moved_or_cut_chunks() {
        for len in [0, 1, SMALL - 1, SMALL, SMALL + 1, 5 * SMALL, 5 * SMALL + 7] {
            let plain = data(len);
            let object = encrypt(&key(1), SMALL_CHUNK_LOG2, &plain);
            let r = RangedDecrypt::open(&object, object.len() as u64, &key(1), SEG).unwrap();
            assert_eq!(r.plain_len(), len as u64);
            for start in 0..=len as u64 {
                for end in [start, start + 1, start + SMALL as u64 + 3, len as u64] {
                    if end < start || end > len as u64 {
                        continue;
                    }
                    let (off, n) = r.cipher_range(start, end);
                    let cipher = &object[off as usize..(off + n) as usize];
                    assert_eq!(
                        r.decrypt(start, end, cipher).unwrap(),
                        &plain[start as usize..end as usize],
                        "{len}: {start}..{end}"
                    );
                }
            }
        }
        let plain = data(5 * SMALL);
        let object = encrypt(&key(1), SMALL_CHUNK_LOG2, &plain);
        let r = RangedDecrypt::open(&object, object.len() as u64, &key(1), SEG).unwrap();
        let (off, n) = r.cipher_range(SMALL as u64, 2 * SMALL as u64);
        // Chunk 2's bytes given as chunk 1: refused.
        let moved = &object[off as usize + FULL..(off + n) as usize + FULL];
        assert!(r.decrypt(SMALL as u64, 2 * SMALL as u64, moved).is_err());
        let mut flipped = object[off as usize..(off + n) as usize].to_vec();
        flipped[3] ^= 1;
        assert!(r.decrypt(SMALL as u64, 2 * SMALL as u64, &flipped).is_err());
        // An object cut after a chunk boundary: its new last chunk was not sealed as final.
        let cut = &object[..HEADER_LEN + 3 * FULL];
        let r = RangedDecrypt::open(cut, cut.len() as u64, &key(1), SEG).unwrap();
        let (off, n) = r.cipher_range(2 * SMALL as u64, 3 * SMALL as u64);
        assert!(
            r.decrypt(
                2 * SMALL as u64,
                3 * SMALL as u64,
                &cut[off as usize..(off + n) as usize]
            )
            .is_err()
        );
        assert!(RangedDecrypt::open(&object, object.len() as u64, &key(2), SEG).is_err());
        assert!(RangedDecrypt::open(&object, object.len() as u64, &key(1), "seg-b").is_err());
        assert!(RangedDecrypt::open(&object[..HEADER_LEN + 3], HEADER_LEN as u64 + 3, &key(1), SEG).is_err());
    }

    /// The error of an object whose header is fine and whose chunks are not.
    fn chunk_error(object: &[u8]) -> String {
        let mut r = DecryptReader::new(object, &key(1), SEG).unwrap();
        let err = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        err.to_string()
    }

    fn header_error(object: &[u8]) -> String {
        format!("{:#}", DecryptReader::new(object, &key(1), SEG).err().unwrap())
    }

    /// Seals chunks with any index and final flag (small chunks, key 1), to build objects the writer never does.
    fn forge(chunks: &[(u64, &[u8], bool)]) -> Vec<u8> {
        let h = header(&key(1), SMALL_CHUNK_LOG2);
        let stream = Stream::new(&key(1), &h, h.to_bytes());
        let mut out = h.to_bytes();
        for &(index, plaintext, last) in chunks {
            let mut chunk = plaintext.to_vec();
            let nonce = stream.nonce(index, last).unwrap();
            stream
                .key
                .seal_in_place_append_tag(nonce, Aad::from(&stream.aad), &mut chunk)
                .unwrap();
            out.extend_from_slice(&chunk);
        }
        out
    }

    /// 150 bytes in small chunks: chunks 0 and 1 full, chunk 2 final with 22 bytes.
    fn three_chunks() -> Vec<u8> {
        encrypt(&key(1), SMALL_CHUNK_LOG2, &data(150))
    }

    fn chunk_range(i: usize) -> std::ops::Range<usize> {
        HEADER_LEN + i * FULL..HEADER_LEN + (i + 1) * FULL
    }

    #[test]
    fn forge_seals_like_the_writer() {
        let d = data(150);
        assert_eq!(
            forge(&[(0, &d[..64], false), (1, &d[64..128], false), (2, &d[128..], true)]),
            three_chunks()
        );
    }

    #[test]
    fn round_trips_at_chunk_boundaries() {
        let mib = 1 << 20;
        let cases = [
            (SMALL_CHUNK_LOG2, vec![0, 1, 63, 64, 65, 127, 128, 129, 639, 640, 641]),
            (16, vec![(1 << 16) + 1]),
            (
                DEFAULT_CHUNK_LOG2,
                vec![0, 1, mib - 1, mib, mib + 1, 2 * mib - 1, 2 * mib, 2 * mib + 1],
            ),
        ];
        for (log2, sizes) in cases {
            for len in sizes {
                let plaintext = data(len);
                let object = encrypt(&key(1), log2, &plaintext);
                let chunks = len.div_ceil(1 << log2).max(1);
                assert_eq!(
                    object.len(),
                    HEADER_LEN + len + chunks * TAG_LEN,
                    "2^{log2}-byte chunks, {len} bytes"
                );
                assert_eq!(
                    decrypt(&key(1), SEG, &object).unwrap(),
                    plaintext,
                    "2^{log2}-byte chunks, {len} bytes"
                );
            }
        }
    }

    #[test]
    fn new_uses_fresh_randomness_and_1_mib_chunks() {
        let encrypt_new = || {
            let mut w = EncryptWriter::new(Vec::new(), &key(1), SEG).unwrap();
            w.write_all(b"same plaintext").unwrap();
            w.finish().unwrap()
        };
        let (a, b) = (encrypt_new(), encrypt_new());
        assert_ne!(a[7..HEADER_LEN], b[7..HEADER_LEN]);
        assert_ne!(a[HEADER_LEN..], b[HEADER_LEN..]);
        assert_eq!(a[6], DEFAULT_CHUNK_LOG2);
        assert!(is_encrypted(&a));
        assert_eq!(decrypt(&key(1), SEG, &a).unwrap(), b"same plaintext");
    }

    proptest! {
        #[test]
        fn round_trips_any_size_and_split(
            len in 0usize..1500,
            writes in prop::collection::vec(1usize..150, 1..8),
            read_size in 1usize..150,
        ) {
            let plaintext = data(len);
            let mut w = EncryptWriter::with_header(Vec::new(), &key(1), header(&key(1), SMALL_CHUNK_LOG2)).unwrap();
            let mut rest = &plaintext[..];
            for size in writes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, tail) = rest.split_at((*size).min(rest.len()));
                w.write_all(piece).unwrap();
                rest = tail;
            }
            let object = w.finish().unwrap();
            prop_assert_eq!(&object, &encrypt(&key(1), SMALL_CHUNK_LOG2, &plaintext));
            let mut r = DecryptReader::new(&object[..], &key(1), SEG).unwrap();
            let mut out = Vec::new();
            let mut buf = vec![0; read_size];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            prop_assert_eq!(out, plaintext);
        }

        #[test]
        fn header_encoding_round_trips(
            log2 in prop::sample::select(ACCEPTED_CHUNK_LOG2.to_vec()),
            key_id: [u8; KEY_ID_LEN],
            salt: [u8; SALT_LEN],
            nonce_prefix: [u8; PREFIX_LEN],
            segment_id in "[A-Za-z0-9._-]{1,200}",
        ) {
            let h = Header { chunk_log2: log2, key_id, salt, nonce_prefix, segment_id };
            let bytes = h.to_bytes();
            let mut input = [&bytes[..], b"chunks"].concat();
            let mut r = &input[..];
            let (parsed, raw) = Header::read(&mut r).unwrap();
            prop_assert_eq!(r, b"chunks", "read exactly the header");
            prop_assert_eq!(&parsed, &h);
            prop_assert_eq!(&raw, &bytes);
            input.truncate(bytes.len() - 1);
            prop_assert!(Header::read(&mut &input[..]).is_err());
        }

        /// Non-malleability (age's FuzzMalleability): whatever parses serializes to the same bytes.
        #[test]
        fn parsed_headers_serialize_to_their_bytes(tail in prop::collection::vec(any::<u8>(), 0..80)) {
            let input = [&b"W10E\x01\x01\x06"[..], &tail].concat();
            if let Ok((parsed, raw)) = Header::read(&mut &input[..]) {
                prop_assert_eq!(parsed.to_bytes(), raw.clone());
                prop_assert!(input.starts_with(&raw));
            }
        }
    }

    /// Produced by tests/data/crypt/golden.py, an independent implementation with Python's
    /// `cryptography`: pins the header layout, key derivation, nonces and associated data.
    #[test]
    fn golden_vectors() {
        let master = MasterKey::from_bytes(std::array::from_fn(|i| i as u8));
        let salt = std::array::from_fn(|i| 0x40 + i as u8);
        let nonce_prefix = std::array::from_fn(|i| 0xa0 + i as u8);
        let cases: [(u8, usize, &[u8]); 2] = [
            (
                SMALL_CHUNK_LOG2,
                150,
                include_bytes!("../../tests/data/crypt/small-chunks-150.bin"),
            ),
            (
                DEFAULT_CHUNK_LOG2,
                0,
                include_bytes!("../../tests/data/crypt/empty.bin"),
            ),
        ];
        for (log2, len, expected) in cases {
            let h = Header::new(&master, "golden-seg", log2, salt, nonce_prefix).unwrap();
            let mut w = EncryptWriter::with_header(Vec::new(), &master, h).unwrap();
            w.write_all(&data(len)).unwrap();
            assert_eq!(w.finish().unwrap(), expected, "2^{log2}-byte chunks, {len} bytes");
            assert_eq!(decrypt(&master, "golden-seg", expected).unwrap(), data(len));
        }
    }

    #[test]
    fn truncation_is_detected() {
        let object = three_chunks();
        let message = chunk_error(&object[..object.len() - 1]);
        assert!(message.starts_with("final chunk 2 failed authentication"), "{message}");
        let message = chunk_error(&object[..chunk_range(1).end]);
        assert_eq!(
            message,
            "archive truncated: chunk 1 is not the final chunk and nothing follows it"
        );
        let two_full = encrypt(&key(1), SMALL_CHUNK_LOG2, &data(128));
        let message = chunk_error(&two_full[..chunk_range(0).end]);
        assert_eq!(
            message,
            "archive truncated: chunk 0 is not the final chunk and nothing follows it"
        );
        let message = chunk_error(&object[..chunk_range(1).end + 5]);
        assert_eq!(message, "chunk 2 truncated: 5 bytes, shorter than its 16-byte tag");
        assert_eq!(
            chunk_error(&object[..HEADER_LEN]),
            "archive truncated: no chunk after the encryption header"
        );
        assert_eq!(
            header_error(&object[..HEADER_LEN - 1]),
            "encryption header truncated in its segment id"
        );
        assert_eq!(
            header_error(&object[..20]),
            "encryption header truncated after 20 bytes"
        );
    }

    #[test]
    fn a_writer_dropped_before_finish_leaves_an_object_that_fails() {
        let mut object = Vec::new();
        let mut w = EncryptWriter::with_header(&mut object, &key(1), header(&key(1), SMALL_CHUNK_LOG2)).unwrap();
        w.write_all(&data(150)).unwrap();
        drop(w);
        assert_eq!(
            chunk_error(&object),
            "archive truncated: chunk 1 is not the final chunk and nothing follows it"
        );

        let mut object = Vec::new();
        let mut w = EncryptWriter::new(&mut object, &key(1), SEG).unwrap();
        w.write_all(b"less than a chunk").unwrap();
        drop(w);
        assert_eq!(
            chunk_error(&object),
            "archive truncated: no chunk after the encryption header"
        );
    }

    #[test]
    fn trailing_bytes_are_detected() {
        let object = three_chunks();
        let message = chunk_error(&[&object[..], b"x"].concat());
        assert!(message.starts_with("final chunk 2 failed authentication"), "{message}");
        let two_full = encrypt(&key(1), SMALL_CHUNK_LOG2, &data(128));
        let message = chunk_error(&[&two_full[..], b"x"].concat());
        assert!(message.starts_with("chunk 1 failed authentication"), "{message}");

        let d = data(150);
        for (extra, expected) in [(&d[..1], "final chunk 2 failed"), (&d[..64], "chunk 2 failed")] {
            let message = chunk_error(&forge(&[
                (0, &d[..64], false),
                (1, &d[64..128], false),
                (2, &d[128..], true),
                (3, extra, true),
            ]));
            assert!(message.starts_with(expected), "{message}");
        }
        let extra_full = forge(&[(0, &d[..64], false), (1, &d[64..128], true), (2, &d[..64], false)]);
        let message = chunk_error(&extra_full);
        assert!(message.starts_with("chunk 1 failed authentication"), "{message}");
    }

    #[test]
    fn reordered_and_duplicated_chunks_are_detected() {
        let object = three_chunks();
        let [c0, c1, c2] = [0, 1, 2].map(|i| &object[chunk_range(i).start..chunk_range(i).end.min(object.len())]);
        let header = &object[..HEADER_LEN];
        let message = chunk_error(&[header, c1, c0, c2].concat());
        assert!(message.starts_with("chunk 0 failed authentication"), "{message}");
        let message = chunk_error(&[header, c0, c1, c1, c2].concat());
        assert!(message.starts_with("chunk 2 failed authentication"), "{message}");
        let message = chunk_error(&[header, c0, c2].concat());
        assert!(message.starts_with("final chunk 1 failed authentication"), "{message}");
    }

    #[test]
    fn final_flag_only_on_the_last_chunk() {
        let d = data(150);
        let message = chunk_error(&forge(&[(0, &d[..64], true), (1, &d[64..], true)]));
        assert!(message.starts_with("chunk 0 failed authentication"), "{message}");
        let message = chunk_error(&forge(&[
            (0, &d[..64], false),
            (1, &d[64..128], true),
            (2, &d[128..], true),
        ]));
        assert!(message.starts_with("chunk 1 failed authentication"), "{message}");
        let message = chunk_error(&forge(&[(0, &d[..22], false)]));
        assert!(message.starts_with("final chunk 0 failed authentication"), "{message}");
        let message = chunk_error(&forge(&[(0, &d[..64], false), (1, b"", true)]));
        assert_eq!(
            message,
            "chunk 1 is an empty final chunk, allowed only when the whole archive is empty"
        );
        assert_eq!(decrypt(&key(1), SEG, &forge(&[(0, b"", true)])).unwrap(), b"");
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let object = three_chunks();
        for bit in 0..object.len() * 8 {
            let mut tampered = object.clone();
            tampered[bit / 8] ^= 1 << (bit % 8);
            assert!(decrypt(&key(1), SEG, &tampered).is_err(), "bit {bit} flipped");
        }
    }

    #[test]
    fn flipped_bits_name_what_failed() {
        let flipped = |at: usize| {
            let mut object = three_chunks();
            object[at] ^= 1;
            object
        };
        assert!(header_error(&flipped(0)).starts_with("not an encrypted archive"));
        assert!(header_error(&flipped(4)).starts_with("unsupported envelope version 0"));
        assert!(header_error(&flipped(5)).starts_with("unsupported encryption algorithm id 0"));
        assert!(header_error(&flipped(6)).starts_with("unsupported chunk size 2^7"));
        assert!(header_error(&flipped(7)).starts_with("archive encrypted with key id"));
        assert!(header_error(&flipped(HEADER_LEN - 1)).starts_with("archive belongs to segment seg-`, not seg-a"));
        for at in [7 + KEY_ID_LEN, 7 + KEY_ID_LEN + SALT_LEN] {
            let message = chunk_error(&flipped(at));
            assert!(
                message.starts_with("chunk 0 failed authentication"),
                "salt or nonce prefix: {message}"
            );
        }
        let message = chunk_error(&flipped(chunk_range(1).start + 3));
        assert!(
            message.starts_with("chunk 1 failed authentication"),
            "ciphertext: {message}"
        );
        let message = chunk_error(&flipped(chunk_range(2).start + 22 + 5));
        assert!(
            message.starts_with("final chunk 2 failed authentication"),
            "tag: {message}"
        );
    }

    #[test]
    fn plaintext_only_from_verified_chunks_and_errors_persist() {
        let mut object = three_chunks();
        object[chunk_range(1).start] ^= 1;
        let mut r = DecryptReader::new(&object[..], &key(1), SEG).unwrap();
        let mut out = Vec::new();
        let mut buf = [0; 10];
        let err = loop {
            match r.read(&mut buf) {
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(out, data(64));
        let again = r.read(&mut buf).unwrap_err();
        assert_eq!((again.kind(), again.to_string()), (err.kind(), err.to_string()));
    }

    #[test]
    fn wrong_key_is_named_by_key_id() {
        let object = three_chunks();
        let message = format!("{:#}", decrypt(&key(2), SEG, &object).unwrap_err());
        let expected = format!(
            "archive encrypted with key id {}, key file has {}",
            key(1).key_id_hex(),
            key(2).key_id_hex()
        );
        assert_eq!(message, expected);
        // A header relabelled for another key gets past the id check and fails authentication.
        let mut relabelled = object;
        relabelled[7..7 + KEY_ID_LEN].copy_from_slice(&key(2).id);
        let mut r = DecryptReader::new(&relabelled[..], &key(2), SEG).unwrap();
        let message = r.read_to_end(&mut Vec::new()).unwrap_err().to_string();
        assert!(message.starts_with("chunk 0 failed authentication"), "{message}");
    }

    #[test]
    fn objects_are_bound_to_their_segment() {
        let object = three_chunks();
        let message = format!("{:#}", decrypt(&key(1), "seg-b", &object).unwrap_err());
        assert_eq!(message, "archive belongs to segment seg-a, not seg-b");
        let mut renamed = object;
        renamed[HEADER_LEN - 1] = b'b';
        let mut r = DecryptReader::new(&renamed[..], &key(1), "seg-b").unwrap();
        let message = r.read_to_end(&mut Vec::new()).unwrap_err().to_string();
        assert!(message.starts_with("chunk 0 failed authentication"), "{message}");
    }

    #[test]
    fn header_rejects_what_it_cannot_encode_or_read() {
        assert!(Header::new(&key(1), "", DEFAULT_CHUNK_LOG2, [0; SALT_LEN], [0; PREFIX_LEN]).is_err());
        assert!(
            Header::new(
                &key(1),
                &"x".repeat(256),
                DEFAULT_CHUNK_LOG2,
                [0; SALT_LEN],
                [0; PREFIX_LEN]
            )
            .is_err()
        );
        let mut object = three_chunks();
        object[FIXED_HEADER_LEN - 1] = 0;
        assert_eq!(header_error(&object), "encryption header has an empty segment id");
        let mut object = three_chunks();
        object[FIXED_HEADER_LEN] = 0xff;
        assert!(header_error(&object).starts_with("segment id in the encryption header is not UTF-8: "));
        assert!(!is_encrypted(b"W10"));
        assert!(!is_encrypted(&[0x28, 0xb5, 0x2f, 0xfd]));
    }

    #[test]
    fn refuses_more_than_2_pow_32_chunks() {
        let mut w = EncryptWriter::with_header(Vec::new(), &key(1), header(&key(1), SMALL_CHUNK_LOG2)).unwrap();
        w.stream.next = u64::from(u32::MAX);
        w.write_all(&data(SMALL + 1)).unwrap();
        let message = format!("{:#}", w.finish().unwrap_err());
        assert!(
            message.ends_with("object too large to encrypt: more than 2^32 chunks"),
            "{message}"
        );

        let object = three_chunks();
        let mut r = DecryptReader::new(&object[..], &key(1), SEG).unwrap();
        r.stream.next = 1 << 32;
        assert_eq!(
            r.read_to_end(&mut Vec::new()).unwrap_err().to_string(),
            "more than 2^32 chunks"
        );
    }

    #[test]
    fn a_failed_write_breaks_the_writer() {
        #[derive(Debug)]
        struct Fails(usize);
        impl Write for Fails {
            fn write(&mut self, data: &[u8]) -> io::Result<usize> {
                let n = data.len().min(self.0);
                self.0 -= n;
                if n == 0 {
                    Err(io::Error::other("disk full"))
                } else {
                    Ok(n)
                }
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut w =
            EncryptWriter::with_header(Fails(HEADER_LEN + 10), &key(1), header(&key(1), SMALL_CHUNK_LOG2)).unwrap();
        assert_eq!(w.write_all(&data(150)).unwrap_err().to_string(), "disk full");
        let message = format!("{:#}", w.finish().unwrap_err());
        assert!(
            message.ends_with("an earlier write failed, the encrypted object is incomplete"),
            "{message}"
        );
    }

    fn load(contents: &[u8]) -> Result<MasterKey> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        crate::secret::write_private(&path, contents);
        MasterKey::load(&path)
    }

    #[test]
    fn key_file_raw_or_hex() {
        let raw: [u8; KEY_LEN] = std::array::from_fn(|i| (i * 37 + 200) as u8);
        let id = MasterKey::from_bytes(raw).key_id_hex();
        let lower = hex(&raw);
        for contents in [
            raw.to_vec(),
            lower.clone().into(),
            format!("{lower}\n").into(),
            lower.to_uppercase().into(),
        ] {
            assert_eq!(load(&contents).unwrap().key_id_hex(), id);
        }
        assert_eq!(id.len(), 2 * KEY_ID_LEN);
        assert_ne!(key(1).key_id_hex(), key(2).key_id_hex());
        let debug = format!("{:?}", MasterKey::from_bytes(raw));
        assert_eq!(debug, format!("MasterKey {{ id: {id:?}, .. }}"));
    }

    #[test]
    fn bad_key_files_get_clear_errors_without_key_material() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let message = format!("{:#}", MasterKey::load(&missing).unwrap_err());
        assert!(
            message.starts_with(&format!("reading encryption key file {}:", missing.display())),
            "{message}"
        );

        let cases: [(Vec<u8>, &str); 5] = [
            (b"CANARY-31-BYTES-OF-KEY-MATERIAL".to_vec(), "found 31 bytes"),
            (
                [b"cafe".repeat(14), b"c4nary!!".to_vec()].concat(),
                "character 59 is not a hex digit",
            ),
            (b"c0ffee".repeat(11)[..65].to_vec(), "found 65 bytes"),
            (
                b"0123456789abcdef0123456789ABCDEF".to_vec(),
                "holds 32 hex digits, a 16-byte key",
            ),
            (Vec::new(), "found 0 bytes"),
        ];
        for (contents, expected) in cases {
            let message = format!("{:#}", load(&contents).unwrap_err());
            assert!(
                message.starts_with("encryption key file ") && message.contains(expected),
                "{message}"
            );
            for secret in contents.windows(6) {
                assert!(
                    !message.as_bytes().windows(6).any(|w| w == secret),
                    "{message} shows key material"
                );
            }
        }
    }
}
