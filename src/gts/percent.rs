//! Percent-encoding as Warp 10 does it: `WarpURLEncoder` on output (everything but
//! `[A-Za-z0-9.*_-]` as upper-case `%XX` per UTF-8 byte), `WarpURLDecoder` on input (`%XX` only,
//! `+` stays a plus, raw characters pass through).

use anyhow::{Result, bail};
use std::borrow::Cow;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

const fn keep_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b'*' || c == b'_';
        b += 1;
    }
    t
}

static KEEP: [bool; 256] = keep_table();

/// Appends the WarpURLEncoder form of `raw` to `out`.
pub fn encode(out: &mut Vec<u8>, raw: &[u8]) {
    let mut start = 0;
    for (i, &b) in raw.iter().enumerate() {
        if !KEEP[b as usize] {
            out.extend_from_slice(&raw[start..i]);
            out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            start = i + 1;
        }
    }
    out.extend_from_slice(&raw[start..]);
}

pub fn encode_to_string(raw: &str) -> String {
    let mut out = Vec::with_capacity(raw.len());
    encode(&mut out, raw.as_bytes());
    String::from_utf8(out).expect("percent-encoding yields ASCII")
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes. A malformed escape (`%G1`, a trailing `%`) is an error naming its offset.
pub fn decode(raw: &[u8]) -> Result<Cow<'_, [u8]>> {
    if !raw.contains(&b'%') {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hi = raw.get(i + 1).copied().and_then(hex_val);
            let lo = raw.get(i + 2).copied().and_then(hex_val);
            match (hi, lo) {
                (Some(h), Some(l)) => out.push(h << 4 | l),
                _ => bail!("invalid percent-escape at byte {i}"),
            }
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Ok(Cow::Owned(out))
}

/// Decodes and requires UTF-8 (Warp 10 names and strings are Java strings encoded as UTF-8).
pub fn decode_str(raw: &[u8]) -> Result<String> {
    let bytes = decode(raw)?;
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => bail!("percent-decoded text is not valid UTF-8 ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_jdk_table() {
        for (raw, enc) in [
            ("cpu.usage", "cpu.usage"),
            ("a b", "a%20b"),
            ("é", "%C3%A9"),
            ("a{b}", "a%7Bb%7D"),
            ("k=v", "k%3Dv"),
            ("x,y", "x%2Cy"),
            ("~re", "%7Ere"),
            ("a+b", "a%2Bb"),
            ("50%", "50%25"),
            ("a/b:c", "a%2Fb%3Ac"),
            ("quote'\"", "quote%27%22"),
            ("*-._", "*-._"),
            ("€", "%E2%82%AC"),
        ] {
            assert_eq!(encode_to_string(raw), enc);
            assert_eq!(decode_str(enc.as_bytes()).unwrap(), raw);
        }
    }

    #[test]
    fn decoding_rules() {
        assert_eq!(decode_str(b"a+b").unwrap(), "a+b");
        assert_eq!(decode_str(b"raw{x}").unwrap(), "raw{x}");
        assert_eq!(decode_str(b"%c3%a9").unwrap(), "é");
        assert!(decode(b"%G1").is_err());
        assert!(decode(b"abc%").is_err());
        assert!(decode(b"abc%4").is_err());
        assert!(decode_str(b"%FF").is_err());
    }
}
