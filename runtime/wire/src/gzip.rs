//! `gzip_packed#3072cfa1 packed_data:bytes = Object`: packing and bounded inflation.
//!
//! Reading `gzip_packed` is built into [`Reader::read_boxed`](crate::Reader::read_boxed);
//! this module has the two halves it and a sender need.

use std::io::{Read, Write};

use bytes::BufMut;
use flate2::bufread::{GzDecoder, ZlibDecoder};
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::error::DecodeError;
use crate::primitives::write_bytes;
use crate::GZIP_PACKED_ID;

/// Wraps a serialized boxed object into `gzip_packed#3072cfa1` with gzip framing.
///
/// # Panics
/// If the compressed data is longer than [`MAX_BYTES_LEN`](crate::MAX_BYTES_LEN).
pub fn pack(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    encoder
        .write_all(data)
        .expect("gzip into a Vec cannot fail");
    let compressed = encoder.finish().expect("gzip into a Vec cannot fail");
    let mut out = Vec::with_capacity(compressed.len() + 12);
    out.put_u32_le(GZIP_PACKED_ID);
    write_bytes(&mut out, &compressed);
    out
}

/// The most a deflate stream can expand: 258 bytes from a 2-bit code, 1032:1 (RFC 1951).
const MAX_DEFLATE_RATIO: usize = 1032;

/// Inflates a `gzip_packed` payload, gzip (`1f 8b`) or zlib (`78 ..`) framed.
///
/// The output buffer never has a capacity above `limit`: a larger result is
/// [`DecodeError::InflatedTooLarge`]; a stream that is neither framing, is corrupt, fails
/// its checksum or ends early is [`DecodeError::BadGzip`]. What is allocated up front is
/// bounded by what the input can inflate to, whatever size its gzip trailer claims.
pub fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    // Deflate cannot expand more than MAX_DEFLATE_RATIO times: a claim beyond it is a lie.
    let justified = data.len().saturating_mul(MAX_DEFLATE_RATIO);
    match data {
        [0x1f, 0x8b, ..] => {
            // The gzip trailer ends with the inflated size mod 2^32: usually exact, but the
            // sender chose it.
            let claimed = data
                .last_chunk::<4>()
                .map_or(0, |size| u32::from_le_bytes(*size) as usize);
            read_bounded(GzDecoder::new(data), limit, claimed.min(justified))
        }
        [cmf, flg, ..] if is_zlib_header(*cmf, *flg) => {
            read_bounded(ZlibDecoder::new(data), limit, data.len().saturating_mul(4))
        }
        _ => Err(DecodeError::BadGzip {
            reason: "neither gzip nor zlib framing",
        }),
    }
}

/// A zlib header (RFC 1950): deflate method, window <= 32 KiB, header checksum.
fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// Reads `decoder` to its end into a buffer whose capacity never exceeds `limit`, starting
/// from the (untrusted) size guess `hint`.
fn read_bounded(mut decoder: impl Read, limit: usize, hint: usize) -> Result<Vec<u8>, DecodeError> {
    let too_large = DecodeError::InflatedTooLarge { limit };
    let mut out = Vec::with_capacity(hint.min(limit));
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => {
                // What the caller keeps is what it counts against its budget: no slack.
                out.shrink_to_fit();
                return Ok(out);
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => {
                return Err(DecodeError::BadGzip {
                    reason: "corrupt or truncated compressed stream",
                })
            }
        };
        let new_len = out.len().checked_add(n).ok_or(too_large.clone())?;
        if new_len > limit {
            return Err(too_large);
        }
        if new_len > out.capacity() {
            // Grow geometrically, but never past the limit.
            let target = out.capacity().saturating_mul(2).max(new_len).min(limit);
            out.reserve_exact(target - out.len());
        }
        out.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}
