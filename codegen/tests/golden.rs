//! Golden test: a small schema with every construct and its generated code, checked in next to
//! it (`fixtures/golden.rs`, compiled and exercised by `golden_behavior.rs`).

use std::path::PathBuf;

use tl_codegen::emit::{generate, Options, Selection};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn generated_code_matches_the_golden_file() {
    let schema = tl_codegen::load(&fixture("golden.tl")).expect("golden.tl is valid");
    let opts = Options {
        source: "codegen/tests/fixtures/golden.tl".into(),
        selection: Selection::All,
        secret_fields: vec!["secretBox.code".into()],
        command: "UPDATE_GOLDEN=1 cargo test -p tl-codegen --test golden".into(),
    };
    let code = generate(&schema, &opts).expect("generates");
    let path = fixture("golden.rs");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &code).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == code,
        "{} differs from the generator's output; rerun with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}
