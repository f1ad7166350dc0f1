//! TL types to Rust types.

use proc_macro2::TokenStream;
use quote::quote;

use super::{names, split, EmitError, Generator};
use crate::model::{Definition, Type};

impl Generator<'_> {
    /// The Rust type of `ty` as used from a module `depth` levels below the generated root.
    pub(super) fn rust_type(
        &self,
        def: &Definition,
        ty: &Type,
        depth: usize,
    ) -> Result<TokenStream, EmitError> {
        let unsupported = |why: &str| EmitError::UnsupportedType {
            definition: def.full_name(),
            ty: ty.to_string(),
            why: why.to_string(),
        };
        let name = ty.full_name();
        let is_type_param = def.type_params.iter().any(|t| t.name == name);
        if ty.generic_ref || is_type_param {
            if !is_type_param {
                return Err(unsupported("no such type parameter"));
            }
            let ident = names::ident(&name);
            return Ok(quote!(#ident));
        }
        if let Some(arg) = &ty.arg {
            let inner = self.rust_type(def, arg, depth)?;
            return match name.as_str() {
                "Vector" => Ok(quote!(::std::vec::Vec<#inner>)),
                "vector" => Ok(quote!(::tl_wire::RawVec<#inner>)),
                _ => Err(unsupported("only Vector and vector take a type argument")),
            };
        }
        let primitive = match name.as_str() {
            "int" | "Int" => Some(quote!(i32)),
            "long" | "Long" => Some(quote!(i64)),
            "double" | "Double" => Some(quote!(f64)),
            "int128" | "Int128" => Some(quote!([u8; 16])),
            "int256" | "Int256" => Some(quote!([u8; 32])),
            "string" | "String" => Some(quote!(::std::string::String)),
            "bytes" | "Bytes" => Some(quote!(::std::vec::Vec<u8>)),
            "Bool" | "true" | "True" => Some(quote!(bool)),
            "Object" => Some(quote!(::tl_wire::RawObject)),
            _ => None,
        };
        if let Some(p) = primitive {
            return Ok(p);
        }
        if ty.percent {
            // The bare form of a boxed type with a single constructor.
            let ctors = self
                .boxed_types
                .get(&name)
                .ok_or_else(|| unsupported("no constructor of this type is generated"))?;
            if ctors.len() != 1 {
                return Err(unsupported(
                    "`%T` needs a type with exactly one constructor",
                ));
            }
            return Ok(self.path(depth, "types", &ctors[0].full_name()));
        }
        if ty.is_bare() {
            if !self.ctors.contains_key(&name) {
                return Err(unsupported("no such constructor is generated"));
            }
            return Ok(self.path(depth, "types", &name));
        }
        if !self.boxed_types.contains_key(&name) {
            return Err(unsupported("no constructor of this type is generated"));
        }
        Ok(self.path(depth, "enums", &name))
    }

    /// `super::…::section::ns::Name` for the TL name `full` (a constructor or boxed type).
    pub(super) fn path(&self, depth: usize, section: &str, full: &str) -> TokenStream {
        let supers = (0..depth).map(|_| quote!(super::));
        let section = names::ident(section);
        let (ns, name) = split(full);
        let name = names::ident(&names::type_name(&name));
        match ns {
            Some(ns) => {
                let ns = names::ident(&names::module_name(&ns));
                quote!(#(#supers)* #section::#ns::#name)
            }
            None => quote!(#(#supers)* #section::#name),
        }
    }
}
