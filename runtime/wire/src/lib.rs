//! The TL binary wire format: the traits generated types implement, a bounds-checked
//! [`Reader`], the built-in types, and `gzip_packed`.
//!
//! # Encoding (core.telegram.org `mtproto/serialize`)
//! Little-endian. `int` is `i32`, `long` `i64`, `double` `f64`, `int128` `[u8; 16]` and
//! `int256` `[u8; 32]` (the raw wire bytes). `bytes` is `Vec<u8>` and `string` is `String`:
//! a length byte (<= 253) or the byte 254 and a 3-byte length, the data, zero padding to a
//! multiple of 4. `Bool` is `bool`, always boxed. `Vector<T>` is `Vec<T>` (boxed, id
//! [`VECTOR_ID`]); bare `vector<T>` is [`RawVec<T>`]. `Object` fields whose type is known
//! only from context are [`RawObject`].
//!
//! # Conventions the generated code follows
//! - A struct for a TL **constructor** of a data type serializes **bare** both ways: no
//!   constructor id is written or read; the id is only its [`Identifiable::CONSTRUCTOR_ID`].
//! - An enum for a **boxed type** writes the id of its variant, then the variant's bare
//!   fields; its [`Deserialize`] calls [`Reader::read_boxed`] and dispatches on the id:
//!
//!   ```
//!   # use tl_wire::{Deserialize, DecodeError, Identifiable, Reader};
//!   # struct A; struct B;
//!   # impl Identifiable for A { const CONSTRUCTOR_ID: u32 = 1; }
//!   # impl Identifiable for B { const CONSTRUCTOR_ID: u32 = 2; }
//!   # impl Deserialize for A { fn deserialize(_: &mut Reader<'_>) -> Result<Self, DecodeError> { Ok(A) } }
//!   # impl Deserialize for B { fn deserialize(_: &mut Reader<'_>) -> Result<Self, DecodeError> { Ok(B) } }
//!   enum Thing { A(A), B(B) }
//!   impl Deserialize for Thing {
//!       fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
//!           r.read_boxed(|id, r| match id {
//!               A::CONSTRUCTOR_ID => A::deserialize(r).map(Thing::A),
//!               B::CONSTRUCTOR_ID => B::deserialize(r).map(Thing::B),
//!               _ => Err(DecodeError::UnexpectedConstructor { id, expected: "Thing" }),
//!           })
//!       }
//!   }
//!   assert!(matches!(Thing::from_bytes(&[2, 0, 0, 0]), Ok(Thing::B(_))));
//!   ```
//! - A struct for a TL **function** is boxed both ways: [`Serialize`] writes its id first,
//!   and [`Deserialize`] reads and checks it, with [`Reader::read_boxed_exact`] so that a
//!   `gzip_packed` request is accepted too. It implements [`RemoteCall`]. So a generic
//!   `!X` field is simply a `X: Serialize + Deserialize` field.
//! - Every boxed type read through [`Reader::read_boxed`] (generated enums, functions,
//!   `Vec<T>`, `bool`) transparently accepts a `gzip_packed` wrapper.
//!
//! # Hostile input
//! Reading never panics and never allocates more than the input justifies: lengths and
//! counts are checked against the remaining bytes, inflation is capped by
//! [`Limits::max_inflated`], and nesting of boxed values by [`Limits::max_depth`]. Errors
//! are [`DecodeError`] values naming what was wrong and where.
//!
//! # Writing
//! [`Serialize`] is infallible and allocates only what the output buffer needs. A
//! `bytes`/`string` longer than [`MAX_BYTES_LEN`] cannot be encoded in TL; serializing one
//! panics with a clear message (it is a caller bug, and Telegram rejects such requests).

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
pub mod gzip;
mod object;
mod primitives;
mod reader;
mod scratch;
mod secret;
mod traits;
mod vector;

/// The `bytes` crate, whose [`bytes::BufMut`] [`Serialize`] writes into (re-exported so
/// generated code needs no direct dependency on it).
pub use bytes;
pub use error::DecodeError;
pub use object::RawObject;
pub use primitives::write_bytes;
pub use reader::{Limits, Reader, DEFAULT_MAX_DEPTH, DEFAULT_MAX_INFLATED};
pub use secret::Secret;
pub use traits::{Deserialize, Identifiable, RemoteCall, Serialize};
pub use vector::{read_elements, write_elements, RawVec};
/// Re-exported for [`Secret`]'s bound.
pub use zeroize;

/// `boolTrue#997275b5 = Bool`.
pub const BOOL_TRUE_ID: u32 = 0x9972_75b5;
/// `boolFalse#bc799737 = Bool`.
pub const BOOL_FALSE_ID: u32 = 0xbc79_9737;
/// `vector#1cb5c415 {t:Type} # [ t ] = Vector t`.
pub const VECTOR_ID: u32 = 0x1cb5_c415;
/// `gzip_packed#3072cfa1 packed_data:bytes = Object`.
pub const GZIP_PACKED_ID: u32 = 0x3072_cfa1;
/// The longest `bytes`/`string` TL can encode: 2^24 - 1 bytes.
pub const MAX_BYTES_LEN: usize = 0xff_ffff;
