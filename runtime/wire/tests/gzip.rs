//! `gzip_packed`: both framings, fixed vectors from Python, corrupt streams, limits.

use std::io::Write;

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use tl_wire::{
    gzip, write_bytes, DecodeError, Deserialize, Limits, Reader, Serialize, DEFAULT_MAX_INFLATED,
    GZIP_PACKED_ID,
};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `gzip_packed` around an already compressed payload.
fn packed(payload: &[u8]) -> Vec<u8> {
    let mut out = GZIP_PACKED_ID.to_le_bytes().to_vec();
    write_bytes(&mut out, payload);
    out
}

fn gzip_of(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib_of(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `Vector<int> [1, 2]` compressed by CPython 3.11.7:
/// `gzip.compress(bytes.fromhex("15c4b51c020000000100000002000000"), mtime=0).hex()` and
/// `zlib.compress(...)` of the same bytes.
const PY_GZIP: &str = "1f8b0800000000000203133db25586898181811188413400e8cae67610000000";
const PY_ZLIB: &str = "789c133db25586898181811188413400185601b0";
/// `gzip.compress(b"hello TL " * 20, mtime=0).hex()`, same interpreter.
const PY_GZIP_TEXT: &str = "1f8b0800000000000203cb48cdc9c95708f151c8183a0c00e1221fe5b4000000";

#[test]
fn python_made_vectors_inflate() {
    let vector = hex("15c4b51c020000000100000002000000");
    assert_eq!(gzip::inflate(&hex(PY_GZIP), 1024).unwrap(), vector);
    assert_eq!(gzip::inflate(&hex(PY_ZLIB), 1024).unwrap(), vector);
    assert_eq!(
        gzip::inflate(&hex(PY_GZIP_TEXT), 1024).unwrap(),
        b"hello TL ".repeat(20)
    );
    assert_eq!(
        Vec::<i32>::from_bytes(&packed(&hex(PY_GZIP))),
        Ok(vec![1, 2])
    );
    assert_eq!(
        Vec::<i32>::from_bytes(&packed(&hex(PY_ZLIB))),
        Ok(vec![1, 2])
    );
}

#[test]
fn both_framings_at_every_level() {
    let strings: Vec<String> = (0..500).map(|i| format!("item {i}")).collect();
    let body = strings.to_bytes();
    for level in [0, 1, 6, 9] {
        for payload in [gzip_of(&body, level), zlib_of(&body, level)] {
            assert_eq!(gzip::inflate(&payload, body.len()).unwrap(), body);
            assert_eq!(
                Vec::<String>::from_bytes(&packed(&payload)),
                Ok(strings.clone())
            );
        }
    }
}

#[test]
fn pack_round_trips() {
    let value = vec![true, false, true];
    let wrapped = gzip::pack(&value.to_bytes());
    assert_eq!(wrapped[..4], GZIP_PACKED_ID.to_le_bytes());
    // Short bytes prefix, then gzip magic.
    assert_eq!(wrapped[5..7], [0x1f, 0x8b]);
    assert_eq!(wrapped.len() % 4, 0);
    assert_eq!(Vec::<bool>::from_bytes(&wrapped), Ok(value.clone()));
    // A bool on its own may be packed too.
    assert_eq!(bool::from_bytes(&gzip::pack(&true.to_bytes())), Ok(true));
    // Packed twice: allowed, each layer counts toward the depth.
    let twice = gzip::pack(&wrapped);
    assert_eq!(Vec::<bool>::from_bytes(&twice), Ok(value));
    let limits = Limits {
        max_depth: 3,
        ..Limits::DEFAULT
    };
    // gzip, gzip, Vector: 3 levels; the Bool elements would be the 4th.
    assert_eq!(
        Vec::<bool>::deserialize(&mut Reader::with_limits(&twice, limits)),
        Err(DecodeError::TooDeep { limit: 3 })
    );
    assert!(Vec::<i32>::deserialize(&mut Reader::with_limits(
        &gzip::pack(&gzip::pack(&vec![7i32].to_bytes())),
        limits
    ))
    .is_ok());
}

#[test]
fn packing_chain_beyond_the_limit_is_too_deep() {
    let mut data = vec![1i32].to_bytes();
    for _ in 0..70 {
        data = gzip::pack(&data);
    }
    assert_eq!(
        Vec::<i32>::from_bytes(&data),
        Err(DecodeError::TooDeep { limit: 64 })
    );
}

#[test]
fn read_boxed_reads_what_follows_the_packed_object() {
    let mut buf = gzip::pack(&vec![5i64].to_bytes());
    buf.extend_from_slice(&9i32.to_le_bytes());
    let mut r = Reader::new(&buf);
    assert_eq!(Vec::<i64>::deserialize(&mut r), Ok(vec![5]));
    assert_eq!(r.read_i32(), Ok(9));
    assert_eq!(r.remaining(), 0);
}

#[test]
fn inflated_data_must_be_consumed() {
    let mut body = vec![1i32].to_bytes();
    body.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(
        Vec::<i32>::from_bytes(&gzip::pack(&body)),
        Err(DecodeError::TrailingBytes { count: 4 })
    );
}

#[test]
fn corrupt_streams_are_bad_gzip() {
    let body = b"some TL payload ".repeat(64);
    let is_bad = |r: Result<Vec<u8>, DecodeError>| matches!(r, Err(DecodeError::BadGzip { .. }));
    for good in [gzip_of(&body, 6), zlib_of(&body, 6)] {
        // Truncated anywhere after the header.
        for cut in [3, good.len() / 2, good.len() - 1] {
            assert!(is_bad(gzip::inflate(&good[..cut], 1 << 20)), "cut at {cut}");
        }
        // A flipped bit in the checksum trailer.
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(is_bad(gzip::inflate(&bad, 1 << 20)));
        // Garbage where the deflate data is.
        let mut bad = good.clone();
        let mid = bad.len() / 2;
        bad[mid..mid + 4].copy_from_slice(&[0xff; 4]);
        assert!(is_bad(gzip::inflate(&bad, 1 << 20)));
    }
    // Neither framing.
    assert_eq!(
        gzip::inflate(b"PK\x03\x04", 100),
        Err(DecodeError::BadGzip {
            reason: "neither gzip nor zlib framing"
        })
    );
    assert!(is_bad(gzip::inflate(&[], 100)));
    assert!(is_bad(gzip::inflate(&[0x78], 100)));
    // A zlib header with a wrong header checksum.
    assert!(is_bad(gzip::inflate(&[0x78, 0x9d, 0, 0], 100)));
    // Through the reader too.
    assert!(matches!(
        Vec::<i32>::from_bytes(&packed(b"garbage")),
        Err(DecodeError::BadGzip { .. })
    ));
    // A packed_data length beyond the input.
    assert!(matches!(
        Vec::<i32>::from_bytes(&hex("a1cf72300a000000")),
        Err(DecodeError::LengthPrefixTooLarge { at: 4, len: 10, .. })
    ));
}

#[test]
fn inflation_limit() {
    let body = vec![0u8; 1000];
    let z = zlib_of(&body, 9);
    assert_eq!(gzip::inflate(&z, 1000).unwrap().len(), 1000);
    assert_eq!(
        gzip::inflate(&z, 999),
        Err(DecodeError::InflatedTooLarge { limit: 999 })
    );
    // The reader's limit applies to gzip_packed.
    let small = Limits {
        max_inflated: 10,
        ..Limits::DEFAULT
    };
    let wrapped = gzip::pack(&vec![1i64, 2].to_bytes());
    assert_eq!(
        Vec::<i64>::deserialize(&mut Reader::with_limits(&wrapped, small)),
        Err(DecodeError::InflatedTooLarge { limit: 10 })
    );
    // The default limit is 16 MiB.
    assert_eq!(DEFAULT_MAX_INFLATED, 16 * 1024 * 1024);
    let bomb = gzip_of(&vec![0u8; DEFAULT_MAX_INFLATED + 1], 1);
    assert!(bomb.len() < 100_000);
    assert_eq!(
        bool::from_bytes(&packed(&bomb)),
        Err(DecodeError::InflatedTooLarge {
            limit: DEFAULT_MAX_INFLATED
        })
    );
}
