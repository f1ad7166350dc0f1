//! `SqliteStore`: many named sessions in one SQLite database. 5 000 sessions written and read
//! concurrently; a writer process killed mid-write leaves every committed session readable;
//! a database that is not ours (not SQLite, another program's, a newer schema) and a corrupt
//! row are refused and left as they were; the file is private; a client logs in through it
//! and a second client starts from the stored session.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use auth_api::client::sqlite_store::{APPLICATION_ID, SCHEMA_VERSION};
use auth_api::client::{
    Client, ClientConfig, SessionData, SessionStore, SignIn, SqliteStore, StoreError,
};
use mtproto_net::StoredAuth;
use project_tests::script::bounded;

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "sqlite-store-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("sessions.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A session that depends only on `i`.
fn sample(i: u32) -> SessionData {
    let mut key = [0u8; 256];
    for (j, b) in key.iter_mut().enumerate() {
        *b = (i as usize * 31 + j * 7) as u8;
    }
    SessionData {
        home_dc: Some(1 + (i % 5) as i32),
        keys: BTreeMap::from([(
            2,
            StoredAuth::from_bytes(&key, i64::from(i) * 3, -(i as i64 % 7)).unwrap(),
        )]),
        dcs: BTreeMap::from([(
            2,
            format!("10.0.{}.{}:443", i / 256 % 256, i % 256)
                .parse()
                .unwrap(),
        )]),
        user_id: Some(1_000_000 + i64::from(i)),
        future_auth_tokens: Vec::new(),
    }
}

fn unusable<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Unusable { why, .. }) => why,
        other => panic!("expected Unusable, got {other:?}"),
    }
}

#[test]
fn sessions_round_trip_by_name() {
    let dir = TempDir::new("round-trip");
    let store = SqliteStore::open(dir.db()).unwrap();
    assert_eq!(store.session("nobody").load().unwrap(), None);
    for i in 0..10 {
        store.session(format!("user-{i}")).save(&sample(i)).unwrap();
    }
    store.session("user-3").save(&sample(33)).unwrap();
    assert_eq!(store.session("user-3").load().unwrap(), Some(sample(33)));
    assert_eq!(store.names().unwrap().len(), 10);
    assert!(store.remove("user-4").unwrap());
    assert!(!store.remove("user-4").unwrap());
    assert_eq!(store.session("user-4").load().unwrap(), None);
    drop(store);
    // Reopened (another process would see the same).
    let store = SqliteStore::open(dir.db()).unwrap();
    assert_eq!(store.session("user-9").load().unwrap(), Some(sample(9)));
    assert_eq!(store.names().unwrap().len(), 9);
}

#[test]
fn five_thousand_sessions_written_and_read_concurrently() {
    const SESSIONS: u32 = 5_000;
    const THREADS: u32 = 8;
    let dir = TempDir::new("5000");
    let store = SqliteStore::open(dir.db()).unwrap();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let store = store.clone();
            scope.spawn(move || {
                for i in (t..SESSIONS).step_by(THREADS as usize) {
                    store.session(format!("s{i:05}")).save(&sample(i)).unwrap();
                    // Read back what this and other threads wrote so far.
                    let own = store.session(format!("s{i:05}")).load().unwrap();
                    assert_eq!(own, Some(sample(i)));
                    let other = i.saturating_sub(THREADS * 3 + 1);
                    if let Some(seen) = store.session(format!("s{other:05}")).load().unwrap() {
                        assert_eq!(seen, sample(other));
                    }
                }
            });
        }
    });
    eprintln!(
        "sqlite store: {SESSIONS} sessions saved and read by {THREADS} threads in {:?}",
        started.elapsed()
    );
    assert_eq!(store.names().unwrap().len(), SESSIONS as usize);
    for i in (0..SESSIONS).step_by(7) {
        assert_eq!(
            store.session(format!("s{i:05}")).load().unwrap(),
            Some(sample(i))
        );
    }
}

/// Run by [`a_writer_killed_mid_write_leaves_every_committed_session_readable`] as a child
/// process: saves sessions until it is killed, printing each one committed.
#[test]
#[ignore = "a child process of another test"]
fn child_writer() {
    let Ok(db) = std::env::var("SQLITE_STORE_CHILD_DB") else {
        return;
    };
    let store = SqliteStore::open(db).unwrap();
    let mut out = std::io::stdout();
    for i in 0.. {
        store.session(format!("k{i:06}")).save(&sample(i)).unwrap();
        use std::io::Write;
        writeln!(out, "committed {i}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn a_writer_killed_mid_write_leaves_every_committed_session_readable() {
    let dir = TempDir::new("killed");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_writer",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SQLITE_STORE_CHILD_DB", dir.db())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut committed = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(i) = line.strip_prefix("committed ") {
            committed.push(i.parse::<u32>().unwrap());
            if committed.len() == 300 {
                // Killed while it keeps writing: most likely inside a transaction.
                child.kill().unwrap();
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(committed.len(), 300);

    let store = SqliteStore::open(dir.db()).unwrap();
    for i in &committed {
        assert_eq!(
            store.session(format!("k{i:06}")).load().unwrap(),
            Some(sample(*i)),
            "session {i}"
        );
    }
    // The child may have committed a few more before the kill reached it (unread lines);
    // whatever is there is whole, and the one being written is all there or not at all.
    let names = store.names().unwrap();
    assert!(names.len() >= 300, "{}", names.len());
    for name in &names {
        let i: u32 = name[1..].parse().unwrap();
        assert_eq!(
            store.session(name.as_str()).load().unwrap(),
            Some(sample(i))
        );
    }
    drop(store);
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// The bytes of every file of the database (main, WAL, shared memory), to compare.
fn snapshot(db: &Path) -> Vec<Option<Vec<u8>>> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| std::fs::read(format!("{}{suffix}", db.display())).ok())
        .collect()
}

#[test]
fn a_database_that_is_not_ours_is_refused_and_left_alone() {
    let dir = TempDir::new("foreign");
    let db = dir.db();

    // Not SQLite at all.
    std::fs::write(&db, b"# my notes\nbuy milk\n".repeat(100)).unwrap();
    let before = snapshot(&db);
    let why = unusable(SqliteStore::open(&db));
    assert!(why.contains("not a SQLite database"), "{why}");
    assert_eq!(snapshot(&db), before);

    // Another program's database (a Telethon-like session file).
    std::fs::remove_file(&db).unwrap();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE version (version integer primary key);
             INSERT INTO version VALUES (7);
             CREATE TABLE sessions (dc_id integer primary key, server_address text, port integer, auth_key blob, takeout_id integer);",
        )
        .unwrap();
    }
    let before = snapshot(&db);
    let why = unusable(SqliteStore::open(&db));
    assert!(why.contains("another program's database"), "{why}");
    assert_eq!(snapshot(&db), before);

    // Ours, from a newer version.
    std::fs::remove_file(&db).unwrap();
    drop(SqliteStore::open(&db).unwrap());
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let id: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, APPLICATION_ID);
    }
    let before = snapshot(&db);
    let why = unusable(SqliteStore::open(&db));
    assert_eq!(why, "schema version 2 is newer than this program's 1");
    assert_eq!(snapshot(&db), before);
}

#[test]
fn a_corrupt_row_is_refused_and_not_overwritten() {
    let dir = TempDir::new("corrupt");
    let store = SqliteStore::open(dir.db()).unwrap();
    store.session("good").save(&sample(1)).unwrap();
    store.session("bad").save(&sample(2)).unwrap();
    {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        let mut data: Vec<u8> = conn
            .query_row("SELECT data FROM sessions WHERE name = 'bad'", [], |r| {
                r.get(0)
            })
            .unwrap();
        data[100] ^= 0x40;
        conn.execute("UPDATE sessions SET data = ?1 WHERE name = 'bad'", [&data])
            .unwrap();
    }
    let why = unusable(store.session("bad").load());
    assert_eq!(why, "checksum mismatch: the file is corrupt");
    let why = unusable(store.session("bad").save(&sample(3)));
    assert_eq!(why, "checksum mismatch: the file is corrupt");
    // Still the corrupt row, and the other session is fine.
    assert!(unusable(store.session("bad").load()).contains("checksum"));
    assert_eq!(store.session("good").load().unwrap(), Some(sample(1)));
}

#[cfg(unix)]
#[test]
fn the_database_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("mode");
    let store = SqliteStore::open(dir.db()).unwrap();
    store.session("a").save(&sample(1)).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.db()), 0o600);
    let wal = PathBuf::from(format!("{}-wal", dir.db().display()));
    assert_eq!(mode(&wal), 0o600);
    drop(store);
    // A world-readable database of ours is made private when opened.
    std::fs::set_permissions(dir.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(SqliteStore::open(dir.db()).unwrap());
    assert_eq!(mode(&dir.db()), 0o600);
}

#[tokio::test]
async fn a_client_logs_in_through_a_named_session() {
    bounded(async {
        let dc = test_dc::TestDc::builder()
            .dcs(2)
            .code("24680")
            .user(test_dc::Account::new("+9996621111"))
            .start()
            .await
            .unwrap();
        let dir = TempDir::new("client");
        let store = SqliteStore::open(dir.db()).unwrap();
        let config = |name: &str| {
            let mut config = ClientConfig::new(
                611_335,
                "d524b414d21f4d37f08684c1df41ac9c",
                dc.dcs(),
                2,
                vec![test_dc::test_server_key().public_key().clone()],
            );
            config.store = Arc::new(store.session(name));
            config
        };
        let client = Client::new(config("alice")).unwrap();
        let token = client
            .send_code("+9996621111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        let SignIn::SignedIn(user) = client.sign_in(&token, "24680").await.unwrap() else {
            panic!("not signed in");
        };
        drop(client);
        let stats = dc.server(2).stats();
        let permanent = stats.key_exchanges - stats.temp_key_exchanges;
        let again = Client::new(config("alice")).unwrap();
        assert_eq!(again.get_me().await.unwrap().id, user.id);
        let stats = dc.server(2).stats();
        assert_eq!(stats.key_exchanges - stats.temp_key_exchanges, permanent);
        // Another name is another (empty) session.
        assert_eq!(store.session("bob").load().unwrap(), None);
        assert_eq!(store.names().unwrap(), ["alice"]);
    })
    .await;
}
