//! TL built-in types: `int`, `long`, `double`, `int128`, `int256`, `bytes`, `string`, `Bool`.

use bytes::BufMut;

use crate::error::DecodeError;
use crate::reader::{bool_from_id, padding, Reader};
use crate::traits::{Deserialize, Serialize};
use crate::{BOOL_FALSE_ID, BOOL_TRUE_ID, MAX_BYTES_LEN};

/// Writes `data` as TL `bytes`: length prefix, data, zero padding to a multiple of 4.
///
/// # Panics
/// If `data` is longer than [`MAX_BYTES_LEN`] (16 MiB - 1), which TL cannot encode.
/// Such a value is a caller bug: Telegram rejects requests that large anyway.
pub fn write_bytes(buf: &mut impl BufMut, data: &[u8]) {
    let len = data.len();
    let header = if len <= 253 {
        buf.put_u8(len as u8);
        1
    } else {
        assert!(
            len <= MAX_BYTES_LEN,
            "TL bytes/string of {len} bytes exceeds the maximum of {MAX_BYTES_LEN}"
        );
        buf.put_u32_le(((len as u32) << 8) | 254);
        4
    };
    buf.put_slice(data);
    buf.put_bytes(0, padding(header + len));
}

macro_rules! number {
    ($ty:ty, $put:ident, $read:ident) => {
        impl Serialize for $ty {
            fn serialize(&self, buf: &mut impl BufMut) {
                buf.$put(*self);
            }
        }

        impl Deserialize for $ty {
            fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.$read()
            }
        }
    };
}

number!(i32, put_i32_le, read_i32);
number!(i64, put_i64_le, read_i64);
number!(f64, put_f64_le, read_f64);

/// `int128`: the 16 bytes as on the wire.
impl Serialize for [u8; 16] {
    fn serialize(&self, buf: &mut impl BufMut) {
        buf.put_slice(self);
    }
}

/// `int128`: the 16 bytes as on the wire.
impl Deserialize for [u8; 16] {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_int128()
    }
}

/// `int256`: the 32 bytes as on the wire.
impl Serialize for [u8; 32] {
    fn serialize(&self, buf: &mut impl BufMut) {
        buf.put_slice(self);
    }
}

/// `int256`: the 32 bytes as on the wire.
impl Deserialize for [u8; 32] {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_int256()
    }
}

/// TL `bytes` (see [`write_bytes`] for the size limit).
impl Serialize for [u8] {
    fn serialize(&self, buf: &mut impl BufMut) {
        write_bytes(buf, self);
    }
}

/// TL `bytes` (see [`write_bytes`] for the size limit).
impl Serialize for Vec<u8> {
    fn serialize(&self, buf: &mut impl BufMut) {
        write_bytes(buf, self);
    }
}

/// TL `bytes`.
impl Deserialize for Vec<u8> {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_bytes()
    }
}

/// TL `string`: UTF-8 as `bytes` (see [`write_bytes`] for the size limit).
impl Serialize for str {
    fn serialize(&self, buf: &mut impl BufMut) {
        write_bytes(buf, self.as_bytes());
    }
}

/// TL `string`: UTF-8 as `bytes` (see [`write_bytes`] for the size limit).
impl Serialize for String {
    fn serialize(&self, buf: &mut impl BufMut) {
        write_bytes(buf, self.as_bytes());
    }
}

/// TL `string`; invalid UTF-8 is [`DecodeError::InvalidUtf8`].
impl Deserialize for String {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_string()
    }
}

/// Boxed `Bool`: `boolTrue#997275b5` or `boolFalse#bc799737`.
impl Serialize for bool {
    fn serialize(&self, buf: &mut impl BufMut) {
        buf.put_u32_le(if *self { BOOL_TRUE_ID } else { BOOL_FALSE_ID });
    }
}

/// Boxed `Bool`, also accepted inside `gzip_packed` like every boxed type.
impl Deserialize for bool {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_boxed(|id, _| bool_from_id(id))
    }
}
