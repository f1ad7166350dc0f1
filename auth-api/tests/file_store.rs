//! `FileStore`: round trips, the file's mode, and that every damaged, foreign or newer file is
//! refused by `load` and `save` alike and left byte-identical.

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auth_api::client::session::MAX_FUTURE_AUTH_TOKENS;
use auth_api::client::{FileStore, FutureAuthToken, SessionData, SessionStore, StoreError};
use mtproto_net::StoredAuth;

/// A fresh directory under the target's temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("file_store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("session.bin")
    }

    /// The names in the directory, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
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

fn key_bytes(seed: u8) -> Vec<u8> {
    (0..256u32)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn auth(seed: u8, salt: i64, time_offset: i64) -> StoredAuth {
    StoredAuth::from_bytes(&key_bytes(seed), salt, time_offset).unwrap()
}

/// Two DCs of keys, a v4 and a v6 address (with scope id and flow info), home DC and user.
fn sample(seed: u8) -> SessionData {
    let v6: SocketAddr = "[2001:67c:4e8:f002::a]:443".parse().unwrap();
    let SocketAddr::V6(mut v6) = v6 else {
        unreachable!()
    };
    v6.set_flowinfo(7);
    v6.set_scope_id(3);
    SessionData {
        home_dc: Some(2),
        keys: BTreeMap::from([
            (2, auth(seed, -0x1234_5678_9abc_def0, -17)),
            (4, auth(seed.wrapping_add(100), 42, 3600)),
        ]),
        dcs: BTreeMap::from([
            (2, "149.154.167.40:443".parse().unwrap()),
            (4, SocketAddr::V6(v6)),
        ]),
        user_id: Some(777_000 + i64::from(seed)),
        future_auth_tokens: vec![
            FutureAuthToken::new(vec![seed; 32]),
            FutureAuthToken::new(vec![seed.wrapping_add(1); 17]),
        ],
    }
}

/// The `why` of an `Unusable` error for `store`'s file; panics on anything else.
fn unusable<T: std::fmt::Debug>(store: &FileStore, result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Unusable { path, why }) => {
            assert_eq!(path, store.path().display().to_string());
            why
        }
        other => panic!("expected Unusable, got {other:?}"),
    }
}

/// Writes `bytes` as the session file, then checks that `load` and `save` both refuse it with
/// the same reason, that the file is byte-identical after each, and that `save` left no
/// temporary file. Returns the reason.
fn refused(dir: &TempDir, store: &FileStore, bytes: &[u8]) -> String {
    fs::write(store.path(), bytes).unwrap();
    let why = unusable(store, store.load());
    assert_eq!(
        fs::read(store.path()).unwrap(),
        bytes,
        "load changed the file"
    );
    let why_save = unusable(store, store.save(&sample(9)));
    assert_eq!(
        fs::read(store.path()).unwrap(),
        bytes,
        "save changed the file"
    );
    assert_eq!(why_save, why);
    assert_eq!(dir.names(), ["session.bin"], "save left a temporary file");
    why
}

/// A valid session file's bytes.
fn valid_file(dir: &TempDir) -> Vec<u8> {
    let store = FileStore::new(dir.file());
    store.save(&sample(1)).unwrap();
    fs::read(store.path()).unwrap()
}

#[test]
fn round_trip() {
    let dir = TempDir::new("round_trip");
    let store = FileStore::new(dir.file());
    assert_eq!(store.path(), dir.file());

    let data = sample(1);
    store.save(&data).unwrap();
    let loaded = store.load().unwrap().unwrap();
    assert_eq!(loaded, data);
    assert_eq!(loaded.home_dc, Some(2));
    assert_eq!(loaded.user_id, Some(777_001));
    assert_eq!(loaded.keys.len(), 2);
    assert_eq!(loaded.keys[&2].auth_key.as_bytes()[..], key_bytes(1)[..]);
    assert_eq!(loaded.keys[&2].salt, -0x1234_5678_9abc_def0);
    assert_eq!(loaded.keys[&2].time_offset, -17);
    assert_eq!(loaded.keys[&4].auth_key.as_bytes()[..], key_bytes(101)[..]);
    assert_eq!(loaded.keys[&4].salt, 42);
    assert_eq!(loaded.keys[&4].time_offset, 3600);
    assert_eq!(loaded.dcs[&2], "149.154.167.40:443".parse().unwrap());
    let SocketAddr::V6(v6) = loaded.dcs[&4] else {
        panic!("DC 4 should be IPv6: {:?}", loaded.dcs[&4])
    };
    assert_eq!(v6.to_string(), "[2001:67c:4e8:f002::a%3]:443");
    assert_eq!((v6.flowinfo(), v6.scope_id()), (7, 3));

    // Another store on the same file reads the same; a save replaces it entirely.
    assert_eq!(FileStore::new(dir.file()).load().unwrap(), Some(data));
    let empty = SessionData::default();
    store.save(&empty).unwrap();
    assert_eq!(store.load().unwrap(), Some(empty));
}

#[test]
fn layout_is_as_documented() {
    use sha2::{Digest, Sha256};
    let dir = TempDir::new("layout");
    let bytes = valid_file(&dir);
    // Header, then home DC (5), user (9), 2 keys (4 + 2 * 276), 2 DCs (4 + 11 + 31), 2
    // future auth tokens (4 + (4 + 32) + (4 + 17)), SHA-256.
    let body_len = 5 + 9 + 4 + 2 * 276 + 4 + 11 + 31 + 4 + 36 + 21;
    assert_eq!(bytes.len(), 24 + body_len + 32);
    assert_eq!(&bytes[..16], b"TGLOGIN-SESSION\0");
    assert_eq!(bytes[16..20], 2u32.to_le_bytes());
    let tokens = &bytes[24 + body_len - 61..24 + body_len];
    assert_eq!(tokens[..4], 2u32.to_le_bytes());
    assert_eq!(tokens[4..8], 32u32.to_le_bytes());
    assert_eq!(tokens[8..40], [1; 32]);
    assert_eq!(tokens[40..44], 17u32.to_le_bytes());
    assert_eq!(tokens[44..], [2; 17]);
    assert_eq!(bytes[20..24], (body_len as u32).to_le_bytes());
    let (content, checksum) = bytes.split_at(24 + body_len);
    assert_eq!(checksum, Sha256::digest(content).as_slice());
}

#[test]
fn missing_file_is_none() {
    let dir = TempDir::new("missing");
    let store = FileStore::new(dir.file());
    assert!(store.load().unwrap().is_none());
    assert!(dir.names().is_empty(), "load created a file");

    // A missing directory is no session either; saving there is an I/O error.
    let nowhere = FileStore::new(dir.0.join("no-such-dir").join("session.bin"));
    assert!(nowhere.load().unwrap().is_none());
    assert!(matches!(
        nowhere.save(&sample(1)),
        Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound
    ));
}

#[cfg(unix)]
#[test]
fn file_mode_is_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("mode");
    let store = FileStore::new(dir.file());
    store.save(&sample(1)).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(store.path()), 0o600);

    // A save replaces a readable but world-readable file with a 0600 one.
    fs::set_permissions(store.path(), fs::Permissions::from_mode(0o644)).unwrap();
    store.save(&sample(2)).unwrap();
    assert_eq!(mode(store.path()), 0o600);
    assert_eq!(store.load().unwrap(), Some(sample(2)));
}

#[test]
fn every_truncation_is_unusable_and_kept() {
    let dir = TempDir::new("truncation");
    let full = valid_file(&dir);
    let store = FileStore::new(dir.file());
    for len in 0..full.len() {
        let why = refused(&dir, &store, &full[..len]);
        assert!(
            why.contains(&format!("truncated at byte {len} ")),
            "length {len}: {why}"
        );
    }
}

#[test]
fn every_flipped_byte_is_unusable_and_kept() {
    let dir = TempDir::new("flip");
    let full = valid_file(&dir);
    let store = FileStore::new(dir.file());
    for at in 0..full.len() {
        for mask in [0x01, 0x80, 0xff] {
            let mut bytes = full.clone();
            bytes[at] ^= mask;
            let why = refused(&dir, &store, &bytes);
            let expected = match at {
                0..=15 => "wrong magic",
                16..=19 => "version",
                20..=23 => "bytes", // the length: "truncated at byte" or "unexpected bytes"
                _ => "checksum mismatch: the file is corrupt",
            };
            assert!(why.contains(expected), "byte {at} ^ {mask:#x}: {why}");
        }
    }
}

#[test]
fn trailing_bytes_are_unusable() {
    let dir = TempDir::new("trailing");
    let mut bytes = valid_file(&dir);
    let len = bytes.len();
    bytes.push(0);
    let store = FileStore::new(dir.file());
    let why = refused(&dir, &store, &bytes);
    assert_eq!(
        why,
        format!("1 unexpected bytes after the end at byte {len}")
    );
}

#[test]
fn wrong_magic_is_named() {
    let dir = TempDir::new("magic");
    let store = FileStore::new(dir.file());

    let mut bytes = valid_file(&dir);
    bytes[..7].copy_from_slice(b"XXLOGIN");
    let why = refused(&dir, &store, &bytes);
    assert_eq!(why, "wrong magic: not a TGLOGIN-SESSION file");

    // Another program's file, shorter than the magic or not.
    for foreign in [&b"{\"dc\": 2}"[..], b"# my notes\nbuy milk\n", b"T"] {
        let why = refused(&dir, &store, foreign);
        if foreign == b"T" {
            assert!(why.starts_with("truncated at byte 1 "), "{why}");
        } else {
            assert_eq!(why, "wrong magic: not a TGLOGIN-SESSION file");
        }
    }
}

#[test]
fn newer_version_is_named() {
    let dir = TempDir::new("version");
    let store = FileStore::new(dir.file());
    let mut bytes = valid_file(&dir);

    bytes[16..20].copy_from_slice(&3u32.to_le_bytes());
    let why = refused(&dir, &store, &bytes);
    assert_eq!(why, "format version 3 is newer than this program's 2");

    // A newer version may be any length: a short one is still named by its version.
    let why = refused(&dir, &store, &bytes[..20]);
    assert_eq!(why, "format version 3 is newer than this program's 2");

    bytes[16..20].copy_from_slice(&0u32.to_le_bytes());
    let why = refused(&dir, &store, &bytes);
    assert_eq!(
        why,
        "unknown format version 0 (this program reads versions 1 to 2)"
    );
}

#[test]
fn saves_leave_no_temporary_files() {
    let dir = TempDir::new("temps");
    let store = FileStore::new(dir.file());
    for seed in 0..5 {
        store.save(&sample(seed)).unwrap();
        assert_eq!(dir.names(), ["session.bin"]);
    }
    assert_eq!(store.load().unwrap(), Some(sample(4)));

    // A save that fails (the target is a directory: reading it fails first) writes nothing.
    let blocked = FileStore::new(dir.0.join("blocked"));
    fs::create_dir(blocked.path()).unwrap();
    assert!(matches!(
        blocked.save(&sample(1)),
        Err(StoreError::Io { .. })
    ));
    assert_eq!(dir.names(), ["blocked", "session.bin"]);
}

#[test]
fn concurrent_saves_leave_one_complete_file() {
    let dir = TempDir::new("concurrent");
    let shared = Arc::new(FileStore::new(dir.file()));
    let candidates: Vec<SessionData> = (0..8).map(sample).collect();
    std::thread::scope(|s| {
        for (i, data) in candidates.iter().enumerate() {
            // Half share one store, half have their own (as separate processes would).
            let store = if i % 2 == 0 {
                shared.clone()
            } else {
                Arc::new(FileStore::new(dir.file()))
            };
            s.spawn(move || {
                for _ in 0..20 {
                    store.save(data).unwrap();
                }
            });
        }
        // A reader meanwhile only ever sees a complete session.
        let reader = shared.clone();
        let candidates = &candidates;
        s.spawn(move || {
            for _ in 0..200 {
                if let Some(seen) = reader.load().unwrap() {
                    assert!(candidates.contains(&seen));
                }
            }
        });
    });
    let last = shared.load().unwrap().unwrap();
    assert!(candidates.contains(&last), "{last:?}");
    assert_eq!(dir.names(), ["session.bin"]);
}

#[test]
fn store_is_send_sync_and_debug_shows_no_key() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<FileStore>();

    let dir = TempDir::new("debug");
    let store = FileStore::new(dir.file());
    let data = sample(1);
    store.save(&data).unwrap();
    store.load().unwrap();
    let debug = format!("{store:?} {store:#?}");
    assert!(debug.contains("session.bin"), "{debug}");
    for (seed, auth) in [(1, &data.keys[&2]), (101, &data.keys[&4])] {
        let key = key_bytes(seed);
        assert_eq!(auth.auth_key.as_bytes()[..], key[..]);
        assert!(!debug.contains(&hex::encode(&key[..8])), "{debug}");
        assert!(
            !debug.contains(&format!("{:?}", &key[..8])[1..20]),
            "{debug}"
        );
    }
    assert!(!debug.contains("auth_key"), "{debug}");
}

/// A version-1 file (written before future auth tokens existed) for `data`: the version-2
/// layout without the token list.
fn version_1_file(data: &SessionData) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut body = Vec::new();
    body.push(u8::from(data.home_dc.is_some()));
    body.extend_from_slice(&data.home_dc.unwrap_or(0).to_le_bytes());
    body.push(u8::from(data.user_id.is_some()));
    body.extend_from_slice(&data.user_id.unwrap_or(0).to_le_bytes());
    body.extend_from_slice(&(data.keys.len() as u32).to_le_bytes());
    for (dc, auth) in &data.keys {
        body.extend_from_slice(&dc.to_le_bytes());
        body.extend_from_slice(auth.auth_key.as_bytes());
        body.extend_from_slice(&auth.salt.to_le_bytes());
        body.extend_from_slice(&auth.time_offset.to_le_bytes());
    }
    body.extend_from_slice(&(data.dcs.len() as u32).to_le_bytes());
    for (dc, addr) in &data.dcs {
        body.extend_from_slice(&dc.to_le_bytes());
        let SocketAddr::V4(addr) = addr else {
            panic!("the version-1 sample uses IPv4 only")
        };
        body.push(4);
        body.extend_from_slice(&addr.ip().octets());
        body.extend_from_slice(&addr.port().to_le_bytes());
    }
    let mut file = b"TGLOGIN-SESSION\0".to_vec();
    file.extend_from_slice(&1u32.to_le_bytes());
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend_from_slice(&body);
    let checksum = Sha256::digest(&file);
    file.extend_from_slice(&checksum);
    file
}

#[test]
fn a_version_1_file_is_read_and_rewritten_as_version_2() {
    let dir = TempDir::new("v1");
    let store = FileStore::new(dir.file());
    let mut data = sample(5);
    data.dcs.remove(&4);
    data.future_auth_tokens.clear();
    fs::write(store.path(), version_1_file(&data)).unwrap();
    assert_eq!(store.load().unwrap(), Some(data.clone()));

    // Saving writes version 2, tokens included.
    data.remember_future_auth_token(FutureAuthToken::new(vec![9; 32]));
    store.save(&data).unwrap();
    let bytes = fs::read(store.path()).unwrap();
    assert_eq!(bytes[16..20], 2u32.to_le_bytes());
    assert_eq!(store.load().unwrap(), Some(data));
}

#[test]
fn future_auth_tokens_round_trip_newest_first_and_capped() {
    let dir = TempDir::new("tokens");
    let store = FileStore::new(dir.file());
    let mut data = sample(2);
    data.future_auth_tokens.clear();
    for i in 0..(MAX_FUTURE_AUTH_TOKENS as u8 + 5) {
        data.remember_future_auth_token(FutureAuthToken::new(vec![i; 24]));
    }
    // Remembering the same token again moves it to the front, once.
    data.remember_future_auth_token(FutureAuthToken::new(vec![10; 24]));
    assert_eq!(data.future_auth_tokens.len(), MAX_FUTURE_AUTH_TOKENS);
    assert_eq!(data.future_auth_tokens[0].as_bytes(), [10; 24]);
    assert_eq!(data.future_auth_tokens[1].as_bytes(), [24; 24]);
    store.save(&data).unwrap();
    assert_eq!(store.load().unwrap(), Some(data.clone()));
    // The file holds no token as shown by Debug, and Debug shows none of their bytes.
    let shown = format!("{data:?}");
    assert!(
        shown.contains("FutureAuthToken(24 bytes, redacted)"),
        "{shown}"
    );
    assert!(!shown.contains("[10, 10"), "{shown}");
}
