//! Sessions that move between libraries (`auth_api::client::foreign`): Telethon 1.45's
//! `StringSession` and `.session` file, and Pyrogram's session strings.
//!
//! - Layouts pinned byte by byte: strings built here by hand (with this file's own base64
//!   encoder) import to the expected session, and exports of that session give the same
//!   strings back; Pyrogram's two older layouts are read; every malformed string gives its
//!   named error, and no one-character change or truncation of a valid string panics.
//! - `.session` files: export, import, replace; every malformed file (most made by Telethon
//!   itself, then damaged with Python's `sqlite3`) gives its named error and stays
//!   byte-identical, and an export over one that is not a Telethon session is refused.
//! - With the real library against the in-process test DC: Telethon signs in and keeps a
//!   `.session` file and a StringSession; our client starts from each (with PFS: no new
//!   permanent key; without: no key exchange at all) and `get_me` is Telethon's user. The
//!   reverse: our client signs in and exports both; Telethon starts from each as its own,
//!   with no key exchange, and `get_me` is our user; the exported file has exactly the
//!   schema of a file Telethon creates, and our Pyrogram string unpacks with Python's
//!   `struct` as Pyrogram reads it.
//!
//! The Python side is `tests/py/telethon_session_move.py`. Needs the oracle venv (`cargo
//! xtask py-setup`); a missing interpreter or package fails the test, never skips it. Run:
//! `cargo test -p project-tests --test sessions_move`.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use auth_api::client::foreign::pyrogram::PyrogramExport;
use auth_api::client::foreign::{
    self, pyrogram, telethon, ForeignSessionError, PyrogramExtras, StringFormat,
};
use auth_api::client::{Client, ClientConfig, MemoryStore, SessionData, SessionStore, SignIn};
use mtproto_net::StoredAuth;
use project_tests::script::{bounded, run_script, ScriptNames};
use project_tests::{oracle_python, workspace_root};
use serde_json::{json, Value};
use test_dc::{Account, TestDc};

const API_ID: i32 = 611_335;
const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";
/// Telethon's account (DC 2) and ours.
const TELETHON_PHONE: &str = "+9996621301";
const OUR_PHONE: &str = "+9996621302";

// ---------------------------------------------------------------------------------------
// Helpers.

/// URL-safe base64, written here independently of the library's.
fn b64url(bytes: &[u8], pad: bool) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
        if pad {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// A key that is not all zeros, different per `seed`.
fn key(seed: u8) -> [u8; 256] {
    let mut key = [0u8; 256];
    for (i, b) in key.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(seed) | 1;
    }
    key
}

fn key_id(key: &[u8; 256]) -> i64 {
    StoredAuth::from_bytes(key, 0, 0).unwrap().auth_key.id()
}

/// A session with one DC.
fn session(dc: i32, addr: SocketAddr, key: &[u8; 256], user_id: Option<i64>) -> SessionData {
    SessionData {
        home_dc: Some(dc),
        keys: BTreeMap::from([(dc, StoredAuth::from_bytes(key, 0, 0).unwrap())]),
        dcs: BTreeMap::from([(dc, addr)]),
        user_id,
        future_auth_tokens: Vec::new(),
    }
}

fn v4(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(127, 0, 0, 1), port))
}

const V6_IP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 4);

fn v6(port: u16) -> SocketAddr {
    SocketAddr::from((V6_IP, port))
}

/// A DC table for Pyrogram imports.
fn table() -> BTreeMap<i32, SocketAddr> {
    BTreeMap::from([(1, v4(10_001)), (2, v4(10_002)), (4, v6(10_004))])
}

/// Telethon's StringSession bytes: dc, ip, port (big-endian), key.
fn telethon_bytes(dc: u8, ip: &[u8], port: u16, key: &[u8; 256]) -> Vec<u8> {
    let mut bytes = vec![dc];
    bytes.extend_from_slice(ip);
    bytes.extend_from_slice(&port.to_be_bytes());
    bytes.extend_from_slice(key);
    bytes
}

fn telethon_string(bytes: &[u8]) -> String {
    format!("1{}", b64url(bytes, true))
}

/// Pyrogram's current layout, field by field at its offsets.
fn pyrogram_bytes(
    dc: u8,
    api_id: u32,
    test_mode: u8,
    key: &[u8; 256],
    user_id: u64,
    is_bot: u8,
) -> Vec<u8> {
    let mut bytes = vec![0u8; 271];
    bytes[0] = dc;
    bytes[1..5].copy_from_slice(&api_id.to_be_bytes());
    bytes[5] = test_mode;
    bytes[6..262].copy_from_slice(key);
    bytes[262..270].copy_from_slice(&user_id.to_be_bytes());
    bytes[270] = is_bot;
    bytes
}

/// The error of a call that must fail.
fn error<T: Debug>(result: Result<T, ForeignSessionError>) -> ForeignSessionError {
    match result {
        Ok(value) => panic!("accepted: {value:?}"),
        Err(e) => e,
    }
}

/// A directory of its own under the system's temporary one, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("sessions-move-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create the test directory");
        Self(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .expect("list the test directory")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn config(dc: &TestDc) -> ClientConfig {
    let mut config = ClientConfig::new(
        API_ID,
        API_HASH,
        dc.dcs(),
        2,
        vec![test_dc::test_server_key().public_key().clone()],
    );
    config.store = Arc::new(MemoryStore::new());
    config
}

/// Runs `telethon_session_move.py` with `flows` (and `dc`'s key and DC 2's port).
async fn run_telethon(dc: Option<&TestDc>, flows: Value) -> Vec<Value> {
    let mut plan = json!({"api_id": API_ID, "api_hash": API_HASH, "flows": flows, "timeout": 80});
    if let Some(dc) = dc {
        plan["pem"] = dc.public_key_pem().into();
        plan["port"] = dc.addr(2).port().into();
    }
    let mut command = Command::new(oracle_python());
    command.arg(workspace_root().join("tests/py/telethon_session_move.py"));
    let names = ScriptNames {
        script: "telethon_session_move.py",
        runner: "the oracle Python",
        oracle: "Telethon",
        setup: "cargo xtask py-setup",
    };
    run_script(command, plan.to_string().as_bytes(), names).await
}

/// The line of `flow`'s `step`.
fn line<'a>(all: &'a [Value], flow: &str, step: &str) -> &'a Value {
    all.iter()
        .find(|l| l["flow"] == flow && l["step"] == step)
        .unwrap_or_else(|| panic!("no {flow}/{step} line in {all:#?}"))
}

// ---------------------------------------------------------------------------------------
// Strings, pinned.

#[test]
fn pyrogram_current_layout_is_pinned_field_by_field() {
    let key = key(7);
    let bytes = pyrogram_bytes(2, 611_335, 1, &key, 0x0123_4567_89ab, 1);
    assert_eq!(bytes.len(), 271);
    assert_eq!(bytes[0], 2);
    assert_eq!(bytes[1..5], [0x00, 0x09, 0x54, 0x07]); // 611335, big-endian
    assert_eq!(bytes[5], 1);
    assert_eq!(bytes[6..262], key);
    assert_eq!(bytes[262..270], [0, 0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab]);
    assert_eq!(bytes[270], 1);
    let s = b64url(&bytes, false);
    assert_eq!(s.len(), 362);
    assert!(!s.contains('='));

    let imported = pyrogram::import_string(&s, &table()).unwrap();
    assert_eq!(imported.format, StringFormat::Pyrogram);
    assert_eq!(
        imported.pyrogram,
        Some(PyrogramExtras {
            api_id: Some(611_335),
            test_mode: true,
            is_bot: true,
        })
    );
    assert_eq!(
        imported.session,
        session(2, v4(10_002), &key, Some(0x0123_4567_89ab))
    );

    // The export of that session with the same extras is the hand-built string.
    let extra = PyrogramExport {
        api_id: 611_335,
        test_mode: true,
        is_bot: true,
    };
    assert_eq!(
        *pyrogram::export_string(&imported.session, &extra).unwrap(),
        s
    );
    // Each field moves where it belongs.
    let extra = PyrogramExport {
        api_id: 0x0102_0304,
        test_mode: false,
        is_bot: false,
    };
    let user = session(1, v4(1), &key, Some(0x0a0b_0c0d_0e0f_1011));
    let expected = pyrogram_bytes(1, 0x0102_0304, 0, &key, 0x0a0b_0c0d_0e0f_1011, 0);
    assert_eq!(
        *pyrogram::export_string(&user, &extra).unwrap(),
        b64url(&expected, false)
    );
}

#[test]
fn pyrogram_older_layouts_are_read() {
    let key = key(9);
    // `>B?256sI?`: dc, test mode, key, 32-bit user id, is_bot.
    let mut old32 = vec![4u8, 0];
    old32.extend_from_slice(&key);
    old32.extend_from_slice(&0x8000_0001u32.to_be_bytes());
    old32.push(1);
    assert_eq!(old32.len(), 263);
    let s = b64url(&old32, false);
    assert_eq!(s.len(), 351);
    let imported = pyrogram::import_string(&s, &table()).unwrap();
    assert_eq!(imported.format, StringFormat::PyrogramOld32);
    assert_eq!(
        imported.pyrogram,
        Some(PyrogramExtras {
            api_id: None,
            test_mode: false,
            is_bot: true,
        })
    );
    assert_eq!(
        imported.session,
        session(4, v6(10_004), &key, Some(0x8000_0001))
    );

    // `>B?256sQ?`: the same with a 64-bit user id.
    let mut old64 = vec![1u8, 1];
    old64.extend_from_slice(&key);
    old64.extend_from_slice(&0x0000_0002_0000_0003u64.to_be_bytes());
    old64.push(0);
    assert_eq!(old64.len(), 267);
    let s = b64url(&old64, false);
    assert_eq!(s.len(), 356);
    let imported = foreign::parse_session_string(&s, &table()).unwrap();
    assert_eq!(imported.format, StringFormat::PyrogramOld64);
    assert_eq!(
        imported.pyrogram,
        Some(PyrogramExtras {
            api_id: None,
            test_mode: true,
            is_bot: false,
        })
    );
    assert_eq!(
        imported.session,
        session(1, v4(10_001), &key, Some(0x0000_0002_0000_0003))
    );
}

#[test]
fn telethon_string_is_pinned_field_by_field() {
    let key = key(3);
    // IPv4: dc 2, 127.0.0.1, port 0x1f90 (8080).
    let bytes = telethon_bytes(2, &[127, 0, 0, 1], 8080, &key);
    assert_eq!(bytes.len(), 263);
    assert_eq!(bytes[0], 2);
    assert_eq!(bytes[1..5], [127, 0, 0, 1]);
    assert_eq!(bytes[5..7], [0x1f, 0x90]);
    assert_eq!(bytes[7..], key);
    let s = telethon_string(&bytes);
    assert_eq!(s.len(), 353);
    assert!(s.starts_with('1') && s.ends_with('='));
    let imported = telethon::import_string(&s).unwrap();
    assert_eq!(imported, session(2, v4(8080), &key, None));
    assert_eq!(*telethon::export_string(&imported).unwrap(), s);

    // IPv6: dc 4, 2001:db8::4, port 443.
    let bytes = telethon_bytes(4, &V6_IP.octets(), 443, &key);
    assert_eq!(bytes.len(), 275);
    assert_eq!(
        bytes[1..17],
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]
    );
    assert_eq!(bytes[17..19], [0x01, 0xbb]);
    let s = telethon_string(&bytes);
    assert_eq!(s.len(), 369);
    let imported = telethon::import_string(&s).unwrap();
    assert_eq!(imported, session(4, v6(443), &key, None));
    assert_eq!(*telethon::export_string(&imported).unwrap(), s);
}

#[test]
fn parse_session_string_recognizes_each_format() {
    let key = key(5);
    let cases = [
        (
            telethon_string(&telethon_bytes(2, &[127, 0, 0, 1], 443, &key)),
            StringFormat::Telethon,
        ),
        (
            telethon_string(&telethon_bytes(2, &V6_IP.octets(), 443, &key)),
            StringFormat::Telethon,
        ),
        (
            b64url(&pyrogram_bytes(2, 1, 0, &key, 5, 0), false),
            StringFormat::Pyrogram,
        ),
    ];
    for (s, format) in cases {
        // A pasted line: surrounding whitespace is ignored.
        let imported = foreign::parse_session_string(&format!("  {s}\n"), &table()).unwrap();
        assert_eq!(imported.format, format);
        assert_eq!(imported.session.home_dc, Some(2));
        assert_eq!(imported.session.keys[&2].auth_key.as_bytes(), &key);
        assert_eq!(
            imported.pyrogram.is_some(),
            format == StringFormat::Pyrogram
        );
    }
}

#[test]
fn sessions_round_trip_through_each_string() {
    let mut ours = session(2, v4(4430), &key(11), Some(777_000_111));
    // What the other libraries do not keep: reset on the way back.
    ours.keys.get_mut(&2).unwrap().salt = 0x1234;
    ours.keys.get_mut(&2).unwrap().time_offset = -5;
    ours.keys
        .insert(1, StoredAuth::from_bytes(&key(12), 0, 0).unwrap());
    ours.dcs.insert(1, v4(4431));

    let back = telethon::import_string(&telethon::export_string(&ours).unwrap()).unwrap();
    assert_eq!(back, session(2, v4(4430), &key(11), None));

    let extra = PyrogramExport {
        api_id: API_ID,
        test_mode: false,
        is_bot: false,
    };
    let s = pyrogram::export_string(&ours, &extra).unwrap();
    let back = foreign::parse_session_string(&s, &BTreeMap::from([(2, v4(4430))])).unwrap();
    assert_eq!(
        back.session,
        session(2, v4(4430), &key(11), Some(777_000_111))
    );
    assert_eq!(
        back.pyrogram,
        Some(PyrogramExtras {
            api_id: Some(API_ID),
            test_mode: false,
            is_bot: false,
        })
    );
}

#[test]
fn malformed_strings_give_their_named_errors() {
    let key = key(13);
    let good = telethon_string(&telethon_bytes(2, &[127, 0, 0, 1], 443, &key));
    let with = |at: usize, c: char| {
        let mut s = good.clone();
        s.replace_range(at..at + 1, &c.to_string());
        s
    };
    let dcs = table();
    let parse = |s: &str| error(foreign::parse_session_string(s, &dcs));

    assert!(matches!(parse(""), ForeignSessionError::Empty));
    assert!(matches!(parse(" \n"), ForeignSessionError::Empty));
    assert!(matches!(
        parse(&"A".repeat(100)),
        ForeignSessionError::Unrecognized { len: 100 }
    ));
    let e = parse(&with(0, '2'));
    assert!(
        matches!(e, ForeignSessionError::UnknownVersion { found: '2' }),
        "{e}"
    );
    let e = parse(&good[..352]);
    assert!(
        matches!(
            e,
            ForeignSessionError::WrongLength {
                format: StringFormat::Telethon,
                len: 352,
                ..
            }
        ),
        "{e}"
    );
    let e = parse(&with(100, '*'));
    assert!(
        matches!(
            e,
            ForeignSessionError::Base64 {
                format: StringFormat::Telethon,
                at: 100,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("character 100"), "{e}");
    let e = parse(&with(7, '+'));
    assert!(
        matches!(e, ForeignSessionError::Base64 { at: 7, why, .. } if why.contains("'+' or '/'")),
        "{e}"
    );
    let e = parse(&with(20, '='));
    assert!(
        matches!(e, ForeignSessionError::Base64 { at: 20, .. }),
        "{e}"
    );
    // 'é' is two bytes: in place of two characters, the length still matches.
    let mut accented = good.clone();
    accented.replace_range(30..32, "é");
    let e = parse(&accented);
    assert!(
        matches!(e, ForeignSessionError::Base64 { at: 30, why, .. } if why.contains("non-ASCII")),
        "{e}"
    );
    // IPv4: 263 bytes end in a group of 2 (3 characters and '='): the last character's two
    // low bits are unused and must be zero.
    assert_eq!(&good[352..], "=");
    let last = good.as_bytes()[351];
    let nudged = if last == b'_' {
        '-'
    } else {
        char::from(last + 1)
    };
    let e = parse(&with(351, nudged));
    assert!(
        matches!(e, ForeignSessionError::Base64 { at: 351, why, .. } if why.contains("unused bits")),
        "{e}"
    );
    // The right length with a data character where the '=' belongs (Python's struct would
    // refuse the 264 bytes it decodes to).
    let mut unpadded = good.trim_end_matches('=').to_string();
    unpadded.push('A');
    let e = parse(&unpadded);
    assert!(
        matches!(e, ForeignSessionError::Base64 { at: 352, why, .. } if why.contains("padding")),
        "{e}"
    );
    // A Telethon string without its padding is one character short.
    let e = parse(good.trim_end_matches('='));
    assert!(
        matches!(
            e,
            ForeignSessionError::WrongLength {
                format: StringFormat::Telethon,
                len: 352,
                ..
            }
        ),
        "{e}"
    );

    let telethon_with = |dc: u8, port: u16, key: &[u8; 256]| {
        telethon_string(&telethon_bytes(dc, &[127, 0, 0, 1], port, key))
    };
    assert!(matches!(
        parse(&telethon_with(0, 443, &key)),
        ForeignSessionError::DcIdZero {
            format: StringFormat::Telethon
        }
    ));
    assert!(matches!(
        parse(&telethon_with(2, 0, &key)),
        ForeignSessionError::PortZero { .. }
    ));
    assert!(matches!(
        parse(&telethon_with(2, 443, &[0; 256])),
        ForeignSessionError::NoAuthKey {
            format: StringFormat::Telethon
        }
    ));

    let pyro = |bytes: &[u8]| b64url(bytes, false);
    let e = parse(&pyro(&pyrogram_bytes(2, 1, 2, &key, 5, 0)));
    assert!(
        matches!(
            e,
            ForeignSessionError::NotABool {
                field: "test_mode",
                offset: 5,
                value: 2,
                ..
            }
        ),
        "{e}"
    );
    let e = parse(&pyro(&pyrogram_bytes(2, 1, 0, &key, 5, 7)));
    assert!(
        matches!(
            e,
            ForeignSessionError::NotABool {
                field: "is_bot",
                offset: 270,
                value: 7,
                ..
            }
        ),
        "{e}"
    );
    let e = parse(&pyro(&pyrogram_bytes(9, 1, 0, &key, 5, 0)));
    assert!(
        matches!(e, ForeignSessionError::UnknownDc { dc: 9, .. }),
        "{e}"
    );
    let e = parse(&pyro(&pyrogram_bytes(0, 1, 0, &key, 5, 0)));
    assert!(matches!(e, ForeignSessionError::DcIdZero { .. }), "{e}");
    let e = parse(&pyro(&pyrogram_bytes(2, 1, 0, &[0; 256], 5, 0)));
    assert!(matches!(e, ForeignSessionError::NoAuthKey { .. }), "{e}");
    let e = parse(&pyro(&pyrogram_bytes(2, 1, 0, &key, 1 << 63, 0)));
    assert!(
        matches!(e, ForeignSessionError::UserIdOutOfRange { user_id, .. } if user_id == 1 << 63),
        "{e}"
    );
    let e = parse(&pyro(&pyrogram_bytes(2, 0x8000_0000, 0, &key, 5, 0)));
    assert!(
        matches!(
            e,
            ForeignSessionError::ApiIdOutOfRange {
                api_id: 0x8000_0000,
                ..
            }
        ),
        "{e}"
    );
    let padded = b64url(&pyrogram_bytes(2, 1, 0, &key, 5, 0), true);
    let e = error(pyrogram::import_string(&padded, &dcs));
    assert!(
        matches!(e, ForeignSessionError::WrongLength { len: 364, .. }),
        "{e}"
    );
    let mut inner_pad = pyro(&pyrogram_bytes(2, 1, 0, &key, 5, 0));
    inner_pad.replace_range(40..41, "=");
    let e = parse(&inner_pad);
    assert!(
        matches!(
            e,
            ForeignSessionError::Base64 {
                format: StringFormat::Pyrogram,
                at: 40,
                ..
            }
        ),
        "{e}"
    );

    // No error shows key bytes (they are not even kept), and Debug of a session shows only
    // the key id.
    let imported = telethon::import_string(&good).unwrap();
    let debug = format!("{imported:?}");
    assert!(
        debug.contains(&format!("{:#018x}", key_id(&key) as u64)),
        "{debug}"
    );
    let key_hex: String = key[..8].iter().map(|b| format!("{b:02x}")).collect();
    let key_list = format!("{:?}", &key[..4]);
    assert!(!debug.contains(&key_hex), "{debug}");
    assert!(
        !debug.contains(key_list.trim_matches(['[', ']'])),
        "{debug}"
    );
}

/// Every one-character change and every truncation of valid strings is read or refused,
/// never a panic; a change the format can carry reads back as a different session.
#[test]
fn damaged_strings_never_panic() {
    let key = key(19);
    let valid = [
        telethon_string(&telethon_bytes(2, &[127, 0, 0, 1], 443, &key)),
        telethon_string(&telethon_bytes(4, &V6_IP.octets(), 443, &key)),
        b64url(&pyrogram_bytes(2, 5, 0, &key, 9, 0), false),
    ];
    let dcs = table();
    let original: Vec<_> = valid
        .iter()
        .map(|s| foreign::parse_session_string(s, &dcs).unwrap())
        .collect();
    let mut refused = 0;
    for (s, original) in valid.iter().zip(&original) {
        for at in 0..s.len() {
            for c in [
                'A', 'z', '9', '-', '_', '=', '+', '/', ' ', '1', '\0', '\u{7f}',
            ] {
                let mut damaged = s.clone();
                damaged.replace_range(at..at + 1, &c.to_string());
                match foreign::parse_session_string(&damaged, &dcs) {
                    Ok(imported) if damaged == *s => assert_eq!(&imported, original),
                    Ok(imported) => assert_ne!(&imported, original, "{at} {c:?}"),
                    Err(_) => refused += 1,
                }
            }
            // Pyrogram tells its layouts apart by length alone (as this crate does): a
            // current string cut to an older layout's length can read as one.
            let cut = foreign::parse_session_string(&s[..at], &dcs);
            match cut {
                Ok(cut) if [351, 356].contains(&at) => assert_ne!(cut.format, original.format),
                cut => assert!(cut.is_err(), "{at}: {cut:?}"),
            }
        }
    }
    assert!(refused > 1000, "{refused}");
}

#[test]
fn exports_name_what_is_missing() {
    let full = session(2, v4(443), &key(17), Some(42));
    let extra = PyrogramExport {
        api_id: API_ID,
        test_mode: false,
        is_bot: false,
    };

    let mut s = full.clone();
    s.home_dc = None;
    assert!(matches!(
        error(telethon::export_string(&s)),
        ForeignSessionError::NoHomeDc
    ));
    assert!(matches!(
        error(pyrogram::export_string(&s, &extra)),
        ForeignSessionError::NoHomeDc
    ));
    let mut s = full.clone();
    s.keys.clear();
    assert!(matches!(
        error(telethon::export_string(&s)),
        ForeignSessionError::NoKey { dc: 2 }
    ));
    let mut s = full.clone();
    s.dcs.clear();
    assert!(matches!(
        error(telethon::export_string(&s)),
        ForeignSessionError::NoAddress { dc: 2 }
    ));
    // Pyrogram keeps no address: it does not need one.
    assert!(pyrogram::export_string(&s, &extra).is_ok());
    let big = session(300, v4(443), &key(17), Some(42));
    assert!(matches!(
        error(telethon::export_string(&big)),
        ForeignSessionError::DcIdOutOfRange { dc: 300, .. }
    ));
    assert!(matches!(
        error(pyrogram::export_string(&big, &extra)),
        ForeignSessionError::DcIdOutOfRange { dc: 300, .. }
    ));
    let mut s = full.clone();
    s.user_id = None;
    assert!(matches!(
        error(pyrogram::export_string(&s, &extra)),
        ForeignSessionError::NotLoggedIn { .. }
    ));
    // Telethon keeps no user id: it does not need one.
    assert!(telethon::export_string(&s).is_ok());
    let mut s = full.clone();
    s.user_id = Some(-1);
    assert!(matches!(
        error(pyrogram::export_string(&s, &extra)),
        ForeignSessionError::UserIdOutOfRange { user_id: -1, .. }
    ));
    let negative = PyrogramExport {
        api_id: -1,
        ..extra
    };
    assert!(matches!(
        error(pyrogram::export_string(&full, &negative)),
        ForeignSessionError::ApiIdOutOfRange { api_id: -1, .. }
    ));
}

// ---------------------------------------------------------------------------------------
// `.session` files.

#[test]
fn telethon_files_round_trip_and_replace() {
    let dir = TempDir::new("files");
    let path = dir.path("a.session");
    let first = session(2, v4(4430), &key(21), Some(42));
    telethon::export_file(&first, &path).unwrap();
    assert_eq!(&fs::read(&path).unwrap()[..16], b"SQLite format 3\0");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // Telethon keeps no user id.
    assert_eq!(
        telethon::import_file(&path).unwrap(),
        session(2, v4(4430), &key(21), None)
    );

    // A Telethon file is replaced by the next export (here with an IPv6 address).
    let second = session(4, v6(443), &key(22), None);
    telethon::export_file(&second, &path).unwrap();
    assert_eq!(telethon::import_file(&path).unwrap(), second);
    assert_eq!(dir.listing(), ["a.session"], "no temporary file is left");

    // An export that cannot be made writes nothing.
    let mut no_home = second.clone();
    no_home.home_dc = None;
    let before = fs::read(&path).unwrap();
    assert!(matches!(
        error(telethon::export_file(&no_home, &path)),
        ForeignSessionError::NoHomeDc
    ));
    assert!(matches!(
        error(telethon::export_file(&no_home, dir.path("b.session"))),
        ForeignSessionError::NoHomeDc
    ));
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(dir.listing(), ["a.session"]);

    let missing = error(telethon::import_file(dir.path("missing.session")));
    assert!(
        matches!(&missing, ForeignSessionError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{missing}"
    );
}

/// What importing a malformed file gives, and whether an export may replace it.
struct Malformed {
    name: &'static str,
    import: fn(&ForeignSessionError) -> bool,
    /// Only a Telethon session file (any version this reads, with or without a good key) is
    /// replaced.
    replaceable: bool,
}

fn why(e: &ForeignSessionError, part: &str) -> bool {
    matches!(e, ForeignSessionError::NotTelethonFile { why, .. } if why.contains(part))
}

#[tokio::test]
async fn malformed_telethon_files_give_named_errors_and_stay_unchanged() {
    let dir = TempDir::new("malformed");
    let all = run_telethon(None, json!([{"flow": "craft", "dir": dir.0}])).await;
    assert_eq!(
        line(&all, "craft", "crafted")["files"],
        json!([
            "bad_address.session",
            "dc_zero.session",
            "fresh.session",
            "newer.session",
            "no_port.session",
            "no_sessions.session",
            "pyrogram.session",
            "short_key.session",
            "text_port.session",
            "two_rows.session",
            "zero_key.session",
        ])
    );
    fs::write(dir.path("text.session"), "not a database\n").unwrap();
    fs::write(dir.path("empty.session"), "").unwrap();
    let valid = dir.path("valid.tmp");
    telethon::export_file(&session(2, v4(443), &key(31), None), &valid).unwrap();
    let bytes = fs::read(&valid).unwrap();
    fs::remove_file(&valid).unwrap();
    fs::write(dir.path("truncated.session"), &bytes[..4096]).unwrap();

    let cases = [
        Malformed {
            name: "fresh.session",
            import: |e| matches!(e, ForeignSessionError::NoKeyInFile { .. }),
            replaceable: true,
        },
        Malformed {
            name: "newer.session",
            import: |e| matches!(e, ForeignSessionError::TelethonVersion { version: 9, .. }),
            replaceable: false,
        },
        Malformed {
            name: "short_key.session",
            import: |e| why(e, "auth_key is 100 bytes, not 256"),
            replaceable: true,
        },
        Malformed {
            name: "two_rows.session",
            import: |e| why(e, "more than one row"),
            replaceable: true,
        },
        Malformed {
            name: "bad_address.session",
            import: |e| {
                why(
                    e,
                    "server_address \"dc2.example.invalid\" is not an IP address",
                )
            },
            replaceable: true,
        },
        Malformed {
            name: "dc_zero.session",
            import: |e| why(e, "dc_id 0 is out of range"),
            replaceable: true,
        },
        Malformed {
            name: "zero_key.session",
            import: |e| matches!(e, ForeignSessionError::NoKeyInFile { .. }),
            replaceable: true,
        },
        Malformed {
            name: "no_port.session",
            import: |e| why(e, "`sessions` table has no `port` column"),
            replaceable: false,
        },
        Malformed {
            name: "text_port.session",
            import: |e| why(e, "port is text, not an integer"),
            replaceable: true,
        },
        Malformed {
            name: "pyrogram.session",
            import: |e| why(e, "`version` table has no `version` column"),
            replaceable: false,
        },
        Malformed {
            name: "no_sessions.session",
            import: |e| why(e, "no `sessions` table"),
            replaceable: false,
        },
        Malformed {
            name: "text.session",
            import: |e| why(e, "not an SQLite database"),
            replaceable: false,
        },
        Malformed {
            name: "empty.session",
            import: |e| why(e, "the file is empty"),
            replaceable: false,
        },
        Malformed {
            name: "truncated.session",
            import: |e| matches!(e, ForeignSessionError::Sqlite { .. }),
            replaceable: false,
        },
    ];
    let replacement = session(3, v4(4433), &key(32), None);
    for case in cases {
        let path = dir.path(case.name);
        let before = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let listing = dir.listing();

        let e = error(telethon::import_file(&path));
        assert!((case.import)(&e), "{}: {e}", case.name);
        assert!(
            e.to_string().contains(case.name),
            "{}: the error names the file: {e}",
            case.name
        );
        assert_eq!(fs::read(&path).unwrap(), before, "{} changed", case.name);
        assert_eq!(dir.listing(), listing, "{}", case.name);

        let exported = telethon::export_file(&replacement, &path);
        if case.replaceable {
            exported.unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_eq!(telethon::import_file(&path).unwrap(), replacement);
        } else {
            let refused = error(exported);
            assert!((case.import)(&refused), "{}: {refused}", case.name);
            assert_eq!(fs::read(&path).unwrap(), before, "{} changed", case.name);
            assert_eq!(dir.listing(), listing, "{}", case.name);
        }
    }
}

// ---------------------------------------------------------------------------------------
// With the real library.

async fn start_dc(phone: &str, first: &str, last: &str) -> TestDc {
    // Random codes: each is read back from the backend.
    TestDc::builder()
        .dcs(2)
        .user(Account::new(phone).name(first, last))
        .start()
        .await
        .expect("the test DC starts")
}

#[tokio::test]
async fn telethon_sessions_start_our_client() {
    bounded(async {
        let dc = start_dc(TELETHON_PHONE, "Ada", "Lovelace").await;
        let dir = TempDir::new("from-telethon");
        let file = dir.path("telethon.session");

        // Telethon signs in (its file keeps the key between the two runs).
        let all = run_telethon(
            Some(&dc),
            json!([{"flow": "send_code", "session": file, "phone": TELETHON_PHONE}]),
        )
        .await;
        let hash = line(&all, "send_code", "send_code")["phone_code_hash"].clone();
        let code = dc.last_code(TELETHON_PHONE).expect("the DC sent a code");
        let exchanges = dc.server(2).stats().key_exchanges;
        let all = run_telethon(
            Some(&dc),
            json!([{
                "flow": "sign_in",
                "session": file,
                "phone": TELETHON_PHONE,
                "code": code,
                "phone_code_hash": hash,
            }]),
        )
        .await;
        assert_eq!(
            dc.server(2).stats().key_exchanges,
            exchanges,
            "Telethon reopened its file without a new key"
        );
        let signed = line(&all, "sign_in", "sign_in");
        let user_id = dc.backend().user_id(TELETHON_PHONE).unwrap();
        assert_eq!(signed["user"]["id"], user_id, "{signed}");
        assert_eq!(signed["me"]["id"], user_id, "{signed}");
        assert_eq!(signed["dc_id"], 2, "{signed}");
        let key_id = signed["auth_key_id"].as_i64().expect("auth_key_id");
        assert_eq!(dc.backend().authorized_user(2, key_id), Some(user_id));
        let string = signed["string"].as_str().expect("the StringSession");

        let file_bytes = fs::read(&file).unwrap();
        let from_string = telethon::import_string(string).unwrap();
        let from_file = telethon::import_file(&file).unwrap();
        assert_eq!(
            fs::read(&file).unwrap(),
            file_bytes,
            "import changed the file"
        );
        let parsed = foreign::parse_session_string(string, &BTreeMap::new()).unwrap();
        assert_eq!(parsed.format, StringFormat::Telethon);
        assert_eq!(parsed.session, from_string);
        assert_eq!(from_string, from_file);
        assert_eq!(from_string.home_dc, Some(2));
        assert_eq!(from_string.dcs, BTreeMap::from([(2, dc.addr(2))]));
        assert_eq!(from_string.keys[&2].auth_key.id(), key_id);
        assert_eq!(from_string.user_id, None);

        // Each import with PFS (the default), and one without. Only one client runs without
        // PFS: the test DC keeps one session per key, and a dropped `Client`'s connection
        // (to the same key) may still be open.
        let runs = [
            ("string", &from_string, true),
            ("file", &from_file, true),
            ("file", &from_file, false),
        ];
        for (source, imported, pfs) in runs {
            let before = dc.server(2).stats();
            let store = MemoryStore::new();
            store.save(imported).unwrap();
            let mut config = config(&dc).pfs(pfs);
            config.store = Arc::new(store);
            let client = Client::new(config).unwrap();
            let me = client
                .get_me()
                .await
                .unwrap_or_else(|e| panic!("{source}, PFS {pfs}: {e}"));
            assert_eq!(me.id, user_id, "{source}, PFS {pfs}");
            let after = dc.server(2).stats();
            let status = client.connection_status(2).await.unwrap();
            if pfs {
                assert_eq!(
                    after.key_exchanges - after.temp_key_exchanges,
                    before.key_exchanges - before.temp_key_exchanges,
                    "{source}: a new permanent key"
                );
                // PFS was on: a temporary key, bound to Telethon's, carried the call.
                assert_eq!(after.temp_key_exchanges, before.temp_key_exchanges + 1);
                assert_eq!(status.temp_keys_bound, 1, "{status:?}");
                assert_ne!(status.wire_key_id, Some(key_id), "{status:?}");
            } else {
                assert_eq!(
                    after.key_exchanges, before.key_exchanges,
                    "{source}: a key exchange"
                );
                assert_eq!(status.wire_key_id, Some(key_id), "{status:?}");
            }
            assert_eq!(client.session().await.keys[&2].auth_key.id(), key_id);
        }
    })
    .await
}

#[tokio::test]
async fn our_sessions_start_telethon() {
    bounded(async {
        let dc = start_dc(OUR_PHONE, "Alan", "Turing").await;
        let dir = TempDir::new("from-ours");
        // Our client, PFS on: the exports carry the permanent key, not the wire's.
        let client = Client::new(config(&dc)).unwrap();
        let token = client
            .send_code(OUR_PHONE)
            .await
            .unwrap()
            .into_code()
            .unwrap();
        let code = dc.last_code(OUR_PHONE).expect("the DC sent a code");
        let user_id = match client.sign_in(&token, &code).await.unwrap() {
            SignIn::SignedIn(user) => user.id,
            other => panic!("not signed in: {other:?}"),
        };
        let session = client.session().await;
        assert_eq!(session.user_id, Some(user_id));
        let perm = session.keys[&2].auth_key.id();
        let wire = client.connection_status(2).await.unwrap().wire_key_id;
        assert!(wire.is_some_and(|w| w != perm), "{wire:?}");

        let string = telethon::export_string(&session).unwrap();
        let file = dir.path("ours.session");
        telethon::export_file(&session, &file).unwrap();
        let extra = PyrogramExport {
            api_id: API_ID,
            test_mode: false,
            is_bot: false,
        };
        let pyro = pyrogram::export_string(&session, &extra).unwrap();

        let before = dc.server(2).stats();
        let all = run_telethon(
            Some(&dc),
            json!([
                {"flow": "schema", "ours": file, "theirs": dir.path("theirs.session")},
                {"flow": "pyrogram", "string": pyro.as_str()},
                {"flow": "load_string", "string": string.as_str()},
                {"flow": "load_file", "session": file},
            ]),
        )
        .await;
        let after = dc.server(2).stats();
        assert_eq!(
            after.key_exchanges, before.key_exchanges,
            "Telethon made a key"
        );

        // The file is the one Telethon 1.45 makes: same tables, columns, indexes, version
        // and value types.
        let schema = line(&all, "schema", "schema");
        assert_eq!(schema["ours"], schema["theirs"], "{schema:#}");
        assert_eq!(schema["ours"]["versions"], json!([8]));
        assert_eq!(
            schema["ours"]["tables"],
            json!([
                "entities",
                "sent_files",
                "sessions",
                "update_state",
                "version"
            ])
        );
        assert_eq!(
            schema["ours"]["types"],
            json!([["integer", "text", "integer", "blob", "null", "blob"]])
        );

        let unpacked = line(&all, "pyrogram", "unpack");
        assert_eq!(unpacked["length"], 362, "{unpacked}");
        assert_eq!(unpacked["padded"], false, "{unpacked}");
        assert_eq!(unpacked["bytes"], 271, "{unpacked}");
        assert_eq!(unpacked["dc_id"], 2, "{unpacked}");
        assert_eq!(unpacked["api_id"], API_ID, "{unpacked}");
        assert_eq!(unpacked["test_mode"], false, "{unpacked}");
        assert_eq!(unpacked["auth_key_id"], perm, "{unpacked}");
        assert_eq!(unpacked["user_id"], user_id, "{unpacked}");
        assert_eq!(unpacked["is_bot"], false, "{unpacked}");

        for flow in ["load_string", "load_file"] {
            let load = line(&all, flow, "load");
            assert_eq!(load["authorized"], true, "{load}");
            assert_eq!(load["me"]["id"], user_id, "{load}");
            assert_eq!(load["me"]["is_self"], true, "{load}");
            assert_eq!(load["me"]["first_name"], "Alan", "{load}");
            assert_eq!(load["dc_id"], 2, "{load}");
            assert_eq!(load["server_address"], "127.0.0.1", "{load}");
            assert_eq!(load["port"], dc.addr(2).port(), "{load}");
            assert_eq!(load["auth_key_id"], perm, "{load}");
        }
        // Telethon saves the string it loaded as the same string.
        assert_eq!(line(&all, "load_string", "load")["same_string"], true);
        // And opened our file without upgrading it.
        assert_eq!(line(&all, "load_file", "load")["version_after"], json!([8]));
        assert_eq!(dc.backend().authorized_user(2, perm), Some(user_id));
    })
    .await
}
