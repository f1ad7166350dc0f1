//! Server side: which transport a client speaks, from its first bytes.

use super::obfuscated::{is_foreign_protocol, HEADER_LEN};
use super::{Transport, TransportError};

/// The verdict on the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Detected {
    /// Not enough bytes to decide.
    NeedMore,
    /// A plain transport; its opening tag is `tag_len` bytes long (0 for full).
    Plain {
        transport: Transport,
        tag_len: usize,
    },
    /// At least [`HEADER_LEN`] bytes of an obfuscated2 header.
    Obfuscated,
}

/// Classifies the start of a client stream. With `obfuscated_only` (an MTProxy secret is
/// configured), plain transports are refused.
pub(crate) fn detect(buf: &[u8], obfuscated_only: bool) -> Result<Detected, TransportError> {
    let plain = |transport, tag_len| {
        if obfuscated_only {
            Err(TransportError::UnknownTransport)
        } else {
            Ok(Detected::Plain { transport, tag_len })
        }
    };
    let Some(&first) = buf.first() else {
        return Ok(Detected::NeedMore);
    };
    if first == 0xef {
        return plain(Transport::Abridged, 1);
    }
    let Some(start) = buf.get(..4) else {
        return Ok(Detected::NeedMore);
    };
    let start: [u8; 4] = start.try_into().expect("4 bytes");
    if start == [0xee; 4] {
        return plain(Transport::Intermediate, 4);
    }
    if start == [0xdd; 4] {
        return plain(Transport::PaddedIntermediate, 4);
    }
    if is_foreign_protocol(&start) {
        return Err(TransportError::UnknownTransport);
    }
    let Some(seq) = buf.get(4..8) else {
        return Ok(Detected::NeedMore);
    };
    // An obfuscated header never has zero bytes 4..8, so this is full's first seq_no; the
    // full decoder then validates the length.
    if seq == [0; 4] {
        return plain(Transport::Full, 0);
    }
    if buf.len() < HEADER_LEN {
        return Ok(Detected::NeedMore);
    }
    Ok(Detected::Obfuscated)
}
