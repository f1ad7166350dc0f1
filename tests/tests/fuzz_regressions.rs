//! The fuzz harnesses of `fuzz/` (run with `cargo xtask fuzz`) in the normal test suite, so
//! they are compiled and exercised by `cargo test` and cannot rot:
//!
//! - the harness files themselves are compiled here (`#[path]`): the same entry points the
//!   fuzz targets call;
//! - every seed of `fuzz/corpus/<target>/` goes through its target's entry point, and so do
//!   a few truncations and bit flips of it;
//! - every crash the fuzzers found is a test below, fed the crashing input (kept in
//!   `fuzz/regressions/<target>/`) through the same entry point;
//! - the generated parts are fresh: the TL dispatcher's table `fuzz/src/tl_items.rs` (from
//!   `xtask/src/bindings.rs` and the schemas) and the seed corpora (from the vectors and real
//!   exchanges). A stale file is rewritten and the test fails, naming it: rerun to pass.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use project_tests::workspace_root;
use tl_codegen::emit::names;
use tl_codegen::{Category, ParamType};

#[path = "../../fuzz/src/lib.rs"]
mod fuzz;

#[path = "../../xtask/src/bindings.rs"]
#[allow(dead_code)]
mod bindings;

use fuzz::seeds::{self, TARGETS};

/// Feeds `data` to `target`'s entry point; `Err` carries the panic message.
fn run(target: &str, data: &[u8]) -> Result<(), String> {
    let entry = seeds::entry_point(target).unwrap_or_else(|| panic!("no target {target}"));
    catch_unwind(AssertUnwindSafe(|| entry(data))).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// Writes `contents` to `path` if it differs; returns whether it did.
fn ensure_file(path: &Path, contents: &[u8]) -> bool {
    if std::fs::read(path).ok().as_deref() == Some(contents) {
        return false;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create the folder");
    }
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    true
}

fn corpus_dir(target: &str) -> PathBuf {
    workspace_root().join("fuzz/corpus").join(target)
}

/// The checked-in seeds of `target` (`seed-*` files; other files are local corpus entries).
fn seed_files(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("seed-"))
        })
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            (name, std::fs::read(&p).expect("read a seed"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_seed_passes_through_its_entry_point() {
    let mut failures = Vec::new();
    for target in TARGETS {
        let seeds = seed_files(target);
        assert!(!seeds.is_empty(), "{target} has no seeds");
        for (name, data) in seeds {
            if let Err(e) = run(target, &data) {
                failures.push(format!("{target}/{name}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn truncated_and_flipped_seeds_pass_through_their_entry_points() {
    let mut failures = Vec::new();
    for target in TARGETS {
        for (name, data) in seed_files(target) {
            let len = data.len();
            let mut variants: Vec<Vec<u8>> = [len / 3, len / 2, len.saturating_sub(1)]
                .into_iter()
                .map(|n| data[..n].to_vec())
                .collect();
            for at in [len / 5, len / 2, len * 4 / 5] {
                if at < len {
                    let mut flipped = data.clone();
                    flipped[at] ^= 0x41;
                    variants.push(flipped);
                }
            }
            for (i, v) in variants.iter().enumerate() {
                if let Err(e) = run(target, v) {
                    failures.push(format!("{target}/{name} variant {i}: {e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The seed of `target` named `name` (without the `seed-` prefix).
fn seed(target: &str, name: &str) -> Vec<u8> {
    let path = corpus_dir(target).join(format!("seed-{name}"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn seeds_reach_the_states_they_are_for() {
    use fuzz::{handshake, session};
    // Key exchange: the client's three messages all sent (the last step reached), whether
    // the answers were real or built by the harness from real plaintexts.
    for name in [
        "real",
        "real-temp",
        "res-pq",
        "server-dh-inner-data",
        "dh-gen-ok",
    ] {
        let (client, server) = handshake::transcript(&seed("handshake_client", name));
        assert_eq!(client.len(), 3, "handshake_client/{name}: client messages");
        assert!(!server.is_empty(), "handshake_client/{name}");
    }
    let (client, _) = handshake::transcript(&seed("handshake_client", "retry-once"));
    assert_eq!(
        client.len(),
        4,
        "a retry sends a second set_client_DH_params"
    );
    for name in [
        "real",
        "p-q-inner-data",
        "client-dh-inner-data",
        "set-client-dh-params",
    ] {
        let (_, server) = handshake::server_transcript(&seed("handshake_server", name));
        assert_eq!(server.len(), 3, "handshake_server/{name}: server answers");
    }
    // Sessions: sealed real messages get through every check to the application.
    for name in ["exchange", "bind", "unsynced-clock"] {
        let run = session::client_run(&seed("session_client", name));
        assert!(
            run.responses() > 0,
            "session_client/{name}: no answer delivered"
        );
    }
    let run = session::server_run(&seed("session_server", "exchange"));
    assert!(
        run.requests() >= 2,
        "session_server/exchange: {} requests",
        run.requests()
    );
}

#[test]
fn seed_corpora_are_fresh() {
    let seeds = seeds::all(&workspace_root());
    let mut changed = Vec::new();
    for target in TARGETS {
        let wanted: BTreeSet<&str> = seeds
            .iter()
            .filter(|s| s.target == *target)
            .map(|s| s.name.as_str())
            .collect();
        for (name, _) in seed_files(target) {
            if !wanted.contains(name.as_str()) {
                let path = corpus_dir(target).join(&name);
                std::fs::remove_file(&path).expect("remove a stale seed");
                changed.push(format!("removed {}", path.display()));
            }
        }
    }
    for seed in &seeds {
        assert!(
            TARGETS.contains(&seed.target),
            "a seed for an unknown target"
        );
        let path = corpus_dir(seed.target).join(&seed.name);
        if ensure_file(&path, &seed.data) {
            changed.push(format!("wrote {}", path.display()));
        }
    }
    assert!(
        changed.is_empty(),
        "the seed corpora were stale and have been rewritten (rerun the test):\n{}",
        changed.join("\n")
    );
}

#[test]
fn fuzz_targets_match_the_harnesses() {
    let root = workspace_root();
    let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    let bins: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|section| {
            let line = section.lines().find(|l| l.starts_with("name = "))?;
            Some(line.trim_start_matches("name = ").trim_matches('"'))
        })
        .collect();
    assert_eq!(
        bins, TARGETS,
        "fuzz/Cargo.toml's [[bin]]s and seeds::TARGETS"
    );
    for target in TARGETS {
        let file = root.join("fuzz/fuzz_targets").join(format!("{target}.rs"));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{target}: {e}"));
        assert!(text.contains("fuzz_target!"), "{}", file.display());
    }
}

/// The TL items table: every constructor and function `cargo xtask codegen` generates, with
/// its Rust paths, sorted by id.
fn tl_items_source() -> String {
    let root = workspace_root();
    let mut rows: Vec<(u32, usize, String)> = Vec::new();
    for (order, binding) in bindings::BINDINGS.iter().enumerate() {
        let rust_root = match binding.module {
            "api" => "::auth_api",
            "mtproto" => "::auth_api::mtproto",
            "legacy_layer23" => "::auth_api::legacy::layer23",
            other => panic!("binding `{other}`: add its Rust path to tl_items_source"),
        };
        let path = root.join(binding.schema);
        let schema =
            tl_codegen::load(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        let chosen = tl_codegen::emit::select::select(&schema, &binding.selection())
            .unwrap_or_else(|e| panic!("selection of {}: {e:?}", binding.module));
        let item_path = |section: &str, ns: Option<&str>, name: &str| {
            let mut p = format!("{rust_root}::{section}");
            if let Some(ns) = ns {
                p += &format!("::{}", names::ident(&names::module_name(ns)));
            }
            p + &format!("::{}", names::ident(&names::type_name(name)))
        };
        for i in chosen {
            let def = &schema.definitions[i];
            let (id, module, name) = (def.id, binding.module, def.full_name());
            let row = match def.category {
                Category::Type => format!(
                    "ctor!({id:#010x}, {module:?}, {name:?}, {}, {}),",
                    item_path("types", def.namespace.as_deref(), &def.name),
                    item_path("enums", def.result.namespace.as_deref(), &def.result.name),
                ),
                Category::Function if def.type_params.is_empty() => format!(
                    "func!({id:#010x}, {module:?}, {name:?}, {}),",
                    item_path("functions", def.namespace.as_deref(), &def.name),
                ),
                Category::Function => {
                    let generic = def
                        .params
                        .iter()
                        .position(
                            |p| matches!(&p.ty, ParamType::Normal { ty, .. } if ty.generic_ref),
                        )
                        .unwrap_or_else(|| panic!("{name}: a type parameter but no !X field"));
                    assert_eq!(
                        generic,
                        def.params.len() - 1,
                        "{name}: the dispatcher reads !X raw, so it must be the last field"
                    );
                    format!(
                        "gfunc!({id:#010x}, {module:?}, {name:?}, {}<::tl_wire::RawObject>, {}),",
                        item_path("functions", def.namespace.as_deref(), &def.name),
                        names::ident(&names::field_name(&def.params[generic].name)),
                    )
                }
            };
            rows.push((id, order, row));
        }
    }
    rows.sort_by_key(|r| (r.0, r.1));
    let mut out = String::from(
        "// @generated by `cargo test -p project-tests --test fuzz_regressions` from\n\
         // `xtask/src/bindings.rs` and the schemas it names. Do not edit by hand: that test\n\
         // rewrites this file when it is stale.\n\n\
         /// Every generated TL constructor and function, sorted by id (`include!`d by `tl.rs`).\n\
         #[rustfmt::skip]\n\
         pub const ITEMS: &[Item] = &[\n",
    );
    for (_, _, row) in rows {
        out += "    ";
        out += &row;
        out += "\n";
    }
    out += "];\n";
    out
}

#[test]
fn tl_items_table_is_fresh() {
    let path = workspace_root().join("fuzz/src/tl_items.rs");
    assert!(
        !ensure_file(&path, tl_items_source().as_bytes()),
        "{} was stale and has been rewritten (rerun the test)",
        path.display()
    );
}

#[test]
fn tl_items_cover_every_generated_name() {
    // The service schema lists every id it knows; the dispatcher must know each one.
    for &(id, name) in mtproto_proto::schema::NAMES {
        assert!(
            fuzz::tl::items_with_id(id)
                .iter()
                .any(|i| i.module == "mtproto" && i.name == name),
            "mtproto::{name} ({id:#010x}) is not in fuzz/src/tl_items.rs"
        );
    }
    for module in ["api", "mtproto", "legacy_layer23"] {
        let n = fuzz::tl::ITEMS
            .iter()
            .filter(|i| i.module == module)
            .count();
        assert!(n > 30, "only {n} {module} items");
    }
}

#[test]
fn sha256_matches_the_fips_180_4_examples() {
    let hex = |d: [u8; 32]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        hex(fuzz::sha256::digest(b"")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex(fuzz::sha256::digest(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(fuzz::sha256::digest(
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        )),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
}

// Crashes found by fuzzing. Each input is `fuzz/regressions/<target>/<name>`, fed through the
// target's entry point as the fuzzer fed it.

/// Feeds a crash input through its target's entry point; it must not panic.
fn regression(target: &str, name: &str) {
    let path = workspace_root()
        .join("fuzz/regressions")
        .join(target)
        .join(name);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if let Err(e) = run(target, &data) {
        panic!("{target}/{name}: {e}");
    }
}

#[test]
fn every_regression_input_has_a_test() {
    let source = include_str!("fuzz_regressions.rs");
    let dir = workspace_root().join("fuzz/regressions");
    for target in std::fs::read_dir(&dir).expect("fuzz/regressions") {
        let target = target.expect("an entry").path();
        let t = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        for input in std::fs::read_dir(&target).expect("a target folder") {
            let input = input.expect("an entry").path();
            let n = input
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            // `regression("<target>", "<name>")`, however rustfmt lays the call out.
            let call = source.split("regression(").skip(1).any(|rest| {
                let args: String = rest.chars().take_while(|&c| c != ')').collect();
                args.contains(&format!("\"{t}\"")) && args.contains(&format!("\"{n}\""))
            });
            assert!(
                call,
                "fuzz/regressions/{t}/{n} has no test in tests/tests/fuzz_regressions.rs"
            );
        }
    }
}

/// `transport_client`: a frame limit smaller than the 40-byte packet the round trip opens
/// with. The harness expected every configuration to encode it (fixed: it skips the round
/// trip); the codec was right to refuse.
#[test]
fn transport_client_frame_limit_below_the_opening_packet() {
    regression("transport_client", "frame-limit-below-the-opening-packet");
}

/// `session_client`: a request body of 189 bytes. `Session::enqueue` takes serialized TL,
/// whose length is a multiple of 4; given other bytes it sends a message every peer refuses.
/// The harness now pads what it enqueues (the contract); see the report on issue 14.
#[test]
fn session_client_request_body_not_a_multiple_of_4() {
    regression("session_client", "request-body-not-a-multiple-of-4");
}

/// `session_server`: an answer of 253 bytes, the same contract on `ServerSession::respond`
/// and `push_update`.
#[test]
fn session_server_answer_body_not_a_multiple_of_4() {
    regression("session_server", "answer-body-not-a-multiple-of-4");
}

/// `session_client`: a request body that starts with the `msg_container` id. The harness
/// took every such message the session sent for a container of its own making and expected
/// it to parse (fixed: it reads the ids only when it parses). The session sends the
/// application's bytes as they are, so a peer reads this one as a container.
#[test]
fn session_client_request_body_starting_with_the_container_id() {
    regression(
        "session_client",
        "request-body-starting-with-the-container-id",
    );
}

/// `session_server`: the same with an update body.
#[test]
fn session_server_update_body_starting_with_the_container_id() {
    regression(
        "session_server",
        "update-body-starting-with-the-container-id",
    );
}

thread_local! {
    /// Bytes this thread allocated minus bytes it freed, while counting.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

/// The system allocator, counting the live bytes of the thread that asked it to.
struct Counting;

fn count(delta: isize) {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = LIVE.try_with(|l| l.set(l.get() + delta));
    }
}

// SAFETY: every call is forwarded to `System` with the same arguments; the counting only
// touches const-initialized thread-locals (no allocation).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes `f` left allocated on this thread.
fn leaked_by(f: impl FnOnce()) -> isize {
    LIVE.with(|l| l.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    LIVE.with(Cell::get)
}

/// `session_file`: LeakSanitizer's report. A valid session file is saved again by the
/// round trip (`FileStore::save`, `telethon::export_file`), and each save leaked the path of
/// its temporary file: `TempFile::disarm` forgets the guard (`std::mem::forget`), and the
/// `PathBuf` inside with it (`auth-api/src/client/file_store.rs` and
/// `client/foreign/telethon_file.rs`). Measured here with a counting allocator; the entry
/// point runs once first, so that lazily made statics are not counted.
#[test]
fn session_file_temp_file_path_leaked_on_save() {
    regression("session_file", "temp-file-path-leaked-on-save");
    let path = workspace_root().join("fuzz/regressions/session_file/temp-file-path-leaked-on-save");
    let data = std::fs::read(path).expect("the input");
    // Controls: the measure sees a leak, and the harness alone (a file that fails to load,
    // so nothing is saved) leaves nothing behind.
    assert_eq!(leaked_by(|| std::mem::forget(vec![0u8; 10])), 10);
    let unreadable = [&[0u8][..], b"not a session file"].concat();
    fuzz::foreign::session_file(&unreadable);
    assert_eq!(leaked_by(|| fuzz::foreign::session_file(&unreadable)), 0);
    let telethon = leaked_by(|| fuzz::foreign::session_file(&data));
    let file_store = seed("session_file", "file-store");
    fuzz::foreign::session_file(&file_store);
    let store = leaked_by(|| fuzz::foreign::session_file(&file_store));
    assert_eq!(
        (telethon, store),
        (0, 0),
        "bytes left allocated by one load and save (Telethon file, FileStore file)"
    );
}
