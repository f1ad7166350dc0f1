//! Just enough PEM, base64 and DER to read and write RSA keys (not public API).
//!
//! Everything is bounds-checked: a malformed key yields `None`, never a panic, and nothing is
//! allocated beyond the size of the input.

/// Extracts and base64-decodes the body of the first PEM block labelled `label`.
pub(crate) fn pem_decode(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    base64_decode(&text[start..stop])
}

/// Wraps `der` in a PEM block with 64-character lines.
pub(crate) fn pem_encode(der: &[u8], label: &str) -> String {
    let b64 = base64_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn sextet(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// Standard base64 with `=` padding; ASCII whitespace is ignored.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let chars: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if chars.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(chars.len() / 4 * 3);
    let groups = chars.len() / 4;
    for (i, group) in chars.chunks_exact(4).enumerate() {
        let last = i + 1 == groups;
        let pad = group.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &group[..4 - pad] {
            acc = (acc << 6) | sextet(c)?;
        }
        acc <<= 6 * pad as u32;
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

/// Standard base64 with `=` padding.
pub(crate) fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let mut b = [0u8; 3];
        b[..chunk.len()].copy_from_slice(chunk);
        let acc = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((acc >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A forward-only DER reader.
pub(crate) struct Der<'a> {
    data: &'a [u8],
}

pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;

impl<'a> Der<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Reads one element with the given tag and returns its contents.
    pub(crate) fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (&t, rest) = self.data.split_first()?;
        if t != tag {
            return None;
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            first as usize
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let mut len = 0usize;
            for &b in &rest[..n] {
                len = (len << 8) | b as usize;
            }
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return None;
        }
        let (content, tail) = rest.split_at(len);
        self.data = tail;
        Some(content)
    }

    /// Reads a non-negative INTEGER and returns its big-endian magnitude without leading zeros.
    pub(crate) fn read_uint(&mut self) -> Option<&'a [u8]> {
        let content = self.read(TAG_INTEGER)?;
        if content.is_empty() || content[0] & 0x80 != 0 {
            return None;
        }
        let zeros = content.iter().take_while(|&&b| b == 0).count();
        Some(&content[zeros..])
    }
}

/// Encodes one DER element.
pub(crate) fn write(tag: u8, content: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// Encodes a non-negative INTEGER from its big-endian magnitude.
pub(crate) fn write_uint(magnitude: &[u8], out: &mut Vec<u8>) {
    let zeros = magnitude.iter().take_while(|&&b| b == 0).count();
    let m = &magnitude[zeros..];
    let mut content = Vec::with_capacity(m.len() + 1);
    if m.is_empty() || m[0] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(m);
    write(TAG_INTEGER, &content, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_roundtrip_and_rejects() {
        for len in 0..20 {
            let data: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
            let enc = base64_encode(&data);
            assert_eq!(base64_decode(&enc).unwrap(), data);
        }
        // RFC 4648 section 10 test vectors.
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm9v\nYg==").unwrap(), b"foob");
        assert!(base64_decode("Zm9").is_none());
        assert!(base64_decode("Zm=v").is_none());
        assert!(base64_decode("Z===").is_none());
        assert!(base64_decode("Zm9!").is_none());
    }

    #[test]
    fn der_rejects_truncation() {
        let mut out = Vec::new();
        write_uint(&[0x80, 1], &mut out);
        assert_eq!(out, [2, 3, 0, 0x80, 1]);
        assert_eq!(Der::new(&out).read_uint(), Some(&[0x80, 1][..]));
        for cut in 0..out.len() {
            assert!(Der::new(&out[..cut]).read_uint().is_none());
        }
        // Negative integers and absurd lengths are refused.
        assert!(Der::new(&[2, 1, 0x80]).read_uint().is_none());
        assert!(Der::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).read(0x30).is_none());
        assert!(Der::new(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff])
            .read(0x30)
            .is_none());
    }
}
