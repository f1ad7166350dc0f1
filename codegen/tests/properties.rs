//! Property tests: print then parse gives the same model; the parser never panics.

use proptest::prelude::*;
use tl_codegen::{check, parse, print};

fn ident() -> impl Strategy<Value = String> {
    "[a-z][a-zA-Z0-9_]{0,8}"
}

fn type_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("int".to_string()),
        Just("long".to_string()),
        Just("string".to_string()),
        Just("bytes".to_string()),
        Just("int128".to_string()),
        "[A-Z][a-zA-Z0-9]{0,8}",
        ("[a-z]{1,5}", "[A-Z][a-zA-Z0-9]{0,6}").prop_map(|(ns, n)| format!("{ns}.{n}")),
        "%[A-Z][a-z]{0,5}",
    ]
}

fn type_expr() -> impl Strategy<Value = String> {
    (type_name(), 0..3u8).prop_map(|(t, wrap)| match wrap {
        0 => t,
        1 => format!("Vector<{t}>"),
        _ => format!("vector<{t}>"),
    })
}

/// One declaration's text, with random flags, conditionals, generics and comments.
fn declaration() -> impl Strategy<Value = String> {
    (
        proptest::option::of("[a-z]{1,6}"),
        ident(),
        proptest::option::of(any::<u32>()),
        any::<bool>(),
        proptest::collection::vec((ident(), type_expr(), 0..4u8, 0..32u32), 0..6),
        type_name().prop_filter("result is boxed", |t| !t.starts_with('%')),
        any::<bool>(),
    )
        .prop_map(|(ns, name, id, generic, params, result, comment)| {
            let mut s = match ns {
                Some(ns) => format!("{ns}.{name}"),
                None => name,
            };
            if let Some(id) = id {
                s.push_str(&format!("#{id:x}"));
            }
            if generic {
                s.push_str(" {X:Type}");
            }
            s.push_str(" flags:#");
            for (i, (pname, ty, kind, bit)) in params.into_iter().enumerate() {
                let pname = format!("{pname}{i}");
                match kind {
                    0 => s.push_str(&format!(" {pname}:{ty}")),
                    1 => s.push_str(&format!(" {pname}:flags.{bit}?{ty}")),
                    2 => s.push_str(&format!(" {pname}:flags.{bit}?true")),
                    _ if generic => s.push_str(&format!(" {pname}:!X")),
                    _ => s.push_str(&format!(" {pname}:#")),
                }
            }
            let result = if result
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase())
            {
                format!("T{result}")
            } else {
                result
            };
            s.push_str(&format!(" = {result};"));
            if comment {
                s.push_str(" // trailing comment; with a semicolon");
            }
            s
        })
}

fn schema_text() -> impl Strategy<Value = String> {
    (
        proptest::option::of(1..300u32),
        proptest::collection::vec((declaration(), 0..3u8), 1..12),
    )
        .prop_map(|(layer, decls)| {
            let mut s = String::new();
            if let Some(l) = layer {
                s.push_str(&format!("// LAYER {l}\n"));
            }
            for (d, section) in decls {
                match section {
                    0 => s.push_str("---functions---\n"),
                    1 => s.push_str("---types---\n/* a block\n comment */\n"),
                    _ => {}
                }
                s.push_str(&d);
                s.push('\n');
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_gives_the_same_model(text in schema_text()) {
        let first = parse(&text);
        prop_assert!(first.errors.is_empty(), "generated text must parse: {:?}\n{text}", first.errors);
        let printed = print::print_schema(&first.schema);
        let second = parse(&printed);
        prop_assert!(second.errors.is_empty(), "printed text must parse: {:?}\n{printed}", second.errors);
        prop_assert_eq!(&first.schema, &second.schema);
    }

    #[test]
    fn parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = check(&text);
    }

    #[test]
    fn parser_never_panics_on_tl_like_text(text in "[a-zA-Z0-9_.#:?%!<>{}\\[\\]=;/* \n-]{0,300}") {
        let report = check(&text);
        for d in &report.diagnostics {
            prop_assert!(d.line() >= 1 && d.col() >= 1);
        }
    }

    #[test]
    fn parser_never_panics_on_mutated_real_schema(cut in 0usize..4000, junk in "[^\n]{0,4}") {
        let base = "resPQ#05162463 nonce:int128 server_nonce:int128 pq:bytes server_public_key_fingerprints:Vector<long> = ResPQ;\n\
                    ---functions---\nreq_pq_multi#be7e8ef1 nonce:int128 = ResPQ;\n/* c */ // d\n";
        let cut = cut % (base.len() + 1);
        let cut = (0..=cut).rev().find(|&i| base.is_char_boundary(i)).unwrap_or(0);
        let text = format!("{}{junk}{}", &base[..cut], &base[cut..]);
        let _ = check(&text);
    }
}
