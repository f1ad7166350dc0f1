//! From text to the [`Schema`] model: the only module that sees pest.
//!
//! Parsing never stops at the first problem: a statement that does not parse is reported and
//! skipped, and parsing goes on with the next one.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser;

use crate::diagnostic::{Diagnostic, LineIndex};
use crate::id;
use crate::model::{
    BuiltinBody, Category, Definition, Flag, IdOrigin, Param, ParamType, Schema, Type, TypeParam,
};

use grammar::{Rule, TlParser};

mod grammar {
    #![allow(missing_docs)]
    use pest_derive::Parser;

    /// The pest parser generated from `tl.pest`.
    #[derive(Parser)]
    #[grammar = "tl.pest"]
    pub struct TlParser;
}

/// How deeply type arguments may nest (`Vector<Vector<...>>`); real schemas use 2.
const MAX_TYPE_DEPTH: usize = 32;

/// A schema and the syntax errors met while reading it.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// Everything that parsed.
    pub schema: Schema,
    /// One error per statement that did not parse, in source order.
    pub errors: Vec<Diagnostic>,
}

/// Parses TL text. Definitions without an id get the one the CRC32 rule gives.
pub fn parse(source: &str) -> Parsed {
    let lines = LineIndex::new(source);
    let mut cx = Context {
        source,
        lines: &lines,
        errors: Vec::new(),
    };
    let mut schema = Schema::default();
    match TlParser::parse(Rule::schema, source) {
        Ok(mut pairs) => {
            let top = pairs.next().expect("the schema rule yields one pair");
            let mut category = Category::Type;
            for pair in top.into_inner() {
                match pair.as_rule() {
                    Rule::section_marker => {
                        category = if pair.as_str().contains("functions") {
                            Category::Function
                        } else {
                            Category::Type
                        };
                    }
                    Rule::declaration => {
                        if let Some(def) = cx.definition(pair, category) {
                            schema.definitions.push(def);
                        }
                    }
                    Rule::layer_comment => {
                        let number = pair.into_inner().next().map(|p| p.as_str());
                        if schema.layer.is_none() {
                            schema.layer = number.and_then(|n| n.parse().ok());
                        }
                    }
                    Rule::invalid => cx.invalid_statement(pair.as_span().start(), pair.as_str()),
                    _ => {}
                }
            }
        }
        // The grammar accepts any input through `invalid`, so this is only reached on pest's
        // own limits (such as its call limit); report it rather than panic.
        Err(e) => cx.syntax_error(0, &e),
    }
    Parsed {
        schema,
        errors: cx.errors,
    }
}

struct Context<'s> {
    source: &'s str,
    lines: &'s LineIndex<'s>,
    errors: Vec<Diagnostic>,
}

impl<'s> Context<'s> {
    fn span(&self, span: pest::Span<'_>) -> crate::model::Span {
        self.lines.span(span.start(), span.end())
    }

    fn error_at(&mut self, start: usize, end: usize, message: String) {
        let span = self.lines.span(start, end);
        self.errors
            .push(Diagnostic::error(message, span, self.source));
    }

    fn definition(&mut self, pair: Pair<'_, Rule>, category: Category) -> Option<Definition> {
        let span = self.span(pair.as_span());
        let mut inner = pair.into_inner();
        let name_pair = inner.next()?;
        let (namespace, name) = split_name(name_pair.as_str());
        let mut def = Definition {
            category,
            namespace,
            name,
            id: 0,
            id_origin: IdOrigin::Inferred,
            type_params: Vec::new(),
            params: Vec::new(),
            builtin: None,
            result: Type {
                namespace: None,
                name: String::new(),
                percent: false,
                generic_ref: false,
                arg: None,
                span,
            },
            result_args: Vec::new(),
            span,
            id_span: self.span(name_pair.as_span()),
        };
        let mut declared_id = None;
        let mut valid = true;
        for part in inner {
            match part.as_rule() {
                Rule::constructor_id => {
                    def.id_span = self.span(part.as_span());
                    let digits = &part.as_str()[1..];
                    match parse_hex_id(digits) {
                        Some(id) => declared_id = Some(id),
                        None => {
                            valid = false;
                            let s = part.as_span();
                            self.error_at(
                                s.start(),
                                s.end(),
                                format!(
                                    "invalid constructor id `{}`: expected 1 to 8 hexadecimal digits",
                                    part.as_str()
                                ),
                            );
                        }
                    }
                }
                Rule::type_param => {
                    let mut it = part.into_inner();
                    let (Some(name), Some(kind)) = (it.next(), it.next()) else {
                        continue;
                    };
                    def.type_params.push(TypeParam {
                        name: name.as_str().to_string(),
                        kind: self.type_expr(kind),
                    });
                }
                Rule::builtin_body => def.builtin = builtin_body(part),
                Rule::param => def.params.push(self.param(part)),
                Rule::result_type => {
                    let mut it = part.into_inner();
                    if let Some(ty) = it.next() {
                        def.result = self.type_expr(ty);
                    }
                    def.result_args = it.map(|a| a.as_str().to_string()).collect();
                }
                _ => {}
            }
        }
        if !valid {
            return None;
        }
        match declared_id {
            Some(id) => {
                def.id = id;
                def.id_origin = IdOrigin::Declared;
            }
            None => def.id = id::compute_id(&def),
        }
        Some(def)
    }

    fn param(&mut self, pair: Pair<'_, Rule>) -> Param {
        let span = self.span(pair.as_span());
        let mut it = pair.into_inner();
        let name = it
            .next()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let ty = match it.next().and_then(|t| t.into_inner().next()) {
            Some(t) if t.as_rule() == Rule::nat_type => ParamType::Flags,
            Some(t) if t.as_rule() == Rule::conditional_type => {
                let mut c = t.into_inner();
                let field = c.next().map(|p| p.as_str().to_string()).unwrap_or_default();
                let bit_pair = c.next();
                let bit = bit_pair
                    .as_ref()
                    .and_then(|p| p.as_str().parse().ok())
                    .unwrap_or(u32::MAX);
                let ty = c.next().map(|p| self.type_expr(p));
                match ty {
                    Some(ty) => ParamType::Normal {
                        ty,
                        flag: Some(Flag { field, bit }),
                    },
                    None => ParamType::Flags,
                }
            }
            Some(t) => ParamType::Normal {
                ty: self.type_expr(t),
                flag: None,
            },
            None => ParamType::Flags,
        };
        Param { name, ty, span }
    }

    fn type_expr(&mut self, pair: Pair<'_, Rule>) -> Type {
        self.type_expr_at(pair, 0)
    }

    fn type_expr_at(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Type {
        let span = self.span(pair.as_span());
        let mut ty = Type {
            namespace: None,
            name: String::new(),
            percent: false,
            generic_ref: false,
            arg: None,
            span,
        };
        let pair_span = pair.as_span();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::generic_ref => {
                    ty.generic_ref = true;
                    ty.name = part.as_str()[1..].to_string();
                }
                Rule::bare_marker => ty.percent = true,
                Rule::type_name => {
                    let (ns, name) = split_name(part.as_str());
                    ty.namespace = ns;
                    ty.name = name;
                }
                Rule::type_expr if depth >= MAX_TYPE_DEPTH => {
                    let s = pair_span;
                    self.error_at(
                        s.start(),
                        s.end(),
                        format!("type arguments nested more than {MAX_TYPE_DEPTH} deep"),
                    );
                }
                Rule::type_expr => ty.arg = Some(Box::new(self.type_expr_at(part, depth + 1))),
                _ => {}
            }
        }
        ty
    }

    /// Re-parses a statement that did not parse on its own to find exactly where and why.
    fn invalid_statement(&mut self, offset: usize, text: &str) {
        match TlParser::parse(Rule::declaration_only, text) {
            Err(e) => self.syntax_error(offset, &e),
            Ok(_) => self.error_at(
                offset,
                offset + text.len(),
                "statement is not a declaration".to_string(),
            ),
        }
    }

    fn syntax_error(&mut self, offset: usize, e: &pest::error::Error<Rule>) {
        let local = match e.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
        let at = offset + local;
        let rest = self.source.get(at..).unwrap_or("");
        let (positives, negatives) = match &e.variant {
            ErrorVariant::ParsingError {
                positives,
                negatives,
            } => (positives.clone(), negatives.clone()),
            ErrorVariant::CustomError { .. } => (Vec::new(), Vec::new()),
        };
        if rest.starts_with("/*") {
            return self.error_at(at, at + 2, "unterminated block comment `/*`".into());
        }
        if let Some(c) = rest.chars().next().filter(|c| !c.is_ascii()) {
            return self.error_at(
                at,
                at + c.len_utf8(),
                format!(
                    "unexpected character `{c}` (U+{:04X}): TL schemas are ASCII",
                    c as u32
                ),
            );
        }
        if positives.contains(&Rule::semicolon) {
            // Point just after the last token: that is where the `;` belongs.
            let before = self.source[..at].trim_end();
            if before.len() < at && self.source[before.len()..at].contains('\n') {
                return self.error_at(
                    before.len(),
                    before.len() + 1,
                    "missing `;` at the end of the declaration".into(),
                );
            }
        }
        let found = match rest.chars().next() {
            None => "end of input".to_string(),
            Some(c) if c.is_whitespace() => "whitespace".to_string(),
            Some(_) => {
                let token: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != ';')
                    .take(24)
                    .collect();
                format!("`{token}`")
            }
        };
        let mut message = format!("expected {}", describe(&positives));
        if !negatives.is_empty() {
            message.push_str(&format!(", not {}", describe(&negatives)));
        }
        message.push_str(&format!(", found {found}"));
        self.error_at(at, at + 1, message);
    }
}

fn describe(rules: &[Rule]) -> String {
    let mut names: Vec<&str> = rules.iter().map(|r| rule_name(*r)).collect();
    names.sort_unstable();
    names.dedup();
    match names.len() {
        0 => "a declaration".to_string(),
        1 => names[0].to_string(),
        n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::semicolon => "`;`",
        Rule::equals => "`=`",
        Rule::param | Rule::param_name => "an argument `name:Type`",
        Rule::param_type | Rule::type_expr | Rule::type_name => "a type",
        Rule::result_type => "a result type",
        Rule::result_arg => "a type variable",
        Rule::constructor_id => "`#id`",
        Rule::type_param => "a type parameter `{X:Type}`",
        Rule::builtin_body | Rule::unknown_body | Rule::vector_body | Rule::repeat_body => {
            "a built-in body"
        }
        Rule::declaration | Rule::full_name | Rule::ident => "a declaration name",
        Rule::flag_field | Rule::flag_bit | Rule::conditional_type => "a condition `flags.N?`",
        Rule::generic_ref => "`!X`",
        Rule::EOI => "end of input",
        _ => "a declaration",
    }
}

fn builtin_body(pair: Pair<'_, Rule>) -> Option<BuiltinBody> {
    let body = pair.into_inner().next()?;
    match body.as_rule() {
        Rule::unknown_body => Some(BuiltinBody::Opaque),
        Rule::vector_body => Some(BuiltinBody::Counted(
            body.into_inner().next()?.as_str().to_string(),
        )),
        Rule::repeat_body => {
            let mut it = body.into_inner();
            let n = it.next()?.as_str().parse().ok()?;
            Some(BuiltinBody::Repeated(n, it.next()?.as_str().to_string()))
        }
        _ => None,
    }
}

fn parse_hex_id(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

/// Splits `ns.name` at its last dot.
fn split_name(full: &str) -> (Option<String>, String) {
    match full.rsplit_once('.') {
        Some((ns, name)) => (Some(ns.to_string()), name.to_string()),
        None => (None, full.to_string()),
    }
}
