//! Full framing: `length(4) seq_no(4) payload crc32(4)`, where `length = 12 + payload` and the
//! IEEE CRC32 covers length, seq_no and payload. Each direction numbers its frames from 0.

use super::{Decoded, DecodedKind, Role, TransportError};

/// The longest payload whose envelope length still fits a positive `int`.
pub(crate) const MAX_PAYLOAD: usize = 0x7fff_ffff - 12;

/// Per-connection state: one sequence counter per direction.
#[derive(Debug, Default)]
pub(crate) struct Full {
    send_seq: u32,
    recv_seq: u32,
}

impl Full {
    /// Appends one frame and advances the send counter.
    pub(crate) fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&((payload.len() + 12) as u32).to_le_bytes());
        out.extend_from_slice(&self.send_seq.to_le_bytes());
        out.extend_from_slice(payload);
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_le_bytes());
        self.send_seq = self.send_seq.wrapping_add(1);
    }

    /// Reads one frame from the front of `buf`, or `None` if it is not complete yet. The CRC
    /// is checked first (a corrupted seq_no shows as a CRC error), then the seq_no.
    pub(crate) fn decode(
        &mut self,
        buf: &[u8],
        role: Role,
        max: usize,
    ) -> Result<Option<Decoded>, TransportError> {
        let Some(word) = buf.get(..4) else {
            return Ok(None);
        };
        let word: [u8; 4] = word.try_into().expect("4 bytes");
        let signed = i32::from_le_bytes(word);
        if signed < 0 && role == Role::Client {
            // A bare error code instead of an envelope.
            return Err(TransportError::Server(
                super::TransportErrorCode::from_code(signed),
            ));
        }
        let len = u64::from(u32::from_le_bytes(word));
        if len < 16 || len % 4 != 0 {
            return Err(TransportError::BadLength { len });
        }
        if len - 12 > max as u64 {
            return Err(TransportError::FrameTooLarge { len: len - 12, max });
        }
        let len = len as usize;
        if buf.len() < len {
            return Ok(None);
        }
        let got = u32::from_le_bytes(buf[len - 4..len].try_into().expect("4 bytes"));
        let expected = crc32fast::hash(&buf[..len - 4]);
        if got != expected {
            return Err(TransportError::BadCrc { expected, got });
        }
        let seq = u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes"));
        if seq != self.recv_seq {
            return Err(TransportError::BadSeq {
                expected: self.recv_seq,
                got: seq,
            });
        }
        self.recv_seq = self.recv_seq.wrapping_add(1);
        Ok(Some(Decoded {
            consumed: len,
            kind: DecodedKind::Packet {
                payload: 8..len - 4,
                quick_ack: false,
            },
        }))
    }
}
