//! `handshake_client` and `handshake_server`: the key exchange in both roles, the side under
//! test fed fuzzed messages at any step, the other side real.
//!
//! Both sides run with fixed randomness (seeded ChaCha), a fixed clock, the test DC's RSA key
//! (`tests/dc/src/test_server_key.pem`) and Telegram's DH group, so the real side's messages
//! are the same at every run and a seed made of them stays valid. The input is a setup byte,
//! then one [`Item`] per message the side under test receives, until it finishes, fails, or
//! the items run out:
//!
//! - [`Item::Real`]: what the real peer answers (it first handles, in order, every message of
//!   the side under test that it has not seen);
//! - [`Item::Packet`]: a whole unencrypted packet, as the fuzzer wrote it;
//! - [`Item::Body`]: a TL body the harness makes a packet of. Where the protocol encrypts,
//!   the fuzzer writes the plaintext and the harness encrypts it as the real peer would, so
//!   the checks behind the encryption are reached: for the client, `server_DH_inner_data`
//!   (wrapped with its SHA1 in the temporary key, inside `server_DH_params_ok`); for the
//!   server, `p_q_inner_data` (RSA_PAD with the server's key, inside `req_DH_params`) and
//!   `client_DH_inner_data` (inside `set_client_DH_params`). The harness learns `new_nonce`
//!   by decrypting `req_DH_params` with the server's private key.
//!
//! Checked: no panic; errors format; when every message was real and nothing misbehaved,
//! both sides end with the same key.

use std::sync::OnceLock;
use std::time::Duration;

use ::mtproto_crypto::dh::wrap_with_hash_random;
use ::mtproto_crypto::keys::tmp_aes_key_iv;
use ::mtproto_crypto::{factorize, AuthKey, DhParams, PrimeCache, RsaPrivateKey};
use ::mtproto_proto::handshake::client::{
    self as kex_client, ClientConfig, ClientDhGenStep, ExpectDhGenAnswer, ExpectResPq,
    ExpectServerDhParams,
};
use ::mtproto_proto::handshake::server::{
    DhParamsStep, ExpectReqDhParams, ExpectReqPq, ExpectSetClientDhParams, ServerConfig,
    ServerDhGenStep,
};
use ::mtproto_proto::handshake::KexError;
use ::mtproto_proto::msg_id::{MsgIdGenerator, MsgIdKind};
use ::mtproto_proto::plain;
use ::mtproto_proto::schema::{enums, functions, types};
use ::rand_chacha::rand_core::SeedableRng;
use ::rand_chacha::ChaCha20Rng;
use ::tl_wire::{Deserialize, Limits, Reader, Serialize};

use super::input::{Input, Output};

/// The clock of both sides (Unix time).
pub const NOW: Duration = Duration::from_secs(1_700_000_000);
/// The DC id the client asks for.
pub const DC_ID: i32 = 2;
/// A temporary key's lifetime, with setup bit 0.
pub const TEMP_EXPIRES_IN: i32 = 86_400;
/// Most items one input runs (an exchange with retries needs a handful).
pub const MAX_ITEMS: usize = 12;

/// The test DC's RSA key, parsed once.
pub fn server_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        RsaPrivateKey::from_pkcs1_pem(include_str!("../../tests/dc/src/test_server_key.pem"))
            .expect("the test DC's key parses")
    })
}

/// What the side under test receives next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// 0: the real peer's answer.
    Real,
    /// 1: a whole packet.
    Packet(Vec<u8>),
    /// 2: a TL body (a plaintext where the step encrypts) that the harness packs.
    Body(Vec<u8>),
}

impl Item {
    /// Reads one item (tag mod 3, then a two-byte length and the bytes).
    pub fn read(input: &mut Input<'_>) -> Self {
        match input.u8() % 3 {
            0 => Item::Real,
            1 => Item::Packet(input.bytes().to_vec()),
            _ => Item::Body(input.bytes().to_vec()),
        }
    }

    /// Writes the item as [`Item::read`] reads it.
    pub fn write(&self, out: &mut Output) {
        match self {
            Item::Real => out.u8(0),
            Item::Packet(p) => out.u8(1).bytes(p),
            Item::Body(b) => out.u8(2).bytes(b),
        };
    }
}

/// The setup byte: bit 0 a temporary key; for the client target, bits 1-4 make the real
/// server misbehave (`retry_once`, `retry_forever`, `fail_dh_gen`, `refuse_dh_params`) so its
/// real answers include every kind.
pub fn setup_byte(temp: bool, quirks: u8) -> u8 {
    u8::from(temp) | (quirks & 15) << 1
}

fn client_config(setup: u8) -> ClientConfig {
    ClientConfig {
        dc_id: DC_ID,
        public_keys: vec![server_key().public_key().clone()],
        temp_key_expires_in: (setup & 1 != 0).then_some(TEMP_EXPIRES_IN),
        max_retries: 2,
    }
}

fn server_config(quirks: u8) -> ServerConfig {
    let mut config = ServerConfig::new(vec![server_key().clone()], DhParams::telegram());
    config.quirks.retry_once = quirks & 1 != 0;
    config.quirks.retry_forever = quirks & 2 != 0;
    config.quirks.fail_dh_gen = quirks & 4 != 0;
    config.quirks.refuse_dh_params = quirks & 8 != 0;
    config
}

/// Where the client is.
enum ClientStep {
    ResPq(ExpectResPq),
    DhParams(ExpectServerDhParams),
    DhGen(Box<ExpectDhGenAnswer>),
    Over,
}

/// A client: its step, the packets it sent, and its randomness.
struct Client {
    step: ClientStep,
    sent: Vec<Vec<u8>>,
    rng: ChaCha20Rng,
    primes: PrimeCache,
    key: Option<AuthKey>,
}

impl Client {
    fn start(setup: u8) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let (step, packet) = kex_client::start(client_config(setup), NOW, &mut rng);
        Self {
            step: ClientStep::ResPq(step),
            sent: vec![packet],
            rng,
            primes: PrimeCache::new(),
            key: None,
        }
    }

    /// Handles a server packet; `false` once the exchange is over (done or failed).
    fn handle(&mut self, packet: &[u8]) -> bool {
        let step = std::mem::replace(&mut self.step, ClientStep::Over);
        let result = match step {
            ClientStep::ResPq(s) => s
                .handle(packet, NOW, &mut self.rng)
                .map(|(next, out)| (ClientStep::DhParams(next), Some(out))),
            ClientStep::DhParams(s) => s
                .handle(packet, NOW, &mut self.rng, &mut self.primes)
                .map(|(next, out)| (ClientStep::DhGen(Box::new(next)), Some(out))),
            ClientStep::DhGen(s) => s.handle(packet, NOW, &mut self.rng).map(|gen| match gen {
                ClientDhGenStep::Done(outcome) => {
                    let _ = format!("{outcome:?}");
                    self.key = Some(outcome.auth_key);
                    (ClientStep::Over, None)
                }
                ClientDhGenStep::Retry(next, out) => (ClientStep::DhGen(next), Some(out)),
            }),
            ClientStep::Over => return false,
        };
        match result {
            Ok((next, out)) => {
                self.step = next;
                self.sent.extend(out);
                !matches!(self.step, ClientStep::Over)
            }
            Err(e) => {
                check_error(&e);
                false
            }
        }
    }
}

/// Where the server is.
enum ServerStep {
    ReqPq(ExpectReqPq),
    ReqDhParams(ExpectReqDhParams),
    SetDhParams(ExpectSetClientDhParams),
    Over,
}

/// A server: its step, the packets it sent, and what it needs.
struct Server {
    config: ServerConfig,
    step: ServerStep,
    sent: Vec<Vec<u8>>,
    rng: ChaCha20Rng,
    key: Option<AuthKey>,
}

impl Server {
    fn new(config: ServerConfig) -> Self {
        Self {
            config,
            step: ServerStep::ReqPq(ExpectReqPq::new()),
            sent: Vec::new(),
            rng: ChaCha20Rng::seed_from_u64(12),
            key: None,
        }
    }

    /// Handles a client packet; `false` once the exchange is over (done or failed).
    fn handle(&mut self, packet: &[u8]) -> bool {
        let step = std::mem::replace(&mut self.step, ServerStep::Over);
        let config = &self.config;
        let result = match step {
            ServerStep::ReqPq(s) => s
                .handle(config, packet, NOW, &mut self.rng)
                .map(|(next, out)| (ServerStep::ReqDhParams(next), out)),
            ServerStep::ReqDhParams(s) => {
                s.handle(config, packet, NOW, &mut self.rng)
                    .map(|step| match step {
                        DhParamsStep::Continue(next, out) => (ServerStep::SetDhParams(next), out),
                        DhParamsStep::Refused(out) => (ServerStep::Over, out),
                    })
            }
            ServerStep::SetDhParams(s) => s.handle(config, packet, NOW).map(|step| match step {
                ServerDhGenStep::Done(outcome, out) => {
                    self.key = Some(outcome.auth_key);
                    (ServerStep::Over, out)
                }
                ServerDhGenStep::Retry(next, out) => (ServerStep::SetDhParams(next), out),
                ServerDhGenStep::Failed(out) => (ServerStep::Over, out),
            }),
            ServerStep::Over => return false,
        };
        match result {
            Ok((next, out)) => {
                self.step = next;
                self.sent.push(out);
                true
            }
            Err(e) => {
                check_error(&e);
                false
            }
        }
    }
}

fn check_error(e: &KexError) {
    let _ = format!("{e} {e:?}");
}

/// Nonces and factors the harness reads off real messages, to build its own.
#[derive(Default)]
struct Learned {
    nonce: Option<[u8; 16]>,
    server_nonce: Option<[u8; 16]>,
    pq: Option<u64>,
    new_nonce: Option<[u8; 32]>,
}

impl Learned {
    /// Reads a `resPQ` packet (from the server).
    fn res_pq(&mut self, packet: &[u8]) {
        let Some(body) = body_of(packet) else { return };
        if let Ok(enums::ResPq::ResPq(res)) = enums::ResPq::from_bytes(body) {
            self.nonce = Some(res.nonce);
            self.server_nonce = Some(res.server_nonce);
            self.pq = res.pq.as_slice().try_into().ok().map(u64::from_be_bytes);
        }
    }

    /// Reads a `req_DH_params` packet (from a client), decrypting its inner data with the
    /// server's key to learn `new_nonce`.
    fn req_dh_params(&mut self, packet: &[u8]) {
        let Some(body) = body_of(packet) else { return };
        let Ok(req) = functions::ReqDhParams::from_bytes(body) else {
            return;
        };
        self.nonce = Some(req.nonce);
        self.server_nonce = Some(req.server_nonce);
        if let Ok(data) = server_key().decrypt_pad(&req.encrypted_data) {
            self.inner_data(&data);
        }
    }

    /// Reads `new_nonce` from a `p_q_inner_data` plaintext (followed by padding).
    fn inner_data(&mut self, data: &[u8]) {
        let mut r = Reader::with_limits(data, Limits::NO_GZIP);
        self.new_nonce = match enums::PQInnerData::deserialize(&mut r) {
            Ok(enums::PQInnerData::PQInnerData(i)) => Some(*i.new_nonce),
            Ok(enums::PQInnerData::Dc(i)) => Some(*i.new_nonce),
            Ok(enums::PQInnerData::Temp(i)) => Some(*i.new_nonce),
            Ok(enums::PQInnerData::TempDc(i)) => Some(*i.new_nonce),
            _ => self.new_nonce,
        };
    }

    /// `server_DH_params_ok` carrying `inner` (a `server_DH_inner_data` plaintext) encrypted
    /// as a server does.
    fn server_dh_params(&self, inner: &[u8], rng: &mut ChaCha20Rng) -> Option<Vec<u8>> {
        let (nonce, server_nonce, new_nonce) = (self.nonce?, self.server_nonce?, self.new_nonce?);
        let tmp = tmp_aes_key_iv(&new_nonce, &server_nonce);
        let ok: enums::ServerDhParams = types::ServerDhParamsOk {
            nonce,
            server_nonce,
            encrypted_answer: wrap_with_hash_random(inner, &tmp, rng),
        }
        .into();
        Some(ok.to_bytes())
    }

    /// `req_DH_params` carrying `inner` (a `p_q_inner_data` plaintext) encrypted with
    /// RSA_PAD as a client does.
    fn req_dh_params_with(&self, inner: &[u8], rng: &mut ChaCha20Rng) -> Option<Vec<u8>> {
        let (nonce, server_nonce, pq) = (self.nonce?, self.server_nonce?, self.pq?);
        let (p, q) = factorize(pq).ok()?;
        let key = server_key().public_key();
        let encrypted_data = key.encrypt_pad(inner, rng).ok()?.to_vec();
        let minimal = |v: u64| {
            let bytes = v.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            bytes[skip..].to_vec()
        };
        let req = functions::ReqDhParams {
            nonce,
            server_nonce,
            p: minimal(p),
            q: minimal(q),
            public_key_fingerprint: key.fingerprint(),
            encrypted_data,
        };
        Some(req.to_bytes())
    }

    /// `set_client_DH_params` carrying `inner` (a `client_DH_inner_data` plaintext)
    /// encrypted as a client does.
    fn set_client_dh_params(&self, inner: &[u8], rng: &mut ChaCha20Rng) -> Option<Vec<u8>> {
        let (nonce, server_nonce, new_nonce) = (self.nonce?, self.server_nonce?, self.new_nonce?);
        let tmp = tmp_aes_key_iv(&new_nonce, &server_nonce);
        let req = functions::SetClientDhParams {
            nonce,
            server_nonce,
            encrypted_data: wrap_with_hash_random(inner, &tmp, rng),
        };
        Some(req.to_bytes())
    }
}

fn body_of(packet: &[u8]) -> Option<&[u8]> {
    plain::unwrap(packet).ok().map(|(_, body)| body)
}

/// The `handshake_client` entry point: a client fed fuzzed server answers.
pub fn client(data: &[u8]) {
    run_client(data);
}

/// Runs the client target on `data` and returns what the client and the real server sent
/// (the seeds are made of a run with real answers only).
pub fn transcript(data: &[u8]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (client, server) = run_client(data);
    (client.sent, server.sent)
}

fn run_client(data: &[u8]) -> (Client, Server) {
    let mut input = Input::new(data);
    let setup = input.u8();
    let quirks = (setup >> 1) & 15;
    let mut client = Client::start(setup);
    let mut server = Server::new(server_config(quirks));
    let mut learned = Learned::default();
    let mut msg_ids = MsgIdGenerator::new();
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let mut all_real = true;
    for _ in 0..MAX_ITEMS {
        if input.is_empty() {
            break;
        }
        let item = Item::read(&mut input);
        let answer = match item {
            Item::Real => {
                // The server catches up with what the client sent, in order.
                while server.sent.len() < client.sent.len() {
                    let next = client.sent[server.sent.len()].clone();
                    if !server.handle(&next) && server.sent.len() < client.sent.len() {
                        return (client, server);
                    }
                }
                server.sent[client.sent.len() - 1].clone()
            }
            Item::Packet(p) => {
                all_real = false;
                p
            }
            Item::Body(body) => {
                all_real = false;
                let body = match client.step {
                    ClientStep::DhParams(_) => {
                        if let Some(req) = client.sent.last() {
                            learned.req_dh_params(req);
                        }
                        match learned.server_dh_params(&body, &mut rng) {
                            Some(b) => b,
                            None => return (client, server),
                        }
                    }
                    _ => body,
                };
                plain::wrap(msg_ids.next(NOW, MsgIdKind::ServerReply), &body)
            }
        };
        if !client.handle(&answer) {
            break;
        }
    }
    if all_real && quirks == 0 {
        if let (Some(c), Some(s)) = (&client.key, &server.key) {
            assert_eq!(c.as_bytes(), s.as_bytes(), "both sides derive the same key");
        }
    }
    (client, server)
}

/// The `handshake_server` entry point: a server fed fuzzed client messages.
pub fn server(data: &[u8]) {
    run_server(data);
}

/// Runs the server target on `data` and returns what the server and the real client sent.
pub fn server_transcript(data: &[u8]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (client, server) = run_server(data);
    (client.sent, server.sent)
}

fn run_server(data: &[u8]) -> (Client, Server) {
    let mut input = Input::new(data);
    let setup = input.u8();
    let mut server = Server::new(server_config(0));
    let mut client = Client::start(setup & 1);
    let mut learned = Learned::default();
    let mut msg_ids = MsgIdGenerator::new();
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    // `received`: the packets the server was given so far.
    for received in 0..MAX_ITEMS {
        if input.is_empty() {
            break;
        }
        let item = Item::read(&mut input);
        let built = matches!(item, Item::Body(_));
        let packet = match item {
            Item::Real => {
                // The client catches up with what the server sent, in order.
                while client.sent.len() <= received {
                    let Some(next) = server.sent.get(client.sent.len() - 1).cloned() else {
                        return (client, server);
                    };
                    if !client.handle(&next) && client.sent.len() <= received {
                        return (client, server);
                    }
                }
                client.sent[received].clone()
            }
            Item::Packet(p) => p,
            Item::Body(inner) => {
                let body = match server.step {
                    ServerStep::ReqDhParams(_) => {
                        learned.inner_data(&inner);
                        learned.req_dh_params_with(&inner, &mut rng)
                    }
                    ServerStep::SetDhParams(_) => learned.set_client_dh_params(&inner, &mut rng),
                    _ => Some(inner),
                };
                match body {
                    Some(b) => plain::wrap(msg_ids.next(NOW, MsgIdKind::Client), &b),
                    None => return (client, server),
                }
            }
        };
        if !built && matches!(server.step, ServerStep::ReqDhParams(_)) {
            learned.req_dh_params(&packet);
        }
        let answered = server.sent.len();
        let going = server.handle(&packet);
        if let Some(answer) = server.sent.get(answered) {
            if matches!(server.step, ServerStep::ReqDhParams(_)) {
                learned.res_pq(answer);
            }
        }
        if !going {
            break;
        }
    }
    (client, server)
}
