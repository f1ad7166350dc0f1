//! URL-safe base64 (RFC 4648 §5), strict: the alphabet `A-Z a-z 0-9 - _`, padding exactly as
//! the format asks, no whitespace, and unused bits of the last character zero (so a string
//! has one decoding and one encoding). Buffers are zeroized: they hold authorization keys.

use zeroize::Zeroizing;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Whether a format pads its base64 with `=` to a multiple of four characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Padding {
    /// Telethon: `base64.urlsafe_b64encode` as it is.
    Required,
    /// Pyrogram: the same with the `=` stripped.
    Stripped,
}

/// Where and why a string is not base64 of the expected form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Base64Error {
    /// The character (0-based; a byte offset, equal to the character index up to the
    /// first non-ASCII character, which is where decoding stops).
    pub(super) at: usize,
    /// What is wrong there.
    pub(super) why: &'static str,
}

/// `bytes` in URL-safe base64, padded or not.
pub(super) fn encode(bytes: &[u8], padding: Padding) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(bytes.len().div_ceil(3) * 4));
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let sextets = [
            b[0] >> 2,
            (b[0] & 0x03) << 4 | b[1] >> 4,
            (b[1] & 0x0f) << 2 | b[2] >> 6,
            b[2] & 0x3f,
        ];
        // A chunk of n bytes gives n + 1 characters.
        for &s in &sextets[..chunk.len() + 1] {
            out.push(char::from(ALPHABET[usize::from(s)]));
        }
        if padding == Padding::Required {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// The value of one alphabet character.
fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// The bytes `text` encodes (see the module docs for what is refused).
pub(super) fn decode(text: &str, padding: Padding) -> Result<Zeroizing<Vec<u8>>, Base64Error> {
    let bytes = text.as_bytes();
    // The data characters: everything before the padding.
    let data_len = match padding {
        Padding::Required => {
            if bytes.len() % 4 != 0 {
                return Err(Base64Error {
                    at: bytes.len(),
                    why: "padded base64 ends here, which is not a multiple of 4 characters",
                });
            }
            let pad = bytes.iter().rev().take_while(|&&c| c == b'=').count();
            if pad > 2 {
                return Err(Base64Error {
                    at: bytes.len() - pad,
                    why: "more than two '=' at the end",
                });
            }
            bytes.len() - pad
        }
        Padding::Stripped => bytes.len(),
    };
    if data_len % 4 == 1 {
        return Err(Base64Error {
            at: data_len - 1,
            why: "a lone last character (base64 ends with 2, 3 or 4 characters of a group)",
        });
    }

    let mut out = Zeroizing::new(Vec::with_capacity(data_len / 4 * 3 + 2));
    let mut acc: u32 = 0;
    let mut bits = 0;
    for (at, &c) in bytes[..data_len].iter().enumerate() {
        let value = sextet(c).ok_or(Base64Error {
            at,
            why: match c {
                b'=' if padding == Padding::Stripped => "'=' (this format strips the padding)",
                b'=' => "'=' before the end",
                b'+' | b'/' => "'+' or '/' (standard base64; this format is URL-safe: '-', '_')",
                c if c.is_ascii_whitespace() => "whitespace",
                c if !c.is_ascii() => "a non-ASCII character",
                _ => "a character outside the URL-safe base64 alphabet",
            },
        })?;
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if acc != 0 {
        return Err(Base64Error {
            at: data_len - 1,
            why: "the last character has non-zero unused bits (not a canonical encoding)",
        });
    }
    Ok(out)
}
