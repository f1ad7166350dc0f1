//! The items of a generated module: constructor structs, function structs, boxed-type enums.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::{names, EmitError, Generator};
use crate::model::{Category, Definition, ParamType};
use crate::print::print_definition;

/// One argument of a definition, as the generated code sees it.
struct Field {
    /// The TL name.
    tl_name: String,
    /// The Rust field name.
    ident: Ident,
    kind: FieldKind,
    /// A secret (listed in the options): its type is `tl_wire::Secret<T>`, and the
    /// constructor and setter take anything that converts into it.
    secret: bool,
}

enum FieldKind {
    /// A `#` word: not stored, computed from the fields conditional on it.
    FlagWord,
    /// Always present.
    Plain(TokenStream),
    /// `word.bit?T`: `Option<T>`.
    Optional(TokenStream, String, u32),
    /// `word.bit?true`: a `bool` stored only as the bit.
    Presence(String, u32),
}

fn flag_local(word: &str) -> Ident {
    format_ident!("__flags_{}", names::field_name(word))
}

fn hex_id(id: u32) -> Literal {
    format!("0x{id:08x}_u32")
        .parse()
        .expect("a hex u32 literal is a valid literal")
}

/// One `#[doc]` attribute per line, so that they print as `///` comments.
pub(super) fn doc_attrs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| format!(" {l}"));
    quote!(#(#[doc = #lines])*)
}

impl Generator<'_> {
    fn fields(&self, def: &Definition, depth: usize) -> Result<Vec<Field>, EmitError> {
        let tl_name = def.full_name();
        def.params
            .iter()
            .map(|p| {
                let secret = self.secrets.contains(&format!("{tl_name}.{}", p.name));
                let wrap = |ty: TokenStream| {
                    if secret {
                        quote!(::tl_wire::Secret<#ty>)
                    } else {
                        ty
                    }
                };
                let kind = match &p.ty {
                    ParamType::Flags => FieldKind::FlagWord,
                    ParamType::Normal { ty, flag: None } => {
                        FieldKind::Plain(wrap(self.rust_type(def, ty, depth)?))
                    }
                    ParamType::Normal {
                        ty,
                        flag: Some(flag),
                    } if ty.is_true_flag() => FieldKind::Presence(flag.field.clone(), flag.bit),
                    ParamType::Normal {
                        ty,
                        flag: Some(flag),
                    } => FieldKind::Optional(
                        wrap(self.rust_type(def, ty, depth)?),
                        flag.field.clone(),
                        flag.bit,
                    ),
                };
                Ok(Field {
                    tl_name: p.name.clone(),
                    ident: names::ident(&names::field_name(&p.name)),
                    kind,
                    secret: secret && !matches!(p.ty, ParamType::Flags),
                })
            })
            .collect()
    }

    fn generics(def: &Definition) -> Vec<Ident> {
        def.type_params
            .iter()
            .map(|t| names::ident(&t.name))
            .collect()
    }

    fn item_doc(def: &Definition) -> String {
        let (what, page) = match def.category {
            Category::Type => ("constructor", "constructor"),
            Category::Function => ("function", "method"),
        };
        let name = def.full_name();
        format!(
            "TL {what} [`{name}`](https://core.telegram.org/{page}/{name}), id `{:#010x}`.\n\n```text\n{}\n```",
            def.id,
            print_definition(def)
        )
    }

    /// A struct for a constructor (bare serialization).
    pub(super) fn constructor_struct(
        &self,
        def: &Definition,
        depth: usize,
    ) -> Result<TokenStream, EmitError> {
        self.struct_item(def, depth)
    }

    /// A struct for a function: boxed serialization, `new` and setters, `RemoteCall`.
    pub(super) fn function_struct(
        &self,
        def: &Definition,
        depth: usize,
    ) -> Result<TokenStream, EmitError> {
        let mut out = self.struct_item(def, depth)?;
        let fields = self.fields(def, depth)?;
        let name = names::ident(&names::type_name(&def.name));
        let generics = Self::generics(def);
        let gen_params = quote!(<#(#generics),*>);

        let mut new_args = Vec::new();
        let mut inits = Vec::new();
        let mut setters = Vec::new();
        for f in &fields {
            let ident = &f.ident;
            match &f.kind {
                FieldKind::FlagWord => {}
                FieldKind::Plain(ty) if f.secret => {
                    new_args.push(quote!(#ident: impl ::std::convert::Into<#ty>));
                    inits.push(quote!(#ident: #ident.into()));
                }
                FieldKind::Plain(ty) => {
                    new_args.push(quote!(#ident: #ty));
                    inits.push(quote!(#ident));
                }
                FieldKind::Optional(ty, ..) => {
                    inits.push(quote!(#ident: ::std::option::Option::None));
                    if f.tl_name != "new" {
                        let doc = format!(" Sets the optional `{}`.", f.tl_name);
                        let (param, value) = if f.secret {
                            (quote!(impl ::std::convert::Into<#ty>), quote!(value.into()))
                        } else {
                            (quote!(#ty), quote!(value))
                        };
                        setters.push(quote! {
                            #[doc = #doc]
                            #[inline]
                            pub fn #ident(mut self, value: #param) -> Self {
                                self.#ident = ::std::option::Option::Some(#value);
                                self
                            }
                        });
                    }
                }
                FieldKind::Presence(..) => {
                    inits.push(quote!(#ident: false));
                    if f.tl_name != "new" {
                        let doc = format!(" Sets the flag `{}`.", f.tl_name);
                        setters.push(quote! {
                            #[doc = #doc]
                            #[inline]
                            pub fn #ident(mut self, value: bool) -> Self {
                                self.#ident = value;
                                self
                            }
                        });
                    }
                }
            }
        }
        out.extend(quote! {
            impl #gen_params #name #gen_params {
                /// Creates the request from its required fields; optional fields start unset.
                #[allow(clippy::too_many_arguments)]
                #[inline]
                pub fn new(#(#new_args),*) -> Self {
                    Self { #(#inits),* }
                }
                #(#setters)*
            }
        });

        let result_name = def.result.full_name();
        let generic_result = def.type_params.iter().any(|t| t.name == result_name);
        if generic_result {
            let x = names::ident(&result_name);
            out.extend(quote! {
                impl #gen_params ::tl_wire::RemoteCall for #name #gen_params
                where #x: ::tl_wire::RemoteCall {
                    type Return = #x::Return;
                }
            });
        } else {
            let ret = self.rust_type(def, &def.result, depth)?;
            out.extend(quote! {
                impl ::tl_wire::RemoteCall for #name {
                    type Return = #ret;
                }
            });
        }
        Ok(out)
    }

    fn struct_item(&self, def: &Definition, depth: usize) -> Result<TokenStream, EmitError> {
        let fields = self.fields(def, depth)?;
        let is_function = def.category == Category::Function;
        let tl_name = def.full_name();
        let name = names::ident(&names::type_name(&def.name));
        let doc = doc_attrs(&Self::item_doc(def));
        let generics = Self::generics(def);
        let gen_params = quote!(<#(#generics),*>);
        let id = hex_id(def.id);

        let mut decls = Vec::new();
        for f in &fields {
            let ident = &f.ident;
            let field_doc = format!(
                " `{}`",
                def.params
                    .iter()
                    .find(|p| p.name == f.tl_name)
                    .map(crate::print::print_param)
                    .unwrap_or_default()
            );
            match &f.kind {
                FieldKind::FlagWord => {}
                FieldKind::Plain(ty) => decls.push(quote!(#[doc = #field_doc] pub #ident: #ty)),
                FieldKind::Optional(ty, ..) => {
                    decls.push(quote!(#[doc = #field_doc] pub #ident: ::std::option::Option<#ty>))
                }
                FieldKind::Presence(..) => decls.push(quote!(#[doc = #field_doc] pub #ident: bool)),
            }
        }

        // Serialize: compute each flag word first, then write the fields in order.
        let mut ser = Vec::new();
        for f in &fields {
            if let FieldKind::FlagWord = f.kind {
                let local = flag_local(&f.tl_name);
                let bits = fields.iter().filter_map(|g| {
                    let ident = &g.ident;
                    match &g.kind {
                        FieldKind::Optional(_, word, bit) if *word == f.tl_name => {
                            Some(quote!(if self.#ident.is_some() { 1u32 << #bit } else { 0 }))
                        }
                        FieldKind::Presence(word, bit) if *word == f.tl_name => {
                            Some(quote!(if self.#ident { 1u32 << #bit } else { 0 }))
                        }
                        _ => None,
                    }
                });
                ser.push(quote!(let #local: u32 = 0u32 #(| #bits)*;));
            }
        }
        if is_function {
            ser.push(quote!(::tl_wire::bytes::BufMut::put_u32_le(buf, #id);));
        }
        for f in &fields {
            let ident = &f.ident;
            match &f.kind {
                FieldKind::FlagWord => {
                    let local = flag_local(&f.tl_name);
                    ser.push(quote!(::tl_wire::bytes::BufMut::put_u32_le(buf, #local);));
                }
                FieldKind::Plain(_) => {
                    ser.push(quote!(::tl_wire::Serialize::serialize(&self.#ident, buf);))
                }
                FieldKind::Optional(..) => ser.push(quote! {
                    if let ::std::option::Option::Some(value) = &self.#ident {
                        ::tl_wire::Serialize::serialize(value, buf);
                    }
                }),
                FieldKind::Presence(..) => {}
            }
        }

        // Deserialize: read in order; flag words into locals.
        let mut de = Vec::new();
        let mut inits = Vec::new();
        for f in &fields {
            let ident = &f.ident;
            match &f.kind {
                FieldKind::FlagWord => {
                    let local = flag_local(&f.tl_name);
                    de.push(quote!(let #local = __r.read_u32()?;));
                }
                FieldKind::Plain(ty) => {
                    de.push(
                        quote!(let #ident = <#ty as ::tl_wire::Deserialize>::deserialize(__r)?;),
                    );
                    inits.push(quote!(#ident));
                }
                FieldKind::Optional(ty, word, bit) => {
                    let local = flag_local(word);
                    de.push(quote! {
                        let #ident = if #local & (1u32 << #bit) != 0 {
                            ::std::option::Option::Some(<#ty as ::tl_wire::Deserialize>::deserialize(__r)?)
                        } else {
                            ::std::option::Option::None
                        };
                    });
                    inits.push(quote!(#ident));
                }
                FieldKind::Presence(word, bit) => {
                    let local = flag_local(word);
                    de.push(quote!(let #ident = #local & (1u32 << #bit) != 0;));
                    inits.push(quote!(#ident));
                }
            }
        }
        let read_body = quote! { #(#de)* ::std::result::Result::Ok(Self { #(#inits),* }) };
        let de_body = if is_function {
            quote! { r.read_boxed_exact(#id, #tl_name, |__r| { #read_body }) }
        } else {
            quote! { let __r = r; #read_body }
        };

        let ser_bounds = quote!(<#(#generics: ::tl_wire::Serialize),*>);
        let de_bounds = quote!(<#(#generics: ::tl_wire::Deserialize),*>);

        let secret: Vec<bool> = fields.iter().map(|f| f.secret).collect();
        let all_optional = fields.iter().all(|f| {
            matches!(
                f.kind,
                FieldKind::FlagWord | FieldKind::Optional(..) | FieldKind::Presence(..)
            )
        });
        let derive_default = (all_optional && generics.is_empty()).then(|| quote!(Default,));
        let derive_debug = if secret.iter().any(|&s| s) {
            None
        } else {
            Some(quote!(Debug,))
        };
        let mut out = quote! {
            #doc
            #[derive(Clone, #derive_debug #derive_default PartialEq)]
            pub struct #name #gen_params { #(#decls),* }

            impl #gen_params ::tl_wire::Identifiable for #name #gen_params {
                const CONSTRUCTOR_ID: u32 = #id;
            }

            impl #ser_bounds ::tl_wire::Serialize for #name #gen_params {
                #[allow(unused_variables)]
                fn serialize(&self, buf: &mut impl ::tl_wire::bytes::BufMut) {
                    #(#ser)*
                }
            }

            impl #de_bounds ::tl_wire::Deserialize for #name #gen_params {
                #[allow(unused_variables)]
                #[inline]
                fn deserialize(r: &mut ::tl_wire::Reader<'_>) -> ::std::result::Result<Self, ::tl_wire::DecodeError> {
                    #de_body
                }
            }
        };
        if derive_debug.is_none() {
            let entries = fields.iter().zip(&secret).filter_map(|(f, &is_secret)| {
                let ident = &f.ident;
                let label = names::field_name(&f.tl_name);
                match (&f.kind, is_secret) {
                    (FieldKind::FlagWord, _) => None,
                    (_, true) => Some(quote!(.field(#label, &format_args!("<redacted>")))),
                    (_, false) => Some(quote!(.field(#label, &self.#ident))),
                }
            });
            let struct_label = names::type_name(&def.name);
            let debug_bounds = quote!(<#(#generics: ::std::fmt::Debug),*>);
            out.extend(quote! {
                /// Secret fields print as `<redacted>`.
                impl #debug_bounds ::std::fmt::Debug for #name #gen_params {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.debug_struct(#struct_label) #(#entries)* .finish()
                    }
                }
            });
        }
        Ok(out)
    }

    /// An enum for a boxed type, one variant per constructor.
    pub(super) fn boxed_enum(
        &self,
        boxed: &str,
        ctors: &[&Definition],
        depth: usize,
    ) -> Result<TokenStream, EmitError> {
        let (_, short) = super::split(boxed);
        let name = names::ident(&names::type_name(&short));
        let mut variant_names: Vec<String> = ctors
            .iter()
            .map(|c| names::variant_name(&c.name, &short))
            .collect();
        let mut sorted = variant_names.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != variant_names.len() {
            variant_names = ctors.iter().map(|c| names::type_name(&c.name)).collect();
        }
        let doc = doc_attrs(&format!(
            "TL type [`{boxed}`](https://core.telegram.org/type/{boxed}): one variant per constructor, serialized with the constructor id."
        ));
        let mut variants = Vec::new();
        let mut ser_arms = Vec::new();
        let mut de_arms = Vec::new();
        let mut id_arms = Vec::new();
        let mut froms = Vec::new();
        for (ctor, vname) in ctors.iter().zip(&variant_names) {
            let v = names::ident(vname);
            let id = hex_id(ctor.id);
            let path = self.path(depth, "types", &ctor.full_name());
            let vdoc = format!(
                " [`{}`](https://core.telegram.org/constructor/{})",
                ctor.full_name(),
                ctor.full_name()
            );
            id_arms.push(if ctor.params.is_empty() {
                quote!(Self::#v => #id)
            } else {
                quote!(Self::#v(_) => #id)
            });
            if ctor.params.is_empty() {
                variants.push(quote!(#[doc = #vdoc] #v));
                ser_arms.push(quote!(Self::#v => ::tl_wire::bytes::BufMut::put_u32_le(buf, #id)));
                de_arms.push(quote!(#id => ::std::result::Result::Ok(Self::#v)));
                froms.push(quote! {
                    impl ::std::convert::From<#path> for #name {
                        #[inline]
                        fn from(_: #path) -> Self { Self::#v }
                    }
                });
                continue;
            }
            let boxed_variant = self.boxed_variants.contains(&ctor.full_name());
            let (payload, wrap, unwrap) = if boxed_variant {
                (
                    quote!(::std::boxed::Box<#path>),
                    quote!(::std::boxed::Box::new(x)),
                    quote!(x.as_ref()),
                )
            } else {
                (quote!(#path), quote!(x), quote!(x))
            };
            variants.push(quote!(#[doc = #vdoc] #v(#payload)));
            ser_arms.push(quote!(Self::#v(x) => {
                ::tl_wire::bytes::BufMut::put_u32_le(buf, #id);
                ::tl_wire::Serialize::serialize(#unwrap, buf);
            }));
            de_arms.push(quote!(#id => {
                let x = <#path as ::tl_wire::Deserialize>::deserialize(r)?;
                ::std::result::Result::Ok(Self::#v(#wrap))
            }));
            froms.push(quote! {
                impl ::std::convert::From<#path> for #name {
                    #[inline]
                    fn from(x: #path) -> Self { Self::#v(#wrap) }
                }
            });
        }
        Ok(quote! {
            #doc
            #[derive(Clone, Debug, PartialEq)]
            pub enum #name { #(#variants),* }

            impl #name {
                /// The constructor id of this value's variant.
                #[inline]
                pub fn constructor_id(&self) -> u32 {
                    match self { #(#id_arms),* }
                }
            }

            impl ::tl_wire::Serialize for #name {
                fn serialize(&self, buf: &mut impl ::tl_wire::bytes::BufMut) {
                    match self { #(#ser_arms),* }
                }
            }

            impl ::tl_wire::Deserialize for #name {
                #[allow(unused_variables)]
                #[inline]
                fn deserialize(r: &mut ::tl_wire::Reader<'_>) -> ::std::result::Result<Self, ::tl_wire::DecodeError> {
                    r.read_boxed(|id, r| match id {
                        #(#de_arms,)*
                        _ => ::std::result::Result::Err(::tl_wire::DecodeError::UnexpectedConstructor { id, expected: #boxed }),
                    })
                }
            }

            #(#froms)*
        })
    }
}
