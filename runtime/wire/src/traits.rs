//! The traits generated TL types implement.

use bytes::BufMut;

use crate::error::DecodeError;
use crate::reader::{Limits, Reader};

/// Types with a TL constructor id.
pub trait Identifiable {
    /// The constructor id (CRC32 of the normalized declaration, or as declared).
    const CONSTRUCTOR_ID: u32;
}

/// Writes the TL binary form.
///
/// Writing never fails and allocates nothing beyond what `buf` needs to grow.
pub trait Serialize {
    /// Appends the TL binary form of `self` to `buf`.
    fn serialize(&self, buf: &mut impl BufMut);

    /// Convenience: serialize into a fresh `Vec` of exactly the right size.
    ///
    /// The value is written into a per-thread scratch buffer first (so the output is not
    /// grown step by step), copied out in one allocation, and the scratch bytes are wiped
    /// (serialized requests can carry secrets).
    fn to_bytes(&self) -> Vec<u8> {
        crate::scratch::with_scratch(|buf| self.serialize(buf))
    }
}

/// Reads the TL binary form.
pub trait Deserialize: Sized {
    /// Reads one value from `r`, leaving `r` just after it.
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Convenience: deserialize from a whole buffer; trailing bytes are an error
    /// ([`DecodeError::TrailingBytes`]).
    fn from_bytes(b: &[u8]) -> Result<Self, DecodeError> {
        Self::from_bytes_with_limits(b, Limits::DEFAULT)
    }

    /// [`Deserialize::from_bytes`] with the given [`Limits`] (for example the inflation
    /// budget a session allows one message).
    fn from_bytes_with_limits(b: &[u8], limits: Limits) -> Result<Self, DecodeError> {
        let mut r = Reader::with_limits(b, limits);
        let value = Self::deserialize(&mut r)?;
        r.expect_end()?;
        Ok(value)
    }
}

/// A TL function: serializes as a boxed request; `Return` is the type of its answer.
pub trait RemoteCall: Serialize + Identifiable {
    /// The type of the `rpc_result.result` this function gets.
    type Return: Deserialize;
}

impl<T: Serialize + ?Sized> Serialize for &T {
    fn serialize(&self, buf: &mut impl BufMut) {
        (**self).serialize(buf);
    }
}

impl<T: Serialize + ?Sized> Serialize for Box<T> {
    fn serialize(&self, buf: &mut impl BufMut) {
        (**self).serialize(buf);
    }
}

impl<T: Deserialize> Deserialize for Box<T> {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        T::deserialize(r).map(Box::new)
    }
}
