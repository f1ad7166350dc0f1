//! Byte-exact encodings from core.telegram.org `mtproto/serialize` (and PROTOCOL.md section 3),
//! plus the typed errors of malformed input.

use tl_wire::{
    DecodeError, Deserialize, Identifiable, Limits, RawObject, RawVec, Reader, Serialize,
    BOOL_FALSE_ID, BOOL_TRUE_ID, VECTOR_ID,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `len` bytes of recognizable data.
fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 + 1).collect()
}

/// Checks the exact encoding of a `len`-byte `bytes`, then decodes it back.
fn check_bytes(len: usize, prefix: &[u8], padding: usize) {
    let value = data(len);
    let mut expected = prefix.to_vec();
    expected.extend_from_slice(&value);
    expected.extend(std::iter::repeat(0).take(padding));
    assert_eq!(expected.len() % 4, 0, "test vector itself must be aligned");
    assert_eq!(value.to_bytes(), expected, "encoding of {len} bytes");
    assert_eq!(Vec::<u8>::from_bytes(&expected).unwrap(), value);
}

#[test]
fn bytes_short_and_long_forms() {
    check_bytes(0, &[0], 3);
    check_bytes(1, &[1], 2);
    check_bytes(2, &[2], 1);
    check_bytes(3, &[3], 0);
    check_bytes(4, &[4], 3);
    check_bytes(253, &[253], 2);
    check_bytes(254, &[254, 254, 0, 0], 2);
    check_bytes(255, &[254, 255, 0, 0], 1);
    check_bytes(256, &[254, 0, 1, 0], 0);
    check_bytes(300, &[254, 0x2c, 0x01, 0], 0);
    check_bytes(70_001, &[254, 0x71, 0x11, 0x01], 3);
}

#[test]
fn strings_exact() {
    assert_eq!("".to_bytes(), hex("00 00 00 00"));
    assert_eq!("a".to_bytes(), hex("01 61 00 00"));
    assert_eq!("abc".to_bytes(), hex("03 61 62 63"));
    assert_eq!(
        String::from("abcd").to_bytes(),
        hex("04 61 62 63 64 00 00 00")
    );
    // Two-byte UTF-8 characters: length counts bytes, not characters.
    assert_eq!("é".to_bytes(), hex("02 c3 a9 00"));
    assert_eq!(String::from_bytes(&hex("02 c3 a9 00")).unwrap(), "é");
    let s = "x".repeat(300);
    let enc = s.to_bytes();
    assert_eq!(enc[..4], [0xfe, 0x2c, 0x01, 0x00]);
    assert_eq!(enc.len(), 304);
    assert_eq!(String::from_bytes(&enc).unwrap(), s);
}

#[test]
fn bool_ids() {
    assert_eq!(BOOL_TRUE_ID, 0x997275b5);
    assert_eq!(BOOL_FALSE_ID, 0xbc799737);
    assert_eq!(true.to_bytes(), hex("b5 75 72 99"));
    assert_eq!(false.to_bytes(), hex("37 97 79 bc"));
    assert!(bool::from_bytes(&hex("b5 75 72 99")).unwrap());
    assert!(!bool::from_bytes(&hex("37 97 79 bc")).unwrap());
    assert_eq!(
        bool::from_bytes(&hex("15 c4 b5 1c")),
        Err(DecodeError::InvalidBool { id: VECTOR_ID })
    );
    assert_eq!(
        Reader::new(&hex("00 00 00 00")).read_bool(),
        Err(DecodeError::InvalidBool { id: 0 })
    );
}

#[test]
fn vector_of_int() {
    let enc = hex("15 c4 b5 1c 02 00 00 00 01 00 00 00 02 00 00 00");
    assert_eq!(vec![1i32, 2].to_bytes(), enc);
    assert_eq!(Vec::<i32>::from_bytes(&enc).unwrap(), vec![1, 2]);
    assert_eq!(Vec::<i64>::new().to_bytes(), hex("15 c4 b5 1c 00 00 00 00"));
    // Bare vector: no id.
    let bare = hex("02 00 00 00 01 00 00 00 02 00 00 00");
    assert_eq!(RawVec(vec![1i32, 2]).to_bytes(), bare);
    assert_eq!(
        RawVec::<i32>::from_bytes(&bare).unwrap(),
        RawVec(vec![1, 2])
    );
    // Vector<bytes> uses the bytes encoding per element.
    assert_eq!(
        vec![b"ab".to_vec()].to_bytes(),
        hex("15 c4 b5 1c 01 00 00 00 02 61 62 00")
    );
}

#[test]
fn numbers_little_endian() {
    assert_eq!((-2i32).to_bytes(), hex("fe ff ff ff"));
    assert_eq!(0x0102_0304i32.to_bytes(), hex("04 03 02 01"));
    assert_eq!(
        0x0102_0304_0506_0708i64.to_bytes(),
        hex("08 07 06 05 04 03 02 01")
    );
    assert_eq!(1.0f64.to_bytes(), hex("00 00 00 00 00 00 f0 3f"));
    assert_eq!(
        f64::from_bytes(&hex("00 00 00 00 00 00 f0 bf")).unwrap(),
        -1.0
    );
    assert_eq!(
        i64::from_bytes(&hex("ff ff ff ff ff ff ff 7f")).unwrap(),
        i64::MAX
    );
    let n128: [u8; 16] = core::array::from_fn(|i| i as u8);
    assert_eq!(n128.to_bytes(), n128.to_vec());
    assert_eq!(<[u8; 16]>::from_bytes(&n128).unwrap(), n128);
    let n256: [u8; 32] = core::array::from_fn(|i| 0xff - i as u8);
    assert_eq!(n256.to_bytes(), n256.to_vec());
    assert_eq!(<[u8; 32]>::from_bytes(&n256).unwrap(), n256);
}

#[test]
fn reader_positions_and_raw_reads() {
    let buf = hex("01 00 00 00 02 00 00 00 aa bb");
    let mut r = Reader::new(&buf);
    assert_eq!(r.peek_u32(), Ok(1));
    assert_eq!(r.position(), 0);
    assert_eq!(r.read_u32(), Ok(1));
    assert_eq!(r.read_i32(), Ok(2));
    assert_eq!(r.position(), 8);
    assert_eq!(r.remaining(), 2);
    assert_eq!(
        r.read_raw(3),
        Err(DecodeError::Truncated {
            at: 8,
            needed: 3,
            remaining: 2
        })
    );
    assert_eq!(r.read_rest(), &[0xaa, 0xbb]);
    assert_eq!(r.remaining(), 0);
    assert_eq!(r.read_rest(), &[] as &[u8]);
    assert!(r.expect_end().is_ok());
}

#[test]
fn truncated_fixed_values() {
    let truncated = |needed, remaining| DecodeError::Truncated {
        at: 0,
        needed,
        remaining,
    };
    assert_eq!(i32::from_bytes(&[1, 2, 3]), Err(truncated(4, 3)));
    assert_eq!(i64::from_bytes(&[0; 7]), Err(truncated(8, 7)));
    assert_eq!(f64::from_bytes(&[]), Err(truncated(8, 0)));
    assert_eq!(<[u8; 16]>::from_bytes(&[0; 15]), Err(truncated(16, 15)));
    assert_eq!(<[u8; 32]>::from_bytes(&[0; 31]), Err(truncated(32, 31)));
    assert_eq!(Reader::new(&[1]).peek_u32(), Err(truncated(4, 1)));
    assert_eq!(bool::from_bytes(&[0xb5, 0x75]), Err(truncated(4, 2)));
}

#[test]
fn malformed_bytes() {
    // The announced length exceeds the input.
    assert_eq!(
        Vec::<u8>::from_bytes(&hex("0a 01 02 03")),
        Err(DecodeError::LengthPrefixTooLarge {
            at: 0,
            len: 10,
            remaining: 3
        })
    );
    assert_eq!(
        Vec::<u8>::from_bytes(&hex("fe ff ff ff 00 00 00 00")),
        Err(DecodeError::LengthPrefixTooLarge {
            at: 0,
            len: 0xff_ffff,
            remaining: 4
        })
    );
    // The long form's 3 length bytes are missing.
    assert_eq!(
        Vec::<u8>::from_bytes(&hex("fe 01")),
        Err(DecodeError::Truncated {
            at: 1,
            needed: 3,
            remaining: 1
        })
    );
    // The data is there but the padding is not.
    assert_eq!(
        Vec::<u8>::from_bytes(&hex("01 61")),
        Err(DecodeError::Truncated {
            at: 2,
            needed: 2,
            remaining: 0
        })
    );
    // 255 is not a TL length prefix.
    assert_eq!(
        Vec::<u8>::from_bytes(&hex("ff 00 00 00")),
        Err(DecodeError::InvalidLengthPrefix { at: 0 })
    );
    // The long form for a short value is accepted, as is non-zero padding.
    assert_eq!(
        Vec::<u8>::from_bytes(&hex("fe 01 00 00 61 07 07 07")).unwrap(),
        b"a"
    );
    // Invalid UTF-8 in a string, reported at its prefix.
    let buf = hex("00 00 00 00 02 c3 28 00");
    let mut r = Reader::new(&buf);
    r.read_u32().unwrap();
    assert_eq!(r.read_string(), Err(DecodeError::InvalidUtf8 { at: 4 }));
}

#[test]
fn malformed_vectors() {
    let negative = hex("15 c4 b5 1c ff ff ff ff");
    assert_eq!(
        Vec::<i32>::from_bytes(&negative),
        Err(DecodeError::VectorTooLong {
            count: u32::MAX,
            at: 4,
            remaining: 0
        })
    );
    // 3 elements announced, room for 2.
    let long = hex("15 c4 b5 1c 03 00 00 00 01 00 00 00 02 00 00 00");
    assert_eq!(
        Vec::<i32>::from_bytes(&long),
        Err(DecodeError::VectorTooLong {
            count: 3,
            at: 4,
            remaining: 8
        })
    );
    // A huge count must fail before allocating anything like it.
    assert!(matches!(
        RawVec::<i64>::from_bytes(&hex("ff ff ff 7f")),
        Err(DecodeError::VectorTooLong {
            count: 0x7fff_ffff,
            ..
        })
    ));
    // The count fits in 4-byte units but 8-byte elements run out.
    assert!(matches!(
        Vec::<i64>::from_bytes(&hex("15 c4 b5 1c 01 00 00 00 01 00 00 00")),
        Err(DecodeError::Truncated {
            at: 8,
            needed: 8,
            remaining: 4
        })
    ));
    let wrong_id = hex("b5 75 72 99 00 00 00 00");
    let err = Vec::<i32>::from_bytes(&wrong_id).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnexpectedConstructor {
            id: BOOL_TRUE_ID,
            expected: "Vector"
        }
    );
    assert_eq!(
        err.to_string(),
        "unexpected constructor id 0x997275b5 while reading Vector"
    );
}

#[test]
fn trailing_bytes() {
    assert_eq!(
        i32::from_bytes(&[1, 0, 0, 0, 9]),
        Err(DecodeError::TrailingBytes { count: 1 })
    );
    assert_eq!(
        Vec::<u8>::from_bytes(&hex("01 61 00 00 00 00 00 00")),
        Err(DecodeError::TrailingBytes { count: 4 })
    );
}

#[test]
fn expect_id() {
    let buf = hex("78 97 46 60 00 00 00 00");
    let mut r = Reader::new(&buf);
    assert_eq!(r.expect_id(0x60469778, "req_pq"), Ok(()));
    assert_eq!(
        r.expect_id(0x60469778, "req_pq"),
        Err(DecodeError::UnexpectedConstructor {
            id: 0,
            expected: "req_pq"
        })
    );
}

#[test]
fn raw_object_takes_the_rest() {
    let buf = hex("01 00 00 00 b5 75 72 99 aa");
    let mut r = Reader::new(&buf);
    assert_eq!(r.read_i32(), Ok(1));
    let raw = RawObject::deserialize(&mut r).unwrap();
    assert_eq!(raw.0, hex("b5 75 72 99 aa"));
    assert_eq!(r.remaining(), 0);
    assert_eq!(raw.to_bytes(), raw.0);
}

/// A recursive boxed type, as the generator emits it.
#[derive(Debug, PartialEq)]
enum Nest {
    Leaf,
    Node(Box<Nest>),
}

const LEAF_ID: u32 = 0x1111_1111;
const NODE_ID: u32 = 0x2222_2222;

impl Serialize for Nest {
    fn serialize(&self, buf: &mut impl bytes::BufMut) {
        match self {
            Nest::Leaf => buf.put_u32_le(LEAF_ID),
            Nest::Node(inner) => {
                buf.put_u32_le(NODE_ID);
                inner.serialize(buf);
            }
        }
    }
}

impl Deserialize for Nest {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_boxed(|id, r| match id {
            LEAF_ID => Ok(Nest::Leaf),
            NODE_ID => Ok(Nest::Node(Box::new(Nest::deserialize(r)?))),
            _ => Err(DecodeError::UnexpectedConstructor {
                id,
                expected: "Nest",
            }),
        })
    }
}

fn nest(depth: usize) -> Vec<u8> {
    let mut buf = NODE_ID.to_le_bytes().repeat(depth);
    buf.extend_from_slice(&LEAF_ID.to_le_bytes());
    buf
}

#[test]
fn nesting_depth_is_limited() {
    // 64 nested boxed values (63 nodes and the leaf) are fine, 65 are not.
    let ok = Nest::from_bytes(&nest(63)).unwrap();
    assert_eq!(ok.to_bytes(), nest(63));
    assert_eq!(
        Nest::from_bytes(&nest(64)),
        Err(DecodeError::TooDeep { limit: 64 })
    );
    // Far beyond the limit: an error, not a stack overflow.
    assert_eq!(
        Nest::from_bytes(&nest(1_000_000)),
        Err(DecodeError::TooDeep { limit: 64 })
    );
    // The limit is configurable.
    let limits = Limits {
        max_depth: 3,
        ..Limits::DEFAULT
    };
    assert!(Nest::deserialize(&mut Reader::with_limits(&nest(2), limits)).is_ok());
    assert_eq!(
        Nest::deserialize(&mut Reader::with_limits(&nest(3), limits)),
        Err(DecodeError::TooDeep { limit: 3 })
    );
    // Depth is released after each value: many siblings at the same level are fine.
    let siblings: Vec<Nest> = (0..200).map(|_| Nest::Node(Box::new(Nest::Leaf))).collect();
    assert_eq!(
        Vec::<Nest>::from_bytes(&siblings.to_bytes()).unwrap(),
        siblings
    );
    // A sub-reader made inside a boxed value inherits the depth and the limits.
    let inner = nest(1);
    let outer = nest(0);
    let limits = Limits {
        max_depth: 2,
        ..Limits::DEFAULT
    };
    let mut r = Reader::with_limits(&outer, limits);
    let result = r.read_boxed(|_, r| Nest::deserialize(&mut r.sub_reader(&inner)));
    assert_eq!(result, Err(DecodeError::TooDeep { limit: 2 }));
    let mut r = Reader::with_limits(&outer, limits);
    let result = r.read_boxed(|_, r| Nest::deserialize(&mut r.sub_reader(&outer)));
    assert_eq!(result, Ok(Nest::Leaf));

    // Vectors and Bools are boxed values too.
    let limits = Limits {
        max_depth: 2,
        ..Limits::DEFAULT
    };
    let ints = vec![vec![1i32]].to_bytes();
    let bools = vec![vec![true]].to_bytes();
    assert!(Vec::<Vec<i32>>::deserialize(&mut Reader::with_limits(&ints, limits)).is_ok());
    assert_eq!(
        Vec::<Vec<bool>>::deserialize(&mut Reader::with_limits(&bools, limits)),
        Err(DecodeError::TooDeep { limit: 2 })
    );
}

/// A TL function, as the generator emits it: boxed both ways.
#[derive(Debug, PartialEq)]
struct Ping {
    ping_id: i64,
}

impl Identifiable for Ping {
    const CONSTRUCTOR_ID: u32 = 0x7abe77ec;
}

impl Serialize for Ping {
    fn serialize(&self, buf: &mut impl bytes::BufMut) {
        buf.put_u32_le(Self::CONSTRUCTOR_ID);
        self.ping_id.serialize(buf);
    }
}

impl Deserialize for Ping {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_boxed_exact(Self::CONSTRUCTOR_ID, "ping", |r| {
            Ok(Ping {
                ping_id: i64::deserialize(r)?,
            })
        })
    }
}

#[test]
fn function_struct_is_boxed() {
    let ping = Ping { ping_id: 5 };
    let enc = ping.to_bytes();
    assert_eq!(enc, hex("ec 77 be 7a 05 00 00 00 00 00 00 00"));
    assert_eq!(Ping::from_bytes(&enc), Ok(ping));
    assert_eq!(
        Ping::from_bytes(&hex("00 00 00 00")),
        Err(DecodeError::UnexpectedConstructor {
            id: 0,
            expected: "ping"
        })
    );
}
