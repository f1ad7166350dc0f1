//! TL vectors: boxed `Vector<T>` as `Vec<T>`, bare `vector<T>` as [`RawVec<T>`].

use bytes::BufMut;

use crate::error::DecodeError;
use crate::reader::Reader;
use crate::traits::{Deserialize, Serialize};
use crate::VECTOR_ID;

/// Upper bound of the memory [`read_elements`] reserves before decoding any element.
const MAX_PREALLOC_BYTES: usize = 64 * 1024;

/// A bare TL `vector<T>`: the count, then the elements, without the `Vector` id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RawVec<T>(pub Vec<T>);

/// Boxed `Vector<T>`: `vector#1cb5c415`, an `int` count, then the elements.
///
/// `Vec<u8>` is TL `bytes`, not `Vector`; TL has no vector of single bytes.
impl<T: Serialize> Serialize for Vec<T> {
    fn serialize(&self, buf: &mut impl BufMut) {
        buf.put_u32_le(VECTOR_ID);
        write_elements(buf, self);
    }
}

/// Boxed `Vector<T>`, also accepted inside `gzip_packed`.
impl<T: Deserialize> Deserialize for Vec<T> {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_boxed_exact(VECTOR_ID, "Vector", read_elements)
    }
}

impl<T: Serialize> Serialize for RawVec<T> {
    fn serialize(&self, buf: &mut impl BufMut) {
        write_elements(buf, &self.0);
    }
}

impl<T: Deserialize> Deserialize for RawVec<T> {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_elements(r).map(RawVec)
    }
}

impl<T> From<Vec<T>> for RawVec<T> {
    fn from(v: Vec<T>) -> Self {
        RawVec(v)
    }
}

impl<T> From<RawVec<T>> for Vec<T> {
    fn from(v: RawVec<T>) -> Self {
        v.0
    }
}

/// Writes a bare vector body: the count as `int`, then each element.
///
/// # Panics
/// If there are more than `i32::MAX` elements, which TL cannot encode.
pub fn write_elements<T: Serialize>(buf: &mut impl BufMut, items: &[T]) {
    let count = i32::try_from(items.len()).expect("TL vector longer than i32::MAX elements");
    buf.put_i32_le(count);
    for item in items {
        item.serialize(buf);
    }
}

/// Reads a bare vector body: the `int` count, then that many elements.
///
/// A negative count, or one larger than the remaining bytes could hold at 4 bytes per
/// element (every TL value takes at least 4), is [`DecodeError::VectorTooLong`]. At most
/// 64 KiB is allocated up front; beyond that the vector grows only as elements decode.
pub fn read_elements<T: Deserialize>(r: &mut Reader<'_>) -> Result<Vec<T>, DecodeError> {
    let at = r.position();
    let count = r.read_i32()?;
    let remaining = r.remaining();
    let n = match usize::try_from(count) {
        Ok(n) if n <= remaining / 4 => n,
        _ => {
            return Err(DecodeError::VectorTooLong {
                count: count as u32,
                at,
                remaining,
            })
        }
    };
    let mut items = Vec::with_capacity(n.min(MAX_PREALLOC_BYTES / size_of::<T>().max(1)));
    for _ in 0..n {
        items.push(T::deserialize(r)?);
    }
    Ok(items)
}
