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

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;

use auth_api::client::{
    AuthFuture, Authenticator, Client, ClientConfig, ClientError, CodeToken, FileStore,
    PasswordToken,
};
use clap::Parser;
use mtproto_crypto::RsaPublicKey;
use mtproto_net::Transport;
use test_dc::{Account, AuthBackend, TestDc};

/// The account the embedded test DC registers.
const EMBEDDED_PHONE: &str = "+9996621234";

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
            if attempt == 1 {
                if let Some(code) = self.code.clone() {
                    return Ok(code);
                }
                if let Some(code) = self
                    .backend
                    .as_ref()
                    .and_then(|b| b.last_code(&token.phone))
                {
                    println!("code read from the embedded test DC");
                    return Ok(code);
                }
            }
            ask("login code", false)
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
            let first = match self.first_name.clone() {
                Some(first) => first,
                None => ask("first name", false)?,
            };
            Ok((first, self.last_name.clone()))
        })
    }
}

async fn run(args: Args) -> Result<i64, Box<dyn std::error::Error>> {
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
                .start()
                .await?;
            println!("started the test DC in this process: {:?}", test_dc.dcs());
            let keys = vec![test_dc::test_server_key().public_key().clone()];
            (test_dc.dcs(), 1, keys, Some(test_dc))
        }
    };
    let mut config = ClientConfig::new(args.api_id, args.api_hash.clone(), dcs, dc, keys);
    (config.transport, config.obfuscated) = args.transport;
    if let Some(path) = &args.session {
        config.store = std::sync::Arc::new(FileStore::new(path.clone()));
    }
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
    };
    let user = client.login(&mut prompt).await?;
    println!("home DC: {}", client.home_dc().await);
    Ok(user.id)
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
        Ok(user_id) => {
            println!("signed in: user_id={user_id}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("login: {error}");
            ExitCode::FAILURE
        }
    }
}
