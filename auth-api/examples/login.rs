//! Logs in with `auth_api::client`, printing each step.
//!
//! With no arguments it starts the test DC in this process (two DCs, a registered account
//! on DC 2 whose login code it reads from the test DC) and logs in to it:
//!
//! ```text
//! cargo run --release --example login
//! ```
//!
//! Against any server: `--server HOST:PORT --dc N --rsa-key PUB.pem` (PKCS#1 or SPKI PEM),
//! with `--phone`, `--code`, `--password`, `--first-name`, `--last-name`, `--transport
//! abridged|intermediate|padded|full|obfuscated`, `--api-id`, `--api-hash`, `--session FILE`. What is missing
//! is asked on the terminal (the password without echo); without a terminal, a missing
//! value is an error, never a hang.
//!
//! Other ways in:
//! - `--qr`: a QR login. Each `tg://login?token=...` URL is drawn as a QR code on the
//!   terminal, with the URL below it, until a logged-in app accepts one (a 2FA password is
//!   asked like in the code flow). With the embedded test DC, the example plays that app
//!   too: a second client signs in as the embedded account and accepts the token shown.
//! - `--bot-token ID:SECRET`: signs in as a bot (the embedded test DC knows
//!   `123456:embedded`).
//! - `--layer 23`: declares layer 23 and logs in through the legacy layer-23 calls
//!   (`auth.sendCode`, then `auth.signIn`, or `auth.signUp` for a new number).
//!
//! The other sign-in paths are followed as the server asks: a login e-mail to set up
//! (`--email`, `--email-code`), an e-mailed code (`--code`), a forgotten password
//! (`--forgot-password`, `--recovery-code`, `--new-password`); a paid code ends with an error
//! saying so. `--no-pfs` turns perfect forward secrecy off.
//!
//! Sessions that move: `--export-session-string telethon|pyrogram` prints the session (of
//! `--session FILE`, logging in first if needed) as that library's session string;
//! `--import-session-string STRING` starts from a Telethon or Pyrogram string instead of
//! logging in, then calls `get_me`.
//!
//! The last line is `signed in: user_id=N` (` (bot)` after it for a bot).

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use auth_api::client::foreign;
use auth_api::client::{
    AuthFuture, Authenticator, Client, ClientConfig, ClientError, CodeToken, EmailCodeSent,
    FileStore, MemoryStore, PasswordToken, QrToken, SignIn,
};
use auth_api::legacy::layer23;
use clap::Parser;
use mtproto_crypto::RsaPublicKey;
use mtproto_net::Transport;
use test_dc::{Account, AuthBackend, TestDc};

/// The account the embedded test DC registers.
const EMBEDDED_PHONE: &str = "+9996621234";
/// The bot the embedded test DC registers.
const EMBEDDED_BOT: &str = "123456:embedded";
/// Light modules drawn around a QR code (the standard asks for 4; 2 keep a login URL's
/// code, version 4, within 80 columns).
const QR_QUIET_ZONE: usize = 2;

#[derive(Debug, Parser)]
#[command(about = "Log in to Telegram (or the embedded test DC) with auth_api::client")]
struct Args {
    /// The server's DC 1..N address (default: start the test DC in this process).
    #[arg(long, value_name = "HOST:PORT")]
    server: Option<SocketAddr>,
    /// The DC id of --server.
    #[arg(long, default_value_t = 2)]
    dc: i32,
    /// The server's RSA public key (PEM), required with --server.
    #[arg(long, value_name = "PUB.pem")]
    rsa_key: Option<std::path::PathBuf>,
    /// The phone number.
    #[arg(long)]
    phone: Option<String>,
    /// The login code.
    #[arg(long)]
    code: Option<String>,
    /// The 2FA password.
    #[arg(long)]
    password: Option<String>,
    /// First name, for a new account.
    #[arg(long)]
    first_name: Option<String>,
    /// Last name, for a new account.
    #[arg(long, default_value = "")]
    last_name: String,
    /// abridged, intermediate, padded, full or obfuscated.
    #[arg(long, default_value = "abridged", value_parser = parse_transport)]
    transport: (Transport, bool),
    /// The application's api_id.
    #[arg(long, default_value_t = 611_335)]
    api_id: i32,
    /// The application's api_hash.
    #[arg(long, default_value = "d524b414d21f4d37f08684c1df41ac9c")]
    api_hash: String,
    /// Keep the session in this file (a later run logs in from it without a code).
    #[arg(long, value_name = "FILE")]
    session: Option<std::path::PathBuf>,
    /// Log in with a QR code, scanned by a logged-in app (with the embedded test DC, a
    /// second client of the embedded account plays that app).
    #[arg(long, conflicts_with_all = ["bot_token", "layer", "phone", "code"])]
    qr: bool,
    /// Sign in as the bot with this token (ID:SECRET).
    #[arg(long, value_name = "TOKEN", conflicts_with = "layer")]
    bot_token: Option<String>,
    /// Declare this layer: 23 logs in through the legacy layer-23 calls (the only other
    /// layer offered; the default is the bindings' layer).
    #[arg(long, value_parser = parse_layer)]
    layer: Option<i32>,
    /// Turn perfect forward secrecy off (on by default: temporary keys bound to the
    /// permanent one carry every request).
    #[arg(long)]
    no_pfs: bool,
    /// The login e-mail to set up when the server requires one.
    #[arg(long, value_name = "ADDRESS")]
    email: Option<String>,
    /// The code sent to that e-mail address (to set it up).
    #[arg(long, value_name = "CODE")]
    email_code: Option<String>,
    /// The 2FA password is forgotten: recover it with a code sent to the recovery e-mail.
    #[arg(long)]
    forgot_password: bool,
    /// The recovery code (with --forgot-password).
    #[arg(long, value_name = "CODE")]
    recovery_code: Option<String>,
    /// A new 2FA password to set when recovering (default: none).
    #[arg(long, value_name = "PASSWORD")]
    new_password: Option<String>,
    /// After signing in (or from --session), print the session as a Telethon or Pyrogram
    /// session string.
    #[arg(long, value_name = "FORMAT", value_parser = ["telethon", "pyrogram"])]
    export_session_string: Option<String>,
    /// Start from a Telethon or Pyrogram session string (the format is recognized) instead
    /// of logging in.
    #[arg(long, value_name = "STRING", conflicts_with_all = ["qr", "bot_token", "layer"])]
    import_session_string: Option<String>,
}

fn parse_layer(text: &str) -> Result<i32, String> {
    match text.parse::<i32>() {
        Ok(layer23::LAYER) => Ok(layer23::LAYER),
        _ => Err(format!(
            "only layer {} is offered (the default is {})",
            layer23::LAYER,
            auth_api::LAYER
        )),
    }
}

fn parse_transport(text: &str) -> Result<(Transport, bool), String> {
    Ok(match text {
        "abridged" => (Transport::Abridged, false),
        "intermediate" => (Transport::Intermediate, false),
        "padded" => (Transport::PaddedIntermediate, false),
        "full" => (Transport::Full, false),
        "obfuscated" => (Transport::Abridged, true),
        other => return Err(format!("unknown transport {other:?}")),
    })
}

/// Answers from the command line, then the terminal; the embedded DC's backend gives
/// the code when there is no other source.
struct Prompt {
    phone: Option<String>,
    code: Option<String>,
    password: Option<String>,
    first_name: Option<String>,
    last_name: String,
    backend: Option<AuthBackend>,
    email: Option<String>,
    email_code: Option<String>,
    forgot_password: bool,
    recovery_code: Option<String>,
    new_password: Option<String>,
}

fn ask(what: &str, secret: bool) -> Result<String, ClientError> {
    if !std::io::stdin().is_terminal() {
        return Err(ClientError::Unexpected(format!(
            "{what} is needed: pass it as an option (no terminal to ask on)"
        )));
    }
    let answer = if secret {
        rpassword::prompt_password(format!("{what}: "))
            .map_err(|e| ClientError::Unexpected(format!("reading {what}: {e}")))?
    } else {
        print!("{what}: ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| ClientError::Unexpected(format!("reading {what}: {e}")))?;
        line
    };
    Ok(answer.trim().to_string())
}

impl Authenticator for Prompt {
    fn phone(&mut self) -> AuthFuture<'_, String> {
        let phone = self.phone.clone();
        Box::pin(async move {
            let phone = match phone {
                Some(phone) => phone,
                None => ask("phone number", false)?,
            };
            println!("phone: {phone}");
            Ok(phone)
        })
    }

    fn code<'a>(&'a mut self, token: &'a CodeToken, attempt: u32) -> AuthFuture<'a, String> {
        Box::pin(async move {
            println!("code sent {}, attempt {attempt}", token.kind);
            self.login_code(token, attempt)
        })
    }

    fn password<'a>(
        &'a mut self,
        token: &'a PasswordToken,
        attempt: u32,
    ) -> AuthFuture<'a, String> {
        Box::pin(async move {
            println!(
                "password required (hint: {}), attempt {attempt}",
                token.hint.as_deref().unwrap_or("none")
            );
            match (attempt, self.password.clone()) {
                (1, Some(password)) => Ok(password),
                _ => ask("password", true),
            }
        })
    }

    fn sign_up<'a>(&'a mut self, terms: Option<&'a str>) -> AuthFuture<'a, (String, String)> {
        Box::pin(async move {
            println!("new number: signing up");
            if let Some(terms) = terms {
                println!("terms of service: {terms}");
            }
            Ok((self.first_name()?, self.last_name.clone()))
        })
    }

    fn login_email(&mut self) -> AuthFuture<'_, String> {
        Box::pin(async move {
            println!("the account must set up a login e-mail first");
            let email = match self.email.clone() {
                Some(email) => email,
                None => ask("login e-mail address", false)?,
            };
            self.email = Some(email.clone());
            Ok(email)
        })
    }

    fn login_email_code<'a>(
        &'a mut self,
        sent: &'a EmailCodeSent,
        attempt: u32,
    ) -> AuthFuture<'a, String> {
        Box::pin(async move {
            println!(
                "verification code sent to {} ({} digits), attempt {attempt}",
                sent.pattern, sent.length
            );
            if attempt == 1 {
                if let Some(code) = self
                    .email_code
                    .clone()
                    .or_else(|| self.embedded_email_code())
                {
                    return Ok(code);
                }
            }
            ask("e-mail verification code", false)
        })
    }

    fn forgot_password<'a>(&'a mut self, _token: &'a PasswordToken) -> AuthFuture<'a, bool> {
        let forgot = self.forgot_password;
        Box::pin(async move { Ok(forgot) })
    }

    fn recovery_code<'a>(&'a mut self, pattern: &'a str, attempt: u32) -> AuthFuture<'a, String> {
        Box::pin(async move {
            println!("recovery code sent to {pattern}, attempt {attempt}");
            match (attempt, self.recovery_code.clone()) {
                (1, Some(code)) => Ok(code),
                _ => ask("recovery code", false),
            }
        })
    }

    fn new_password(&mut self) -> AuthFuture<'_, Option<String>> {
        let new = self.new_password.clone();
        Box::pin(async move { Ok(new) })
    }
}

impl Prompt {
    /// The login code `token` announced (see [`Prompt::code_for`]).
    fn login_code(&self, token: &CodeToken, attempt: u32) -> Result<String, ClientError> {
        self.code_for(&token.phone, token.kind.is_email(), attempt)
    }

    /// A phone (or, `by_email`, e-mailed) login code: first `--code`, then the embedded
    /// test DC's; then, or after a wrong one, the terminal's.
    fn code_for(&self, phone: &str, by_email: bool, attempt: u32) -> Result<String, ClientError> {
        if attempt == 1 {
            if let Some(code) = self.code.clone() {
                return Ok(code);
            }
            let embedded = if by_email {
                self.embedded_email_code()
            } else {
                self.backend.as_ref().and_then(|b| b.last_code(phone))
            };
            if let Some(code) = embedded {
                println!("code read from the embedded test DC");
                return Ok(code);
            }
        }
        ask("login code", false)
    }

    /// The last code the embedded test DC e-mailed to `--email`.
    fn embedded_email_code(&self) -> Option<String> {
        let email = self.email.as_deref()?;
        self.backend.as_ref()?.last_email_code(email)
    }

    /// The first name for a new account: `--first-name`, else the terminal's.
    fn first_name(&self) -> Result<String, ClientError> {
        match self.first_name.clone() {
            Some(first) => Ok(first),
            None => ask("first name", false),
        }
    }
}

/// `url` as a QR code in text, one line per row of modules and two characters per module:
/// light modules and the quiet zone are full blocks, dark ones spaces, so a terminal with
/// a dark background shows dark modules on light as scanners expect.
fn draw_qr(url: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::new(url.as_bytes())?;
    let width = code.width();
    let modules = code.to_colors();
    let side = width + 2 * QR_QUIET_ZONE;
    let mut out = String::with_capacity(side * (side * 2 * '█'.len_utf8() + 1));
    for y in 0..side {
        for x in 0..side {
            let dark = match (y.checked_sub(QR_QUIET_ZONE), x.checked_sub(QR_QUIET_ZONE)) {
                (Some(row), Some(col)) if row < width && col < width => {
                    modules[row * width + col] == qrcode::Color::Dark
                }
                _ => false,
            };
            out.push_str(if dark { "  " } else { "██" });
        }
        out.push('\n');
    }
    Ok(out)
}

/// Shows a QR login token: the code, the URL below it, how long it lives.
fn show_qr(token: &QrToken) {
    let left = token
        .expires
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .as_secs();
    match draw_qr(&token.url) {
        Ok(drawing) => print!("{drawing}"),
        Err(e) => println!("(the URL cannot be drawn as a QR code: {e})"),
    }
    println!("{}", token.url);
    println!(
        "scan it with a logged-in Telegram app (Settings > Devices > Link Desktop Device); \
         it expires in {left} s, then a new one is shown"
    );
}

/// The QR login: shows each token until one is accepted (with the embedded test DC, the
/// other device accepts the first); a 2FA password is asked like in the code flow.
async fn qr_login(
    client: &Client,
    prompt: &mut Prompt,
    other_device: Option<(Client, AuthBackend)>,
) -> Result<Box<auth_api::types::User>, ClientError> {
    let (urls, shown) = tokio::sync::mpsc::unbounded_channel::<String>();
    let show = move |token: &QrToken| {
        show_qr(token);
        // Nobody listens against a real server.
        let _ = urls.send(token.url.clone());
    };
    let login = client.qr_login_with(prompt, show);
    let Some((other, backend)) = other_device else {
        println!("waiting for another device to accept the token (Ctrl-C to stop)");
        return login.await;
    };
    let mut accepting = tokio::spawn(accept_as_other_device(other, backend, shown));
    tokio::pin!(login);
    tokio::select! {
        user = &mut login => user,
        accepted = &mut accepting => match accepted {
            Ok(Ok(())) => login.await,
            Ok(Err(e)) => Err(e),
            Err(e) => Err(ClientError::Unexpected(format!("the other device stopped: {e}"))),
        },
    }
}

/// The embedded test DC's other device: once a token is shown, a second client signs in as
/// the embedded account and accepts it, as a phone scanning the code would.
async fn accept_as_other_device(
    other: Client,
    backend: AuthBackend,
    mut shown: tokio::sync::mpsc::UnboundedReceiver<String>,
) -> Result<(), ClientError> {
    let Some(url) = shown.recv().await else {
        return Ok(());
    };
    println!(
        "the other device (the embedded test DC has no phone to scan the code): a second client \
         signs in as {EMBEDDED_PHONE} and accepts the token"
    );
    let token = other.send_code(EMBEDDED_PHONE).await?.into_code()?;
    let code = backend
        .last_code(EMBEDDED_PHONE)
        .ok_or(ClientError::NotProvided(
            "the embedded test DC's login code",
        ))?;
    match other.sign_in(&token, &code).await? {
        SignIn::SignedIn(_) => {}
        outcome => {
            return Err(ClientError::Unexpected(format!(
                "the other device's sign-in: {outcome:?}"
            )))
        }
    }
    let session = other.accept_login_token(&url).await?;
    println!(
        "the other device accepted it (the session it let in: {}, api_id {})",
        session.device_model, session.api_id
    );
    Ok(())
}

/// The layer-23 login: `auth.sendCode`, then `auth.signIn`, or `auth.signUp` (which
/// carries the code at layer 23) for a new number. Returns the user id.
async fn layer23_login(client: &Client, prompt: &mut Prompt) -> Result<i64, ClientError> {
    use layer23::enums;
    let phone = prompt.phone().await?;
    let legacy = client.layer23();
    let (registered, hash) = match legacy.send_code(&phone).await? {
        enums::auth::SentCode::SentCode(sent) => (sent.phone_registered, sent.phone_code_hash),
        enums::auth::SentCode::SentAppCode(sent) => (sent.phone_registered, sent.phone_code_hash),
    };
    println!(
        "layer {}: code sent (number registered: {registered})",
        layer23::LAYER
    );
    let code = prompt.code_for(&phone, false, 1)?;
    let enums::auth::Authorization::Authorization(authorization) = if registered {
        legacy.sign_in(&phone, &hash, &code).await?
    } else {
        println!("new number: signing up");
        let first = prompt.first_name()?;
        legacy
            .sign_up(&phone, &hash, &code, &first, &prompt.last_name)
            .await?
    };
    match authorization.user {
        enums::User::Self_(user) => Ok(i64::from(user.id)),
        other => Err(ClientError::Unexpected(format!(
            "a layer-23 login answered {other:?}, not userSelf"
        ))),
    }
}

/// Who signed in.
struct SignedIn {
    user_id: i64,
    bot: bool,
}

async fn run(args: Args) -> Result<SignedIn, Box<dyn std::error::Error>> {
    let (dcs, dc, keys, embedded) = match args.server {
        Some(server) => {
            let path = args
                .rsa_key
                .as_ref()
                .ok_or("--rsa-key is required with --server")?;
            let pem = std::fs::read_to_string(path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            let key =
                RsaPublicKey::from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))?;
            let dcs: Vec<(i32, SocketAddr)> = (1..=5)
                .map(|i| {
                    (
                        i,
                        SocketAddr::new(server.ip(), server.port() + i as u16 - 1),
                    )
                })
                .collect();
            (dcs, args.dc, vec![key], None)
        }
        None => {
            let test_dc = TestDc::builder()
                .dcs(2)
                .user(Account::new(EMBEDDED_PHONE).name("Embedded", "User"))
                .bot(EMBEDDED_BOT, "Embedded", None)
                .start()
                .await?;
            println!("started the test DC in this process: {:?}", test_dc.dcs());
            let keys = vec![test_dc::test_server_key().public_key().clone()];
            (test_dc.dcs(), 1, keys, Some(test_dc))
        }
    };
    let mut config = ClientConfig::new(args.api_id, args.api_hash.clone(), dcs, dc, keys);
    (config.transport, config.obfuscated) = args.transport;
    if let Some(layer) = args.layer {
        config.layer = layer;
    }
    if args.no_pfs {
        config = config.pfs(false);
    }
    // The embedded DC's other device for --qr: the same DCs, a session of its own.
    let mut other_device = config.clone();
    other_device.store = Arc::new(MemoryStore::new());
    if let Some(path) = &args.session {
        config.store = Arc::new(FileStore::new(path.clone()));
    }
    if let Some(string) = &args.import_session_string {
        let imported = foreign::parse_session_string(string, &config.dcs)?;
        println!(
            "imported a {} session string (DC {})",
            imported.format,
            imported.session.home_dc.unwrap_or(0)
        );
        if let Some(api_id) = imported.pyrogram.as_ref().and_then(|p| p.api_id) {
            if api_id != config.api_id {
                println!(
                    "note: the session was made with api_id {api_id}, this run uses {}",
                    config.api_id
                );
            }
        }
        config.store.save(&imported.session)?;
    }
    let api_id = config.api_id;
    let client = Client::new(config)?;
    println!("connecting to DC {dc}");
    let mut prompt = Prompt {
        phone: args
            .phone
            .clone()
            .or_else(|| embedded.as_ref().map(|_| EMBEDDED_PHONE.to_string())),
        code: args.code.clone(),
        password: args.password.clone(),
        first_name: args.first_name.clone(),
        last_name: args.last_name.clone(),
        backend: embedded.as_ref().map(|dc| dc.backend().clone()),
        email: args.email.clone(),
        email_code: args.email_code.clone(),
        forgot_password: args.forgot_password,
        recovery_code: args.recovery_code.clone(),
        new_password: args.new_password.clone(),
    };
    let signed_in = if let Some(token) = &args.bot_token {
        println!("signing in as a bot");
        let bot = client.bot_sign_in(token).await?;
        SignedIn {
            user_id: bot.id,
            bot: bot.bot,
        }
    } else if args.qr {
        println!("QR login");
        let other = match &embedded {
            Some(dc) => Some((Client::new(other_device)?, dc.backend().clone())),
            None => None,
        };
        let user = qr_login(&client, &mut prompt, other).await?;
        SignedIn {
            user_id: user.id,
            bot: false,
        }
    } else if args.import_session_string.is_some() {
        let user = client.get_me().await?;
        SignedIn {
            user_id: user.id,
            bot: user.bot,
        }
    } else if args.layer == Some(layer23::LAYER) {
        let user_id = layer23_login(&client, &mut prompt).await?;
        SignedIn {
            user_id,
            bot: false,
        }
    } else {
        let user = client.login(&mut prompt).await?;
        SignedIn {
            user_id: user.id,
            bot: user.bot,
        }
    };
    println!("home DC: {}", client.home_dc().await);
    if let Some(format) = &args.export_session_string {
        let session = client.session().await;
        let string = match format.as_str() {
            "telethon" => foreign::telethon::export_string(&session)?,
            _ => foreign::pyrogram::export_string(
                &session,
                &foreign::pyrogram::PyrogramExport {
                    api_id,
                    // Pyrogram's test mode means Telegram's test servers.
                    test_mode: false,
                    is_bot: signed_in.bot,
                },
            )?,
        };
        println!("{format} session string: {}", string.as_str());
    }
    Ok(signed_in)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("login: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(SignedIn { user_id, bot }) => {
            println!(
                "signed in: user_id={user_id}{}",
                if bot { " (bot)" } else { "" }
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("login: {error}");
            ExitCode::FAILURE
        }
    }
}
