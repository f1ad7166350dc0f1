//! A zip bomb must fail without holding more than the limit: measured with a counting
//! global allocator, so this file has a single test (others would disturb the count).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use tl_wire::{gzip, write_bytes, DecodeError, Deserialize, Limits, Reader, GZIP_PACKED_ID};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates to the system allocator and only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        System.dealloc(ptr, layout)
    }

    // Counted as growing in place (what glibc's mremap does for large blocks): the test
    // is about the capacity the crate asks for, not the allocator's copying strategy.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::SeqCst) + new_size
                - layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated at the peak of `f` beyond what was allocated before it.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - base)
}

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
