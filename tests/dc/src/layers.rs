//! Answering each client in its own layer: a transcoder between TL layers, driven by the
//! bundled schemas.
//!
//! The test server builds its answers with the layer-230 bindings (`auth-api`), but a client
//! that declared an older layer (mtcute 0.30.3 speaks 227) cannot read a constructor whose
//! id changed since (layer 230's `user#b1b8cc83` is `user#31774388` in 227). [`LayerSchemas`]
//! re-encodes a whole value from one layer to another: it walks the value with the source
//! schema (a constructor or function found by its id) and writes it with the target schema's
//! definition of the same full name (`namespace.name`): the target's id, the target's params
//! matched by name, in the target's order.
//!
//! - A source param the target lacks is dropped; a target optional param the source lacks
//!   is absent; a target required param the source lacks is [`TranscodeError::MissingField`].
//! - Every `#` word is recomputed from which target optional params are present (source
//!   flag bits without a param are dropped).
//! - A param whose type changed (`string` to `TextWithEntities`) fails with
//!   [`TranscodeError::Retyped`] when the value has it; boxed values are mapped constructor by
//!   constructor, and a constructor whose type differs from what the target expects there is
//!   [`TranscodeError::WrongType`].
//! - `string` and `bytes` are the same on the wire and copied byte for byte (padding
//!   included), as are `int`, `long`, `double`, `int128` and `int256`.
//!
//! Where nothing changed the output is the input byte for byte, but every value is still
//! walked: an unchanged constructor can hold a changed one.
//!
//! The request direction reads hostile client bytes. Reading never panics. The output is
//! reserved from the input's length and stays within three times it (each source object has
//! at least its 4-byte id; its target writes an id and at most two flag words); the only other
//! allocation is one copy of an object whose target params are in another order. Vector
//! counts are checked against the bytes left before any element is read, nesting is capped at
//! [`MAX_DEPTH`], and trailing bytes are refused.
//!
//! A value whose element type is not known from the schema (a top-level result of type
//! `Vector<T>`, or an `Object`) is read as a vector of boxed values: results such as
//! `Vector<long>` never change between layers and should be passed on without transcoding.
//! `rpc_error` and the other service (`mtproto.tl`) objects are not in these schemas either.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use tl_codegen::{Category, Definition, ParamType, Type};

/// How deeply objects and vectors may nest in a value ([`TranscodeError::TooDeep`] beyond).
pub const MAX_DEPTH: usize = 64;

/// The id of the boxed `Vector t`.
const VECTOR_ID: u32 = 0x1cb5c415;

/// The most `#` params one definition may have (the bundled schemas have at most two).
const MAX_FLAG_WORDS: usize = 2;

const NATIVE_SOURCE: &str = include_str!("../../../schema/api.tl");
const LAYER_227_SOURCE: &str = include_str!("../../../schema/legacy/layer227.tl");

/// Why a value could not be re-encoded in another layer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscodeError {
    /// The source layer has no constructor or function with this id.
    #[error("unknown id {id:#010x} in layer {layer}")]
    UnknownId {
        /// The id found in the input.
        id: u32,
        /// The layer the input was read in.
        layer: i32,
    },
    /// The target layer has no definition of this name (of the same kind).
    #[error("{name} does not exist in layer {layer}")]
    NoCounterpart {
        /// The full name of the source definition.
        name: String,
        /// The target layer.
        layer: i32,
    },
    /// A param the target requires has no value in the source.
    #[error("{name}.{field} is required in the target layer but the value has none")]
    MissingField {
        /// The full name of the definition.
        name: String,
        /// The param it lacks.
        field: String,
    },
    /// The value has a param whose type differs between the layers.
    #[error("{name}.{field} has another type in the target layer")]
    Retyped {
        /// The full name of the definition.
        name: String,
        /// The param whose type changed.
        field: String,
    },
    /// A constructor (or function) where the schema expects another type.
    #[error("{name} where {expected} was expected")]
    WrongType {
        /// The full name of the definition found.
        name: String,
        /// What the schema expects there (a type name, "a function" or "a constructor").
        expected: String,
    },
    /// A boxed vector that does not start with the `vector` id.
    #[error("expected a vector, found id {id:#010x}")]
    NotAVector {
        /// The id found.
        id: u32,
    },
    /// A vector count that the remaining input cannot hold (or a negative one).
    #[error("vector count {count} with only {remaining} bytes left")]
    CountTooLarge {
        /// The count read.
        count: i32,
        /// Bytes left after it.
        remaining: usize,
    },
    /// The input ended inside a value.
    #[error("input truncated at byte {at}")]
    Truncated {
        /// Where the value that did not fit starts.
        at: usize,
    },
    /// A `string`/`bytes` starting with 255, which TL does not define.
    #[error("invalid length prefix at byte {at}")]
    InvalidLength {
        /// Where the prefix is.
        at: usize,
    },
    /// Bytes after the end of the value.
    #[error("{count} bytes after the end of the value")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// Objects and vectors nested deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {max}")]
    TooDeep {
        /// The cap.
        max: usize,
    },
}

/// Why a schema could not be used as a layer (only [`LayerSchemas::from_sources`] returns it:
/// the bundled schemas are checked by tests).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The file has no `// LAYER N` line.
    #[error("schema {index} has no `// LAYER N` line")]
    NoLayer {
        /// Its position among the sources (0 is the native one).
        index: usize,
    },
    /// The file does not parse.
    #[error("layer {layer} does not parse: {message}")]
    Syntax {
        /// The layer.
        layer: i32,
        /// The first error.
        message: String,
    },
    /// A definition this transcoder cannot walk (a bare constructor type, too many `#`
    /// params, a condition on an unknown field).
    #[error("layer {layer}: {name}: {message}")]
    Unsupported {
        /// The layer.
        layer: i32,
        /// The definition.
        name: String,
        /// What is not supported.
        message: String,
    },
    /// An older layer that is not older than the native one, or a layer given twice.
    #[error("layer {layer} is not older than the native one or is given twice")]
    LayerOrder {
        /// The layer.
        layer: i32,
    },
}

/// The bundled schemas, each compiled for walking values: the native one (230, what the
/// server's bindings write) and the older ones clients may declare (227).
#[derive(Debug)]
pub struct LayerSchemas {
    native: Layer,
    /// Oldest first.
    older: Vec<Older>,
}

/// An older layer with the plans both ways.
#[derive(Debug)]
struct Older {
    layer: Layer,
    /// Native definition index to its plan into this layer.
    down: Vec<Option<Plan>>,
    /// This layer's definition index to its plan into the native one.
    up: Vec<Option<Plan>>,
}

/// One schema, compiled.
#[derive(Debug)]
struct Layer {
    number: i32,
    defs: Vec<Def>,
    by_id: HashMap<u32, usize>,
}

/// A constructor or function, compiled.
#[derive(Debug)]
struct Def {
    /// `namespace.name`.
    name: String,
    id: u32,
    function: bool,
    /// The full name of the type a constructor builds (empty for functions).
    result: String,
    params: Vec<Param>,
    /// Whether an optional param that carries bytes shares its flag bit with another param.
    shared_bits: bool,
}

/// A param, compiled.
#[derive(Debug)]
struct Param {
    name: String,
    /// `None` for a `#` param.
    ty: Option<Ty>,
    /// For a `#` param, its index among the definition's `#` params.
    word: usize,
    /// The `field.bit?` condition, with `field` as a `#` param index.
    cond: Option<Cond>,
}

/// A condition: bit `bit` of `#` param number `word`.
#[derive(Debug, Clone, Copy)]
struct Cond {
    word: usize,
    bit: u32,
}

/// A type as the wire sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ty {
    /// `int`, `long`, `double`, `int128`, `int256`: that many bytes.
    Fixed(usize),
    /// `string` or `bytes`.
    Bytes,
    /// `true`: no bytes.
    True,
    /// `Vector<T>` (boxed) or `vector<T>`.
    Vector { boxed: bool, elem: Box<Ty> },
    /// A constructor of this boxed type.
    Boxed(String),
    /// Any constructor (`Object`, a type parameter `X`).
    AnyBoxed,
    /// Any function (`!X`).
    AnyFunction,
}

/// How to write one source definition in the target layer.
#[derive(Debug)]
struct Plan {
    target: usize,
    ops: Vec<Op>,
    /// Target params are not in source order: pieces are written in source order, then moved.
    reordered: bool,
}

/// One step of a [`Plan`], in execution order.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// Read source `#` word `word`.
    ReadFlags { word: usize },
    /// Write a zero for target `#` param `tgt`, patched once the object is done.
    Placeholder { tgt: usize },
    /// Read source param `src` (when present) and write nothing.
    Skip { src: usize },
    /// Read source param `src` (when present) and write it as target param `tgt`.
    Copy {
        src: usize,
        tgt: usize,
        same_type: bool,
    },
    /// Target param `tgt` has no source counterpart.
    Absent { tgt: usize },
}

impl LayerSchemas {
    /// The bundled set (`schema/api.tl` and `schema/legacy/layer227.tl`), compiled on first
    /// use and shared by every connection.
    pub fn bundled() -> &'static LayerSchemas {
        static BUNDLED: OnceLock<LayerSchemas> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            LayerSchemas::from_sources(NATIVE_SOURCE, &[LAYER_227_SOURCE])
                .expect("the bundled schemas compile (checked by tests/dc/tests/layers.rs)")
        })
    }

    /// Compiles a native schema and older ones (TL text, each with a `// LAYER N` line).
    pub fn from_sources(native: &str, older: &[&str]) -> Result<LayerSchemas, SchemaError> {
        let native = Layer::compile(native, 0)?;
        let mut olds = Vec::with_capacity(older.len());
        for (i, source) in older.iter().enumerate() {
            let layer = Layer::compile(source, i + 1)?;
            if layer.number >= native.number {
                return Err(SchemaError::LayerOrder {
                    layer: layer.number,
                });
            }
            let down = plans(&native, &layer);
            let up = plans(&layer, &native);
            olds.push(Older { layer, down, up });
        }
        olds.sort_by_key(|o| o.layer.number);
        if let Some(w) = olds
            .windows(2)
            .find(|w| w[0].layer.number == w[1].layer.number)
        {
            return Err(SchemaError::LayerOrder {
                layer: w[0].layer.number,
            });
        }
        Ok(LayerSchemas {
            native,
            older: olds,
        })
    }

    /// The native layer (230): the one answers are built in and requests are read in.
    pub fn native_layer(&self) -> i32 {
        self.native.number
    }

    /// The layers a client can be served in, oldest first (the native one last).
    pub fn layers(&self) -> Vec<i32> {
        let older = self.older.iter().map(|o| o.layer.number);
        older.chain([self.native.number]).collect()
    }

    /// The layer a client that declared `client_layer` is served in: the oldest bundled layer
    /// that is `>= client_layer` (the native layer when the client is newer than all).
    pub fn served_layer(&self, client_layer: i32) -> i32 {
        self.older_for(client_layer)
            .map_or(self.native.number, |o| o.layer.number)
    }

    /// Re-encodes a boxed native-layer answer (a whole rpc result object) for a client that
    /// declared `client_layer`; [`Cow::Borrowed`] when it is served in the native layer.
    pub fn answer_to<'a>(
        &self,
        client_layer: i32,
        answer: &'a [u8],
    ) -> Result<Cow<'a, [u8]>, TranscodeError> {
        match self.older_for(client_layer) {
            None => Ok(Cow::Borrowed(answer)),
            Some(o) => transcode(&self.native, &o.layer, &o.down, &Ty::AnyBoxed, answer),
        }
    }

    /// Re-encodes a boxed request (a function call, wrappers such as `invokeWithLayer`
    /// included) sent by a client that declared `client_layer` into the native layer;
    /// [`Cow::Borrowed`] when it is served in the native layer.
    pub fn request_from<'a>(
        &self,
        client_layer: i32,
        request: &'a [u8],
    ) -> Result<Cow<'a, [u8]>, TranscodeError> {
        match self.older_for(client_layer) {
            None => Ok(Cow::Borrowed(request)),
            Some(o) => transcode(&o.layer, &self.native, &o.up, &Ty::AnyFunction, request),
        }
    }

    fn older_for(&self, client_layer: i32) -> Option<&Older> {
        self.older.iter().find(|o| o.layer.number >= client_layer)
    }
}

impl Layer {
    fn compile(source: &str, index: usize) -> Result<Layer, SchemaError> {
        let parsed = tl_codegen::parse(source);
        let number = parsed
            .schema
            .layer
            .and_then(|l| i32::try_from(l).ok())
            .ok_or(SchemaError::NoLayer { index })?;
        if let Some(error) = parsed.errors.first() {
            return Err(SchemaError::Syntax {
                layer: number,
                message: error.to_string(),
            });
        }
        let mut defs = Vec::with_capacity(parsed.schema.definitions.len());
        for def in parsed.schema.definitions.iter().filter(|d| !d.is_builtin()) {
            defs.push(
                Def::compile(def).map_err(|message| SchemaError::Unsupported {
                    layer: number,
                    name: def.full_name(),
                    message,
                })?,
            );
        }
        let by_id = defs.iter().enumerate().map(|(i, d)| (d.id, i)).collect();
        Ok(Layer {
            number,
            defs,
            by_id,
        })
    }
}

impl Def {
    fn compile(def: &Definition) -> Result<Def, String> {
        let generics: Vec<&str> = def.type_params.iter().map(|t| t.name.as_str()).collect();
        let words: Vec<&str> = def
            .params
            .iter()
            .filter(|p| p.ty == ParamType::Flags)
            .map(|p| p.name.as_str())
            .collect();
        if words.len() > MAX_FLAG_WORDS {
            return Err(format!("more than {MAX_FLAG_WORDS} `#` params"));
        }
        let mut params = Vec::with_capacity(def.params.len());
        for p in &def.params {
            let (ty, cond) = match &p.ty {
                ParamType::Flags => (None, None),
                ParamType::Normal { ty, flag } => {
                    let cond = match flag {
                        None => None,
                        Some(f) => match words.iter().position(|w| *w == f.field) {
                            Some(word) if f.bit < 32 => Some(Cond { word, bit: f.bit }),
                            _ => return Err(format!("bad condition on {}", p.name)),
                        },
                    };
                    (Some(wire_type(ty, &generics)?), cond)
                }
            };
            let word = words.iter().position(|w| *w == p.name).unwrap_or(0);
            params.push(Param {
                name: p.name.clone(),
                ty,
                word,
                cond,
            });
        }
        // Whether an optional param with bytes shares its bit with another param.
        let same_bit = |p: &Param, q: &Param| match (p.cond, q.cond) {
            (Some(a), Some(b)) => !std::ptr::eq(p, q) && (a.word, a.bit) == (b.word, b.bit),
            _ => false,
        };
        let shared_bits = (params.iter())
            .filter(|p| p.ty != Some(Ty::True))
            .any(|p| params.iter().any(|q| same_bit(p, q)));
        let function = def.category == Category::Function;
        Ok(Def {
            name: def.full_name(),
            id: def.id,
            function,
            result: if function {
                String::new()
            } else {
                def.result.full_name()
            },
            params,
            shared_bits,
        })
    }
}

/// The wire form of a schema type; `generics` are the definition's type parameters.
fn wire_type(ty: &Type, generics: &[&str]) -> Result<Ty, String> {
    let name = ty.full_name();
    if generics.contains(&name.as_str()) {
        return Ok(if ty.generic_ref {
            Ty::AnyFunction
        } else {
            Ty::AnyBoxed
        });
    }
    Ok(match (name.as_str(), &ty.arg) {
        ("int", None) => Ty::Fixed(4),
        ("long" | "double", None) => Ty::Fixed(8),
        ("int128", None) => Ty::Fixed(16),
        ("int256", None) => Ty::Fixed(32),
        ("string" | "bytes", None) => Ty::Bytes,
        ("true", None) => Ty::True,
        ("Object", None) => Ty::AnyBoxed,
        ("Vector" | "vector", Some(elem)) => Ty::Vector {
            boxed: name == "Vector",
            elem: Box::new(wire_type(elem, generics)?),
        },
        (_, None) if !ty.is_bare() => Ty::Boxed(name),
        _ => return Err(format!("unsupported type {ty}")),
    })
}

/// Whether values of `a` can be written as `b` (boxed values are checked one by one).
fn same_wire_type(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Boxed(_) | Ty::AnyBoxed, Ty::Boxed(_) | Ty::AnyBoxed) => true,
        (Ty::Vector { boxed: x, elem: e }, Ty::Vector { boxed: y, elem: f }) => {
            x == y && same_wire_type(e, f)
        }
        _ => a == b,
    }
}

/// The plan of every definition of `from` into `to` (`None`: no counterpart).
fn plans(from: &Layer, to: &Layer) -> Vec<Option<Plan>> {
    let by_name: HashMap<(bool, &str), usize> = (to.defs.iter().enumerate())
        .map(|(i, d)| ((d.function, d.name.as_str()), i))
        .collect();
    from.defs
        .iter()
        .map(|def| {
            let target = *by_name.get(&(def.function, def.name.as_str()))?;
            Some(plan(def, &to.defs[target], target))
        })
        .collect()
}

fn plan(src: &Def, tgt: &Def, target: usize) -> Plan {
    // Each source value param's counterpart in the target (flag words are never matched).
    let matched: Vec<Option<usize>> = src
        .params
        .iter()
        .map(|s| {
            s.ty.as_ref()?;
            tgt.params
                .iter()
                .position(|t| t.ty.is_some() && t.name == s.name)
        })
        .collect();
    let order: Vec<usize> = matched.iter().flatten().copied().collect();
    let reordered = order.windows(2).any(|w| w[0] > w[1]);
    let mut ops = Vec::with_capacity(src.params.len() + tgt.params.len());
    let mut next = 0;
    // Target params before `until` that no source param writes, in target order.
    let emit_until = |ops: &mut Vec<Op>, next: &mut usize, until: usize| {
        for (t, p) in tgt.params.iter().enumerate().take(until).skip(*next) {
            if p.ty.is_none() {
                ops.push(Op::Placeholder { tgt: t });
            } else if !matched.contains(&Some(t)) {
                ops.push(Op::Absent { tgt: t });
            }
        }
        *next = until.max(*next);
    };
    for (s, param) in src.params.iter().enumerate() {
        match (&param.ty, matched[s]) {
            (None, _) => ops.push(Op::ReadFlags { word: param.word }),
            (Some(_), None) => ops.push(Op::Skip { src: s }),
            (Some(ty), Some(t)) => {
                if !reordered {
                    emit_until(&mut ops, &mut next, t);
                    next = t + 1;
                }
                let same_type = tgt.params[t]
                    .ty
                    .as_ref()
                    .is_some_and(|u| same_wire_type(ty, u));
                ops.push(Op::Copy {
                    src: s,
                    tgt: t,
                    same_type,
                });
            }
        }
    }
    emit_until(&mut ops, &mut next, tgt.params.len());
    Plan {
        target,
        ops,
        reordered,
    }
}

/// Walks one whole value of `expect` in `from` and writes it in `to`.
fn transcode<'a>(
    from: &Layer,
    to: &Layer,
    plans: &[Option<Plan>],
    expect: &Ty,
    input: &'a [u8],
) -> Result<Cow<'a, [u8]>, TranscodeError> {
    let mut walk = Walk {
        from,
        to,
        plans,
        input,
        pos: 0,
        out: Vec::with_capacity(input.len().saturating_add(16)),
    };
    walk.value(expect, Some(expect), 0)?;
    match input.len() - walk.pos {
        0 => Ok(Cow::Owned(walk.out)),
        count => Err(TranscodeError::TrailingBytes { count }),
    }
}

/// A value being read from `input` (at `pos`) and written to `out`.
struct Walk<'s, 'a> {
    from: &'s Layer,
    to: &'s Layer,
    plans: &'s [Option<Plan>],
    input: &'a [u8],
    pos: usize,
    out: Vec<u8>,
}

impl<'s, 'a> Walk<'s, 'a> {
    /// The next `n` input bytes.
    fn take(&mut self, n: usize) -> Result<&'a [u8], TranscodeError> {
        let input: &'a [u8] = self.input;
        let at = self.pos;
        let bytes = at
            .checked_add(n)
            .and_then(|end| input.get(at..end))
            .ok_or(TranscodeError::Truncated { at })?;
        self.pos = at + n;
        Ok(bytes)
    }

    /// The next `N` input bytes as an array.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], TranscodeError> {
        let at = self.pos;
        let bytes = self.input.get(at..).and_then(<[u8]>::first_chunk::<N>);
        let bytes = *bytes.ok_or(TranscodeError::Truncated { at })?;
        self.pos = at + N;
        Ok(bytes)
    }

    fn u32(&mut self) -> Result<u32, TranscodeError> {
        self.array().map(u32::from_le_bytes)
    }

    /// Copies the next `n` bytes to the output when `write`.
    fn copy(&mut self, n: usize, write: bool) -> Result<(), TranscodeError> {
        let bytes = self.take(n)?;
        if write {
            self.out.extend_from_slice(bytes);
        }
        Ok(())
    }

    /// A value of `src` in the source layer, written as `tgt` in the target one (skipped
    /// when `tgt` is `None`). The two types are [`same_wire_type`].
    fn value(&mut self, src: &Ty, tgt: Option<&Ty>, depth: usize) -> Result<(), TranscodeError> {
        match src {
            Ty::Fixed(n) => self.copy(*n, tgt.is_some()),
            Ty::True => Ok(()),
            Ty::Bytes => {
                let at = self.pos;
                let (header, len) = match self.array::<1>()? {
                    [254] => {
                        let [a, b, c] = self.array()?;
                        (4, u32::from_le_bytes([a, b, c, 0]) as usize)
                    }
                    [255] => return Err(TranscodeError::InvalidLength { at }),
                    [short] => (1, usize::from(short)),
                };
                self.pos = at;
                self.copy((header + len).next_multiple_of(4), tgt.is_some())
                    .map_err(|_| TranscodeError::Truncated { at })
            }
            Ty::Vector { boxed, elem } => {
                // No depth check here: only objects recurse without a bound in the schema.
                if *boxed {
                    self.expect_vector_id()?;
                    if tgt.is_some() {
                        self.out.extend_from_slice(&VECTOR_ID.to_le_bytes());
                    }
                }
                let tgt_elem = match tgt {
                    Some(Ty::Vector { elem, .. }) => Some(&**elem),
                    _ => None,
                };
                self.vector_body(elem, tgt_elem, depth)
            }
            Ty::Boxed(_) | Ty::AnyBoxed | Ty::AnyFunction => self.object(src, tgt, depth),
        }
    }

    fn expect_vector_id(&mut self) -> Result<(), TranscodeError> {
        match self.u32()? {
            VECTOR_ID => Ok(()),
            id => Err(TranscodeError::NotAVector { id }),
        }
    }

    /// A vector's count and elements (after its id, if boxed).
    fn vector_body(
        &mut self,
        src: &Ty,
        tgt: Option<&Ty>,
        depth: usize,
    ) -> Result<(), TranscodeError> {
        let count = i32::from_le_bytes(self.array()?);
        let remaining = self.input.len() - self.pos;
        // Every element takes at least its smallest encoding (one byte for `true`, so a
        // vector of nothing cannot loop for free).
        let least = match src {
            Ty::Fixed(n) => *n,
            Ty::True => 1,
            _ => 4,
        };
        match usize::try_from(count) {
            Ok(n) if n.saturating_mul(least) <= remaining => {
                if tgt.is_some() {
                    self.out.extend_from_slice(&count.to_le_bytes());
                }
                for _ in 0..n {
                    self.value(src, tgt, depth + 1)?;
                }
                Ok(())
            }
            _ => Err(TranscodeError::CountTooLarge { count, remaining }),
        }
    }

    /// A boxed value: a constructor (or a function, for `!X`) found by its id.
    fn object(&mut self, src: &Ty, tgt: Option<&Ty>, depth: usize) -> Result<(), TranscodeError> {
        if depth >= MAX_DEPTH {
            return Err(TranscodeError::TooDeep { max: MAX_DEPTH });
        }
        let id = self.u32()?;
        if id == VECTOR_ID && *src == Ty::AnyBoxed {
            // A vector of unknown elements: only boxed ones can differ between layers.
            if tgt.is_some() {
                self.out.extend_from_slice(&id.to_le_bytes());
            }
            return self.vector_body(&Ty::AnyBoxed, tgt.map(|_| &Ty::AnyBoxed), depth + 1);
        }
        let from: &'s Layer = self.from;
        let index = *from.by_id.get(&id).ok_or(TranscodeError::UnknownId {
            id,
            layer: from.number,
        })?;
        let def = &from.defs[index];
        check_type(def, src)?;
        let Some(tgt) = tgt else {
            return self.skip_params(def, depth);
        };
        let (to, plans): (&'s Layer, &'s [Option<Plan>]) = (self.to, self.plans);
        let plan = plans[index]
            .as_ref()
            .ok_or_else(|| TranscodeError::NoCounterpart {
                name: def.name.clone(),
                layer: to.number,
            })?;
        let target = &to.defs[plan.target];
        check_type(target, tgt)?;
        self.out.extend_from_slice(&target.id.to_le_bytes());
        self.params(def, target, plan, depth)
    }

    /// Reads the params of `def` without writing them.
    fn skip_params(&mut self, def: &Def, depth: usize) -> Result<(), TranscodeError> {
        let mut words = [0u32; MAX_FLAG_WORDS];
        for p in &def.params {
            match &p.ty {
                None => words[p.word] = self.u32()?,
                Some(ty) if present(p, &words) => self.value(ty, None, depth + 1)?,
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Writes the params of `src` (read from the input) as those of `tgt`, following `plan`.
    fn params(
        &mut self,
        src: &Def,
        tgt: &Def,
        plan: &Plan,
        depth: usize,
    ) -> Result<(), TranscodeError> {
        let start = self.out.len();
        let mut words = [0u32; MAX_FLAG_WORDS];
        let mut out_words = [0u32; MAX_FLAG_WORDS];
        let mut placeholders = [0usize; MAX_FLAG_WORDS];
        // Only for reordered plans: (target param, output range) of everything written.
        let mut pieces = Vec::new();
        let missing = |t: usize| TranscodeError::MissingField {
            name: tgt.name.clone(),
            field: tgt.params[t].name.clone(),
        };
        for op in &plan.ops {
            match *op {
                Op::ReadFlags { word } => words[word] = self.u32()?,
                Op::Placeholder { tgt: t } => {
                    placeholders[tgt.params[t].word] = self.out.len();
                    self.out.extend_from_slice(&[0; 4]);
                    if plan.reordered {
                        pieces.push((t, self.out.len() - 4, self.out.len()));
                    }
                }
                Op::Skip { src: s } => {
                    let p = &src.params[s];
                    if let (Some(ty), true) = (&p.ty, present(p, &words)) {
                        self.value(ty, None, depth + 1)?;
                    }
                }
                Op::Copy {
                    src: s,
                    tgt: t,
                    same_type,
                } => {
                    let (p, q) = (&src.params[s], &tgt.params[t]);
                    if !present(p, &words) {
                        match q.cond {
                            None => return Err(missing(t)),
                            Some(_) => continue,
                        }
                    }
                    let (Some(from_ty), Some(to_ty), true) = (&p.ty, &q.ty, same_type) else {
                        return Err(TranscodeError::Retyped {
                            name: src.name.clone(),
                            field: p.name.clone(),
                        });
                    };
                    if let Some(c) = q.cond {
                        out_words[c.word] |= 1 << c.bit;
                    }
                    let begin = self.out.len();
                    self.value(from_ty, Some(to_ty), depth + 1)?;
                    if plan.reordered {
                        pieces.push((t, begin, self.out.len()));
                    }
                }
                Op::Absent { tgt: t } => {
                    if tgt.params[t].cond.is_none() {
                        return Err(missing(t));
                    }
                }
            }
        }
        if tgt.shared_bits {
            self.check_shared_bits(src, tgt, plan, &words, &out_words)?;
        }
        for p in tgt.params.iter().filter(|p| p.ty.is_none()) {
            let at = placeholders[p.word];
            self.out[at..at + 4].copy_from_slice(&out_words[p.word].to_le_bytes());
        }
        if plan.reordered {
            pieces.sort_by_key(|&(t, ..)| t);
            let body = self.out.split_off(start);
            for (_, begin, end) in pieces {
                self.out
                    .extend_from_slice(&body[begin - start..end - start]);
            }
        }
        Ok(())
    }

    /// A target bit set by one param but shared with a param that has no value would make the
    /// client read bytes that are not there.
    fn check_shared_bits(
        &self,
        src: &Def,
        tgt: &Def,
        plan: &Plan,
        words: &[u32; MAX_FLAG_WORDS],
        out_words: &[u32; MAX_FLAG_WORDS],
    ) -> Result<(), TranscodeError> {
        for op in &plan.ops {
            let (t, written) = match *op {
                Op::Copy { src: s, tgt: t, .. } => (t, present(&src.params[s], words)),
                Op::Absent { tgt: t } => (t, false),
                _ => continue,
            };
            let q = &tgt.params[t];
            if !written && q.ty != Some(Ty::True) && present(q, out_words) {
                return Err(TranscodeError::MissingField {
                    name: tgt.name.clone(),
                    field: q.name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Whether param `p` has a value, given the object's `#` words read so far.
fn present(p: &Param, words: &[u32; MAX_FLAG_WORDS]) -> bool {
    p.cond.map_or(true, |c| words[c.word] >> c.bit & 1 == 1)
}

/// Whether `def` may stand where `expect` is.
fn check_type(def: &Def, expect: &Ty) -> Result<(), TranscodeError> {
    let fits = match expect {
        Ty::AnyFunction => def.function,
        Ty::AnyBoxed => !def.function,
        Ty::Boxed(name) => !def.function && def.result == *name,
        _ => false,
    };
    if fits {
        return Ok(());
    }
    Err(TranscodeError::WrongType {
        name: def.name.clone(),
        expected: match expect {
            Ty::AnyFunction => "a function".into(),
            Ty::Boxed(name) => name.clone(),
            _ => "a constructor".into(),
        },
    })
}
