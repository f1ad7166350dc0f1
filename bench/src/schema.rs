//! Schema tools: parsing `schema/api.tl` (ours: the pest grammar into the typed model, with
//! every constructor id verified; grammers-tl-parser 1.2.2) and generating the whole layer-230
//! API plus `mtproto.tl` (ours: parse, check, generate and prettyplease-format, as
//! `cargo xtask codegen --all` does; grammers-tl-parser + grammers-tl-gen 0.11 writing into
//! memory, as `grammers-tl-types`' build script does, with that crate's default features plus
//! `tl-mtproto`).

use std::hint::black_box;
use std::path::Path;

use grammers_tl_gen::{generate_rust_code, Config, Outputs};
use tl_codegen::emit::{generate, Options, Selection};

use crate::harness::{compare, Figure, Plan, Unit, Whole};

fn read(root: &Path, file: &str) -> String {
    std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Ours: parse, check and generate both schema files.
fn ours_generate(api: &str, mtproto: &str) -> usize {
    let mut len = 0;
    for (name, source) in [("schema/api.tl", api), ("schema/mtproto.tl", mtproto)] {
        let schema = tl_codegen::check(source)
            .into_result(name)
            .expect("the bundled schema is valid");
        let opts = Options {
            source: name.into(),
            selection: Selection::All,
            secret_fields: Vec::new(),
            command: "cargo xtask bench".into(),
        };
        len += generate(&schema, &opts).expect("generates").len();
    }
    len
}

/// grammers: parse both files and generate into memory.
fn peer_generate(api: &str, mtproto: &str) -> usize {
    let mut definitions = Vec::new();
    for source in [api, mtproto] {
        definitions.extend(grammers_tl_parser::parse_tl_file(source).filter_map(Result::ok));
    }
    let mut outputs = Outputs {
        common: Vec::new(),
        types: Vec::new(),
        functions: Vec::new(),
        enums: Vec::new(),
    };
    let config = Config {
        gen_name_for_id: true,
        ..Config::default()
    };
    generate_rust_code(&mut outputs, &definitions, 230, &config).expect("generates");
    outputs.common.len() + outputs.types.len() + outputs.functions.len() + outputs.enums.len()
}

/// `parse_api_tl` and `codegen_all`.
pub fn figures(plan: Plan, root: &Path) -> Vec<Figure> {
    let api = read(root, "schema/api.tl");
    let mtproto = read(root, "schema/mtproto.tl");
    let ours_count = tl_codegen::check(&api)
        .into_result("api.tl")
        .expect("valid")
        .definitions
        .len();
    let peer_count = grammers_tl_parser::parse_tl_file(&api)
        .filter_map(Result::ok)
        .count();
    assert!(
        ours_count > 1000 && peer_count > 1000,
        "{ours_count} / {peer_count}"
    );
    vec![
        compare(
            plan,
            "parse_api_tl",
            Unit::Ms,
            "grammers-tl-parser 1.2.2 (no id verification)",
            &mut Whole(|| {
                black_box(tl_codegen::check(black_box(&api)));
            }),
            &mut Whole(|| {
                black_box(
                    grammers_tl_parser::parse_tl_file(black_box(&api))
                        .filter_map(Result::ok)
                        .count(),
                );
            }),
        ),
        compare(
            plan,
            "codegen_all",
            Unit::Ms,
            "grammers-tl-parser + grammers-tl-gen 0.11 (unformatted output)",
            &mut Whole(|| {
                black_box(ours_generate(&api, &mtproto));
            }),
            &mut Whole(|| {
                black_box(peer_generate(&api, &mtproto));
            }),
        ),
    ]
}

/// One call of a figure's operation, for instruction counting and profiling (`count` mode;
/// run from the project root).
pub fn count_op(figure: &str, peer: bool) -> Option<Box<dyn FnMut()>> {
    let api = std::fs::read_to_string("schema/api.tl").ok()?;
    let mtproto = std::fs::read_to_string("schema/mtproto.tl").ok()?;
    Some(match (figure, peer) {
        ("parse_api_tl", false) => Box::new(move || {
            black_box(tl_codegen::check(black_box(&api)));
        }),
        ("parse_api_tl", true) => Box::new(move || {
            black_box(
                grammers_tl_parser::parse_tl_file(&api)
                    .filter_map(Result::ok)
                    .count(),
            );
        }),
        ("codegen_all", false) => Box::new(move || {
            black_box(ours_generate(&api, &mtproto));
        }),
        ("codegen_all", true) => Box::new(move || {
            black_box(peer_generate(&api, &mtproto));
        }),
        _ => return None,
    })
}
