//! The typed model of a TL schema: what the parser produces and the generator consumes.

use std::fmt;

/// A parsed schema file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Schema {
    /// The layer from a `// LAYER N` comment, if the file has one.
    pub layer: Option<u32>,
    /// Every declaration, in file order (built-in pseudo declarations included).
    pub definitions: Vec<Definition>,
}

/// Whether a declaration is a constructor of a data type or a function (RPC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Declared in a `---types---` section (the default at the top of a file).
    Type,
    /// Declared in a `---functions---` section.
    Function,
}

/// Where a definition's constructor id came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdOrigin {
    /// Written in the file as `#id`.
    Declared,
    /// Not written; computed from the declaration with the CRC32 rule.
    Inferred,
}

/// One declaration of the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    /// Type constructor or function.
    pub category: Category,
    /// The namespace before the dot (`auth` in `auth.sendCode`), if any.
    pub namespace: Option<String>,
    /// The name after the namespace (`sendCode`).
    pub name: String,
    /// The constructor id: declared, or inferred when the file has none.
    pub id: u32,
    /// Whether `id` was declared or inferred.
    pub id_origin: IdOrigin,
    /// Type parameters: `{X:Type}`.
    pub type_params: Vec<TypeParam>,
    /// The arguments in order.
    pub params: Vec<Param>,
    /// The layout of a built-in pseudo declaration (`int ? = Int;`); `None` for ordinary ones.
    pub builtin: Option<BuiltinBody>,
    /// The result type (the boxed type a constructor belongs to, or a function's return type).
    pub result: Type,
    /// Type variables applied to the result (`t` in `= Vector t`).
    pub result_args: Vec<String>,
    /// Where the declaration is in its file.
    pub span: Span,
    /// Where the `#id` token is (equal to `span` when there is none).
    pub id_span: Span,
}

impl Definition {
    /// `namespace.name`, or `name` without a namespace.
    pub fn full_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Whether this is a built-in pseudo declaration such as `int ? = Int;`.
    pub fn is_builtin(&self) -> bool {
        self.builtin.is_some()
    }
}

/// A type parameter `{name:kind}`, almost always `{X:Type}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeParam {
    /// The parameter's name (`X`).
    pub name: String,
    /// Its kind (`Type`).
    pub kind: Type,
}

/// The layout of a built-in pseudo declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuiltinBody {
    /// `?`: a primitive whose layout TL does not describe.
    Opaque,
    /// `# [ t ]`: a count and that many values of type variable `t`.
    Counted(String),
    /// `4*[ int ]`: a fixed number of values.
    Repeated(u32, String),
}

/// One argument of a declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// The argument name.
    pub name: String,
    /// Its type.
    pub ty: ParamType,
    /// Where the argument is.
    pub span: Span,
}

/// The type of an argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `#`: a word of flag bits, computed from which conditional fields are present.
    Flags,
    /// A value, present always or when a flag bit is set.
    Normal {
        /// The value's type.
        ty: Type,
        /// The condition `flags.N?`, if any.
        flag: Option<Flag>,
    },
}

/// The condition of a conditional argument: `field.bit?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// The `#` field holding the bit.
    pub field: String,
    /// The bit number.
    pub bit: u32,
}

/// A type reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Type {
    /// The namespace (`auth` in `auth.SentCode`).
    pub namespace: Option<String>,
    /// The name (`SentCode`, `int`, `Vector`).
    pub name: String,
    /// Written with `%` (bare form of a boxed type).
    pub percent: bool,
    /// Written as `!X`: the generic payload of a type parameter.
    pub generic_ref: bool,
    /// The argument in `Vector<T>`.
    pub arg: Option<Box<Type>>,
    /// Where the type is written.
    pub span: Span,
}

impl Type {
    /// `namespace.name`, or `name`.
    pub fn full_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Whether values of this type are written without a constructor id (`%T`, or a lowercase name).
    pub fn is_bare(&self) -> bool {
        self.percent || self.name.starts_with(|c: char| c.is_ascii_lowercase())
    }

    /// `true` for `flags.N?true`: a presence bit without payload.
    pub fn is_true_flag(&self) -> bool {
        self.namespace.is_none() && self.name == "true" && !self.percent && self.arg.is_none()
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.generic_ref {
            f.write_str("!")?;
        }
        if self.percent {
            f.write_str("%")?;
        }
        f.write_str(&self.full_name())?;
        if let Some(arg) = &self.arg {
            write!(f, "<{arg}>")?;
        }
        Ok(())
    }
}

/// A location in a schema file: byte range plus 1-based line and column (in characters).
///
/// Spans are where something was written, not what it is: two spans always compare equal, so
/// models parsed from differently laid out text compare equal when their content is the same.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset after the last character.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column of `start`, counted in characters.
    pub col: usize,
}

impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Span {}
