//! The `login` example as a process (built by `cargo test` with the other examples; a run
//! limited to `--test login_example` does not rebuild it): with no
//! arguments against the test DC it starts itself; with `--server` against a test DC this
//! test runs, over each transport; and without a terminal a missing value is an error.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use test_dc::{Account, TestDc};

fn example() -> PathBuf {
    // target/debug/deps/<this test> -> target/debug/examples/login
    let exe = std::env::current_exe().expect("test path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug");
    let path = dir.join("examples").join("login");
    assert!(
        path.exists(),
        "{} is missing: `cargo test -p auth-api` (all targets) builds the examples",
        path.display()
    );
    path
}

/// Runs the example with `args` (no stdin: not a terminal) off the async runtime.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(example())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run the example")
    })
    .await
    .expect("join")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_arguments_it_logs_in_to_its_own_test_dc() {
    let out = run(vec![]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("code read from the embedded test DC"),
        "{stdout}"
    );
    assert!(stdout.contains("home DC: 2"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("signed in: user_id=1000001"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_server_over_every_transport() {
    let dc = TestDc::builder()
        .dcs(2)
        .code("24680")
        .user(Account::new("+9996621111").password("pw"))
        .start()
        .await
        .unwrap();
    let key = std::env::temp_dir().join(format!("login-example-{}.pem", std::process::id()));
    std::fs::write(&key, dc.public_key_pem()).unwrap();
    let id = dc.backend().user_id("+9996621111").unwrap();
    for transport in ["abridged", "intermediate", "padded", "full", "obfuscated"] {
        let out = run(vec![
            "--server".into(),
            dc.addr(1).to_string(),
            "--dc".into(),
            "2".into(),
            "--rsa-key".into(),
            key.display().to_string(),
            "--phone".into(),
            "+9996621111".into(),
            "--code".into(),
            "24680".into(),
            "--password".into(),
            "pw".into(),
            "--transport".into(),
            transport.into(),
        ])
        .await;
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{transport}: {stdout}\n{}",
            text(&out.stderr)
        );
        assert!(stdout.contains("password required"), "{stdout}");
        assert!(
            stdout
                .trim_end()
                .ends_with(&format!("signed in: user_id={id}")),
            "{transport}: {stdout}"
        );
    }
    // Without a terminal, a value it needs and was not given is an error, not a hang.
    let out = run(vec![
        "--server".into(),
        dc.addr(1).to_string(),
        "--rsa-key".into(),
        key.display().to_string(),
        "--phone".into(),
        "+9996621111".into(),
    ])
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("login code is needed"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_file(key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_server_failing_a_check_it_gives_up_naming_it() {
    let dc = TestDc::builder()
        .dcs(2)
        .code("24680")
        .user(Account::new("+9996621111"))
        .start()
        .await
        .unwrap();
    dc.server(2)
        .update_knobs(|k| k.attack = Some(test_dc::SessionAttack::WrongSessionId));
    let key = std::env::temp_dir().join(format!("login-example-bad-{}.pem", std::process::id()));
    std::fs::write(&key, dc.public_key_pem()).unwrap();
    let started = std::time::Instant::now();
    let out = run(vec![
        "--server".into(),
        dc.addr(1).to_string(),
        "--dc".into(),
        "2".into(),
        "--rsa-key".into(),
        key.display().to_string(),
        "--phone".into(),
        "+9996621111".into(),
        "--code".into(),
        "24680".into(),
    ])
    .await;
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        stderr.contains("is not this session's"),
        "{stderr}\n{}",
        text(&out.stdout)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let _ = std::fs::remove_file(key);
}

/// In a pseudo-terminal the example asks for the code and the password, and the password
/// is not echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_terminal_it_prompts_and_does_not_echo_the_password() {
    let dc = TestDc::builder()
        .dcs(2)
        .code("24680")
        .user(Account::new("+9996621111").password("sw0rdfish"))
        .start()
        .await
        .unwrap();
    let key = std::env::temp_dir().join(format!("login-example-pty-{}.pem", std::process::id()));
    std::fs::write(&key, dc.public_key_pem()).unwrap();
    let id = dc.backend().user_id("+9996621111").unwrap();
    let addr = dc.addr(1).to_string();
    let key_path = key.display().to_string();
    let seen = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(example());
        command.args([
            "--server",
            &addr,
            "--dc",
            "2",
            "--rsa-key",
            &key_path,
            "--phone",
            "+9996621111",
        ]);
        let mut session = expectrl::Session::spawn(command).expect("spawn in a pty");
        // A terminal as a person has it: what is typed is echoed, unless the program turns
        // echo off (as it must for the password).
        session
            .get_process_mut()
            .set_echo(true, None)
            .expect("turn echo on");
        session.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
        let mut seen = String::new();
        let mut expect = |session: &mut expectrl::session::Session, what: &str| {
            let found = session
                .expect(what)
                .unwrap_or_else(|e| panic!("waiting for {what:?}: {e}; so far: {seen}"));
            seen.push_str(&String::from_utf8_lossy(found.before()));
            seen.push_str(&String::from_utf8_lossy(found.get(0).unwrap_or_default()));
        };
        expect(&mut session, "login code: ");
        session.send_line("24680").unwrap();
        expect(&mut session, "password: ");
        session.send_line("sw0rdfish").unwrap();
        expect(&mut session, "signed in: user_id=");
        expect(&mut session, "\n");
        seen
    })
    .await
    .unwrap();
    assert!(seen.contains("password required"), "{seen}");
    assert!(seen.contains(&format!("signed in: user_id={id}")), "{seen}");
    assert!(
        !seen.contains("sw0rdfish"),
        "the password was echoed: {seen}"
    );
    // The code is typed and echoed like any answer; only the password is hidden.
    assert!(seen.contains("24680"), "{seen}");
    let _ = std::fs::remove_file(key);
}
