//! Crafted malformed schemas: each must give its error at the expected line:column, without panic,
//! and every error of a file must be reported, not only the first.

use tl_codegen::{check, Severity};

/// Checks `source` and returns its errors as `(line, col, message)`.
fn errors(source: &str) -> Vec<(usize, usize, String)> {
    check(source)
        .diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.line(), d.col(), d.message))
        .collect()
}

/// Asserts exactly one error, at `line:col`, whose message contains `needle`.
fn expect_one(source: &str, line: usize, col: usize, needle: &str) {
    let errs = errors(source);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    let (l, c, msg) = &errs[0];
    assert_eq!((*l, *c), (line, col), "wrong position for {msg:?}");
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
}

#[test]
fn missing_semicolon_points_after_the_declaration() {
    let src = "a x:int = A\nb = B;\n";
    expect_one(src, 1, 12, "missing `;`");
}

#[test]
fn missing_semicolon_at_end_of_file() {
    expect_one("a x:int = A;\nb = B", 2, 6, "`;`");
}

#[test]
fn bad_hex_id() {
    let src = "ok x:int = A;\nbad#12zz4 = B;\n";
    expect_one(src, 2, 4, "invalid constructor id `#12zz4`");
}

#[test]
fn too_long_hex_id() {
    expect_one("a#123456789 = A;", 1, 2, "1 to 8 hexadecimal digits");
}

#[test]
fn flag_pointing_at_unknown_field() {
    let src = "// LAYER 1\nfoo#0 flags:# bar:flagz.0?int = Foo;\n";
    let errs = errors(src);
    // The id 0 is also wrong; the flag error must be there at the argument.
    let flag = errs
        .iter()
        .find(|e| e.2.contains("no earlier `#` argument named `flagz`"))
        .unwrap_or_else(|| panic!("no flag error in {errs:#?}"));
    assert_eq!((flag.0, flag.1), (2, 15));
}

#[test]
fn flag_pointing_at_later_field_or_plain_int() {
    // Ids computed with the rule so only the flag errors remain.
    let later = "foo x:flags.0?int flags:# = Foo;";
    expect_one(later, 1, 5, "no earlier `#` argument named `flags`");
    let plain = "foo flags:int x:flags.0?int = Foo;";
    expect_one(plain, 1, 15, "not a `#` argument");
}

#[test]
fn undefined_type() {
    let src = "a x:int = A;\nb y:Nowhere z:A = B;\n";
    expect_one(src, 2, 5, "undefined type `Nowhere`");
}

#[test]
fn undefined_type_inside_vector_and_bare() {
    let errs = errors("a x:Vector<Missing> y:%Gone z:absent = A;");
    let found: Vec<_> = errs.iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(found, vec![(1, 12), (1, 23), (1, 31)], "{errs:#?}");
}

#[test]
fn wrong_id() {
    // `auth.sendCode` of layer 230 with its layer-23 id.
    let src = "// LAYER 230\nauth.sentCode#5e002502 x:int = auth.SentCode;\n---functions---\n\
               auth.sendCode#768d5f4d phone_number:string api_id:int api_hash:string = auth.SentCode;\n";
    let errs = errors(src);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert_eq!((errs[0].0, errs[0].1), (2, 14));
    assert_eq!((errs[1].0, errs[1].1), (4, 14));
    assert!(
        errs[1].2.contains("declares id 0x768d5f4d"),
        "{}",
        errs[1].2
    );
}

#[test]
fn unterminated_comment() {
    let src = "a = A;\n/* never closed\nb = B;\n";
    expect_one(src, 2, 1, "unterminated block comment");
}

#[test]
fn non_ascii_junk() {
    let src = "a = A;\nbé = B;\nc = C;\n";
    expect_one(src, 2, 2, "unexpected character `é`");
}

#[test]
fn every_error_is_reported() {
    let src = "a x:Nope = A;\nb#zz = B;\nc = C\nd = D;\ne y:flags.1?int = E;\n";
    let errs = errors(src);
    let lines: Vec<usize> = errs.iter().map(|e| e.0).collect();
    assert_eq!(lines, vec![1, 2, 3, 5], "{errs:#?}");
}

#[test]
fn duplicate_name_and_id() {
    let src = "a = A;\na = A;\n";
    let errs = errors(src);
    assert!(
        errs.iter()
            .any(|e| e.0 == 2 && e.2.contains("declared twice")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.0 == 2 && e.2.contains("already used")),
        "{errs:#?}"
    );
}

#[test]
fn rendered_error_has_file_line_col_and_snippet() {
    let report = check("a x:Nope = A;\n");
    let d = report.errors().next().expect("one error");
    let text = d.render("bad.tl");
    assert_eq!(
        text,
        "bad.tl:1:5: error: undefined type `Nope`\n    | a x:Nope = A;\n    |     ^^^^"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [100, 50_000] {
        let src = format!(
            "a x:{}int{} = A;\n",
            "Vector<".repeat(depth),
            ">".repeat(depth)
        );
        let errs = errors(&src);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, 1);
        if depth == 100 {
            assert_eq!(errs[0].1, 5 + 32 * "Vector<".len());
            assert!(errs[0].2.contains("nested more than 32 deep"), "{errs:?}");
        }
    }
}
