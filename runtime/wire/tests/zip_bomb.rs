//! A zip bomb must fail without holding more than the limit: measured with a counting
//! global allocator, so this file has a single test (others would disturb the count).

use std::io::Write;

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use tl_wire::{gzip, write_bytes, DecodeError, Deserialize, Limits, Reader, GZIP_PACKED_ID};

#[path = "util/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{peak_during, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// 64 MiB of zeros, compressed by `encoder` to about 64 KiB.
fn bomb<W: Write>(mut encoder: W, finish: impl FnOnce(W) -> std::io::Result<Vec<u8>>) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&zeros).unwrap();
    }
    let out = finish(encoder).unwrap();
    assert!(out.len() < 128 * 1024, "{}", out.len());
    out
}

#[test]
fn zip_bomb_stays_within_the_limit() {
    const LIMIT: usize = 3 << 20;
    // What the decoder may use besides the output buffer.
    const SLACK: usize = 256 << 10;
    let gz = bomb(
        GzEncoder::new(Vec::new(), Compression::best()),
        GzEncoder::finish,
    );
    let zlib = bomb(
        ZlibEncoder::new(Vec::new(), Compression::best()),
        ZlibEncoder::finish,
    );
    let limits = Limits {
        max_inflated: LIMIT,
        ..Limits::DEFAULT
    };
    for payload in [gz, zlib] {
        let (result, peak) = peak_during(|| gzip::inflate(&payload, LIMIT));
        assert_eq!(result, Err(DecodeError::InflatedTooLarge { limit: LIMIT }));
        assert!(
            peak <= LIMIT + SLACK,
            "peak {peak} bytes for a {LIMIT}-byte limit"
        );

        // Same through the reader, with the bomb inside gzip_packed.
        let mut packed = GZIP_PACKED_ID.to_le_bytes().to_vec();
        write_bytes(&mut packed, &payload);
        let (result, peak) =
            peak_during(|| Vec::<i32>::deserialize(&mut Reader::with_limits(&packed, limits)));
        assert_eq!(result, Err(DecodeError::InflatedTooLarge { limit: LIMIT }));
        assert!(
            peak <= LIMIT + SLACK,
            "peak {peak} bytes for a {LIMIT}-byte limit"
        );
    }
}
