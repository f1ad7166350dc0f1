//! obfuscated2: a 64-byte random header, then AES-256-CTR over everything in both directions.
//!
//! Header layout (core.telegram.org, "MTProto transports", Transport obfuscation):
//! bytes 8..40 are the client-to-server key and 40..56 its IV; the server-to-client key and IV
//! sit at the same offsets of the reversed bytes 8..56; 56..60 hold the inner transport's tag
//! and 60..62 the signed little-endian DC id. The client encrypts the whole header with its
//! stream and sends bytes 0..56 as generated and 56..64 encrypted; the streams then continue.
//! With an MTProxy secret each key becomes `SHA256(key + secret)`.

use std::fmt;

use mtproto_crypto::ctr::AesCtr;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Transport, TransportError};

/// Length of the obfuscation header.
pub const HEADER_LEN: usize = 64;

/// How many random headers a client draws before blaming the generator.
const MAX_ATTEMPTS: usize = 1000;

/// First 4 bytes that a header must not start with, so that a server (or a middlebox) never
/// mistakes it for another protocol: HTTP verbs, a TLS handshake record, the plain
/// intermediate and padded tags, and `PVrG` (also avoided by Telethon's obfuscated client).
const FORBIDDEN_STARTS: [[u8; 4]; 8] = [
    *b"HEAD",
    *b"POST",
    *b"GET ",
    *b"OPTI",
    *b"PVrG",
    0x0201_0316u32.to_le_bytes(),
    [0xdd; 4],
    [0xee; 4],
];

/// Whether a client may send `header` (its first 8 bytes are what the peer sees in clear).
pub(crate) fn is_allowed_start(header: &[u8]) -> bool {
    header[0] != 0xef
        && !FORBIDDEN_STARTS.iter().any(|bad| header[..4] == bad[..])
        && header[4..8] != [0; 4]
}

/// Whether the first 4 bytes rule out obfuscated2 and every plain transport (HTTP, TLS).
pub(crate) fn is_foreign_protocol(start: &[u8; 4]) -> bool {
    FORBIDDEN_STARTS[..6].iter().any(|bad| start == bad)
}

/// The tag of an inner transport inside the obfuscation header.
pub(crate) fn tag(transport: Transport) -> Option<[u8; 4]> {
    match transport {
        Transport::Abridged => Some([0xef; 4]),
        Transport::Intermediate => Some([0xee; 4]),
        Transport::PaddedIntermediate => Some([0xdd; 4]),
        Transport::Full => None,
    }
}

fn transport_for_tag(tag: [u8; 4]) -> Option<Transport> {
    [
        Transport::Abridged,
        Transport::Intermediate,
        Transport::PaddedIntermediate,
    ]
    .into_iter()
    .find(|&t| self::tag(t) == Some(tag))
}

/// An MTProxy secret: 16 bytes, optionally announced with a leading `0xdd` byte meaning the
/// proxy only accepts padded intermediate. `Debug` is redacted and the key is zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct MtProxySecret {
    key: [u8; 16],
    padded_only: bool,
}

impl MtProxySecret {
    /// Parses a secret as proxies publish it (after hex decoding): 16 bytes, or 17 bytes
    /// starting with `0xdd`. Fake-TLS (`0xee`) secrets are not supported.
    pub fn from_bytes(secret: &[u8]) -> Result<Self, TransportError> {
        let (key, padded_only) = match secret {
            [0xdd, key @ ..] if key.len() == 16 => (key, true),
            key if key.len() == 16 => (key, false),
            _ => return Err(TransportError::BadSecret { len: secret.len() }),
        };
        Ok(Self {
            key: key.try_into().expect("16 bytes"),
            padded_only,
        })
    }

    /// The 16 bytes mixed into the obfuscation keys.
    pub fn key(&self) -> &[u8; 16] {
        &self.key
    }

    /// Whether the secret was given with the `0xdd` prefix: only padded intermediate may be
    /// used through this proxy.
    pub fn requires_padding(&self) -> bool {
        self.padded_only
    }
}

impl fmt::Debug for MtProxySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MtProxySecret")
            .field("key", &"<redacted>")
            .field("padded_only", &self.padded_only)
            .finish()
    }
}

/// The two CTR streams of an obfuscated connection.
#[derive(Debug)]
pub(crate) struct Streams {
    /// Encrypts what this side sends.
    pub(crate) encrypt: AesCtr,
    /// Decrypts what this side receives.
    pub(crate) decrypt: AesCtr,
}

/// The key and IV at offsets 8..40 and 40..56 of `bytes` (a header, or its reversed middle
/// placed at the same offsets), with the secret mixed in.
fn stream_at(bytes: &[u8; HEADER_LEN], secret: Option<&MtProxySecret>) -> AesCtr {
    let mut key: [u8; 32] = bytes[8..40].try_into().expect("32 bytes");
    let iv: [u8; 16] = bytes[40..56].try_into().expect("16 bytes");
    if let Some(secret) = secret {
        let mut hash = Sha256::new();
        hash.update(key);
        hash.update(secret.key);
        key = hash.finalize().into();
    }
    let stream = AesCtr::new(&key, &iv);
    key.zeroize();
    stream
}

/// `header` with bytes 8..56 reversed in place.
fn reversed(header: &[u8; HEADER_LEN]) -> [u8; HEADER_LEN] {
    let mut out = *header;
    out[8..56].reverse();
    out
}

/// Draws a client header and derives both streams. Returns the 64 bytes to send first.
pub(crate) fn client_header(
    rng: &mut impl CryptoRngCore,
    transport: Transport,
    dc_id: i16,
    secret: Option<&MtProxySecret>,
) -> Result<([u8; HEADER_LEN], Streams), TransportError> {
    let tag = tag(transport).ok_or(TransportError::UnknownTransport)?;
    let mut header = [0u8; HEADER_LEN];
    let mut found = false;
    for _ in 0..MAX_ATTEMPTS {
        rng.try_fill_bytes(&mut header)
            .map_err(|_| TransportError::Randomness)?;
        if is_allowed_start(&header) {
            found = true;
            break;
        }
    }
    if !found {
        return Err(TransportError::Randomness);
    }
    header[56..60].copy_from_slice(&tag);
    header[60..62].copy_from_slice(&dc_id.to_le_bytes());
    let mut streams = Streams {
        encrypt: stream_at(&header, secret),
        decrypt: stream_at(&reversed(&header), secret),
    };
    let mut encrypted = header;
    streams.encrypt.apply(&mut encrypted);
    header[56..].copy_from_slice(&encrypted[56..]);
    encrypted.zeroize();
    Ok((header, streams))
}

/// What a server learns from a client's header.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) streams: Streams,
    pub(crate) transport: Transport,
    pub(crate) dc_id: i16,
}

/// Derives the server's streams from a received header and reads the tag and DC id.
pub(crate) fn server_accept(
    header: &[u8; HEADER_LEN],
    secret: Option<&MtProxySecret>,
) -> Result<Accepted, TransportError> {
    let mut streams = Streams {
        encrypt: stream_at(&reversed(header), secret),
        decrypt: stream_at(header, secret),
    };
    let mut plain = *header;
    streams.decrypt.apply(&mut plain);
    let tag: [u8; 4] = plain[56..60].try_into().expect("4 bytes");
    let dc_id = i16::from_le_bytes([plain[60], plain[61]]);
    plain.zeroize();
    let transport =
        transport_for_tag(tag).ok_or(TransportError::BadObfuscationTag(u32::from_le_bytes(tag)))?;
    if secret.is_some_and(|s| s.padded_only) && transport != Transport::PaddedIntermediate {
        return Err(TransportError::PaddingRequired);
    }
    Ok(Accepted {
        streams,
        transport,
        dc_id,
    })
}
