//! The seed corpora, built from real messages: Telethon's encodings of the API
//! (`tests/vectors/`), and the packets of real exchanges between our client and server roles
//! (key exchange, encrypted sessions, transports), each written in its target's input format.
//!
//! Everything here is deterministic (fixed keys, seeded randomness, a fixed clock), so
//! `tests/tests/fuzz_regressions.rs` can check that `fuzz/corpus/<target>/seed-*` are what
//! [`all`] builds, rewriting them when they are not.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use ::auth_api::client::foreign::{pyrogram, telethon};
use ::auth_api::client::{FileStore, FutureAuthToken, SessionData, SessionStore};
use ::mtproto_crypto::dh::unwrap_with_hash;
use ::mtproto_crypto::keys::tmp_aes_key_iv;
use ::mtproto_crypto::message::decrypt_v2_message;
use ::mtproto_crypto::Direction;
use ::mtproto_net::StoredAuth;
use ::mtproto_proto::plain;
use ::mtproto_proto::schema::{enums, functions};
use ::mtproto_proto::session::{ServerEvent, ServerSession, Session, SessionConfig};
use ::mtproto_proto::transport::{Transport, TransportErrorCode};
use ::rand_chacha::rand_core::SeedableRng;
use ::rand_chacha::ChaCha20Rng;
use ::rusqlite::types::Value;
use ::tl_wire::{Deserialize, Identifiable, Limits, Reader, Serialize};

use super::handshake::{self, Item};
use super::input::Output;
use super::session::{self as sessions, ClientRun, Op, Sealed, ServerRun, NOT_A_REPLY};
use super::transport::Config;
use super::{foreign, tl};

/// One seed input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed {
    /// The fuzz target.
    pub target: &'static str,
    /// The file name under `fuzz/corpus/<target>/` (starts with `seed-`).
    pub name: String,
    /// The input.
    pub data: Vec<u8>,
}

/// Every fuzz target, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[&str] = &[
    "tl_decode",
    "transport_client",
    "transport_server",
    "session_client",
    "session_server",
    "handshake_client",
    "handshake_server",
    "schema_parse",
    "session_string",
    "session_file",
];

/// The entry point of `target` (what its `fuzz_targets/<target>.rs` calls).
pub fn entry_point(target: &str) -> Option<fn(&[u8])> {
    Some(match target {
        "tl_decode" => tl::decode,
        "transport_client" => super::transport::client,
        "transport_server" => super::transport::server,
        "session_client" => super::session::client,
        "session_server" => super::session::server,
        "handshake_client" => handshake::client,
        "handshake_server" => handshake::server,
        "schema_parse" => super::schema::parse,
        "session_string" => foreign::session_string,
        "session_file" => foreign::session_file,
        _ => return None,
    })
}

/// Every seed of every target; `root` is the workspace root.
pub fn all(root: &Path) -> Vec<Seed> {
    let mut seeds = Seeds::default();
    let transcript = Transcript::run(0);
    tl_decode(root, &mut seeds, &transcript);
    transports(&mut seeds, &transcript);
    session_client(&mut seeds);
    session_server(&mut seeds);
    handshakes(&mut seeds);
    schema(root, &mut seeds);
    session_strings(&mut seeds);
    session_files(&mut seeds);
    seeds.0
}

#[derive(Default)]
struct Seeds(Vec<Seed>);

impl Seeds {
    /// Adds a seed unless `target` already has one named `name`.
    fn add(&mut self, target: &'static str, name: &str, data: Vec<u8>) {
        let name: String = format!("seed-{name}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if !self.0.iter().any(|s| s.target == target && s.name == name) {
            self.0.push(Seed { target, name, data });
        }
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex in the vectors"))
        .collect()
}

/// The packets of one real key exchange (client and server roles of this crate), and what
/// the harness can decrypt of them.
struct Transcript {
    /// `req_pq_multi`, `req_DH_params`, `set_client_DH_params`.
    client: Vec<Vec<u8>>,
    /// `resPQ`, `server_DH_params_ok`, `dh_gen_ok`.
    server: Vec<Vec<u8>>,
    /// The `p_q_inner_data` inside `req_DH_params`.
    pq_inner: Vec<u8>,
    /// The `server_DH_inner_data` inside `server_DH_params_ok`.
    server_inner: Vec<u8>,
    /// The `client_DH_inner_data` inside `set_client_DH_params`.
    client_inner: Vec<u8>,
}

impl Transcript {
    /// Runs the client harness with only real answers and reads what went by.
    fn run(setup: u8) -> Self {
        let mut input = Output::new();
        input.u8(setup);
        for _ in 0..3 {
            Item::Real.write(&mut input);
        }
        let (client, server) = handshake::transcript(&input.finish());
        let body = |p: &[u8]| plain::unwrap(p).expect("a plain packet").1.to_vec();
        let req = functions::ReqDhParams::from_bytes(&body(&client[1])).expect("req_DH_params");
        let padded = handshake::server_key()
            .decrypt_pad(&req.encrypted_data)
            .expect("our client's RSA_PAD");
        let inner =
            enums::PQInnerData::deserialize(&mut Reader::with_limits(&padded, Limits::NO_GZIP))
                .expect("p_q_inner_data");
        let new_nonce = match &inner {
            enums::PQInnerData::PQInnerData(i) => *i.new_nonce,
            enums::PQInnerData::Dc(i) => *i.new_nonce,
            enums::PQInnerData::Temp(i) => *i.new_nonce,
            enums::PQInnerData::TempDc(i) => *i.new_nonce,
        };
        let tmp = tmp_aes_key_iv(&new_nonce, &req.server_nonce);
        let enums::ServerDhParams::Ok(ok) =
            enums::ServerDhParams::from_bytes(&body(&server[1])).expect("server_DH_params")
        else {
            panic!("the real server answers server_DH_params_ok");
        };
        let server_inner = first_object::<enums::ServerDhInnerData>(
            &unwrap_with_hash(&ok.encrypted_answer, &tmp).expect("our server's answer"),
        );
        let set = functions::SetClientDhParams::from_bytes(&body(&client[2]))
            .expect("set_client_DH_params");
        let client_inner = first_object::<enums::ClientDhInnerData>(
            &unwrap_with_hash(&set.encrypted_data, &tmp).expect("our client's answer"),
        );
        Self {
            client,
            server,
            pq_inner: inner.to_bytes(),
            server_inner,
            client_inner,
        }
    }

    /// Every TL body that went by, plain or decrypted.
    fn bodies(&self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = self
            .client
            .iter()
            .chain(&self.server)
            .map(|p| plain::unwrap(p).expect("a plain packet").1.to_vec())
            .collect();
        out.extend([
            self.pq_inner.clone(),
            self.server_inner.clone(),
            self.client_inner.clone(),
        ]);
        out
    }
}

/// The bytes of the first `T` in `data` (which may be followed by padding).
fn first_object<T: Deserialize + Serialize>(data: &[u8]) -> Vec<u8> {
    T::deserialize(&mut Reader::with_limits(data, Limits::NO_GZIP))
        .expect("a TL object")
        .to_bytes()
}

fn tl_decode(root: &Path, seeds: &mut Seeds, transcript: &Transcript) {
    let target = "tl_decode";
    for (file, variant, module) in [
        ("tests/vectors/telethon_api.json", "all", "api"),
        ("tests/vectors/legacy_layer23.json", "seed-1", "layer23"),
    ] {
        let path = root.join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json: ::serde_json::Value = ::serde_json::from_str(&text).expect("vectors JSON");
        for v in json["vectors"].as_array().expect("a vectors array") {
            if v["variant"] == variant {
                let name = v["name"].as_str().expect("a name");
                let bytes = hex(v["hex"].as_str().expect("hex"));
                seeds.add(target, &format!("{module}-{name}"), bytes);
            }
        }
    }
    let mut service = transcript.bodies();
    service.extend(session_bodies());
    for body in service {
        let Ok(id) = Reader::new(&body).peek_u32() else {
            continue;
        };
        if let Some(name) = ::mtproto_proto::schema::name_of(id) {
            seeds.add(target, &format!("mtproto-{name}"), body);
        }
    }
    // `gzip_packed` around a real value: the largest API vector.
    let largest = seeds
        .0
        .iter()
        .filter(|s| s.target == target && s.name.starts_with("seed-api-"))
        .max_by_key(|s| s.data.len())
        .map(|s| s.data.clone())
        .expect("API vectors");
    seeds.add(target, "gzip-api-largest", ::tl_wire::gzip::pack(&largest));
}

/// The bodies of a real encrypted exchange (both directions).
fn session_bodies() -> Vec<Vec<u8>> {
    let key = sessions::key(1);
    let mut client = Session::new(
        SessionConfig::default(),
        sessions::key(1),
        sessions::SALT,
        Some(0),
        sessions::SESSION_ID,
    );
    let mut server = ServerSession::new(SessionConfig::default(), sessions::key(1), sessions::SALT);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let now = sessions::T0;
    client.enqueue(sessions::ping(7));
    client.enqueue(functions::GetFutureSalts { num: 2 }.to_bytes());
    client.enqueue(::auth_api::functions::help::GetNearestDc {}.to_bytes());
    let mut bodies = Vec::new();
    for _ in 0..4 {
        while let Some(p) = client.poll_transmit(now, &mut rng) {
            let msg = decrypt_v2_message(&key, Direction::ClientToServer, &p).expect("ours");
            bodies.push(msg.body);
            let _ = server.handle_packet(now, &p);
        }
        while let Some(event) = server.poll_event() {
            if let ServerEvent::Request { msg_id, .. } = event {
                server.respond(msg_id, &nearest_dc());
            }
        }
        while let Some(p) = server.poll_transmit(now, &mut rng) {
            let msg = decrypt_v2_message(&key, Direction::ServerToClient, &p).expect("ours");
            bodies.push(msg.body);
            let _ = client.handle_packet(now, &p);
        }
        while client.poll_event().is_some() {}
    }
    bodies
}

/// A real `nearestDc` answer.
fn nearest_dc() -> Vec<u8> {
    ::auth_api::enums::NearestDc::from(::auth_api::types::NearestDc {
        country: "NL".into(),
        this_dc: 2,
        nearest_dc: 2,
    })
    .to_bytes()
}

/// The configurations the transport seeds use: each framing plain, each obfuscatable one
/// obfuscated, through an MTProxy, and through a padding-only (`dd`) MTProxy.
fn transport_configs() -> Vec<(String, Config)> {
    let base = Config {
        transport: Transport::Abridged,
        obfuscated: false,
        secret: false,
        padded_secret: false,
        eof: false,
        chunk: 0,
        max_frame: 0,
    };
    let mut out = Vec::new();
    for (name, transport) in [
        ("abridged", Transport::Abridged),
        ("intermediate", Transport::Intermediate),
        ("padded", Transport::PaddedIntermediate),
        ("full", Transport::Full),
    ] {
        out.push((name.to_string(), Config { transport, ..base }));
        if transport == Transport::Full {
            continue;
        }
        let obfuscated = Config {
            transport,
            obfuscated: true,
            chunk: 7,
            ..base
        };
        out.push((format!("{name}-obfuscated"), obfuscated));
        out.push((
            format!("{name}-mtproxy"),
            Config {
                secret: true,
                eof: true,
                ..obfuscated
            },
        ));
    }
    out.push((
        "padded-mtproxy-dd".to_string(),
        Config {
            transport: Transport::PaddedIntermediate,
            obfuscated: true,
            secret: true,
            padded_secret: true,
            chunk: 1,
            ..base
        },
    ));
    out
}

fn transports(seeds: &mut Seeds, transcript: &Transcript) {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let encrypted = vec![0x5a; 72];
    for (name, config) in transport_configs() {
        // What a client sends: the key exchange's first packet, then an encrypted-sized one
        // (with a quick-ACK request where the transport has them).
        let mut client = config
            .client()
            .expect("a seed configuration a client accepts");
        let mut stream = Vec::new();
        client
            .encode(&transcript.client[0], &mut rng, &mut stream)
            .expect("encode");
        if config.transport != Transport::Full {
            client
                .encode_with_quick_ack(&encrypted, &mut rng, &mut stream)
                .expect("encode");
        }
        let mut out = Output::new();
        Config {
            obfuscated: config.secret,
            ..config
        }
        .write(&mut out);
        out.raw(&stream);
        seeds.add("transport_server", &name, out.finish());

        // What a server answers: `resPQ`, a quick ACK, then a transport error.
        let mut server = config.server_for_client();
        server.handle_input(&stream);
        while let Ok(Some(_)) = server.poll_frame() {}
        let mut answer = Vec::new();
        server
            .encode(&transcript.server[0], &mut rng, &mut answer)
            .expect("encode");
        if config.transport != Transport::Full {
            server
                .encode_quick_ack(0x1234_5678, &mut answer)
                .expect("encode");
        }
        server
            .encode_transport_error(TransportErrorCode::from_code(-404), &mut rng, &mut answer)
            .expect("encode");
        let mut out = Output::new();
        config.write(&mut out);
        out.raw(&answer);
        seeds.add("transport_client", &name, out.finish());
    }
}

/// Runs a [`ClientRun`] against a real [`ServerSession`]: the server's packets become sealed
/// operations (their ids replaced by markers), the script's operations are run in between.
fn session_client_script(setup: u8, script: &[Op], salt_change: Option<i64>) -> Vec<u8> {
    let key = sessions::key(1);
    let mut server = ServerSession::new(SessionConfig::default(), sessions::key(1), sessions::SALT);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let mut run = ClientRun::new(setup);
    let mut out = Output::new();
    out.u8(setup);
    let mut script = script.iter();
    let mut salt_change = salt_change;
    for _ in 0..12 {
        let now = run.now();
        for p in run.take_sent() {
            let _ = server.handle_packet(now, &p);
        }
        while let Some(event) = server.poll_event() {
            if let ServerEvent::Request { msg_id, body } = event {
                let bind = ::auth_api::functions::auth::BindTempAuthKey::CONSTRUCTOR_ID;
                let answer = if body.get(..4) == Some(&bind.to_le_bytes()[..]) {
                    true.to_bytes()
                } else {
                    nearest_dc()
                };
                server.respond(msg_id, &answer);
            }
        }
        if let Some(salt) = salt_change.take() {
            server.set_salt(salt);
        }
        let mut ops = Vec::new();
        while let Some(p) = server.poll_transmit(now, &mut rng) {
            let msg = decrypt_v2_message(&key, Direction::ServerToClient, &p).expect("ours");
            let flags = if msg.msg_id & 3 == 3 { NOT_A_REPLY } else { 0 };
            ops.push(Op::Sealed(Sealed::honest(
                run.mark(&msg.body),
                msg.seq_no as u32,
                flags,
            )));
        }
        if ops.is_empty() {
            match script.next() {
                Some(op) => ops.push(op.clone()),
                None => break,
            }
        }
        for op in ops {
            op.write(&mut out);
            run.apply(op);
        }
    }
    out.finish()
}

fn session_client(seeds: &mut Seeds) {
    let target = "session_client";
    let request = ::auth_api::functions::help::GetNearestDc {}.to_bytes();
    let script = [
        Op::Send(request.clone()),
        Op::Send(functions::GetFutureSalts { num: 3 }.to_bytes()),
        Op::Wait {
            secs: 61,
            millis: 0,
        },
        Op::Lost(0),
        Op::Answer {
            k: 0,
            flag: true,
            result: nearest_dc(),
        },
    ];
    seeds.add(
        target,
        "exchange",
        session_client_script(
            sessions::setup_byte(true, true, false, false),
            &script,
            None,
        ),
    );
    seeds.add(
        target,
        "bind",
        session_client_script(sessions::setup_byte(true, true, true, true), &script, None),
    );
    seeds.add(
        target,
        "unsynced-clock",
        session_client_script(
            sessions::setup_byte(false, true, false, false),
            &script,
            None,
        ),
    );
    seeds.add(
        target,
        "bad-server-salt",
        session_client_script(
            sessions::setup_byte(true, false, false, false),
            &[Op::Send(request)],
            Some(0x7777),
        ),
    );
}

fn session_server(seeds: &mut Seeds) {
    let key = sessions::key(1);
    let mut client = Session::new(
        SessionConfig::default(),
        sessions::key(1),
        sessions::SALT,
        Some(0),
        sessions::SESSION_ID,
    );
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut run = ServerRun::new(0);
    let mut out = Output::new();
    out.u8(0);
    client.enqueue(sessions::ping(3));
    client.enqueue(::auth_api::functions::help::GetNearestDc {}.to_bytes());
    client.enqueue(functions::GetFutureSalts { num: 1 }.to_bytes());
    client.enqueue(::auth_api::functions::help::GetConfig {}.to_bytes());
    let mut answered = 0;
    for round in 0..6 {
        let now = run.now();
        let mut ops = Vec::new();
        if round == 3 {
            ops.push(Op::Wait {
                secs: 61,
                millis: 0,
            });
        }
        client.handle_timeout(now);
        while let Some(p) = client.poll_transmit(now, &mut rng) {
            let msg = decrypt_v2_message(&key, Direction::ClientToServer, &p).expect("ours");
            ops.push(Op::Sealed(Sealed::honest(
                run.mark(&msg.body),
                msg.seq_no as u32,
                0,
            )));
        }
        for op in ops {
            op.write(&mut out);
            run.apply(op);
        }
        while answered < run.requests() {
            let op = Op::Answer {
                k: answered as u8,
                flag: answered % 2 == 1,
                result: nearest_dc(),
            };
            op.write(&mut out);
            run.apply(op);
            answered += 1;
        }
        for p in run.take_sent() {
            let _ = client.handle_packet(run.now(), &p);
        }
        while client.poll_event().is_some() {}
    }
    seeds.add("session_server", "exchange", out.finish());
}

fn handshakes(seeds: &mut Seeds) {
    let items = |setup: u8, items: &[Item]| {
        let mut out = Output::new();
        out.u8(setup);
        for item in items {
            item.write(&mut out);
        }
        out.finish()
    };
    let real = [Item::Real, Item::Real, Item::Real, Item::Real, Item::Real];
    let t = Transcript::run(0);
    let temp = Transcript::run(handshake::setup_byte(true, 0));
    let client = "handshake_client";
    seeds.add(client, "real", items(0, &real[..3]));
    seeds.add(
        client,
        "real-temp",
        items(handshake::setup_byte(true, 0), &real[..3]),
    );
    for (name, quirk) in [
        ("retry-once", 1),
        ("retry-forever", 2),
        ("dh-gen-fail", 4),
        ("refused", 8),
    ] {
        seeds.add(
            client,
            name,
            items(handshake::setup_byte(false, quirk), &real),
        );
    }
    seeds.add(
        client,
        "res-pq",
        items(
            0,
            &[Item::Packet(t.server[0].clone()), Item::Real, Item::Real],
        ),
    );
    seeds.add(
        client,
        "server-dh-inner-data",
        items(
            0,
            &[Item::Real, Item::Body(t.server_inner.clone()), Item::Real],
        ),
    );
    seeds.add(
        client,
        "server-dh-inner-data-temp",
        items(
            handshake::setup_byte(true, 0),
            &[
                Item::Real,
                Item::Body(temp.server_inner.clone()),
                Item::Real,
            ],
        ),
    );
    seeds.add(
        client,
        "dh-gen-ok",
        items(
            0,
            &[Item::Real, Item::Real, Item::Packet(t.server[2].clone())],
        ),
    );

    let server = "handshake_server";
    seeds.add(server, "real", items(0, &real[..3]));
    seeds.add(
        server,
        "real-temp",
        items(handshake::setup_byte(true, 0), &real[..3]),
    );
    seeds.add(
        server,
        "req-pq",
        items(
            0,
            &[Item::Packet(t.client[0].clone()), Item::Real, Item::Real],
        ),
    );
    seeds.add(
        server,
        "p-q-inner-data",
        items(0, &[Item::Real, Item::Body(t.pq_inner.clone()), Item::Real]),
    );
    seeds.add(
        server,
        "p-q-inner-data-temp",
        items(
            handshake::setup_byte(true, 0),
            &[Item::Real, Item::Body(temp.pq_inner.clone()), Item::Real],
        ),
    );
    seeds.add(
        server,
        "client-dh-inner-data",
        items(
            0,
            &[Item::Real, Item::Real, Item::Body(t.client_inner.clone())],
        ),
    );
    seeds.add(
        server,
        "set-client-dh-params",
        items(
            0,
            &[Item::Real, Item::Real, Item::Packet(t.client[2].clone())],
        ),
    );
}

fn schema(root: &Path, seeds: &mut Seeds) {
    let target = "schema_parse";
    let read = |file: &str| {
        let path = root.join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    seeds.add(target, "mtproto.tl", read("schema/mtproto.tl").into_bytes());
    // The start of the big schemas, cut at a line end (libFuzzer works best on small inputs).
    for (name, file) in [
        ("api.tl-head", "schema/api.tl"),
        ("layer23.tl-head", "schema/legacy/layer23.tl"),
    ] {
        let text = read(file);
        let cut = text[..text.len().min(4096)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        seeds.add(target, name, text.as_bytes()[..cut].to_vec());
    }
}

/// A session like a logged-in client's: home DC 2 with its key, user id, one token.
fn session_data() -> SessionData {
    let key = sessions::key(5);
    let addr: SocketAddr = "149.154.167.51:443".parse().expect("an address");
    SessionData {
        home_dc: Some(2),
        keys: BTreeMap::from([(
            2,
            StoredAuth::from_bytes(key.as_bytes(), 0x1234, -3).expect("a 256-byte key"),
        )]),
        dcs: BTreeMap::from([(2, addr)]),
        user_id: Some(777_000),
        future_auth_tokens: vec![FutureAuthToken::new(vec![7; 16])],
    }
}

fn session_strings(seeds: &mut Seeds) {
    let target = "session_string";
    let mut session = session_data();
    let telethon_v4 = telethon::export_string(&session).expect("export");
    session
        .dcs
        .insert(2, "[2001:67c:4e8:f002::a]:443".parse().expect("v6"));
    let telethon_v6 = telethon::export_string(&session).expect("export");
    let pyrogram = pyrogram::export_string(
        &session,
        &pyrogram::PyrogramExport {
            api_id: 12345,
            test_mode: false,
            is_bot: false,
        },
    )
    .expect("export");
    use foreign::StringReader::{Any, Pyrogram, Telethon};
    for (name, reader, s) in [
        ("any-telethon-ipv4", Any, &telethon_v4),
        ("any-telethon-ipv6", Any, &telethon_v6),
        ("any-pyrogram", Any, &pyrogram),
        ("telethon-ipv4", Telethon, &telethon_v4),
        ("pyrogram", Pyrogram, &pyrogram),
    ] {
        seeds.add(target, name, foreign::string_input(reader, s));
    }
}

fn session_files(seeds: &mut Seeds) {
    let target = "session_file";
    let dir = std::env::temp_dir().join(format!("project-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let session = session_data();

    let path = dir.join("store.session");
    FileStore::new(&path).save(&session).expect("save");
    let file = std::fs::read(&path).expect("read back");
    seeds.add(target, "file-store", [&[0u8][..], &file].concat());
    seeds.add(
        target,
        "file-store-fixed",
        [&[foreign::FIX_LENGTH | foreign::FIX_CHECKSUM][..], &file].concat(),
    );

    let path = dir.join("telethon.session");
    telethon::export_file(&session, &path).expect("export");
    let db = std::fs::read(&path).expect("read back");
    seeds.add(
        target,
        "telethon-raw",
        [&[foreign::TELETHON | foreign::RAW][..], &db].concat(),
    );
    let _ = std::fs::remove_dir_all(&dir);

    let key = session.keys[&2].auth_key.as_bytes().to_vec();
    for (name, flags) in [
        ("telethon-typed", foreign::TELETHON),
        ("telethon-untyped", foreign::TELETHON | foreign::UNTYPED),
    ] {
        let mut out = Output::new();
        out.u8(flags);
        out.u8(1);
        foreign::write_value(&mut out, &Value::Integer(8));
        out.u8(1);
        for v in [
            Value::Integer(2),
            Value::Text("149.154.167.51".into()),
            Value::Integer(443),
            Value::Blob(key.clone()),
            Value::Null,
        ] {
            foreign::write_value(&mut out, &v);
        }
        seeds.add(target, name, out.finish());
    }
}
