//! The bundled schemas: they parse, every declared id verifies, and tools agree on them.

use std::path::PathBuf;

use tl_codegen::diff::{diff, Change};
use tl_codegen::{check, json, load, print, Category, IdOrigin};

fn schema_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../schema")
        .join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(schema_path(rel)).expect("bundled schema is readable")
}

#[test]
fn api_layer_230_verifies_every_id() {
    let report = check(&read("api.tl"));
    assert!(
        !report.has_errors(),
        "{:#?}",
        report.errors().collect::<Vec<_>>()
    );
    let s = &report.stats;
    assert_eq!(report.schema.layer, Some(230));
    assert_eq!((s.constructors, s.functions), (1703, 850));
    assert_eq!(s.verified_ids, s.declared_ids);
    assert_eq!(s.declared_ids, 2554);
    assert!(s.exceptions.is_empty());
    let send_code = report
        .schema
        .definitions
        .iter()
        .find(|d| d.full_name() == "auth.sendCode")
        .expect("auth.sendCode is in layer 230");
    assert_eq!(send_code.id, 0xa677_244f);
    assert_eq!(send_code.category, Category::Function);
}

#[test]
fn mtproto_only_known_exceptions_differ() {
    let report = check(&read("mtproto.tl"));
    assert!(
        !report.has_errors(),
        "{:#?}",
        report.errors().collect::<Vec<_>>()
    );
    let s = &report.stats;
    assert_eq!(
        s.exceptions,
        [
            "ipPortSecret#37982646",
            "accessPointRule#4679b65f",
            "help.configSimple#5a592a6c"
        ]
    );
    assert_eq!(s.verified_ids + s.exceptions.len(), s.declared_ids);
    // The lines without an id (built-ins, `tls*`) get the id of the rule; `vector` gets the
    // well-known Vector id, a check of the inference itself.
    let vector = report
        .schema
        .definitions
        .iter()
        .find(|d| d.name == "vector")
        .expect("vector built-in");
    assert_eq!(vector.id_origin, IdOrigin::Inferred);
    assert_eq!(vector.id, 0x1cb5_c415);
    // Built-ins are parsed but not counted as constructors.
    assert_eq!(s.inferred_ids, 15);
}

#[test]
fn legacy_layer_23_is_the_json_import_and_verifies() {
    let converted = json::json_to_tl(&read("json/api-layer23.json"), Some(23)).expect("import");
    assert_eq!(
        converted,
        read("legacy/layer23.tl"),
        "schema/legacy/layer23.tl is stale: run `cargo xtask schema import-json schema/json/api-layer23.json --layer 23 > schema/legacy/layer23.tl`"
    );
    let report = check(&converted);
    assert!(
        !report.has_errors(),
        "{:#?}",
        report.errors().collect::<Vec<_>>()
    );
    assert_eq!(report.stats.verified_ids, report.stats.declared_ids);
    assert_eq!(report.stats.declared_ids, 412);
    let defs = &report.schema.definitions;
    let send_code = defs
        .iter()
        .find(|d| d.full_name() == "auth.sendCode")
        .expect("legacy auth.sendCode");
    assert_eq!(send_code.id, 0x768d_5f4d);
    let names: Vec<_> = send_code.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "phone_number",
            "sms_type",
            "api_id",
            "api_hash",
            "lang_code"
        ]
    );
    // `{X:Type}` restored on generic functions.
    let invoke = defs
        .iter()
        .find(|d| d.name == "invokeWithLayer")
        .expect("invokeWithLayer");
    assert_eq!(invoke.type_params.len(), 1);
    assert_eq!(invoke.type_params[0].name, "X");
}

#[test]
fn diff_layer_23_to_230_shows_auth_changes() {
    let old = load(&schema_path("legacy/layer23.tl")).expect("layer 23");
    let new = load(&schema_path("api.tl")).expect("layer 230");
    let d = diff(&old, &new);
    assert!(d.changes.iter().any(|c| matches!(c,
        Change::Removed { name, category: Category::Function, id: 0x6fe5_1dfb } if name == "auth.checkPhone")));
    let send_code = d
        .changes
        .iter()
        .find(|c| matches!(c, Change::Changed { name, .. } if name == "auth.sendCode"))
        .expect("auth.sendCode changed");
    let Change::Changed {
        id,
        params_removed,
        params_added,
        ..
    } = send_code
    else {
        unreachable!()
    };
    assert_eq!(*id, Some((0x768d_5f4d, 0xa677_244f)));
    assert_eq!(params_removed, &["sms_type:int", "lang_code:string"]);
    assert_eq!(params_added, &["settings:CodeSettings"]);
    let text = d.to_string();
    assert!(text.contains("removed  function auth.checkPhone#6fe51dfb"));
    assert!(text
        .lines()
        .last()
        .is_some_and(|l| l.starts_with("summary: ")));
}

#[test]
fn printing_bundled_schemas_round_trips() {
    for file in ["api.tl", "mtproto.tl", "legacy/layer23.tl"] {
        let first = check(&read(file));
        let printed = print::print_schema(&first.schema);
        let second = check(&printed);
        assert!(!second.has_errors(), "{file} printed has errors");
        assert_eq!(first.schema, second.schema, "{file} round trip");
        assert_eq!(first.stats, second.stats, "{file} stats");
    }
}

#[test]
fn generation_is_deterministic() {
    use tl_codegen::emit::{generate, Options, Selection};
    let schema = load(&schema_path("api.tl")).expect("layer 230");
    let opts = Options {
        source: "schema/api.tl".into(),
        selection: Selection::Only {
            functions: vec!["auth.*".into(), "help.getConfig".into()],
            types: vec![],
        },
        secret_fields: vec!["auth.signIn.phone_code".into()],
        command: "test".into(),
    };
    let a = generate(&schema, &opts).expect("generates");
    let b = generate(&schema, &opts).expect("generates");
    assert_eq!(a, b);
    assert!(a.starts_with("// @generated by `test` from `schema/api.tl` (layer 230)."));
}

#[test]
fn unmatched_selection_is_an_error() {
    use tl_codegen::emit::{generate, EmitError, Options, Selection};
    let schema = load(&schema_path("api.tl")).expect("layer 230");
    let opts = Options {
        source: "schema/api.tl".into(),
        selection: Selection::Only {
            functions: vec!["auth.sendCod".into()],
            types: vec![],
        },
        secret_fields: vec![],
        command: "test".into(),
    };
    assert_eq!(
        generate(&schema, &opts),
        Err(EmitError::UnmatchedSelection {
            schema: "schema/api.tl".into(),
            patterns: vec!["function auth.sendCod".into()]
        })
    );
}
