//! Helpers of the codegen tests (`tests/tests/codegen_*.rs`):
//!
//! - [`Generated`]: a schema and exactly the definitions `xtask/src/bindings.rs` generates from
//!   it (the same selection `cargo xtask codegen` uses, through `tl_codegen::emit::select`);
//! - [`RandomTl`]: random TL values driven by the schema, written as bytes by an encoder of its
//!   own (it shares nothing with `tl-wire` or the generated code, only the parsed schema);
//! - [`debug_tree`]: a parser of `{:?}` output, to compare decoded values field by field;
//! - `api_table!`, `mtproto_table!`, `layer23_table!`: every generated Rust item with its TL
//!   name (and, for api and mtproto, the `grammers-tl-types` 0.11 item), written by
//!   `tests/py/codegen_rust_table.py`; the tests check they cover exactly the selection.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tl_codegen::{Category, Definition, ParamType, Schema, Type};

/// `xtask/src/bindings.rs`, compiled here too: the one list of what is generated.
#[path = "../../xtask/src/bindings.rs"]
#[allow(dead_code)]
pub mod bindings;

/// `vector#1cb5c415`.
pub const VECTOR_ID: u32 = 0x1cb5_c415;
/// `boolTrue#997275b5`.
pub const BOOL_TRUE_ID: u32 = 0x9972_75b5;
/// `boolFalse#bc799737`.
pub const BOOL_FALSE_ID: u32 = 0xbc79_9737;

/// A schema and the definitions generated from it.
pub struct Generated {
    /// The module name in `xtask/src/bindings.rs` (`api`, `mtproto`, `legacy_layer23`).
    pub module: &'static str,
    /// The whole parsed schema.
    pub schema: Schema,
    /// The generated definitions, in schema order.
    pub defs: Vec<Definition>,
    constructors: HashMap<String, usize>,
    functions: HashMap<String, usize>,
    by_type: BTreeMap<String, Vec<usize>>,
    /// Smallest nesting depth a value of each constructor needs (flags unset, vectors empty).
    height: HashMap<String, u32>,
}

/// What a TL type reference is, for writing values of it.
#[derive(Debug)]
pub enum Kind<'t> {
    /// `int`.
    Int,
    /// `long`.
    Long,
    /// `double`.
    Double,
    /// `int128`.
    Int128,
    /// `int256`.
    Int256,
    /// `bytes`.
    Bytes,
    /// `string`.
    String,
    /// `Bool` (boxed).
    Bool,
    /// `true` (no payload).
    True,
    /// `Vector<T>` (boxed).
    BoxedVector(&'t Type),
    /// `vector<T>` (bare).
    BareVector(&'t Type),
    /// `!X`.
    Generic,
    /// A bare constructor (`%T` or a lowercase constructor name): its full name or its type.
    Bare(String),
    /// A boxed type: its full name.
    Boxed(String),
}

/// Classifies a TL type reference.
pub fn kind(ty: &Type) -> Kind<'_> {
    if ty.generic_ref {
        return Kind::Generic;
    }
    if ty.namespace.is_none() {
        match ty.name.as_str() {
            "int" => return Kind::Int,
            "long" => return Kind::Long,
            "double" => return Kind::Double,
            "int128" => return Kind::Int128,
            "int256" => return Kind::Int256,
            "bytes" => return Kind::Bytes,
            "string" => return Kind::String,
            "Bool" => return Kind::Bool,
            "true" => return Kind::True,
            "Vector" => {
                return Kind::BoxedVector(ty.arg.as_deref().expect("Vector<T> has an argument"))
            }
            "vector" => {
                return Kind::BareVector(ty.arg.as_deref().expect("vector<T> has an argument"))
            }
            _ => {}
        }
    }
    if ty.is_bare() {
        Kind::Bare(ty.full_name())
    } else {
        Kind::Boxed(ty.full_name())
    }
}

impl Generated {
    /// Loads the schema of binding `module` and selects what `cargo xtask codegen` generates.
    pub fn load(module: &str) -> Generated {
        let binding = bindings::BINDINGS
            .iter()
            .find(|b| b.module == module)
            .unwrap_or_else(|| panic!("no binding `{module}` in xtask/src/bindings.rs"));
        let path = crate::workspace_root().join(binding.schema);
        let schema =
            tl_codegen::load(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        let chosen = tl_codegen::emit::select::select(&schema, &binding.selection())
            .unwrap_or_else(|e| panic!("selection of {module}: {e:?}"));
        let defs: Vec<Definition> = chosen
            .iter()
            .map(|&i| schema.definitions[i].clone())
            .collect();
        let mut constructors = HashMap::new();
        let mut functions = HashMap::new();
        let mut by_type: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, d) in defs.iter().enumerate() {
            match d.category {
                Category::Type => {
                    assert!(
                        constructors.insert(d.full_name(), i).is_none(),
                        "{}",
                        d.full_name()
                    );
                    by_type.entry(d.result.full_name()).or_default().push(i);
                }
                Category::Function => {
                    assert!(
                        functions.insert(d.full_name(), i).is_none(),
                        "{}",
                        d.full_name()
                    );
                }
            }
        }
        let mut gen = Generated {
            module: binding.module,
            schema,
            defs,
            constructors,
            functions,
            by_type,
            height: HashMap::new(),
        };
        gen.height = gen.heights();
        gen
    }

    /// The generated constructor `name` (full TL name).
    pub fn constructor(&self, name: &str) -> Option<&Definition> {
        self.constructors.get(name).map(|&i| &self.defs[i])
    }

    /// The generated function `name` (full TL name).
    pub fn function(&self, name: &str) -> Option<&Definition> {
        self.functions.get(name).map(|&i| &self.defs[i])
    }

    /// The generated constructors of boxed type `ty` (full TL name), in schema order.
    pub fn constructors_of(&self, ty: &str) -> Vec<&Definition> {
        self.by_type
            .get(ty)
            .map(|v| v.iter().map(|&i| &self.defs[i]).collect())
            .unwrap_or_default()
    }

    /// Names of the generated constructors, functions and boxed types.
    pub fn names(&self) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
        (
            self.constructors.keys().cloned().collect(),
            self.functions.keys().cloned().collect(),
            self.by_type.keys().cloned().collect(),
        )
    }

    /// The constructor a bare reference (`%T` or `ctorName`) stands for.
    pub fn bare_constructor(&self, name: &str) -> &Definition {
        if let Some(d) = self.constructor(name) {
            return d;
        }
        let short = name.trim_start_matches('%');
        match self.constructors_of(short).as_slice() {
            [only] => only,
            other => panic!("bare `{name}` has {} constructors", other.len()),
        }
    }

    fn heights(&self) -> HashMap<String, u32> {
        const INF: u32 = u32::MAX / 4;
        let mut h: HashMap<String, u32> = HashMap::new();
        loop {
            let mut changed = false;
            for d in self.defs.iter().filter(|d| d.category == Category::Type) {
                let mut worst = 0;
                for p in &d.params {
                    if let ParamType::Normal { ty, flag: None } = &p.ty {
                        worst = worst.max(self.type_height(ty, &h, INF));
                    }
                }
                let new = (worst + 1).min(INF);
                let old = h.get(&d.full_name()).copied().unwrap_or(INF);
                if new < old {
                    h.insert(d.full_name(), new);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for d in self.defs.iter().filter(|d| d.category == Category::Type) {
            assert!(
                h.contains_key(&d.full_name()),
                "{} has no finite value",
                d.full_name()
            );
        }
        h
    }

    fn type_height(&self, ty: &Type, h: &HashMap<String, u32>, inf: u32) -> u32 {
        match kind(ty) {
            Kind::Bare(name) => {
                let c = self.bare_constructor(&name);
                h.get(&c.full_name()).copied().unwrap_or(inf)
            }
            Kind::Boxed(name) => self
                .constructors_of(&name)
                .iter()
                .map(|c| h.get(&c.full_name()).copied().unwrap_or(inf))
                .min()
                .unwrap_or_else(|| panic!("type {name} has no generated constructor")),
            _ => 0,
        }
    }
}

/// Which optional (`flags.N?`) fields random values have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flags {
    /// None: every flag word is 0.
    None,
    /// All (up to the depth limit).
    All,
    /// Each bit with probability 1/2.
    Random,
}

/// Writes random values of a generated schema as TL bytes.
///
/// Every flag bit that some field uses is set or clear as [`Flags`] says, and a set bit
/// makes its fields present (`true` fields have no payload); bits no field uses stay clear.
/// Boxed types pick one of their generated constructors at random; past `max_depth` they
/// pick the shallowest one and leave flags unset and vectors empty, so values stay finite.
/// `!X` fields hold the function `generic` (boxed).
pub struct RandomTl<'a> {
    gen: &'a Generated,
    rng: ChaCha8Rng,
    /// Optional fields.
    pub flags: Flags,
    /// Nesting depth after which values are kept minimal.
    pub max_depth: usize,
    /// The function written for `!X` fields.
    pub generic: &'a str,
    /// Longest `string`/`bytes` written (the length is otherwise random, with the 253/254
    /// boundary of the TL length prefix hit often).
    pub max_len: usize,
    /// Constructor ids to write instead of the schema's (by constructor name), to feed an
    /// implementation that disagrees on an id the same value; the random choices do not
    /// depend on ids, so one seed gives the same value either way.
    pub ids: HashMap<String, u32>,
}

impl<'a> RandomTl<'a> {
    /// A writer for `gen` seeded with `seed`; the flag mode cycles with the seed
    /// (`seed % 4`: 0 none, 1 all, else random).
    pub fn new(gen: &'a Generated, seed: u64) -> Self {
        let flags = match seed % 4 {
            0 => Flags::None,
            1 => Flags::All,
            _ => Flags::Random,
        };
        RandomTl {
            gen,
            rng: ChaCha8Rng::seed_from_u64(seed),
            flags,
            max_depth: 3,
            generic: "auth.sendCode",
            max_len: 1200,
            ids: HashMap::new(),
        }
    }

    /// A random call of function `name`: its id, then its fields.
    pub fn function(&mut self, name: &str) -> Vec<u8> {
        let def = self
            .gen
            .function(name)
            .unwrap_or_else(|| panic!("no generated function {name}"));
        let mut out = self.id(def).to_le_bytes().to_vec();
        self.write_fields(def, &mut out, 0);
        out
    }

    /// A random value of constructor `name`, boxed (its id, then its fields).
    pub fn constructor_boxed(&mut self, name: &str) -> Vec<u8> {
        let def = self
            .gen
            .constructor(name)
            .unwrap_or_else(|| panic!("no generated constructor {name}"));
        let mut out = self.id(def).to_le_bytes().to_vec();
        self.write_fields(def, &mut out, 0);
        out
    }

    /// A random value of the boxed type `ty`: the constructor chosen and the bytes.
    pub fn boxed_type(&mut self, ty: &str) -> (String, Vec<u8>) {
        let ctors = self.gen.constructors_of(ty);
        assert!(!ctors.is_empty(), "no generated constructor of {ty}");
        let def = ctors[self.rng.gen_range(0..ctors.len())];
        let mut out = self.id(def).to_le_bytes().to_vec();
        self.write_fields(def, &mut out, 0);
        (def.full_name(), out)
    }

    fn id(&self, def: &Definition) -> u32 {
        self.ids.get(&def.full_name()).copied().unwrap_or(def.id)
    }

    fn write_fields(&mut self, def: &Definition, out: &mut Vec<u8>, depth: usize) {
        // Choose the flag words first: one decision per (word, bit), so fields sharing a bit
        // (`bot:flags.14?true bot_info_version:flags.14?int`) are present together.
        let mut words: HashMap<&str, u32> = HashMap::new();
        for p in &def.params {
            if let ParamType::Flags = p.ty {
                words.insert(p.name.as_str(), 0);
            }
        }
        let mut bits: BTreeSet<(&str, u32)> = BTreeSet::new();
        for p in &def.params {
            if let ParamType::Normal { flag: Some(f), .. } = &p.ty {
                bits.insert((f.field.as_str(), f.bit));
            }
        }
        for (word, bit) in bits {
            let on = depth <= self.max_depth
                && match self.flags {
                    Flags::None => false,
                    Flags::All => true,
                    Flags::Random => self.rng.gen_bool(0.5),
                };
            if on {
                *words.get_mut(word).expect("flag word declared") |= 1 << bit;
            }
        }
        for p in &def.params {
            match &p.ty {
                ParamType::Flags => out.extend_from_slice(&words[p.name.as_str()].to_le_bytes()),
                ParamType::Normal { ty, flag } => {
                    if let Some(f) = flag {
                        if words[f.field.as_str()] & (1 << f.bit) == 0 {
                            continue;
                        }
                    }
                    self.write_value(ty, out, depth);
                }
            }
        }
    }

    fn write_value(&mut self, ty: &Type, out: &mut Vec<u8>, depth: usize) {
        match kind(ty) {
            Kind::Int => {
                let v = self.int();
                out.extend_from_slice(&v.to_le_bytes())
            }
            Kind::Long => {
                let v = self.long();
                out.extend_from_slice(&v.to_le_bytes())
            }
            Kind::Double => {
                let v = self.double();
                out.extend_from_slice(&v.to_le_bytes())
            }
            Kind::Int128 => {
                let v: [u8; 16] = self.rng.gen();
                out.extend_from_slice(&v)
            }
            Kind::Int256 => {
                let v: [u8; 32] = self.rng.gen();
                out.extend_from_slice(&v)
            }
            Kind::Bytes => {
                let n = self.len();
                let data: Vec<u8> = (0..n).map(|_| self.rng.gen()).collect();
                write_tl_bytes(out, &data)
            }
            Kind::String => {
                let s = self.text();
                write_tl_bytes(out, s.as_bytes())
            }
            Kind::Bool => {
                let id = if self.rng.gen() {
                    BOOL_TRUE_ID
                } else {
                    BOOL_FALSE_ID
                };
                out.extend_from_slice(&id.to_le_bytes())
            }
            Kind::True => {}
            Kind::BoxedVector(t) => {
                out.extend_from_slice(&VECTOR_ID.to_le_bytes());
                self.write_elements(t, out, depth)
            }
            Kind::BareVector(t) => self.write_elements(t, out, depth),
            Kind::Generic => {
                let def = self
                    .gen
                    .function(self.generic)
                    .unwrap_or_else(|| panic!("no generated function {}", self.generic));
                out.extend_from_slice(&self.id(def).to_le_bytes());
                self.write_fields(def, out, depth + 1)
            }
            Kind::Bare(name) => {
                let def = self.gen.bare_constructor(&name);
                self.write_fields(def, out, depth + 1)
            }
            Kind::Boxed(name) => {
                let ctors = self.gen.constructors_of(&name);
                assert!(!ctors.is_empty(), "no generated constructor of {name}");
                let def = if depth >= self.max_depth {
                    let low = ctors.iter().map(|c| self.gen.height[&c.full_name()]).min();
                    let low: Vec<&Definition> = ctors
                        .iter()
                        .copied()
                        .filter(|c| Some(self.gen.height[&c.full_name()]) == low)
                        .collect();
                    low[self.rng.gen_range(0..low.len())]
                } else {
                    ctors[self.rng.gen_range(0..ctors.len())]
                };
                out.extend_from_slice(&self.id(def).to_le_bytes());
                self.write_fields(def, out, depth + 1)
            }
        }
    }

    fn write_elements(&mut self, t: &Type, out: &mut Vec<u8>, depth: usize) {
        let n: u32 = if depth >= self.max_depth {
            0
        } else if self.flags == Flags::All {
            self.rng.gen_range(1..=3)
        } else {
            self.rng.gen_range(0..=3)
        };
        out.extend_from_slice(&n.to_le_bytes());
        for _ in 0..n {
            self.write_value(t, out, depth + 1);
        }
    }

    fn int(&mut self) -> i32 {
        match self.rng.gen_range(0..8) {
            0 => 0,
            1 => -1,
            2 => i32::MIN,
            3 => i32::MAX,
            4 => self.rng.gen_range(1..1000),
            _ => self.rng.gen(),
        }
    }

    fn long(&mut self) -> i64 {
        match self.rng.gen_range(0..8) {
            0 => 0,
            1 => -1,
            2 => i64::MIN,
            3 => i64::MAX,
            4 => self.rng.gen_range(1..1000),
            _ => self.rng.gen(),
        }
    }

    /// Any `f64` but NaN (values must compare equal to themselves).
    fn double(&mut self) -> f64 {
        match self.rng.gen_range(0..8) {
            0 => 0.0,
            1 => -0.0,
            2 => f64::INFINITY,
            3 => f64::from_bits(1), // the smallest subnormal
            4 => self.rng.gen_range(-1e6..1e6),
            _ => loop {
                let v = f64::from_bits(self.rng.gen());
                if !v.is_nan() {
                    break v;
                }
            },
        }
    }

    /// A `string`/`bytes` length: often small, often at the 253/254 prefix boundary.
    fn len(&mut self) -> usize {
        let n = match self.rng.gen_range(0..10) {
            0 => 0,
            1..=4 => self.rng.gen_range(1..=16),
            5 => self.rng.gen_range(250..=258),
            6 => 253 + self.rng.gen_range(0..2),
            7 => self.rng.gen_range(259..=self.max_len.max(259)),
            _ => self.rng.gen_range(17..=120),
        };
        n.min(self.max_len)
    }

    /// Valid UTF-8 mixing ASCII, controls, 2-, 3- and 4-byte characters, combining marks,
    /// zero-width and bidi controls, quotes and backslashes.
    fn text(&mut self) -> String {
        const POOL: &[char] = &[
            'a',
            'Z',
            '0',
            ' ',
            '+',
            '"',
            '\\',
            '\'',
            '\0',
            '\n',
            '\t',
            '\u{7f}',
            'é',
            'ß',
            'Ж',
            'ж',
            'م',
            'א',
            '漢',
            '字',
            'ー',
            '😀',
            '🇺',
            '𝄞',
            '\u{301}',
            '\u{200b}',
            '\u{202e}',
            '\u{feff}',
            '\u{fffd}',
            '\u{10ffff}',
        ];
        let target = self.len();
        let mut s = String::new();
        while s.len() < target {
            if self.rng.gen_bool(0.5) {
                s.push(self.rng.gen_range(b'!'..=b'~') as char);
            } else {
                s.push(POOL[self.rng.gen_range(0..POOL.len())]);
            }
        }
        s
    }
}

/// TL `bytes`/`string` (core.telegram.org/mtproto/serialize), written here independently of
/// `tl-wire`: a length byte (<= 253) or 254 and 3 length bytes, the data, zero padding to 4.
pub fn write_tl_bytes(out: &mut Vec<u8>, data: &[u8]) {
    let header = if data.len() <= 253 {
        out.push(data.len() as u8);
        1
    } else {
        assert!(data.len() < 1 << 24);
        out.push(254);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes()[..3]);
        4
    };
    out.extend_from_slice(data);
    let pad = (4 - (header + data.len()) % 4) % 4;
    out.resize(out.len() + pad, 0);
}

/// A parser of `{:?}` output (derived `Debug` and the generated redacting impls), to compare
/// decoded values field by field.
pub mod debug_tree {
    /// One value of `{:?}` output.
    #[derive(Clone, Debug, PartialEq)]
    pub enum Node {
        /// `Name { field: value, .. }`.
        Struct(String, Vec<(String, Node)>),
        /// `Name(value, ..)`: enum variants, `Some`, `RawVec`.
        Tuple(String, Vec<Node>),
        /// `[a, b]`: vectors, `bytes`, `int128`.
        List(Vec<Node>),
        /// A string literal, unescaped.
        Str(String),
        /// A number as printed (`-1`, `1.5`, `1e300`, `inf`).
        Num(String),
        /// `true` / `false`.
        Bool(bool),
        /// A bare name: `None`, a struct without fields.
        Unit(String),
        /// `<redacted>` (a secret field).
        Redacted,
    }

    /// Parses `{:?}` output.
    pub fn parse(text: &str) -> Result<Node, String> {
        let mut p = Parser {
            s: text.chars().collect(),
            i: 0,
        };
        let node = p.value()?;
        if p.i != p.s.len() {
            return Err(p.error("trailing text"));
        }
        Ok(node)
    }

    struct Parser {
        s: Vec<char>,
        i: usize,
    }

    impl Parser {
        fn error(&self, what: &str) -> String {
            let at: String = self.s[self.i.min(self.s.len())..].iter().take(40).collect();
            format!("debug_tree: {what} at char {} ({at:?})", self.i)
        }

        fn peek(&self) -> Option<char> {
            self.s.get(self.i).copied()
        }

        fn eat(&mut self, lit: &str) -> bool {
            let n = lit.chars().count();
            if self.s.len() >= self.i + n
                && self.s[self.i..self.i + n].iter().copied().eq(lit.chars())
            {
                self.i += n;
                true
            } else {
                false
            }
        }

        fn expect(&mut self, lit: &str) -> Result<(), String> {
            if self.eat(lit) {
                Ok(())
            } else {
                Err(self.error(&format!("expected {lit:?}")))
            }
        }

        fn value(&mut self) -> Result<Node, String> {
            match self.peek() {
                Some('"') => self.string().map(Node::Str),
                Some('[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    if !self.eat("]") {
                        loop {
                            items.push(self.value()?);
                            if self.eat("]") {
                                break;
                            }
                            self.expect(", ")?;
                        }
                    }
                    Ok(Node::List(items))
                }
                Some('<') => {
                    self.expect("<redacted>")?;
                    Ok(Node::Redacted)
                }
                Some(c) if c == '-' || c.is_ascii_digit() => {
                    let start = self.i;
                    self.i += 1;
                    while let Some(c) = self.peek() {
                        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+') {
                            self.i += 1;
                        } else {
                            break;
                        }
                    }
                    Ok(Node::Num(self.s[start..self.i].iter().collect()))
                }
                Some(c) if c.is_alphabetic() || c == '_' => {
                    let start = self.i;
                    while let Some(c) = self.peek() {
                        if c.is_alphanumeric() || c == '_' || c == '#' {
                            self.i += 1;
                        } else {
                            break;
                        }
                    }
                    let name: String = self.s[start..self.i].iter().collect();
                    match name.as_str() {
                        "true" => return Ok(Node::Bool(true)),
                        "false" => return Ok(Node::Bool(false)),
                        "inf" | "NaN" => return Ok(Node::Num(name)),
                        _ => {}
                    }
                    if self.eat(" { ") {
                        let mut fields = Vec::new();
                        loop {
                            let start = self.i;
                            while self.peek().is_some_and(|c| c != ':') {
                                self.i += 1;
                            }
                            let field: String = self.s[start..self.i].iter().collect();
                            self.expect(": ")?;
                            fields.push((field, self.value()?));
                            if self.eat(" }") {
                                break;
                            }
                            self.expect(", ")?;
                        }
                        Ok(Node::Struct(name, fields))
                    } else if self.eat("(") {
                        let mut items = Vec::new();
                        loop {
                            items.push(self.value()?);
                            if self.eat(")") {
                                break;
                            }
                            self.expect(", ")?;
                        }
                        Ok(Node::Tuple(name, items))
                    } else {
                        Ok(Node::Unit(name))
                    }
                }
                _ => Err(self.error("unexpected character")),
            }
        }

        fn string(&mut self) -> Result<String, String> {
            self.expect("\"")?;
            let mut out = String::new();
            loop {
                let c = self
                    .peek()
                    .ok_or_else(|| self.error("unterminated string"))?;
                self.i += 1;
                match c {
                    '"' => return Ok(out),
                    '\\' => {
                        let e = self.peek().ok_or_else(|| self.error("bad escape"))?;
                        self.i += 1;
                        match e {
                            'n' => out.push('\n'),
                            'r' => out.push('\r'),
                            't' => out.push('\t'),
                            '0' => out.push('\0'),
                            '\\' | '"' | '\'' => out.push(e),
                            'u' => {
                                self.expect("{")?;
                                let start = self.i;
                                while self.peek().is_some_and(|c| c != '}') {
                                    self.i += 1;
                                }
                                let hex: String = self.s[start..self.i].iter().collect();
                                self.expect("}")?;
                                let v = u32::from_str_radix(&hex, 16)
                                    .map_err(|_| self.error("bad \\u escape"))?;
                                out.push(char::from_u32(v).ok_or_else(|| self.error("bad char"))?);
                            }
                            _ => return Err(self.error("unknown escape")),
                        }
                    }
                    c => out.push(c),
                }
            }
        }
    }

    /// The form two implementations' `{:?}` output is compared in: enum variant wrappers,
    /// `Some(..)` and `RawVec(..)` dropped (each implementation names variants its own way; the
    /// constructor is still identified by the struct inside), and struct names reduced to
    /// lowercase letters and digits (the implementations convert TL names to Rust names with
    /// different case rules: `JsonValue` / `Jsonvalue`), and the field `self` named alike.
    pub fn normalize(node: &Node) -> Node {
        match node {
            Node::Tuple(_, items) if items.len() == 1 => normalize(&items[0]),
            Node::Tuple(name, items) => {
                Node::Tuple(name.clone(), items.iter().map(normalize).collect())
            }
            Node::Struct(name, fields) => Node::Struct(
                canonical(name),
                fields
                    .iter()
                    .map(|(k, v)| (field(k), normalize(v)))
                    .collect(),
            ),
            Node::Unit(name) if name == "None" => Node::Unit(name.clone()),
            Node::Unit(name) => Node::Unit(canonical(name)),
            Node::List(items) => Node::List(items.iter().map(normalize).collect()),
            other => other.clone(),
        }
    }

    /// Field names as in the schema: the TL field `self` is `self_` here and `is_self` in
    /// grammers (`r#type` prints as `type` in both).
    fn field(name: &str) -> String {
        match name {
            "self_" | "is_self" => "self".to_string(),
            _ => name.to_string(),
        }
    }

    fn canonical(name: &str) -> String {
        name.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    }

    /// The first difference between two normalized trees, with its path. `Redacted` on either
    /// side matches anything; `redacted` counts those places.
    pub fn diff(a: &Node, b: &Node, path: &str, redacted: &mut usize) -> Option<String> {
        match (a, b) {
            (Node::Redacted, _) | (_, Node::Redacted) => {
                *redacted += 1;
                None
            }
            (Node::Struct(n1, f1), Node::Struct(n2, f2)) => {
                if n1 != n2 {
                    return Some(format!("{path}: struct {n1} != {n2}"));
                }
                if f1.len() != f2.len() {
                    return Some(format!("{path}: {} fields != {}", f1.len(), f2.len()));
                }
                for ((k1, v1), (k2, v2)) in f1.iter().zip(f2) {
                    if k1 != k2 {
                        return Some(format!("{path}: field {k1} != {k2}"));
                    }
                    if let Some(d) = diff(v1, v2, &format!("{path}.{k1}"), redacted) {
                        return Some(d);
                    }
                }
                None
            }
            (Node::Tuple(n1, i1), Node::Tuple(n2, i2)) if n1 == n2 && i1.len() == i2.len() => i1
                .iter()
                .zip(i2)
                .enumerate()
                .find_map(|(i, (x, y))| diff(x, y, &format!("{path}.{i}"), redacted)),
            (Node::List(i1), Node::List(i2)) => {
                if i1.len() != i2.len() {
                    return Some(format!("{path}: {} items != {}", i1.len(), i2.len()));
                }
                i1.iter()
                    .zip(i2)
                    .enumerate()
                    .find_map(|(i, (x, y))| diff(x, y, &format!("{path}[{i}]"), redacted))
            }
            // Unit enum variants (constructors without fields) carry only the variant name,
            // which each implementation derives its own way (`Self_` / `PeerSelf` for
            // `inputPeerSelf`): accept when one name ends with the other. The constructor
            // itself is pinned by the byte comparisons the tests make next to this one.
            (Node::Unit(x), Node::Unit(y))
                if x != "None"
                    && y != "None"
                    && (x.ends_with(y.as_str()) || y.ends_with(x.as_str())) =>
            {
                None
            }
            (x, y) if x == y => None,
            (x, y) => Some(format!("{path}: {x:?} != {y:?}")),
        }
    }
}

// BEGIN GENERATED TABLE (tests/py/codegen_rust_table.py)
/// Every definition generated in `auth-api/src/generated/api.rs`: calls
/// `$callback!` with `(kind, "tl.name", path::below::the::module, grammers::path)` rows;
/// `kind` is `ctor` (bare struct), `ty` (boxed enum), `func` (function) or `gfunc`
/// (generic function), and the last path is the `grammers_tl_types` item.
#[macro_export]
macro_rules! api_table {
    ($callback:ident) => {
        $callback! {
            (ctor, "inputPeerEmpty", types::InputPeerEmpty, types::InputPeerEmpty),
            (ctor, "inputPeerSelf", types::InputPeerSelf, types::InputPeerSelf),
            (ctor, "inputPeerChat", types::InputPeerChat, types::InputPeerChat),
            (ctor, "inputPeerUser", types::InputPeerUser, types::InputPeerUser),
            (ctor, "inputPeerChannel", types::InputPeerChannel, types::InputPeerChannel),
            (ctor, "inputPeerUserFromMessage", types::InputPeerUserFromMessage, types::InputPeerUserFromMessage),
            (ctor, "inputPeerChannelFromMessage", types::InputPeerChannelFromMessage, types::InputPeerChannelFromMessage),
            (ctor, "inputUserEmpty", types::InputUserEmpty, types::InputUserEmpty),
            (ctor, "inputUserSelf", types::InputUserSelf, types::InputUserSelf),
            (ctor, "inputUser", types::InputUser, types::InputUser),
            (ctor, "inputUserFromMessage", types::InputUserFromMessage, types::InputUserFromMessage),
            (ctor, "userEmpty", types::UserEmpty, types::UserEmpty),
            (ctor, "user", types::User, types::User),
            (ctor, "userProfilePhotoEmpty", types::UserProfilePhotoEmpty, types::UserProfilePhotoEmpty),
            (ctor, "userProfilePhoto", types::UserProfilePhoto, types::UserProfilePhoto),
            (ctor, "userStatusEmpty", types::UserStatusEmpty, types::UserStatusEmpty),
            (ctor, "userStatusOnline", types::UserStatusOnline, types::UserStatusOnline),
            (ctor, "userStatusOffline", types::UserStatusOffline, types::UserStatusOffline),
            (ctor, "userStatusRecently", types::UserStatusRecently, types::UserStatusRecently),
            (ctor, "userStatusLastWeek", types::UserStatusLastWeek, types::UserStatusLastWeek),
            (ctor, "userStatusLastMonth", types::UserStatusLastMonth, types::UserStatusLastMonth),
            (ctor, "dcOption", types::DcOption, types::DcOption),
            (ctor, "config", types::Config, types::Config),
            (ctor, "nearestDc", types::NearestDc, types::NearestDc),
            (ctor, "authorization", types::Authorization, types::Authorization),
            (ctor, "messageEntityUnknown", types::MessageEntityUnknown, types::MessageEntityUnknown),
            (ctor, "messageEntityMention", types::MessageEntityMention, types::MessageEntityMention),
            (ctor, "messageEntityHashtag", types::MessageEntityHashtag, types::MessageEntityHashtag),
            (ctor, "messageEntityBotCommand", types::MessageEntityBotCommand, types::MessageEntityBotCommand),
            (ctor, "messageEntityUrl", types::MessageEntityUrl, types::MessageEntityUrl),
            (ctor, "messageEntityEmail", types::MessageEntityEmail, types::MessageEntityEmail),
            (ctor, "messageEntityBold", types::MessageEntityBold, types::MessageEntityBold),
            (ctor, "messageEntityItalic", types::MessageEntityItalic, types::MessageEntityItalic),
            (ctor, "messageEntityCode", types::MessageEntityCode, types::MessageEntityCode),
            (ctor, "messageEntityPre", types::MessageEntityPre, types::MessageEntityPre),
            (ctor, "messageEntityTextUrl", types::MessageEntityTextUrl, types::MessageEntityTextUrl),
            (ctor, "messageEntityMentionName", types::MessageEntityMentionName, types::MessageEntityMentionName),
            (ctor, "inputMessageEntityMentionName", types::InputMessageEntityMentionName, types::InputMessageEntityMentionName),
            (ctor, "messageEntityPhone", types::MessageEntityPhone, types::MessageEntityPhone),
            (ctor, "messageEntityCashtag", types::MessageEntityCashtag, types::MessageEntityCashtag),
            (ctor, "messageEntityUnderline", types::MessageEntityUnderline, types::MessageEntityUnderline),
            (ctor, "messageEntityStrike", types::MessageEntityStrike, types::MessageEntityStrike),
            (ctor, "messageEntityBankCard", types::MessageEntityBankCard, types::MessageEntityBankCard),
            (ctor, "messageEntitySpoiler", types::MessageEntitySpoiler, types::MessageEntitySpoiler),
            (ctor, "messageEntityCustomEmoji", types::MessageEntityCustomEmoji, types::MessageEntityCustomEmoji),
            (ctor, "messageEntityBlockquote", types::MessageEntityBlockquote, types::MessageEntityBlockquote),
            (ctor, "messageEntityFormattedDate", types::MessageEntityFormattedDate, types::MessageEntityFormattedDate),
            (ctor, "messageEntityDiffInsert", types::MessageEntityDiffInsert, types::MessageEntityDiffInsert),
            (ctor, "messageEntityDiffReplace", types::MessageEntityDiffReplace, types::MessageEntityDiffReplace),
            (ctor, "messageEntityDiffDelete", types::MessageEntityDiffDelete, types::MessageEntityDiffDelete),
            (ctor, "messageEntityTonAddress", types::MessageEntityTonAddress, types::MessageEntityTonAddress),
            (ctor, "dataJSON", types::DataJson, types::DataJson),
            (ctor, "inputClientProxy", types::InputClientProxy, types::InputClientProxy),
            (ctor, "passwordKdfAlgoUnknown", types::PasswordKdfAlgoUnknown, types::PasswordKdfAlgoUnknown),
            (ctor, "passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow", types::PasswordKdfAlgoSha256sha256pbkdf2hmacsha512iter100000Sha256ModPow, types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow),
            (ctor, "securePasswordKdfAlgoUnknown", types::SecurePasswordKdfAlgoUnknown, types::SecurePasswordKdfAlgoUnknown),
            (ctor, "securePasswordKdfAlgoPBKDF2HMACSHA512iter100000", types::SecurePasswordKdfAlgoPbkdf2hmacsha512iter100000, types::SecurePasswordKdfAlgoPbkdf2Hmacsha512iter100000),
            (ctor, "securePasswordKdfAlgoSHA512", types::SecurePasswordKdfAlgoSha512, types::SecurePasswordKdfAlgoSha512),
            (ctor, "secureSecretSettings", types::SecureSecretSettings, types::SecureSecretSettings),
            (ctor, "inputCheckPasswordEmpty", types::InputCheckPasswordEmpty, types::InputCheckPasswordEmpty),
            (ctor, "inputCheckPasswordSRP", types::InputCheckPasswordSrp, types::InputCheckPasswordSrp),
            (ctor, "jsonObjectValue", types::JsonObjectValue, types::JsonObjectValue),
            (ctor, "jsonNull", types::JsonNull, types::JsonNull),
            (ctor, "jsonBool", types::JsonBool, types::JsonBool),
            (ctor, "jsonNumber", types::JsonNumber, types::JsonNumber),
            (ctor, "jsonString", types::JsonString, types::JsonString),
            (ctor, "jsonArray", types::JsonArray, types::JsonArray),
            (ctor, "jsonObject", types::JsonObject, types::JsonObject),
            (ctor, "codeSettings", types::CodeSettings, types::CodeSettings),
            (ctor, "restrictionReason", types::RestrictionReason, types::RestrictionReason),
            (ctor, "emojiStatusEmpty", types::EmojiStatusEmpty, types::EmojiStatusEmpty),
            (ctor, "emojiStatus", types::EmojiStatus, types::EmojiStatus),
            (ctor, "emojiStatusCollectible", types::EmojiStatusCollectible, types::EmojiStatusCollectible),
            (ctor, "inputEmojiStatusCollectible", types::InputEmojiStatusCollectible, types::InputEmojiStatusCollectible),
            (ctor, "reactionEmpty", types::ReactionEmpty, types::ReactionEmpty),
            (ctor, "reactionEmoji", types::ReactionEmoji, types::ReactionEmoji),
            (ctor, "reactionCustomEmoji", types::ReactionCustomEmoji, types::ReactionCustomEmoji),
            (ctor, "reactionPaid", types::ReactionPaid, types::ReactionPaid),
            (ctor, "emailVerifyPurposeLoginSetup", types::EmailVerifyPurposeLoginSetup, types::EmailVerifyPurposeLoginSetup),
            (ctor, "emailVerifyPurposeLoginChange", types::EmailVerifyPurposeLoginChange, types::EmailVerifyPurposeLoginChange),
            (ctor, "emailVerifyPurposePassport", types::EmailVerifyPurposePassport, types::EmailVerifyPurposePassport),
            (ctor, "emailVerificationCode", types::EmailVerificationCode, types::EmailVerificationCode),
            (ctor, "emailVerificationGoogle", types::EmailVerificationGoogle, types::EmailVerificationGoogle),
            (ctor, "emailVerificationApple", types::EmailVerificationApple, types::EmailVerificationApple),
            (ctor, "username", types::Username, types::Username),
            (ctor, "peerColor", types::PeerColor, types::PeerColor),
            (ctor, "peerColorCollectible", types::PeerColorCollectible, types::PeerColorCollectible),
            (ctor, "inputPeerColorCollectible", types::InputPeerColorCollectible, types::InputPeerColorCollectible),
            (ctor, "recentStory", types::RecentStory, types::RecentStory),
            (ctor, "inputPasskeyResponseRegister", types::InputPasskeyResponseRegister, types::InputPasskeyResponseRegister),
            (ctor, "inputPasskeyResponseLogin", types::InputPasskeyResponseLogin, types::InputPasskeyResponseLogin),
            (ctor, "inputPasskeyCredentialPublicKey", types::InputPasskeyCredentialPublicKey, types::InputPasskeyCredentialPublicKey),
            (ctor, "account.password", types::account::Password, types::account::Password),
            (ctor, "account.passwordInputSettings", types::account::PasswordInputSettings, types::account::PasswordInputSettings),
            (ctor, "account.sentEmailCode", types::account::SentEmailCode, types::account::SentEmailCode),
            (ctor, "account.emailVerified", types::account::EmailVerified, types::account::EmailVerified),
            (ctor, "account.emailVerifiedLogin", types::account::EmailVerifiedLogin, types::account::EmailVerifiedLogin),
            (ctor, "auth.sentCode", types::auth::SentCode, types::auth::SentCode),
            (ctor, "auth.sentCodeSuccess", types::auth::SentCodeSuccess, types::auth::SentCodeSuccess),
            (ctor, "auth.sentCodePaymentRequired", types::auth::SentCodePaymentRequired, types::auth::SentCodePaymentRequired),
            (ctor, "auth.authorization", types::auth::Authorization, types::auth::Authorization),
            (ctor, "auth.authorizationSignUpRequired", types::auth::AuthorizationSignUpRequired, types::auth::AuthorizationSignUpRequired),
            (ctor, "auth.exportedAuthorization", types::auth::ExportedAuthorization, types::auth::ExportedAuthorization),
            (ctor, "auth.passwordRecovery", types::auth::PasswordRecovery, types::auth::PasswordRecovery),
            (ctor, "auth.codeTypeSms", types::auth::CodeTypeSms, types::auth::CodeTypeSms),
            (ctor, "auth.codeTypeCall", types::auth::CodeTypeCall, types::auth::CodeTypeCall),
            (ctor, "auth.codeTypeFlashCall", types::auth::CodeTypeFlashCall, types::auth::CodeTypeFlashCall),
            (ctor, "auth.codeTypeMissedCall", types::auth::CodeTypeMissedCall, types::auth::CodeTypeMissedCall),
            (ctor, "auth.codeTypeFragmentSms", types::auth::CodeTypeFragmentSms, types::auth::CodeTypeFragmentSms),
            (ctor, "auth.sentCodeTypeApp", types::auth::SentCodeTypeApp, types::auth::SentCodeTypeApp),
            (ctor, "auth.sentCodeTypeSms", types::auth::SentCodeTypeSms, types::auth::SentCodeTypeSms),
            (ctor, "auth.sentCodeTypeCall", types::auth::SentCodeTypeCall, types::auth::SentCodeTypeCall),
            (ctor, "auth.sentCodeTypeFlashCall", types::auth::SentCodeTypeFlashCall, types::auth::SentCodeTypeFlashCall),
            (ctor, "auth.sentCodeTypeMissedCall", types::auth::SentCodeTypeMissedCall, types::auth::SentCodeTypeMissedCall),
            (ctor, "auth.sentCodeTypeEmailCode", types::auth::SentCodeTypeEmailCode, types::auth::SentCodeTypeEmailCode),
            (ctor, "auth.sentCodeTypeSetUpEmailRequired", types::auth::SentCodeTypeSetUpEmailRequired, types::auth::SentCodeTypeSetUpEmailRequired),
            (ctor, "auth.sentCodeTypeFragmentSms", types::auth::SentCodeTypeFragmentSms, types::auth::SentCodeTypeFragmentSms),
            (ctor, "auth.sentCodeTypeFirebaseSms", types::auth::SentCodeTypeFirebaseSms, types::auth::SentCodeTypeFirebaseSms),
            (ctor, "auth.sentCodeTypeSmsWord", types::auth::SentCodeTypeSmsWord, types::auth::SentCodeTypeSmsWord),
            (ctor, "auth.sentCodeTypeSmsPhrase", types::auth::SentCodeTypeSmsPhrase, types::auth::SentCodeTypeSmsPhrase),
            (ctor, "auth.loginToken", types::auth::LoginToken, types::auth::LoginToken),
            (ctor, "auth.loginTokenMigrateTo", types::auth::LoginTokenMigrateTo, types::auth::LoginTokenMigrateTo),
            (ctor, "auth.loginTokenSuccess", types::auth::LoginTokenSuccess, types::auth::LoginTokenSuccess),
            (ctor, "auth.loggedOut", types::auth::LoggedOut, types::auth::LoggedOut),
            (ctor, "auth.passkeyLoginOptions", types::auth::PasskeyLoginOptions, types::auth::PasskeyLoginOptions),
            (ctor, "auth.firebasePnvIntent", types::auth::FirebasePnvIntent, types::auth::FirebasePnvIntent),
            (ctor, "help.termsOfService", types::help::TermsOfService, types::help::TermsOfService),
            (ctor, "updates.state", types::updates::State, types::updates::State),
            (ty, "Authorization", enums::Authorization, enums::Authorization),
            (ty, "CodeSettings", enums::CodeSettings, enums::CodeSettings),
            (ty, "Config", enums::Config, enums::Config),
            (ty, "DataJSON", enums::DataJson, enums::DataJson),
            (ty, "DcOption", enums::DcOption, enums::DcOption),
            (ty, "EmailVerification", enums::EmailVerification, enums::EmailVerification),
            (ty, "EmailVerifyPurpose", enums::EmailVerifyPurpose, enums::EmailVerifyPurpose),
            (ty, "EmojiStatus", enums::EmojiStatus, enums::EmojiStatus),
            (ty, "InputCheckPasswordSRP", enums::InputCheckPasswordSrp, enums::InputCheckPasswordSrp),
            (ty, "InputClientProxy", enums::InputClientProxy, enums::InputClientProxy),
            (ty, "InputPasskeyCredential", enums::InputPasskeyCredential, enums::InputPasskeyCredential),
            (ty, "InputPasskeyResponse", enums::InputPasskeyResponse, enums::InputPasskeyResponse),
            (ty, "InputPeer", enums::InputPeer, enums::InputPeer),
            (ty, "InputUser", enums::InputUser, enums::InputUser),
            (ty, "JSONObjectValue", enums::JsonObjectValue, enums::JsonobjectValue),
            (ty, "JSONValue", enums::JsonValue, enums::Jsonvalue),
            (ty, "MessageEntity", enums::MessageEntity, enums::MessageEntity),
            (ty, "NearestDc", enums::NearestDc, enums::NearestDc),
            (ty, "PasswordKdfAlgo", enums::PasswordKdfAlgo, enums::PasswordKdfAlgo),
            (ty, "PeerColor", enums::PeerColor, enums::PeerColor),
            (ty, "Reaction", enums::Reaction, enums::Reaction),
            (ty, "RecentStory", enums::RecentStory, enums::RecentStory),
            (ty, "RestrictionReason", enums::RestrictionReason, enums::RestrictionReason),
            (ty, "SecurePasswordKdfAlgo", enums::SecurePasswordKdfAlgo, enums::SecurePasswordKdfAlgo),
            (ty, "SecureSecretSettings", enums::SecureSecretSettings, enums::SecureSecretSettings),
            (ty, "User", enums::User, enums::User),
            (ty, "UserProfilePhoto", enums::UserProfilePhoto, enums::UserProfilePhoto),
            (ty, "UserStatus", enums::UserStatus, enums::UserStatus),
            (ty, "Username", enums::Username, enums::Username),
            (ty, "account.EmailVerified", enums::account::EmailVerified, enums::account::EmailVerified),
            (ty, "account.Password", enums::account::Password, enums::account::Password),
            (ty, "account.PasswordInputSettings", enums::account::PasswordInputSettings, enums::account::PasswordInputSettings),
            (ty, "account.SentEmailCode", enums::account::SentEmailCode, enums::account::SentEmailCode),
            (ty, "auth.Authorization", enums::auth::Authorization, enums::auth::Authorization),
            (ty, "auth.CodeType", enums::auth::CodeType, enums::auth::CodeType),
            (ty, "auth.ExportedAuthorization", enums::auth::ExportedAuthorization, enums::auth::ExportedAuthorization),
            (ty, "auth.FirebasePnvIntent", enums::auth::FirebasePnvIntent, enums::auth::FirebasePnvIntent),
            (ty, "auth.LoggedOut", enums::auth::LoggedOut, enums::auth::LoggedOut),
            (ty, "auth.LoginToken", enums::auth::LoginToken, enums::auth::LoginToken),
            (ty, "auth.PasskeyLoginOptions", enums::auth::PasskeyLoginOptions, enums::auth::PasskeyLoginOptions),
            (ty, "auth.PasswordRecovery", enums::auth::PasswordRecovery, enums::auth::PasswordRecovery),
            (ty, "auth.SentCode", enums::auth::SentCode, enums::auth::SentCode),
            (ty, "auth.SentCodeType", enums::auth::SentCodeType, enums::auth::SentCodeType),
            (ty, "help.TermsOfService", enums::help::TermsOfService, enums::help::TermsOfService),
            (ty, "updates.State", enums::updates::State, enums::updates::State),
            (gfunc, "initConnection", functions::InitConnection, functions::InitConnection),
            (gfunc, "invokeWithLayer", functions::InvokeWithLayer, functions::InvokeWithLayer),
            (gfunc, "invokeWithoutUpdates", functions::InvokeWithoutUpdates, functions::InvokeWithoutUpdates),
            (func, "account.getPassword", functions::account::GetPassword, functions::account::GetPassword),
            (func, "account.sendVerifyEmailCode", functions::account::SendVerifyEmailCode, functions::account::SendVerifyEmailCode),
            (func, "account.verifyEmail", functions::account::VerifyEmail, functions::account::VerifyEmail),
            (func, "auth.sendCode", functions::auth::SendCode, functions::auth::SendCode),
            (func, "auth.signUp", functions::auth::SignUp, functions::auth::SignUp),
            (func, "auth.signIn", functions::auth::SignIn, functions::auth::SignIn),
            (func, "auth.logOut", functions::auth::LogOut, functions::auth::LogOut),
            (func, "auth.resetAuthorizations", functions::auth::ResetAuthorizations, functions::auth::ResetAuthorizations),
            (func, "auth.exportAuthorization", functions::auth::ExportAuthorization, functions::auth::ExportAuthorization),
            (func, "auth.importAuthorization", functions::auth::ImportAuthorization, functions::auth::ImportAuthorization),
            (func, "auth.bindTempAuthKey", functions::auth::BindTempAuthKey, functions::auth::BindTempAuthKey),
            (func, "auth.importBotAuthorization", functions::auth::ImportBotAuthorization, functions::auth::ImportBotAuthorization),
            (func, "auth.checkPassword", functions::auth::CheckPassword, functions::auth::CheckPassword),
            (func, "auth.requestPasswordRecovery", functions::auth::RequestPasswordRecovery, functions::auth::RequestPasswordRecovery),
            (func, "auth.recoverPassword", functions::auth::RecoverPassword, functions::auth::RecoverPassword),
            (func, "auth.resendCode", functions::auth::ResendCode, functions::auth::ResendCode),
            (func, "auth.cancelCode", functions::auth::CancelCode, functions::auth::CancelCode),
            (func, "auth.dropTempAuthKeys", functions::auth::DropTempAuthKeys, functions::auth::DropTempAuthKeys),
            (func, "auth.exportLoginToken", functions::auth::ExportLoginToken, functions::auth::ExportLoginToken),
            (func, "auth.importLoginToken", functions::auth::ImportLoginToken, functions::auth::ImportLoginToken),
            (func, "auth.acceptLoginToken", functions::auth::AcceptLoginToken, functions::auth::AcceptLoginToken),
            (func, "auth.checkRecoveryPassword", functions::auth::CheckRecoveryPassword, functions::auth::CheckRecoveryPassword),
            (func, "auth.importWebTokenAuthorization", functions::auth::ImportWebTokenAuthorization, functions::auth::ImportWebTokenAuthorization),
            (func, "auth.requestFirebaseSms", functions::auth::RequestFirebaseSms, functions::auth::RequestFirebaseSms),
            (func, "auth.resetLoginEmail", functions::auth::ResetLoginEmail, functions::auth::ResetLoginEmail),
            (func, "auth.reportMissingCode", functions::auth::ReportMissingCode, functions::auth::ReportMissingCode),
            (func, "auth.checkPaidAuth", functions::auth::CheckPaidAuth, functions::auth::CheckPaidAuth),
            (func, "auth.initPasskeyLogin", functions::auth::InitPasskeyLogin, functions::auth::InitPasskeyLogin),
            (func, "auth.finishPasskeyLogin", functions::auth::FinishPasskeyLogin, functions::auth::FinishPasskeyLogin),
            (func, "auth.cancelWebTokenAuthorization", functions::auth::CancelWebTokenAuthorization, functions::auth::CancelWebTokenAuthorization),
            (func, "auth.initFirebasePnvLogin", functions::auth::InitFirebasePnvLogin, functions::auth::InitFirebasePnvLogin),
            (func, "auth.finishFirebasePnvLogin", functions::auth::FinishFirebasePnvLogin, functions::auth::FinishFirebasePnvLogin),
            (func, "auth.firebasePnvSignUp", functions::auth::FirebasePnvSignUp, functions::auth::FirebasePnvSignUp),
            (func, "help.getConfig", functions::help::GetConfig, functions::help::GetConfig),
            (func, "help.getNearestDc", functions::help::GetNearestDc, functions::help::GetNearestDc),
            (func, "updates.getState", functions::updates::GetState, functions::updates::GetState),
            (func, "users.getUsers", functions::users::GetUsers, functions::users::GetUsers),
        }
    };
}
/// Every definition generated in `runtime/proto/src/generated/mtproto.rs`: calls
/// `$callback!` with `(kind, "tl.name", path::below::the::module, grammers::path)` rows;
/// `kind` is `ctor` (bare struct), `ty` (boxed enum), `func` (function) or `gfunc`
/// (generic function), and the last path is the `grammers_tl_types` item.
#[macro_export]
macro_rules! mtproto_table {
    ($callback:ident) => {
        $callback! {
            (ctor, "resPQ", types::ResPq, types::ResPq),
            (ctor, "p_q_inner_data", types::PQInnerData, types::PQInnerData),
            (ctor, "p_q_inner_data_dc", types::PQInnerDataDc, types::PQInnerDataDc),
            (ctor, "p_q_inner_data_temp", types::PQInnerDataTemp, types::PQInnerDataTemp),
            (ctor, "p_q_inner_data_temp_dc", types::PQInnerDataTempDc, types::PQInnerDataTempDc),
            (ctor, "bind_auth_key_inner", types::BindAuthKeyInner, types::BindAuthKeyInner),
            (ctor, "server_DH_params_fail", types::ServerDhParamsFail, types::ServerDhParamsFail),
            (ctor, "server_DH_params_ok", types::ServerDhParamsOk, types::ServerDhParamsOk),
            (ctor, "server_DH_inner_data", types::ServerDhInnerData, types::ServerDhInnerData),
            (ctor, "client_DH_inner_data", types::ClientDhInnerData, types::ClientDhInnerData),
            (ctor, "dh_gen_ok", types::DhGenOk, types::DhGenOk),
            (ctor, "dh_gen_retry", types::DhGenRetry, types::DhGenRetry),
            (ctor, "dh_gen_fail", types::DhGenFail, types::DhGenFail),
            (ctor, "destroy_auth_key_ok", types::DestroyAuthKeyOk, types::DestroyAuthKeyOk),
            (ctor, "destroy_auth_key_none", types::DestroyAuthKeyNone, types::DestroyAuthKeyNone),
            (ctor, "destroy_auth_key_fail", types::DestroyAuthKeyFail, types::DestroyAuthKeyFail),
            (ctor, "msgs_ack", types::MsgsAck, types::MsgsAck),
            (ctor, "bad_msg_notification", types::BadMsgNotification, types::BadMsgNotification),
            (ctor, "bad_server_salt", types::BadServerSalt, types::BadServerSalt),
            (ctor, "msgs_state_req", types::MsgsStateReq, types::MsgsStateReq),
            (ctor, "msgs_state_info", types::MsgsStateInfo, types::MsgsStateInfo),
            (ctor, "msgs_all_info", types::MsgsAllInfo, types::MsgsAllInfo),
            (ctor, "msg_detailed_info", types::MsgDetailedInfo, types::MsgDetailedInfo),
            (ctor, "msg_new_detailed_info", types::MsgNewDetailedInfo, types::MsgNewDetailedInfo),
            (ctor, "msg_resend_req", types::MsgResendReq, types::MsgResendReq),
            (ctor, "msg_resend_ans_req", types::MsgResendAnsReq, types::MsgResendAnsReq),
            (ctor, "rpc_error", types::RpcError, types::RpcError),
            (ctor, "rpc_answer_unknown", types::RpcAnswerUnknown, types::RpcAnswerUnknown),
            (ctor, "rpc_answer_dropped_running", types::RpcAnswerDroppedRunning, types::RpcAnswerDroppedRunning),
            (ctor, "rpc_answer_dropped", types::RpcAnswerDropped, types::RpcAnswerDropped),
            (ctor, "future_salt", types::FutureSalt, types::FutureSalt),
            (ctor, "future_salts", types::FutureSalts, types::FutureSalts),
            (ctor, "pong", types::Pong, types::Pong),
            (ctor, "destroy_session_ok", types::DestroySessionOk, types::DestroySessionOk),
            (ctor, "destroy_session_none", types::DestroySessionNone, types::DestroySessionNone),
            (ctor, "new_session_created", types::NewSessionCreated, types::NewSessionCreated),
            (ctor, "http_wait", types::HttpWait, types::HttpWait),
            (ctor, "ipPort", types::IpPort, types::IpPort),
            (ctor, "ipPortSecret", types::IpPortSecret, types::IpPortSecret),
            (ctor, "accessPointRule", types::AccessPointRule, types::AccessPointRule),
            (ctor, "tlsClientHello", types::TlsClientHello, types::TlsClientHello),
            (ctor, "tlsBlockString", types::TlsBlockString, types::TlsBlockString),
            (ctor, "tlsBlockRandom", types::TlsBlockRandom, types::TlsBlockRandom),
            (ctor, "tlsBlockZero", types::TlsBlockZero, types::TlsBlockZero),
            (ctor, "tlsBlockDomain", types::TlsBlockDomain, types::TlsBlockDomain),
            (ctor, "tlsBlockGrease", types::TlsBlockGrease, types::TlsBlockGrease),
            (ctor, "tlsBlockPublicKey", types::TlsBlockPublicKey, types::TlsBlockPublicKey),
            (ctor, "tlsBlockScope", types::TlsBlockScope, types::TlsBlockScope),
            (ctor, "help.configSimple", types::help::ConfigSimple, types::help::ConfigSimple),
            (ty, "AccessPointRule", enums::AccessPointRule, enums::AccessPointRule),
            (ty, "BadMsgNotification", enums::BadMsgNotification, enums::BadMsgNotification),
            (ty, "BindAuthKeyInner", enums::BindAuthKeyInner, enums::BindAuthKeyInner),
            (ty, "Client_DH_Inner_Data", enums::ClientDhInnerData, enums::ClientDhInnerData),
            (ty, "DestroyAuthKeyRes", enums::DestroyAuthKeyRes, enums::DestroyAuthKeyRes),
            (ty, "DestroySessionRes", enums::DestroySessionRes, enums::DestroySessionRes),
            (ty, "FutureSalt", enums::FutureSalt, enums::FutureSalt),
            (ty, "FutureSalts", enums::FutureSalts, enums::FutureSalts),
            (ty, "HttpWait", enums::HttpWait, enums::HttpWait),
            (ty, "IpPort", enums::IpPort, enums::IpPort),
            (ty, "MsgDetailedInfo", enums::MsgDetailedInfo, enums::MsgDetailedInfo),
            (ty, "MsgResendReq", enums::MsgResendReq, enums::MsgResendReq),
            (ty, "MsgsAck", enums::MsgsAck, enums::MsgsAck),
            (ty, "MsgsAllInfo", enums::MsgsAllInfo, enums::MsgsAllInfo),
            (ty, "MsgsStateInfo", enums::MsgsStateInfo, enums::MsgsStateInfo),
            (ty, "MsgsStateReq", enums::MsgsStateReq, enums::MsgsStateReq),
            (ty, "NewSession", enums::NewSession, enums::NewSession),
            (ty, "P_Q_inner_data", enums::PQInnerData, enums::PQInnerData),
            (ty, "Pong", enums::Pong, enums::Pong),
            (ty, "ResPQ", enums::ResPq, enums::ResPq),
            (ty, "RpcDropAnswer", enums::RpcDropAnswer, enums::RpcDropAnswer),
            (ty, "RpcError", enums::RpcError, enums::RpcError),
            (ty, "Server_DH_Params", enums::ServerDhParams, enums::ServerDhParams),
            (ty, "Server_DH_inner_data", enums::ServerDhInnerData, enums::ServerDhInnerData),
            (ty, "Set_client_DH_params_answer", enums::SetClientDhParamsAnswer, enums::SetClientDhParamsAnswer),
            (ty, "TlsBlock", enums::TlsBlock, enums::TlsBlock),
            (ty, "TlsClientHello", enums::TlsClientHello, enums::TlsClientHello),
            (ty, "help.ConfigSimple", enums::help::ConfigSimple, enums::help::ConfigSimple),
            (func, "req_pq", functions::ReqPq, functions::ReqPq),
            (func, "req_pq_multi", functions::ReqPqMulti, functions::ReqPqMulti),
            (func, "req_DH_params", functions::ReqDhParams, functions::ReqDhParams),
            (func, "set_client_DH_params", functions::SetClientDhParams, functions::SetClientDhParams),
            (func, "destroy_auth_key", functions::DestroyAuthKey, functions::DestroyAuthKey),
            (func, "rpc_drop_answer", functions::RpcDropAnswer, functions::RpcDropAnswer),
            (func, "get_future_salts", functions::GetFutureSalts, functions::GetFutureSalts),
            (func, "ping", functions::Ping, functions::Ping),
            (func, "ping_delay_disconnect", functions::PingDelayDisconnect, functions::PingDelayDisconnect),
            (func, "destroy_session", functions::DestroySession, functions::DestroySession),
        }
    };
}
/// Every definition generated in `auth-api/src/generated/legacy_layer23.rs`: calls
/// `$callback!` with `(kind, "tl.name", path::below::the::module)` rows;
/// `kind` is `ctor` (bare struct), `ty` (boxed enum), `func` (function) or `gfunc`
/// (generic function).
#[macro_export]
macro_rules! layer23_table {
    ($callback:ident) => {
        $callback! {
            (ctor, "fileLocationUnavailable", types::FileLocationUnavailable),
            (ctor, "fileLocation", types::FileLocation),
            (ctor, "userEmpty", types::UserEmpty),
            (ctor, "userSelf", types::UserSelf),
            (ctor, "userContact", types::UserContact),
            (ctor, "userRequest", types::UserRequest),
            (ctor, "userForeign", types::UserForeign),
            (ctor, "userDeleted", types::UserDeleted),
            (ctor, "userProfilePhotoEmpty", types::UserProfilePhotoEmpty),
            (ctor, "userProfilePhoto", types::UserProfilePhoto),
            (ctor, "userStatusEmpty", types::UserStatusEmpty),
            (ctor, "userStatusOnline", types::UserStatusOnline),
            (ctor, "userStatusOffline", types::UserStatusOffline),
            (ctor, "userStatusRecently", types::UserStatusRecently),
            (ctor, "userStatusLastWeek", types::UserStatusLastWeek),
            (ctor, "userStatusLastMonth", types::UserStatusLastMonth),
            (ctor, "auth.checkedPhone", types::auth::CheckedPhone),
            (ctor, "auth.sentCode", types::auth::SentCode),
            (ctor, "auth.authorization", types::auth::Authorization),
            (ctor, "auth.exportedAuthorization", types::auth::ExportedAuthorization),
            (ctor, "auth.sentAppCode", types::auth::SentAppCode),
            (ty, "FileLocation", enums::FileLocation),
            (ty, "User", enums::User),
            (ty, "UserProfilePhoto", enums::UserProfilePhoto),
            (ty, "UserStatus", enums::UserStatus),
            (ty, "auth.Authorization", enums::auth::Authorization),
            (ty, "auth.CheckedPhone", enums::auth::CheckedPhone),
            (ty, "auth.ExportedAuthorization", enums::auth::ExportedAuthorization),
            (ty, "auth.SentCode", enums::auth::SentCode),
            (gfunc, "initConnection", functions::InitConnection),
            (gfunc, "invokeWithLayer", functions::InvokeWithLayer),
            (func, "auth.checkPhone", functions::auth::CheckPhone),
            (func, "auth.sendCode", functions::auth::SendCode),
            (func, "auth.sendCall", functions::auth::SendCall),
            (func, "auth.signUp", functions::auth::SignUp),
            (func, "auth.signIn", functions::auth::SignIn),
            (func, "auth.logOut", functions::auth::LogOut),
            (func, "auth.resetAuthorizations", functions::auth::ResetAuthorizations),
            (func, "auth.sendInvites", functions::auth::SendInvites),
            (func, "auth.exportAuthorization", functions::auth::ExportAuthorization),
            (func, "auth.importAuthorization", functions::auth::ImportAuthorization),
            (func, "auth.bindTempAuthKey", functions::auth::BindTempAuthKey),
            (func, "auth.sendSms", functions::auth::SendSms),
        }
    };
}
// END GENERATED TABLE
