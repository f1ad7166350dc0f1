//! [`RawObject`]: a TL value kept as bytes until its type is known.

use bytes::BufMut;

use crate::error::DecodeError;
use crate::reader::Reader;
use crate::traits::{Deserialize, Serialize};

/// An opaque serialized TL object, for `Object`-typed fields whose type is known only
/// from context (such as `rpc_result.result`, typed by the request it answers).
///
/// [`Serialize`] writes the bytes as they are. [`Deserialize`] takes **everything left**
/// in the reader, so a `RawObject` must be the last field read from its buffer (the
/// enclosing message or container element gives that buffer its length). Decode it later
/// with `T::from_bytes(&raw.0)`, which also unwraps `gzip_packed` for boxed `T`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RawObject(pub Vec<u8>);

impl Serialize for RawObject {
    fn serialize(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }
}

impl Deserialize for RawObject {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(RawObject(r.read_rest().to_vec()))
    }
}
