//! The `cargo xtask schema` commands as a user runs them: output lines and exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("xtask runs")
}

#[test]
fn check_bundled_schemas_exits_zero_with_summary_lines() {
    let out = xtask(&[
        "schema",
        "check",
        "schema/api.tl",
        "schema/mtproto.tl",
        "schema/legacy/layer23.tl",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "schema/api.tl: layer 230, 1703 constructors, 850 functions, ids verified 2554/2554"
    );
    assert!(lines[1].starts_with(
        "schema/mtproto.tl: layer unknown, 49 constructors, 10 functions, ids verified 48/51 (known exceptions: ipPortSecret#37982646, accessPointRule#4679b65f, help.configSimple#5a592a6c)"
    ), "{}", lines[1]);
    assert_eq!(
        lines[2],
        "schema/legacy/layer23.tl: layer 23, 301 constructors, 110 functions, ids verified 412/412"
    );
}

#[test]
fn check_reports_every_error_with_file_line_col_and_exits_one() {
    let dir = std::env::temp_dir().join(format!("xtask-schema-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.tl");
    std::fs::write(&bad, "a x:Nope = A;\nb#zz = B;\nc = C\nd = D;\n").unwrap();
    let out = xtask(&["schema", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let heads: Vec<&str> = stderr.lines().filter(|l| l.contains(": error: ")).collect();
    let file = bad.display();
    assert_eq!(
        heads,
        [
            format!("{file}:1:5: error: undefined type `Nope`"),
            format!("{file}:2:2: error: invalid constructor id `#zz`: expected 1 to 8 hexadecimal digits"),
            format!("{file}:3:6: error: missing `;` at the end of the declaration"),
        ]
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn diff_lists_check_phone_removed_and_send_code_changed() {
    let out = xtask(&[
        "schema",
        "diff",
        "schema/legacy/layer23.tl",
        "schema/api.tl",
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout
        .lines()
        .any(|l| l == "removed  function auth.checkPhone#6fe51dfb"));
    assert!(stdout.lines().any(|l| l
        == "changed  function auth.sendCode: id 768d5f4d -> a677244f; params removed sms_type:int, lang_code:string; params added settings:CodeSettings"));
    assert!(stdout.lines().last().unwrap().starts_with("summary: "));
}

#[test]
fn import_json_prints_the_legacy_schema() {
    let out = xtask(&[
        "schema",
        "import-json",
        "schema/json/api-layer23.json",
        "--layer",
        "23",
    ]);
    assert!(out.status.success());
    let expected = std::fs::read(root().join("schema/legacy/layer23.tl")).unwrap();
    assert_eq!(out.stdout, expected);
}
