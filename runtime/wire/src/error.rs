//! The error type of every decoding operation.

use thiserror::Error;

/// Why TL binary input could not be decoded.
///
/// Positions (`at`) are byte offsets from the start of the buffer the [`Reader`](crate::Reader)
/// was created over; inside a `gzip_packed` payload they are offsets into the inflated data.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// A constructor id that the type being read does not have.
    #[error("unexpected constructor id {id:#010x} while reading {expected}")]
    UnexpectedConstructor {
        /// The id found in the input.
        id: u32,
        /// The TL type (or function) that was expected.
        expected: &'static str,
    },

    /// The input ended before a fixed-size value was complete.
    #[error("input truncated at byte {at}: needed {needed} more bytes, only {remaining} remain")]
    Truncated {
        /// Position of the value that could not be read.
        at: usize,
        /// Bytes the value needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },

    /// A `bytes`/`string` length prefix announces more data than the input holds.
    #[error("length prefix at byte {at} announces {len} bytes, only {remaining} remain")]
    LengthPrefixTooLarge {
        /// Position of the length prefix.
        at: usize,
        /// The announced length.
        len: usize,
        /// Bytes left after the prefix.
        remaining: usize,
    },

    /// A `bytes`/`string` starts with the byte 255, which TL does not define.
    #[error("invalid bytes length prefix 0xff at byte {at}")]
    InvalidLengthPrefix {
        /// Position of the prefix byte.
        at: usize,
    },

    /// A `Bool` was neither `boolTrue#997275b5` nor `boolFalse#bc799737`.
    #[error("invalid Bool constructor id {id:#010x}")]
    InvalidBool {
        /// The id found in the input.
        id: u32,
    },

    /// A TL `string` is not valid UTF-8.
    #[error("string at byte {at} is not valid UTF-8")]
    InvalidUtf8 {
        /// Position of the string's length prefix.
        at: usize,
    },

    /// A vector count is negative or larger than the remaining input could hold
    /// (every TL value takes at least 4 bytes).
    #[error("vector count {count} at byte {at} is impossible with {remaining} bytes left")]
    VectorTooLong {
        /// The count as read (a negative `int` shows as a value >= 2^31).
        count: u32,
        /// Position of the count.
        at: usize,
        /// Bytes left after the count.
        remaining: usize,
    },

    /// A `gzip_packed` payload is not a valid gzip or zlib stream.
    #[error("bad gzip_packed payload: {reason}")]
    BadGzip {
        /// What was wrong with it.
        reason: &'static str,
    },

    /// The `gzip_packed` payloads of one value inflate to more than the reader's limit,
    /// all nesting levels together.
    #[error("gzip_packed payloads inflate to more than {limit} bytes")]
    InflatedTooLarge {
        /// The limit in force.
        limit: usize,
    },

    /// A `gzip_packed` where the protocol never uses one (the reader's
    /// [`Limits::max_inflated`](crate::Limits::max_inflated) is 0).
    #[error("gzip_packed is not allowed here")]
    GzipNotAllowed,

    /// Boxed values (including `gzip_packed` layers) are nested deeper than the reader's limit.
    #[error("boxed values nested deeper than {limit} levels")]
    TooDeep {
        /// The limit in force.
        limit: u32,
    },

    /// A whole buffer (or a `gzip_packed` payload) was decoded but bytes were left over.
    #[error("{count} trailing bytes after the value")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
}
