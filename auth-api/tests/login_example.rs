//! The `login` example as a process (built by `cargo test` with the other examples; a run
//! limited to `--test login_example` does not rebuild it): with no
//! arguments against the test DC it starts itself; with `--server` against a test DC this
//! test runs, over each transport; and without a terminal a missing value is an error.
//! `--qr` draws a QR code that decodes (with rqrr) to the URL it prints; `--bot-token` and
//! `--layer 23` sign in as a bot and through the layer-23 calls.

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

/// The QR code drawn by `--qr`: the first block of lines made of `██` (light) and two
/// spaces (dark) only, as one bool per module (`true`: dark).
fn drawn_modules(output: &str) -> Vec<Vec<bool>> {
    let is_row = |line: &&str| {
        !line.is_empty() && line.starts_with('█') && line.chars().all(|c| c == '█' || c == ' ')
    };
    let rows: Vec<&str> = output
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .skip_while(|line| !is_row(line))
        .take_while(is_row)
        .collect();
    assert!(!rows.is_empty(), "no QR code drawn in:\n{output}");
    rows.iter()
        .map(|row| {
            let chars: Vec<char> = row.chars().collect();
            assert_eq!(chars.len() % 2, 0, "a module is two characters: {row:?}");
            chars
                .chunks(2)
                .map(|pair| match pair {
                    ['█', '█'] => false,
                    [' ', ' '] => true,
                    _ => panic!("half a module in {row:?}"),
                })
                .collect()
        })
        .collect()
}

/// Decodes a drawn QR code with rqrr (an independent decoder): the symbol is the square
/// the dark modules span (its finder patterns reach its corners), inside a light quiet
/// zone of at least 2 modules.
fn decode_drawing(modules: &[Vec<bool>]) -> String {
    let side = modules.len();
    assert!(
        modules.iter().all(|row| row.len() == side),
        "the drawing is not square"
    );
    let dark: Vec<(usize, usize)> = (0..side)
        .flat_map(|y| (0..side).map(move |x| (x, y)))
        .filter(|&(x, y)| modules[y][x])
        .collect();
    let x0 = dark.iter().map(|p| p.0).min().expect("dark modules");
    let y0 = dark.iter().map(|p| p.1).min().expect("dark modules");
    let x1 = dark.iter().map(|p| p.0).max().expect("dark modules");
    let y1 = dark.iter().map(|p| p.1).max().expect("dark modules");
    let size = x1 - x0 + 1;
    assert_eq!(y1 - y0 + 1, size, "the symbol is not square");
    for quiet in [x0, y0, side - 1 - x1, side - 1 - y1] {
        assert!(quiet >= 2, "a quiet zone of {quiet} modules");
    }
    let grid = rqrr::SimpleGrid::from_func(size, |x, y| modules[y0 + y][x0 + x]);
    let (meta, text) = rqrr::Grid::new(grid)
        .decode()
        .expect("rqrr decodes the drawing");
    assert_eq!(size, 17 + 4 * meta.version.0, "{meta:?}");
    text
}

/// `--qr` in a pseudo-terminal with the embedded test DC: the code drawn decodes to the URL
/// printed below it, the example's other device accepts it, and the run signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_in_a_terminal_draws_the_url_and_signs_in() {
    let seen = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(example());
        command.arg("--qr");
        let mut session = expectrl::Session::spawn(command).expect("spawn in a pty");
        session.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
        let mut seen = String::new();
        for what in ["signed in: user_id=", "\n"] {
            let found = session
                .expect(what)
                .unwrap_or_else(|e| panic!("waiting for {what:?}: {e}; so far: {seen}"));
            seen.push_str(&String::from_utf8_lossy(found.before()));
            seen.push_str(&String::from_utf8_lossy(found.get(0).unwrap_or_default()));
        }
        seen
    })
    .await
    .unwrap();
    let decoded = decode_drawing(&drawn_modules(&seen));
    let url = seen
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .find(|line| line.starts_with("tg://login?token="))
        .unwrap_or_else(|| panic!("no URL printed: {seen}"));
    assert_eq!(decoded, url);
    // 32 token bytes, unpadded base64url.
    assert_eq!(url.len(), "tg://login?token=".len() + 43, "{url}");
    assert!(seen.contains("accepts the token"), "{seen}");
    assert!(seen.contains("the other device accepted it"), "{seen}");
    assert!(seen.contains("signed in: user_id=1000001\r\n"), "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_token_signs_in_as_the_bot() {
    // The embedded test DC's bot.
    let out = run(vec!["--bot-token".into(), "123456:embedded".into()]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout
            .trim_end()
            .ends_with("signed in: user_id=123456 (bot)"),
        "{stdout}"
    );

    // A server's bot, and a wrong secret for it.
    let dc = TestDc::builder()
        .dcs(2)
        .bot("7000001:AAE-secret", "Echo", Some(2))
        .start()
        .await
        .unwrap();
    let key = std::env::temp_dir().join(format!("login-example-bot-{}.pem", std::process::id()));
    std::fs::write(&key, dc.public_key_pem()).unwrap();
    let with_token = |token: &str| {
        vec![
            "--server".into(),
            dc.addr(1).to_string(),
            "--rsa-key".into(),
            key.display().to_string(),
            "--bot-token".into(),
            token.into(),
        ]
    };
    let out = run(with_token("7000001:AAE-secret")).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("home DC: 2"), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("signed in: user_id=7000001 (bot)"),
        "{stdout}"
    );
    let out = run(with_token("7000001:wrong")).await;
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("ACCESS_TOKEN_INVALID"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !text(&out.stdout).contains("signed in:"),
        "{}",
        text(&out.stdout)
    );
    let _ = std::fs::remove_file(key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layer_23_signs_in_and_signs_up_with_the_legacy_calls() {
    // The embedded account, at layer 23.
    let out = run(vec!["--layer".into(), "23".into()]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("layer 23: code sent (number registered: true)"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("signed in: user_id=1000001"),
        "{stdout}"
    );

    // A new number on a server: layer 23's signUp, which carries the code.
    let dc = TestDc::builder()
        .dcs(2)
        .code("24680")
        .start()
        .await
        .unwrap();
    let key = std::env::temp_dir().join(format!("login-example-l23-{}.pem", std::process::id()));
    std::fs::write(&key, dc.public_key_pem()).unwrap();
    let out = run(vec![
        "--server".into(),
        dc.addr(1).to_string(),
        "--rsa-key".into(),
        key.display().to_string(),
        "--layer".into(),
        "23".into(),
        "--phone".into(),
        "+9996627777".into(),
        "--code".into(),
        "24680".into(),
        "--first-name".into(),
        "New".into(),
    ])
    .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("layer 23: code sent (number registered: false)"),
        "{stdout}"
    );
    let id = dc.backend().user_id("+9996627777").expect("signed up");
    assert!(
        stdout
            .trim_end()
            .ends_with(&format!("signed in: user_id={id}")),
        "{stdout}"
    );
    // Only layer 23 is offered besides the default.
    let out = run(vec!["--layer".into(), "200".into()]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("only layer 23 is offered"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_file(key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_login_email_and_no_pfs_from_the_command_line() {
    let dc = TestDc::builder()
        .dcs(2)
        .auth_config(test_dc::AuthConfig {
            code: Some("24680".into()),
            email_code: Some("135790".into()),
            ..test_dc::AuthConfig::default()
        })
        .user(Account::new("+9996621111").email_setup_required())
        .start()
        .await
        .unwrap();
    let key = std::env::temp_dir().join(format!("login-example-email-{}.pem", std::process::id()));
    std::fs::write(&key, dc.public_key_pem()).unwrap();
    let out = run(vec![
        "--server".into(),
        dc.addr(1).to_string(),
        "--rsa-key".into(),
        key.display().to_string(),
        "--phone".into(),
        "+9996621111".into(),
        "--email".into(),
        "ada@example.com".into(),
        "--email-code".into(),
        "135790".into(),
        "--code".into(),
        "135790".into(),
        "--no-pfs".into(),
    ])
    .await;
    let _ = std::fs::remove_file(&key);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("the account must set up a login e-mail first"),
        "{stdout}"
    );
    assert!(
        stdout.contains("verification code sent to a***@example.com (6 digits)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("code sent by e-mail to a***@example.com, 6 digits"),
        "{stdout}"
    );
    let id = dc.backend().user_id("+9996621111").unwrap();
    assert!(
        stdout
            .trim_end()
            .ends_with(&format!("signed in: user_id={id}")),
        "{stdout}"
    );
    // --no-pfs: the permanent key carried the requests, no temporary key was made.
    let stats = dc.server(2).stats();
    assert_eq!((stats.key_exchanges, stats.temp_key_exchanges), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_strings_export_and_import_without_a_new_login() {
    let dc = TestDc::builder()
        .dcs(2)
        .code("24680")
        .user(Account::new("+9996621111"))
        .start()
        .await
        .unwrap();
    let id = dc.backend().user_id("+9996621111").unwrap();
    let key = std::env::temp_dir().join(format!("login-example-move-{}.pem", std::process::id()));
    std::fs::write(&key, dc.public_key_pem()).unwrap();
    let server = |extra: &[&str]| {
        let mut args: Vec<String> = vec![
            "--server".into(),
            dc.addr(1).to_string(),
            "--rsa-key".into(),
            key.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let permanent = || {
        let stats = dc.server(2).stats();
        stats.key_exchanges - stats.temp_key_exchanges
    };
    for format in ["telethon", "pyrogram"] {
        let out = run(server(&[
            "--phone",
            "+9996621111",
            "--code",
            "24680",
            "--export-session-string",
            format,
        ]))
        .await;
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
        let prefix = format!("{format} session string: ");
        let string = stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no session string in {stdout}"))
            .to_string();

        // Another process starts from the string: no login, no new permanent key.
        let before = permanent();
        let out = run(server(&["--import-session-string", &string])).await;
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
        assert!(stdout.contains("imported a "), "{stdout}");
        assert!(!stdout.contains("code sent"), "{stdout}");
        assert!(
            stdout
                .trim_end()
                .ends_with(&format!("signed in: user_id={id}")),
            "{stdout}"
        );
        assert_eq!(permanent(), before, "{format}");
    }
    // A damaged string: a clear error, nothing else.
    let out = run(server(&["--import-session-string", "1AAAA"])).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("login: "), "{stderr}");
    assert!(!text(&out.stdout).contains("signed in"));
    let _ = std::fs::remove_file(&key);
}
