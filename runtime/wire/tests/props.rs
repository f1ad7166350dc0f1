//! Property tests: every type round-trips, and no input makes the reader panic.

use std::io::Write;

use proptest::collection::vec;
use proptest::prelude::*;
use tl_wire::{
    gzip, DecodeError, Deserialize, Limits, RawObject, RawVec, Reader, Serialize, BOOL_FALSE_ID,
    BOOL_TRUE_ID, GZIP_PACKED_ID, VECTOR_ID,
};

fn round_trip<T: Serialize + Deserialize + PartialEq + std::fmt::Debug>(value: &T) {
    let bytes = value.to_bytes();
    assert_eq!(bytes.len() % 4, 0, "TL values are whole 32-bit words");
    assert_eq!(&T::from_bytes(&bytes).unwrap(), value);
}

/// Byte strings around the short/long boundary as well as small ones.
fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..20),
        vec(any::<u8>(), 250..260),
        vec(any::<u8>(), 0..2000)
    ]
}

/// Input built from TL-looking words, so decoding gets deep before it fails.
fn tl_like() -> impl Strategy<Value = Vec<u8>> {
    let word = prop_oneof![
        Just(VECTOR_ID.to_le_bytes().to_vec()),
        Just(GZIP_PACKED_ID.to_le_bytes().to_vec()),
        Just(BOOL_TRUE_ID.to_le_bytes().to_vec()),
        Just(BOOL_FALSE_ID.to_le_bytes().to_vec()),
        (0i32..8).prop_map(|n| n.to_le_bytes().to_vec()),
        any::<i32>().prop_map(|n| n.to_le_bytes().to_vec()),
        (0u8..=255, vec(any::<u8>(), 0..8)).prop_map(|(len, mut rest)| {
            rest.insert(0, len);
            rest
        }),
        Just(vec![0x1f, 0x8b, 8, 0]),
        Just(vec![0x78, 0x9c]),
        vec(any::<u8>(), 0..5),
    ];
    vec(word, 0..40).prop_map(|words| words.concat())
}

/// Runs every read method and several decoders over `data`; only panics matter.
fn read_everything(data: &[u8]) {
    let mut r = Reader::new(data);
    let _ = r.peek_u32();
    let _ = r.read_u32();
    let _ = r.read_i32();
    let _ = r.read_i64();
    let _ = r.read_f64();
    let _ = r.read_int128();
    let _ = r.read_int256();
    let _ = r.read_bytes();
    let _ = r.read_string();
    let _ = r.read_bool();
    let _ = r.expect_id(VECTOR_ID, "Vector");
    let _ = r.read_raw(data.len() / 3);
    let _ = r.read_rest();
    assert_eq!(r.remaining(), 0);

    // Each decoder from the start, with default and with tiny limits.
    let tiny = Limits {
        max_depth: 3,
        max_inflated: 64,
    };
    for limits in [Limits::DEFAULT, tiny] {
        let reader = || Reader::with_limits(data, limits);
        let _ = Vec::<Vec<String>>::deserialize(&mut reader());
        let _ = Vec::<Vec<u8>>::deserialize(&mut reader());
        let _ = Vec::<bool>::deserialize(&mut reader());
        let _ = Vec::<i64>::deserialize(&mut reader());
        let _ = RawVec::<[u8; 16]>::deserialize(&mut reader());
        let _ = RawVec::<Vec<Vec<String>>>::deserialize(&mut reader());
        let _ = RawObject::deserialize(&mut reader());
        let _ = bool::deserialize(&mut reader());
        let _ = reader().read_boxed(|id, r| {
            let _ = r.read_bytes();
            Ok(id)
        });
    }
}

fn gzipped(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlibbed(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn packed(payload: &[u8]) -> Vec<u8> {
    let mut out = GZIP_PACKED_ID.to_le_bytes().to_vec();
    tl_wire::write_bytes(&mut out, payload);
    out
}

proptest! {
    #[test]
    fn numbers_round_trip(a: i32, b: i64, c: [u8; 16], d: [u8; 32], e: bool) {
        round_trip(&a);
        round_trip(&b);
        round_trip(&c);
        round_trip(&d);
        round_trip(&e);
    }

    #[test]
    fn doubles_round_trip_bit_exact(x: f64) {
        let bytes = x.to_bytes();
        prop_assert_eq!(&bytes, &x.to_bits().to_le_bytes().to_vec());
        prop_assert_eq!(f64::from_bytes(&bytes).unwrap().to_bits(), x.to_bits());
    }

    #[test]
    fn bytes_round_trip(b in any_bytes()) {
        let enc = b.to_bytes();
        let header = if b.len() <= 253 { 1 } else { 4 };
        prop_assert!(enc.len() >= header + b.len() && enc.len() < header + b.len() + 4);
        prop_assert!(enc[header + b.len()..].iter().all(|&p| p == 0), "zero padding");
        round_trip(&b);
    }

    #[test]
    fn strings_round_trip(s in ".{0,300}") {
        round_trip(&s);
        prop_assert_eq!(s.to_bytes(), s.as_bytes().to_vec().to_bytes());
    }

    #[test]
    fn vectors_round_trip(
        ints in vec(any::<i32>(), 0..50),
        longs in vec(any::<i64>(), 0..50),
        bools in vec(any::<bool>(), 0..50),
        blobs in vec(any_bytes(), 0..5),
        nested in vec(vec(".{0,10}", 0..5), 0..5),
    ) {
        round_trip(&ints);
        round_trip(&longs);
        round_trip(&bools);
        round_trip(&blobs);
        round_trip(&nested);
        round_trip(&RawVec(longs.clone()));
        round_trip(&RawVec(nested.clone()));
        prop_assert_eq!(RawVec(ints.clone()).to_bytes(), ints.to_bytes()[4..].to_vec());
    }

    #[test]
    fn packed_values_round_trip(nested in vec(vec(".{0,10}", 0..5), 0..5)) {
        let body = nested.to_bytes();
        for payload in [gzipped(&body), zlibbed(&body)] {
            prop_assert_eq!(Vec::<Vec<String>>::from_bytes(&packed(&payload)).unwrap(), nested.clone());
        }
        prop_assert_eq!(Vec::<Vec<String>>::from_bytes(&gzip::pack(&body)).unwrap(), nested);
    }

    #[test]
    fn truncated_values_are_typed_errors(
        b in any_bytes(),
        nested in vec(vec(".{0,10}", 0..5), 1..5),
    ) {
        let enc = b.to_bytes();
        for cut in 0..enc.len() {
            let err = Vec::<u8>::from_bytes(&enc[..cut]).unwrap_err();
            prop_assert!(
                matches!(err, DecodeError::Truncated { .. } | DecodeError::LengthPrefixTooLarge { .. }),
                "cut {}: {:?}", cut, err
            );
        }
        let enc = nested.to_bytes();
        for cut in 0..enc.len() {
            let err = Vec::<Vec<String>>::from_bytes(&enc[..cut]).unwrap_err();
            prop_assert!(
                matches!(
                    err,
                    DecodeError::Truncated { .. }
                        | DecodeError::LengthPrefixTooLarge { .. }
                        | DecodeError::VectorTooLong { .. }
                ),
                "cut {}: {:?}", cut, err
            );
        }
    }

    #[test]
    fn reader_never_panics_on_arbitrary_bytes(data in vec(any::<u8>(), 0..600)) {
        read_everything(&data);
    }

    #[test]
    fn reader_never_panics_on_tl_like_bytes(data in tl_like()) {
        read_everything(&data);
    }

    #[test]
    fn reader_never_panics_on_packed_garbage(data in tl_like(), flip in any::<prop::sample::Index>()) {
        // A valid gzip_packed around arbitrary content, and the same with one byte flipped.
        for payload in [gzipped(&data), zlibbed(&data)] {
            let mut wrapped = packed(&payload);
            read_everything(&wrapped);
            let i = flip.index(wrapped.len());
            wrapped[i] ^= 0x55;
            read_everything(&wrapped);
        }
    }
}
