//! `test-dc`: the test DC as a program, for clients in any language and for people.
//!
//! ```text
//! test-dc --listen 127.0.0.1:PORT [--dcs N] [--rsa-key FILE.pem] [--public-key-out FILE.pem]
//!         [--code CODE] [--user PHONE[:PASSWORD][@DC]]... [--bot ID:SECRET]...
//!         [--delivery PHONE=WAY]... [--login-email PHONE=ADDRESS]...
//!         [--email-setup-required PHONE]... [--paid-code PHONE]...
//!         [--recovery-email PHONE=ADDRESS]... [--mtproxy-secret HEX]
//! ```
//!
//! DC i listens on PORT+i-1 (PORT 0: the first free run of ports). Once every DC listens it
//! prints `dc I HOST:PORT` for each DC, then `ready`, on stdout. Login codes, and what went
//! wrong, go to stderr. SIGINT (Ctrl-C) or SIGTERM stops it, with exit status 0.

#![forbid(unsafe_code)]

use std::fs;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use mtproto_crypto::RsaPrivateKey;
use mtproto_proto::transport::MtProxySecret;
use test_dc::{normalize_phone, Account, AuthConfig, CodeDelivery, TestDc};

/// Most DCs one process serves (Telegram's test numbers name DCs 1 to 9).
const MAX_DCS: u16 = 9;

/// A multi-DC loopback Telegram with a real login backend (codes, 2FA, migration, QR).
///
/// Prints `dc I HOST:PORT` per DC, then `ready`, on stdout; login codes go to stderr.
/// Ctrl-C stops it.
#[derive(Debug, Parser)]
#[command(name = "test-dc", version)]
struct Args {
    /// Address of DC 1; DC i listens on PORT+i-1 (PORT 0: the first free run of ports).
    #[arg(long, value_name = "HOST:PORT")]
    listen: SocketAddr,

    /// How many DCs (ids 1..=N).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=i64::from(MAX_DCS)))]
    dcs: u16,

    /// The RSA private key (PKCS#1 or PKCS#8 PEM); a new 2048-bit key is written there
    /// (PKCS#1) when the file does not exist. Default: the bundled test key.
    #[arg(long, value_name = "FILE.pem")]
    rsa_key: Option<PathBuf>,

    /// Write the public key there (PKCS#1 `BEGIN RSA PUBLIC KEY`), for clients to trust.
    #[arg(long, value_name = "FILE.pem")]
    public_key_out: Option<PathBuf>,

    /// Every login code is CODE (default: a random 5-digit code per request).
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    code: Option<String>,

    /// Registers an account: phone, optional 2FA password, optional home DC
    /// (default: X for test numbers 99966XYYYY, else DC 2). Repeatable.
    #[arg(long = "user", value_name = "PHONE[:PASSWORD][@DC]", value_parser = Account::parse)]
    users: Vec<Account>,

    /// Registers a bot by its token `ID:SECRET` (its user id is ID; homed on DC 2, or DC 1
    /// when there is one DC). Repeatable.
    #[arg(long = "bot", value_name = "ID:SECRET")]
    bots: Vec<String>,

    /// How a `--user`'s code is sent: app, sms, call, flash-call, missed-call, fragment-sms,
    /// firebase-sms, sms-word or sms-phrase. Repeatable.
    #[arg(long = "delivery", value_name = "PHONE=WAY", value_parser = parse_delivery)]
    deliveries: Vec<(String, CodeDelivery)>,

    /// A `--user`'s login e-mail: its codes go there (printed to stderr as
    /// `code for ADDRESS: CODE`). Repeatable.
    #[arg(long = "login-email", value_name = "PHONE=ADDRESS", value_parser = parse_phone_value)]
    login_emails: Vec<(String, String)>,

    /// A `--user` that must set up a login e-mail before a code is sent. Repeatable.
    #[arg(long = "email-setup-required", value_name = "PHONE")]
    email_setup: Vec<String>,

    /// A `--user` whose login code costs a payment (auth.sentCodePaymentRequired).
    /// Repeatable.
    #[arg(long = "paid-code", value_name = "PHONE")]
    paid_codes: Vec<String>,

    /// A `--user`'s 2FA recovery e-mail (recovery codes go there). Repeatable.
    #[arg(long = "recovery-email", value_name = "PHONE=ADDRESS", value_parser = parse_phone_value)]
    recovery_emails: Vec<(String, String)>,

    /// Every DC also acts as an MTProxy with this secret: 32 hex digits, or 34 starting
    /// with `dd` (padded intermediate only).
    #[arg(long, value_name = "HEX", value_parser = parse_secret)]
    mtproxy_secret: Option<MtProxySecret>,
}

fn parse_code(code: &str) -> Result<String, String> {
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{code:?}: a login code is made of digits"));
    }
    Ok(code.to_string())
}

/// `PHONE=VALUE` (the phone normalized).
fn parse_phone_value(text: &str) -> Result<(String, String), String> {
    let (phone, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected PHONE=VALUE"))?;
    let phone = normalize_phone(phone);
    if phone.is_empty() || value.is_empty() {
        return Err(format!("{text:?}: expected PHONE=VALUE"));
    }
    Ok((phone, value.to_string()))
}

/// `PHONE=WAY`.
fn parse_delivery(text: &str) -> Result<(String, CodeDelivery), String> {
    let (phone, way) = parse_phone_value(text)?;
    let delivery = match way.as_str() {
        "app" => CodeDelivery::App,
        "sms" => CodeDelivery::Sms,
        "call" => CodeDelivery::Call,
        "flash-call" => CodeDelivery::FlashCall,
        "missed-call" => CodeDelivery::MissedCall,
        "fragment-sms" => CodeDelivery::FragmentSms,
        "firebase-sms" => CodeDelivery::FirebaseSms,
        "sms-word" => CodeDelivery::SmsWord,
        "sms-phrase" => CodeDelivery::SmsPhrase,
        other => {
            return Err(format!(
                "{other:?} is not a way to send a code (app, sms, call, flash-call, missed-call, fragment-sms, firebase-sms, sms-word, sms-phrase)"
            ))
        }
    };
    Ok((phone, delivery))
}

/// Applies the per-account options to the `--user` accounts they name.
fn apply_account_options(args: &mut Args) -> Result<(), String> {
    fn find<'a>(
        users: &'a mut [Account],
        option: &str,
        phone: &str,
    ) -> Result<&'a mut Account, String> {
        let wanted = normalize_phone(phone);
        users
            .iter_mut()
            .find(|u| normalize_phone(&u.phone) == wanted)
            .ok_or_else(|| format!("{option} {phone}: no --user has this number"))
    }
    for (phone, delivery) in std::mem::take(&mut args.deliveries) {
        find(&mut args.users, "--delivery", &phone)?.delivery = delivery;
    }
    for (phone, email) in std::mem::take(&mut args.login_emails) {
        find(&mut args.users, "--login-email", &phone)?.login_email = Some(email);
    }
    for phone in std::mem::take(&mut args.email_setup) {
        find(&mut args.users, "--email-setup-required", &phone)?.email_setup_required = true;
    }
    for phone in std::mem::take(&mut args.paid_codes) {
        find(&mut args.users, "--paid-code", &phone)?.payment_required = true;
    }
    for (phone, email) in std::mem::take(&mut args.recovery_emails) {
        find(&mut args.users, "--recovery-email", &phone)?.recovery_email = Some(email);
    }
    Ok(())
}

fn parse_secret(text: &str) -> Result<MtProxySecret, String> {
    let bytes = decode_hex(text).ok_or_else(|| format!("{text:?} is not hex"))?;
    MtProxySecret::from_bytes(&bytes).map_err(|e| format!("{text:?}: {e}"))
}

/// Even-length hex, either case (no sign, no prefix).
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(digits, 16).ok()
        })
        .collect()
}

/// Reads the key at `path`, or draws one and writes it there when the file does not exist.
fn load_or_create_key(path: &Path) -> Result<RsaPrivateKey, String> {
    match fs::read_to_string(path) {
        Ok(pem) => RsaPrivateKey::from_pem(&pem).map_err(|e| {
            format!(
                "{}: {e} (expected a PKCS#1 or PKCS#8 PEM RSA private key)",
                path.display()
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let key = RsaPrivateKey::generate(&mut rand::rngs::OsRng, 2048)
                .map_err(|e| format!("generating an RSA key: {e}"))?;
            write_new_secret(path, key.to_pkcs1_pem().as_bytes())
                .map_err(|e| format!("{}: cannot write the new key: {e}", path.display()))?;
            eprintln!("test-dc: wrote a new RSA key to {}", path.display());
            Ok(key)
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Creates `path` (failing if it exists), readable by its owner only on Unix.
fn write_new_secret(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// SIGINT and SIGTERM, listened for from creation on (so a signal that comes before
/// [`Shutdown::wait`] is polled still counts).
#[cfg(unix)]
struct Shutdown {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Shutdown {
    fn listen() -> io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) -> io::Result<()> {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        Ok(())
    }
}

/// Ctrl-C, listened for from creation on.
#[cfg(not(unix))]
struct Shutdown(tokio::task::JoinHandle<io::Result<()>>);

#[cfg(not(unix))]
impl Shutdown {
    fn listen() -> io::Result<Self> {
        Ok(Self(tokio::spawn(tokio::signal::ctrl_c())))
    }

    async fn wait(self) -> io::Result<()> {
        self.0.await.map_err(io::Error::other)?
    }
}

async fn run(mut args: Args) -> Result<(), String> {
    apply_account_options(&mut args)?;
    let dcs = i32::from(args.dcs);
    for user in &args.users {
        if let Some(home) = user.home_dc.filter(|&dc| !(1..=dcs).contains(&dc)) {
            return Err(format!(
                "--user {}: home DC {home} does not exist (the DCs are 1 to {dcs})",
                user.phone
            ));
        }
    }
    let key = match &args.rsa_key {
        Some(path) => load_or_create_key(path)?,
        None => test_dc::test_server_key(),
    };
    if let Some(path) = &args.public_key_out {
        fs::write(path, key.public_key().to_pkcs1_pem())
            .map_err(|e| format!("{}: cannot write the public key: {e}", path.display()))?;
    }
    let fingerprint = key.public_key().fingerprint();

    let mut builder = TestDc::builder()
        .listen(args.listen)
        .dcs(usize::from(args.dcs))
        .rsa_key(key)
        .auth_config(AuthConfig {
            code: args.code,
            print_codes: true,
            ..AuthConfig::default()
        });
    for user in args.users {
        builder = builder.user(user);
    }
    for (i, token) in args.bots.into_iter().enumerate() {
        builder = builder.bot(token, format!("Test Bot {}", i + 1), None);
    }
    if let Some(secret) = args.mtproxy_secret {
        builder = builder.mtproxy_secret(secret);
    }
    // Listen for signals before saying `ready`, so that a signal right after it counts.
    let shutdown = Shutdown::listen().map_err(|e| format!("cannot listen for signals: {e}"))?;
    let dc = builder
        .start()
        .await
        .map_err(|e| format!("cannot start on {}: {e}", args.listen))?;

    eprintln!(
        "test-dc: {} DCs, RSA key fingerprint {:#018x}",
        args.dcs, fingerprint as u64
    );
    let mut out = io::stdout().lock();
    let printed = dc
        .dcs()
        .iter()
        .try_for_each(|(id, addr)| writeln!(out, "dc {id} {addr}"))
        .and_then(|()| writeln!(out, "ready"))
        .and_then(|()| out.flush());
    drop(out);
    printed.map_err(|e| format!("stdout: {e}"))?;

    shutdown
        .wait()
        .await
        .map_err(|e| format!("cannot wait for signals: {e}"))?;
    drop(dc);
    eprintln!("test-dc: stopped");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("test-dc: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("test-dc: error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_secrets() {
        assert_eq!(decode_hex("00ffAb"), Some(vec![0, 0xff, 0xab]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
        // `from_str_radix` alone would take a sign.
        assert_eq!(decode_hex("+1"), None);
        assert_eq!(decode_hex("-1"), None);
        assert!(parse_secret(&"ab".repeat(16)).is_ok());
        assert!(parse_secret(&format!("dd{}", "ab".repeat(16))).is_ok());
        assert!(parse_secret(&"ab".repeat(15)).unwrap_err().contains("abab"));
        assert!(parse_secret(&format!("ee{}", "ab".repeat(16))).is_err());
    }

    #[test]
    fn codes_are_digits() {
        assert_eq!(parse_code("24680").unwrap(), "24680");
        assert!(parse_code("").is_err());
        assert!(parse_code("12a").unwrap_err().contains("12a"));
    }

    #[test]
    fn arguments_parse() {
        let args = Args::try_parse_from([
            "test-dc",
            "--listen",
            "127.0.0.1:0",
            "--dcs",
            "3",
            "--user",
            "+9996621111",
            "--user",
            "+9996632222:pw@3",
        ])
        .unwrap();
        assert_eq!(args.dcs, 3);
        assert_eq!(args.users.len(), 2);
        assert_eq!(args.users[1].home_dc, Some(3));
        assert_eq!(args.users[1].password.as_deref(), Some("pw"));
        assert!(
            Args::try_parse_from(["test-dc", "--listen", "127.0.0.1:0", "--dcs", "0"]).is_err()
        );
        assert!(Args::try_parse_from(["test-dc"]).is_err());
    }

    #[test]
    fn account_options_apply_to_the_users_they_name() {
        let mut args = Args::try_parse_from([
            "test-dc",
            "--listen",
            "127.0.0.1:0",
            "--user",
            "+9996621111:pw",
            "--user",
            "+9996622222",
            "--delivery",
            "+999 66 2 2222=sms-word",
            "--login-email",
            "9996621111=ada@example.com",
            "--email-setup-required",
            "+9996622222",
            "--paid-code",
            "+9996622222",
            "--recovery-email",
            "+9996621111=rita@example.net",
        ])
        .unwrap();
        apply_account_options(&mut args).unwrap();
        let (ada, bob) = (&args.users[0], &args.users[1]);
        assert_eq!(ada.login_email.as_deref(), Some("ada@example.com"));
        assert_eq!(ada.recovery_email.as_deref(), Some("rita@example.net"));
        assert_eq!(ada.delivery, CodeDelivery::App);
        assert_eq!(bob.delivery, CodeDelivery::SmsWord);
        assert!(bob.email_setup_required && bob.payment_required);
        assert!(!ada.email_setup_required && !ada.payment_required);

        let mut stray = Args::try_parse_from([
            "test-dc",
            "--listen",
            "127.0.0.1:0",
            "--paid-code",
            "+9996623333",
        ])
        .unwrap();
        assert_eq!(
            apply_account_options(&mut stray).unwrap_err(),
            "--paid-code +9996623333: no --user has this number"
        );
        assert!(parse_delivery("+1=pigeon").unwrap_err().contains("pigeon"));
        assert!(parse_phone_value("ada@example.com").is_err());
    }
}
