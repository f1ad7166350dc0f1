//! A bounds-checked cursor over TL binary input.

use std::fmt;

use crate::error::DecodeError;
use crate::gzip;
use crate::{BOOL_FALSE_ID, BOOL_TRUE_ID, GZIP_PACKED_ID};

/// Default [`Limits::max_depth`].
pub const DEFAULT_MAX_DEPTH: u32 = 64;

/// Default [`Limits::max_inflated`]: 16 MiB.
pub const DEFAULT_MAX_INFLATED: usize = 16 * 1024 * 1024;

/// Resource limits a [`Reader`] enforces against hostile input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How deeply [`Reader::read_boxed`] calls (each `gzip_packed` layer included) may nest.
    pub max_depth: u32,
    /// How many bytes all `gzip_packed` payloads of one decoded value may inflate to,
    /// together: every nesting level and every sibling draws from this one budget, so
    /// nested layers cannot each hold a full buffer. `0` refuses `gzip_packed` outright
    /// ([`DecodeError::GzipNotAllowed`]), for messages that never use it (key exchange).
    pub max_inflated: usize,
}

impl Limits {
    /// [`DEFAULT_MAX_DEPTH`] and [`DEFAULT_MAX_INFLATED`].
    pub const DEFAULT: Limits = Limits {
        max_depth: DEFAULT_MAX_DEPTH,
        max_inflated: DEFAULT_MAX_INFLATED,
    };

    /// [`Limits::DEFAULT`] without `gzip_packed`: for protocol messages that never use it,
    /// such as the unencrypted key-exchange messages.
    pub const NO_GZIP: Limits = Limits {
        max_depth: DEFAULT_MAX_DEPTH,
        max_inflated: 0,
    };

    /// These limits with `max_inflated` set to `bytes`.
    pub const fn with_max_inflated(self, bytes: usize) -> Limits {
        Limits {
            max_inflated: bytes,
            ..self
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A cursor over a TL-serialized buffer.
///
/// Every read checks bounds first and returns a [`DecodeError`] instead of panicking;
/// a failed read may leave the position anywhere, so drop the reader after an error.
#[derive(Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
    len: usize,
    depth: u32,
    /// Bytes inflated so far by this reader and the readers it nested (the shared
    /// [`Limits::max_inflated`] budget).
    inflated: usize,
    limits: Limits,
}

impl fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("position", &self.position())
            .field("remaining", &self.remaining())
            .field("depth", &self.depth)
            .field("inflated", &self.inflated)
            .field("limits", &self.limits)
            .finish()
    }
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf` with [`Limits::DEFAULT`].
    pub fn new(buf: &'a [u8]) -> Self {
        Self::with_limits(buf, Limits::DEFAULT)
    }

    /// A reader at the start of `buf` with the given limits.
    pub fn with_limits(buf: &'a [u8], limits: Limits) -> Self {
        Self {
            rest: buf,
            len: buf.len(),
            depth: 0,
            inflated: 0,
            limits,
        }
    }

    /// A reader over `buf` (a nested payload, such as a `bytes` field holding a
    /// serialized object) that inherits this reader's limits, current nesting depth and
    /// inflation so far, so decoding it from inside [`Reader::read_boxed`] still counts
    /// toward [`Limits::max_depth`] and [`Limits::max_inflated`]. Positions in it are
    /// relative to `buf`.
    pub fn sub_reader<'b>(&self, buf: &'b [u8]) -> Reader<'b> {
        Reader {
            depth: self.depth,
            inflated: self.inflated,
            ..Reader::with_limits(buf, self.limits)
        }
    }

    /// Bytes of `gzip_packed` payloads inflated so far (this reader's share of
    /// [`Limits::max_inflated`] that is used up).
    pub fn inflated(&self) -> usize {
        self.inflated
    }

    /// The limits this reader enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.len - self.rest.len()
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless everything was read.
    pub fn expect_end(&self) -> Result<(), DecodeError> {
        match self.rest.len() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { count }),
        }
    }

    fn truncated(&self, needed: usize) -> DecodeError {
        DecodeError::Truncated {
            at: self.position(),
            needed,
            remaining: self.rest.len(),
        }
    }

    fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(*head)
            }
            None => Err(self.truncated(N)),
        }
    }

    /// The next `u32` without consuming it.
    pub fn peek_u32(&self) -> Result<u32, DecodeError> {
        match self.rest.first_chunk::<4>() {
            Some(b) => Ok(u32::from_le_bytes(*b)),
            None => Err(self.truncated(4)),
        }
    }

    /// A little-endian `u32` (constructor ids).
    pub fn read_u32(&mut self) -> Result<u32, DecodeError> {
        self.read_array().map(u32::from_le_bytes)
    }

    /// A TL `int`.
    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        self.read_array().map(i32::from_le_bytes)
    }

    /// A TL `long`.
    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        self.read_array().map(i64::from_le_bytes)
    }

    /// A TL `double`.
    pub fn read_f64(&mut self) -> Result<f64, DecodeError> {
        self.read_array().map(f64::from_le_bytes)
    }

    /// A TL `int128`, as the 16 bytes on the wire.
    pub fn read_int128(&mut self) -> Result<[u8; 16], DecodeError> {
        self.read_array()
    }

    /// A TL `int256`, as the 32 bytes on the wire.
    pub fn read_int256(&mut self) -> Result<[u8; 32], DecodeError> {
        self.read_array()
    }

    /// Exactly `n` raw bytes, borrowed from the input.
    pub fn read_raw(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.rest.split_at_checked(n) {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(head)
            }
            None => Err(self.truncated(n)),
        }
    }

    /// Everything not read yet, borrowed from the input; the reader is then at its end.
    pub fn read_rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// A TL `bytes` value borrowed from the input, without copying.
    ///
    /// Accepts the short form (one length byte <= 253) and the long form (254, then a
    /// 3-byte little-endian length), then skips the padding to a multiple of 4 without
    /// checking that it is zero. The byte 255 is rejected.
    pub fn read_bytes_ref(&mut self) -> Result<&'a [u8], DecodeError> {
        let at = self.position();
        let [first] = self.read_array::<1>()?;
        let (len, header) = match first {
            0..=253 => (usize::from(first), 1),
            254 => {
                let [a, b, c] = self.read_array::<3>()?;
                (u32::from_le_bytes([a, b, c, 0]) as usize, 4)
            }
            255 => return Err(DecodeError::InvalidLengthPrefix { at }),
        };
        if len > self.rest.len() {
            return Err(DecodeError::LengthPrefixTooLarge {
                at,
                len,
                remaining: self.rest.len(),
            });
        }
        let data = self.read_raw(len)?;
        self.read_raw(padding(header + len))?;
        Ok(data)
    }

    /// A TL `bytes` value (see [`Reader::read_bytes_ref`] for the accepted forms).
    pub fn read_bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        self.read_bytes_ref().map(<[u8]>::to_vec)
    }

    /// A TL `string`: `bytes` that must be valid UTF-8.
    pub fn read_string(&mut self) -> Result<String, DecodeError> {
        let at = self.position();
        let data = self.read_bytes_ref()?;
        match std::str::from_utf8(data) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(DecodeError::InvalidUtf8 { at }),
        }
    }

    /// A boxed `Bool` (`boolTrue#997275b5` or `boolFalse#bc799737`); not `gzip_packed`.
    pub fn read_bool(&mut self) -> Result<bool, DecodeError> {
        self.read_u32().and_then(bool_from_id)
    }

    /// Reads a `u32` and fails with [`DecodeError::UnexpectedConstructor`] unless it is `id`.
    pub fn expect_id(&mut self, id: u32, type_name: &'static str) -> Result<(), DecodeError> {
        let got = self.read_u32()?;
        if got == id {
            Ok(())
        } else {
            Err(DecodeError::UnexpectedConstructor {
                id: got,
                expected: type_name,
            })
        }
    }

    /// Reads a boxed value: the constructor id, then `f(id, reader)` reads the rest.
    ///
    /// If the id is `gzip_packed#3072cfa1`, its payload is inflated (gzip or zlib framing,
    /// within what is left of the [`Limits::max_inflated`] budget) and the same dispatch runs
    /// over the inflated bytes, which `f` must consume entirely (else
    /// [`DecodeError::TrailingBytes`]).
    /// `f` is called at most once.
    ///
    /// Each call nests one level deeper while `f` runs, and each `gzip_packed` layer adds
    /// one more; beyond [`Limits::max_depth`] it fails with [`DecodeError::TooDeep`], so
    /// recursive input cannot overflow the stack.
    pub fn read_boxed<T>(
        &mut self,
        mut f: impl FnMut(u32, &mut Reader<'_>) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        self.read_boxed_dyn(&mut f)
    }

    /// [`Reader::read_boxed`] for a type with a single constructor `id` (a function, or
    /// `Vector`): any other id is [`DecodeError::UnexpectedConstructor`] naming `type_name`.
    pub fn read_boxed_exact<T>(
        &mut self,
        id: u32,
        type_name: &'static str,
        mut f: impl FnMut(&mut Reader<'_>) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        self.read_boxed(|got, r| {
            if got == id {
                f(r)
            } else {
                Err(DecodeError::UnexpectedConstructor {
                    id: got,
                    expected: type_name,
                })
            }
        })
    }

    // Monomorphic in `F` so that the gzip recursion does not instantiate new types.
    fn read_boxed_dyn<T, F>(&mut self, f: &mut F) -> Result<T, DecodeError>
    where
        F: FnMut(u32, &mut Reader<'_>) -> Result<T, DecodeError>,
    {
        if self.depth >= self.limits.max_depth {
            return Err(DecodeError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        let id = self.read_u32()?;
        self.depth += 1;
        let result = if id == GZIP_PACKED_ID {
            self.read_gzip_packed(f)
        } else {
            f(id, self)
        };
        self.depth -= 1;
        result
    }

    fn read_gzip_packed<T, F>(&mut self, f: &mut F) -> Result<T, DecodeError>
    where
        F: FnMut(u32, &mut Reader<'_>) -> Result<T, DecodeError>,
    {
        let packed = self.read_bytes_ref()?;
        let limit = self.limits.max_inflated;
        if limit == 0 {
            return Err(DecodeError::GzipNotAllowed);
        }
        let budget = limit.saturating_sub(self.inflated);
        let inflated = gzip::inflate(packed, budget).map_err(|e| match e {
            DecodeError::InflatedTooLarge { .. } => DecodeError::InflatedTooLarge { limit },
            e => e,
        })?;
        let mut inner = self.sub_reader(&inflated);
        inner.inflated = self.inflated.saturating_add(inflated.len());
        let value = inner.read_boxed_dyn(f);
        // Whatever the inner layers inflated stays spent for the rest of this value.
        self.inflated = inner.inflated;
        let value = value?;
        inner.expect_end()?;
        Ok(value)
    }
}

/// Zero bytes that follow a `bytes` value whose prefix and data take `len` bytes.
pub(crate) fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

/// The `bool` a `Bool` constructor id stands for.
pub(crate) fn bool_from_id(id: u32) -> Result<bool, DecodeError> {
    match id {
        BOOL_TRUE_ID => Ok(true),
        BOOL_FALSE_ID => Ok(false),
        id => Err(DecodeError::InvalidBool { id }),
    }
}
