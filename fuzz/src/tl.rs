//! `tl_decode`: every generated TL item of `auth-api` (the layer-230 `api` selection, the whole
//! MTProto service schema, the layer-23 calls) behind one dispatcher by constructor id.
//!
//! The input is a TL value as it travels: a constructor or function id, then its fields. Every
//! item with that id is tried (an id can be in several schemas): a constructor is decoded bare
//! (its struct, from the bytes after the id) and boxed (its type's enum, from the whole input),
//! a function boxed. A `gzip_packed` input is inflated to find the id inside, then the
//! packed bytes are given to the boxed decoders, which unpack it themselves. A generic
//! function (`invokeWithLayer`, `initConnection`, ...) is decoded with a raw `!X` and its query
//! goes through the dispatcher again, so wrappers nest as they do on the wire.
//!
//! Checked for every value that decodes: re-encoding it gives bytes that decode to a value
//! with the same encoding (decode → encode → decode is stable), its `Debug` output (which
//! redacts secrets) can be formatted, and an enum reports the id it was read with.
//!
//! [`ITEMS`] is generated from `xtask/src/bindings.rs` and the schemas by
//! `tests/tests/fuzz_regressions.rs`, which rewrites it (and fails) when it is stale, so a new
//! binding cannot escape the fuzzer.

use ::tl_wire::{Deserialize, RawObject, Reader, Serialize, GZIP_PACKED_ID};

/// How deep generic wrappers may nest (`invokeWithLayer(initConnection(...))` is 2).
const MAX_NESTING: u32 = 8;

/// Largest inflated `gzip_packed` the dispatcher unpacks to find the inner id; the decoders
/// themselves use the reader's default limits.
const MAX_INFLATED: usize = 1 << 20;

/// How an input reaches an item's decoders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The input starts with the item's id.
    Plain,
    /// The input is a `gzip_packed` whose content starts with the item's id.
    Packed,
}

/// One generated constructor or function.
pub struct Item {
    /// Its constructor id.
    pub id: u32,
    /// The binding it belongs to (`api`, `mtproto`, `legacy_layer23`).
    pub module: &'static str,
    /// Its TL name.
    pub name: &'static str,
    /// Decodes an input of this item and checks the round trip; panics on a violation.
    pub decode: fn(&[u8], Form, u32),
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{} ({:#010x})", self.module, self.name, self.id)
    }
}

/// The `tl_decode` entry point.
pub fn decode(data: &[u8]) {
    dispatch(data, 0);
}

/// The items with constructor id `id`.
pub fn items_with_id(id: u32) -> &'static [Item] {
    let start = ITEMS.partition_point(|i| i.id < id);
    let end = ITEMS.partition_point(|i| i.id <= id);
    &ITEMS[start..end]
}

fn dispatch(data: &[u8], depth: u32) {
    if depth > MAX_NESTING {
        return;
    }
    let Ok(id) = Reader::new(data).peek_u32() else {
        return;
    };
    if id == GZIP_PACKED_ID {
        let Some(inner) = inflate(data) else {
            return;
        };
        let Ok(inner_id) = Reader::new(&inner).peek_u32() else {
            return;
        };
        for item in items_with_id(inner_id) {
            (item.decode)(data, Form::Packed, depth);
        }
        return;
    }
    for item in items_with_id(id) {
        (item.decode)(data, Form::Plain, depth);
    }
}

/// The content of a `gzip_packed` input, if it inflates within [`MAX_INFLATED`].
fn inflate(data: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(data);
    r.read_u32().ok()?;
    let packed = r.read_bytes_ref().ok()?;
    ::tl_wire::gzip::inflate(packed, MAX_INFLATED).ok()
}

/// Decodes `input` as `T`; when it decodes, checks that re-encoding is stable and that the
/// value's `Debug` formats.
fn round_trip<T: Deserialize + Serialize + std::fmt::Debug>(input: &[u8], what: &str) -> Option<T> {
    let value = T::from_bytes(input).ok()?;
    let bytes = value.to_bytes();
    let again = T::from_bytes(&bytes)
        .unwrap_or_else(|e| panic!("{what}: a decoded value re-encodes to bytes that fail: {e}"));
    assert_eq!(
        again.to_bytes(),
        bytes,
        "{what}: decode → encode → decode → encode is not stable"
    );
    let _ = format!("{value:?}");
    Some(value)
}

/// A constructor: its struct `T` (bare) and its type's enum `E` (boxed, with `id` as the id
/// it must report).
fn ctor<T, E>(input: &[u8], form: Form, id: u32, name: &str, id_of: fn(&E) -> u32)
where
    T: Deserialize + Serialize + std::fmt::Debug,
    E: Deserialize + Serialize + std::fmt::Debug,
{
    if form == Form::Plain {
        round_trip::<T>(&input[4..], name);
    }
    if let Some(value) = round_trip::<E>(input, name) {
        assert_eq!(id_of(&value), id, "{name}: the enum reports another id");
    }
}

/// A function (boxed).
fn func<F: Deserialize + Serialize + std::fmt::Debug>(input: &[u8], name: &str) {
    round_trip::<F>(input, name);
}

/// A generic function: decoded with a raw query, which is dispatched again.
fn generic<F: Deserialize + Serialize + std::fmt::Debug>(
    input: &[u8],
    depth: u32,
    name: &str,
    query: fn(&F) -> &RawObject,
) {
    if let Some(value) = round_trip::<F>(input, name) {
        dispatch(&query(&value).0, depth + 1);
    }
}

/// A row of [`ITEMS`] for a constructor: its struct and its type's enum.
macro_rules! ctor {
    ($id:literal, $module:literal, $name:literal, $ty:ty, $enum:ty) => {
        Item {
            id: $id,
            module: $module,
            name: $name,
            decode: |input, form, _| {
                ctor::<$ty, $enum>(input, form, $id, $name, <$enum>::constructor_id)
            },
        }
    };
}

/// A row of [`ITEMS`] for a function.
macro_rules! func {
    ($id:literal, $module:literal, $name:literal, $ty:ty) => {
        Item {
            id: $id,
            module: $module,
            name: $name,
            decode: |input, _, _| func::<$ty>(input, $name),
        }
    };
}

/// A row of [`ITEMS`] for a generic function, with the name of its `!X` field (the last).
macro_rules! gfunc {
    ($id:literal, $module:literal, $name:literal, $ty:ty, $query:ident) => {
        Item {
            id: $id,
            module: $module,
            name: $name,
            decode: |input, _, depth| generic::<$ty>(input, depth, $name, |f| &f.$query),
        }
    };
}

include!("tl_items.rs");
