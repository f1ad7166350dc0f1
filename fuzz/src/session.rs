//! `session_client` and `session_server`: the encrypted session in both roles, over a fixed
//! authorization key that the harness shares with the session under test.
//!
//! Random bytes almost never pass `msg_key`, so the harness seals most of what it sends with
//! the key: the fuzzer chooses the plaintext (salt, session id, msg_id, seq_no, length,
//! body, padding length), and may leave the header fields to the harness (the session's own
//! salt and session id, a fresh msg_id of the right parity), so the checks after decryption
//! and the handling of every service message are reached. Message ids the session under test
//! sent can be referred to: in a sealed body, every aligned 8-byte word `MARKER | k`
//! becomes the `k`-th id it sent (mod the count), which is how `msgs_ack`, `bad_msg_notification`,
//! `bad_server_salt`, `rpc_result` and the rest of a real exchange are written in the seeds.
//!
//! Input: a setup byte, then up to [`MAX_OPS`] operations (see [`Op`]). After every operation
//! the harness drains `poll_transmit` (decrypting each packet with the key to learn its
//! message ids, container elements included) and `poll_event`.
//!
//! Checked: no panic, and a packet that was not sealed with the key is refused with
//! `SessionError::Decrypt`.

use std::time::Duration;

use ::mtproto_crypto::message::{decrypt_v2_message, encrypt_v2_with_padding, padding_len_v2};
use ::mtproto_crypto::{AuthKey, Direction};
use ::mtproto_proto::msg_id::{MsgIdGenerator, MsgIdKind};
use ::mtproto_proto::session::wire::{self, MSG_CONTAINER_ID};
use ::mtproto_proto::session::{
    BindPlan, Event, Prologue, RequestId, RpcError, ServerEvent, ServerSession, Session,
    SessionConfig, SessionError,
};
use ::rand_chacha::rand_core::{RngCore, SeedableRng};
use ::rand_chacha::ChaCha20Rng;
use ::tl_wire::{RawObject, Serialize};

use super::input::{Input, Output};

/// The clock at the start of every run (Unix time).
pub const T0: Duration = Duration::from_secs(1_700_000_000);
/// The client's session id.
pub const SESSION_ID: i64 = 0x1122_3344_5566_7788;
/// The salt both roles start with.
pub const SALT: i64 = 0x0102_0304_0506_0708;
/// A word `MARKER | k` (k < 256) in a sealed body stands for the `k`-th message id the
/// session under test sent.
pub const MARKER: u64 = 0x6d73_6769_6400_0000;
/// Most operations one input runs.
pub const MAX_OPS: usize = 64;
/// Message ids remembered for markers and answers (the most recent ones).
const REMEMBERED: usize = 256;

/// The fixed authorization key (and a second one, the permanent key of a PFS bind).
pub fn key(which: u64) -> AuthKey {
    let mut bytes = [0u8; 256];
    ChaCha20Rng::seed_from_u64(which).fill_bytes(&mut bytes);
    AuthKey::from_bytes(bytes)
}

/// One operation, chosen by its first byte (mod 8); [`Op::write`] encodes it for seeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// 0: a packet fed as it is (a two-byte length, then the bytes).
    Raw(Vec<u8>),
    /// 1: a message sealed with the key.
    Sealed(Sealed),
    /// 2: client: a sealed `rpc_result` answering sent message `k` (`flag` packs the
    /// result in `gzip_packed`); server: `respond` to request `k` (an `rpc_error` with the
    /// bytes as its message when `flag`; else the bytes padded to a multiple of 4).
    Answer {
        /// Which sent message (client) or received request (server), mod the count.
        k: u8,
        /// Client: pack the result in `gzip_packed`. Server: answer an RPC error.
        flag: bool,
        /// The result object (server, error: the error message).
        result: Vec<u8>,
    },
    /// 3: client: `enqueue` a request body; server: `push_update` (the body padded to a
    /// multiple of 4, as serialized TL always is).
    Send(Vec<u8>),
    /// 4: the clock moves on by `secs` seconds and `millis` milliseconds (client: then
    /// `handle_timeout`).
    Wait {
        /// Seconds.
        secs: u16,
        /// Milliseconds.
        millis: u16,
    },
    /// 5: client: `connection_lost`; server: `set_salt`.
    Lost(i64),
    /// 6: client: `cancel` request `k`; server: nothing.
    Cancel(u8),
    /// 7: the clock is set to `T0 + secs` (it may step back).
    SetClock(u32),
}

/// A message for [`Op::Sealed`]: the plaintext fields, and which of them the harness fills.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Bit 0: the session's salt; bit 1: the expected session id; bit 2: a fresh msg_id
    /// (bit 3 picks the kind: a server reply or another server message); bit 4: the
    /// `length` below instead of the body's real length; bit 5: no marker substitution.
    pub flags: u8,
    /// The salt, unless bit 0.
    pub salt: i64,
    /// The session id, unless bit 1.
    pub session_id: i64,
    /// The msg_id, unless bit 2.
    pub msg_id: i64,
    /// The seq_no.
    pub seq_no: u32,
    /// The length field, with bit 4.
    pub length: u32,
    /// Extra padding, in 16-byte blocks (mod 62, so that padding stays within 1024 bytes).
    pub pad_blocks: u8,
    /// The message body.
    pub body: Vec<u8>,
}

/// [`Sealed::flags`]: the harness's choice for every header field.
pub const HONEST: u8 = 0b0111;
/// [`Sealed::flags`]: with [`HONEST`], a server message that is not a reply (msg_id 3 mod 4).
pub const NOT_A_REPLY: u8 = 0b1000;
/// [`Sealed::flags`]: the body is sealed as it is (no marker substitution).
pub const NO_MARKERS: u8 = 0b10_0000;

impl Sealed {
    /// An honest message with `body`: the harness fills salt, session id and msg_id.
    pub fn honest(body: Vec<u8>, seq_no: u32, flags: u8) -> Self {
        Self {
            flags: HONEST | flags,
            salt: 0,
            session_id: 0,
            msg_id: 0,
            seq_no,
            length: 0,
            pad_blocks: 0,
            body,
        }
    }
}

impl Op {
    /// Reads one operation.
    pub fn read(input: &mut Input<'_>) -> Self {
        match input.u8() % 8 {
            0 => Op::Raw(input.bytes().to_vec()),
            1 => Op::Sealed(Sealed {
                flags: input.u8(),
                salt: input.i64(),
                session_id: input.i64(),
                msg_id: input.i64(),
                seq_no: input.u32(),
                length: input.u32(),
                pad_blocks: input.u8(),
                body: input.bytes().to_vec(),
            }),
            2 => Op::Answer {
                k: input.u8(),
                flag: input.u8() & 1 == 1,
                result: input.bytes().to_vec(),
            },
            3 => Op::Send(input.bytes().to_vec()),
            4 => Op::Wait {
                secs: input.u16(),
                millis: input.u16(),
            },
            5 => Op::Lost(input.i64()),
            6 => Op::Cancel(input.u8()),
            _ => Op::SetClock(input.u32()),
        }
    }

    /// Writes the operation as [`Op::read`] reads it.
    pub fn write(&self, out: &mut Output) {
        match self {
            Op::Raw(bytes) => out.u8(0).bytes(bytes),
            Op::Sealed(s) => out
                .u8(1)
                .u8(s.flags)
                .i64(s.salt)
                .i64(s.session_id)
                .i64(s.msg_id)
                .u32(s.seq_no)
                .u32(s.length)
                .u8(s.pad_blocks)
                .bytes(&s.body),
            Op::Answer { k, flag, result } => out.u8(2).u8(*k).u8(u8::from(*flag)).bytes(result),
            Op::Send(body) => out.u8(3).bytes(body),
            Op::Wait { secs, millis } => out.u8(4).u16(*secs).u16(*millis),
            Op::Lost(v) => out.u8(5).i64(*v),
            Op::Cancel(k) => out.u8(6).u8(*k),
            Op::SetClock(secs) => out.u8(7).u32(*secs),
        };
    }
}

/// The setup byte: bit 0 the client's clock is synchronized (a key exchange just ended),
/// bit 1 a request is queued from the start, bit 2 a PFS bind is in progress, bit 3 a
/// prologue wraps the first request.
pub fn setup_byte(synced: bool, request: bool, bind: bool, prologue: bool) -> u8 {
    u8::from(synced) | u8::from(request) << 1 | u8::from(bind) << 2 | u8::from(prologue) << 3
}

/// What the harness remembers of the session under test, and its side of the conversation.
struct Peer {
    key: AuthKey,
    now: Duration,
    rng: ChaCha20Rng,
    /// The ids the harness gives the messages it seals.
    msg_ids: MsgIdGenerator,
    /// Message ids the session under test sent (oldest first).
    sent: Vec<i64>,
    /// Server role: the msg_ids of requests it reported.
    requests: Vec<i64>,
}

impl Peer {
    fn new() -> Self {
        Self {
            key: key(1),
            now: T0,
            rng: ChaCha20Rng::seed_from_u64(7),
            msg_ids: MsgIdGenerator::new(),
            sent: Vec::new(),
            requests: Vec::new(),
        }
    }

    fn remember(list: &mut Vec<i64>, id: i64) {
        if list.len() == REMEMBERED {
            list.remove(0);
        }
        list.push(id);
    }

    /// Learns the message ids of a packet the session under test sent (sealed in `direction`).
    fn learn(&mut self, direction: Direction, packet: &[u8]) {
        let msg = decrypt_v2_message(&self.key, direction, packet)
            .expect("the session under test seals with the shared key");
        Self::remember(&mut self.sent, msg.msg_id);
        // A body that starts with the container id is not always a container the session
        // built: the application's own bodies are sent as they are.
        if wire::peek_id(&msg.body) == Some(MSG_CONTAINER_ID) {
            for m in wire::parse_container(&msg.body).unwrap_or_default() {
                Self::remember(&mut self.sent, m.msg_id);
            }
        }
    }

    fn pick(list: &[i64], k: u8) -> i64 {
        if list.is_empty() {
            0
        } else {
            list[usize::from(k) % list.len()]
        }
    }

    /// Replaces the markers in `body` by message ids the session under test sent.
    fn substitute(&self, body: &mut [u8]) {
        let mut at = 0;
        while at + 8 <= body.len() {
            let word = u64::from_le_bytes(body[at..at + 8].try_into().expect("8 bytes"));
            if word & !0xff == MARKER {
                let id = Self::pick(&self.sent, (word & 0xff) as u8);
                body[at..at + 8].copy_from_slice(&id.to_le_bytes());
                at += 8;
            } else {
                at += 4;
            }
        }
    }

    /// The inverse of [`Peer::substitute`]: every aligned word that is an id the session
    /// sent becomes its marker (the latest index for an id sent more than once).
    fn mark(&self, body: &[u8]) -> Vec<u8> {
        let mut out = body.to_vec();
        let mut at = 0;
        while at + 8 <= out.len() {
            let word = i64::from_le_bytes(out[at..at + 8].try_into().expect("8 bytes"));
            match self.sent.iter().rposition(|&id| id == word && id != 0) {
                Some(k) if k < 256 => {
                    out[at..at + 8].copy_from_slice(&(MARKER | k as u64).to_le_bytes());
                    at += 8;
                }
                _ => at += 4,
            }
        }
        out
    }

    /// Seals `s` in `direction` for a session whose salt and id are `salt` and `session_id`.
    fn seal(&mut self, s: &Sealed, direction: Direction, salt: i64, session_id: i64) -> Vec<u8> {
        let mut body = s.body.clone();
        if s.flags & NO_MARKERS == 0 {
            self.substitute(&mut body);
        }
        let kind = match direction {
            Direction::ClientToServer => MsgIdKind::Client,
            Direction::ServerToClient if s.flags & NOT_A_REPLY != 0 => MsgIdKind::ServerOther,
            Direction::ServerToClient => MsgIdKind::ServerReply,
        };
        let msg_id = if s.flags & 4 != 0 {
            self.msg_ids.next(self.now, kind)
        } else {
            s.msg_id
        };
        let length = if s.flags & 16 != 0 {
            s.length
        } else {
            body.len() as u32
        };
        let mut plain = Vec::with_capacity(32 + body.len());
        plain.extend_from_slice(&(if s.flags & 1 != 0 { salt } else { s.salt }).to_le_bytes());
        plain.extend_from_slice(
            &(if s.flags & 2 != 0 {
                session_id
            } else {
                s.session_id
            })
            .to_le_bytes(),
        );
        plain.extend_from_slice(&msg_id.to_le_bytes());
        plain.extend_from_slice(&s.seq_no.to_le_bytes());
        plain.extend_from_slice(&length.to_le_bytes());
        plain.extend_from_slice(&body);
        let pad = padding_len_v2(plain.len()) + 16 * usize::from(s.pad_blocks % 62);
        let mut padding = vec![0u8; pad];
        self.rng.fill_bytes(&mut padding);
        encrypt_v2_with_padding(&self.key, direction, &plain, &padding)
            .expect("the harness pads to 12..=1024 bytes, a multiple of 16")
    }
}

/// A client [`Session`] and the harness's side of its conversation.
pub struct ClientRun {
    session: Session,
    peer: Peer,
    rng: ChaCha20Rng,
    /// Packets the session sent since the last [`ClientRun::take_sent`].
    outbox: Vec<Vec<u8>>,
    /// Answers the session delivered (`Event::Response`).
    responses: usize,
}

impl ClientRun {
    /// A session set up as `setup` says (see [`setup_byte`]).
    pub fn new(setup: u8) -> Self {
        let time_offset = (setup & 1 != 0).then_some(0);
        let mut session = Session::new(
            SessionConfig::default(),
            key(1),
            SALT,
            time_offset,
            SESSION_ID,
        );
        if setup & 8 != 0 {
            session.set_prologue(Some(Prologue::new(|body| {
                ::auth_api::functions::InvokeWithLayer {
                    layer: ::auth_api::LAYER,
                    query: RawObject(body.to_vec()),
                }
                .to_bytes()
            })));
        }
        if setup & 4 != 0 {
            session.start_bind(BindPlan {
                perm_key: key(2),
                nonce: 0x0bad_cafe,
                expires_at: 1_700_086_400,
            });
        }
        if setup & 2 != 0 {
            session.enqueue(ping(1));
        }
        let mut run = Self {
            session,
            peer: Peer::new(),
            rng: ChaCha20Rng::seed_from_u64(3),
            outbox: Vec::new(),
            responses: 0,
        };
        run.drain();
        run
    }

    /// Runs one operation, then drains the session.
    pub fn apply(&mut self, op: Op) {
        let (session, peer) = (&mut self.session, &mut self.peer);
        match op {
            Op::Raw(bytes) => {
                let sealed_with_key = bytes.get(..8) == Some(&peer.key.id_bytes()[..]);
                let result = session.handle_packet(peer.now, &bytes);
                if !sealed_with_key {
                    assert_eq!(
                        result,
                        Err(SessionError::Decrypt),
                        "a packet of another key"
                    );
                }
            }
            Op::Sealed(s) => {
                let packet = peer.seal(
                    &s,
                    Direction::ServerToClient,
                    session.salt(),
                    session.session_id(),
                );
                let _ = session.handle_packet(peer.now, &packet);
            }
            Op::Answer { k, flag, result } => {
                let req_msg_id = Peer::pick(&peer.sent, k);
                let result = if flag {
                    ::tl_wire::gzip::pack(&result)
                } else {
                    result
                };
                let body = wire::build_rpc_result(req_msg_id, &result);
                let packet = peer.seal(
                    &Sealed::honest(body, 1, NO_MARKERS),
                    Direction::ServerToClient,
                    session.salt(),
                    session.session_id(),
                );
                let _ = session.handle_packet(peer.now, &packet);
            }
            Op::Send(body) => {
                session.enqueue(tl_aligned(body));
            }
            Op::Wait { secs, millis } => {
                peer.now += Duration::from_secs(secs.into()) + Duration::from_millis(millis.into());
                session.handle_timeout(peer.now);
            }
            Op::Lost(_) => session.connection_lost(),
            Op::Cancel(k) => session.cancel(RequestId(k.into())),
            Op::SetClock(secs) => peer.now = T0 + Duration::from_secs(secs.into()),
        }
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(packet) = self.session.poll_transmit(self.peer.now, &mut self.rng) {
            self.peer.learn(Direction::ClientToServer, &packet);
            self.outbox.push(packet);
        }
        while let Some(event) = self.session.poll_event() {
            let _ = format!("{event:?}");
            match event {
                Event::BadAnswer { error, .. } => {
                    let _ = error.to_string();
                }
                Event::Response { .. } => self.responses += 1,
                _ => {}
            }
        }
        let _ = self.session.poll_timeout();
    }

    /// The packets the session sent since the last call.
    pub fn take_sent(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.outbox)
    }

    /// The harness's clock.
    pub fn now(&self) -> Duration {
        self.peer.now
    }

    /// `body` with every id the session sent replaced by its marker (for seeds).
    pub fn mark(&self, body: &[u8]) -> Vec<u8> {
        self.peer.mark(body)
    }

    /// How many answers the session delivered to the application.
    pub fn responses(&self) -> usize {
        self.responses
    }
}

/// The `session_client` entry point: a client [`Session`] reads what a server sent.
pub fn client(data: &[u8]) {
    client_run(data);
}

/// Runs the `session_client` target on `data` and returns the run (for tests of the seeds).
pub fn client_run(data: &[u8]) -> ClientRun {
    let mut input = Input::new(data);
    let mut run = ClientRun::new(input.u8());
    for _ in 0..MAX_OPS {
        if input.is_empty() {
            break;
        }
        run.apply(Op::read(&mut input));
        run.outbox.clear();
    }
    run
}

/// A [`ServerSession`] and the harness's side of its conversation.
pub struct ServerRun {
    session: ServerSession,
    peer: Peer,
    rng: ChaCha20Rng,
    /// Packets the session sent since the last [`ServerRun::take_sent`].
    outbox: Vec<Vec<u8>>,
}

impl ServerRun {
    /// A server session (the setup byte is unused: reserved).
    pub fn new(_setup: u8) -> Self {
        Self {
            session: ServerSession::new(SessionConfig::default(), key(1), SALT),
            peer: Peer::new(),
            rng: ChaCha20Rng::seed_from_u64(4),
            outbox: Vec::new(),
        }
    }

    /// Runs one operation, then drains the session.
    pub fn apply(&mut self, op: Op) {
        let (session, peer) = (&mut self.session, &mut self.peer);
        match op {
            Op::Raw(bytes) => {
                let sealed_with_key = bytes.get(..8) == Some(&peer.key.id_bytes()[..]);
                let result = session.handle_packet(peer.now, &bytes);
                if !sealed_with_key {
                    assert_eq!(
                        result,
                        Err(SessionError::Decrypt),
                        "a packet of another key"
                    );
                }
            }
            Op::Sealed(s) => {
                let packet = peer.seal(&s, Direction::ClientToServer, session.salt(), SESSION_ID);
                let _ = session.handle_packet(peer.now, &packet);
            }
            Op::Answer { k, flag, result } => {
                let req_msg_id = Peer::pick(&peer.requests, k);
                if flag {
                    let message = String::from_utf8_lossy(&result).into_owned();
                    session.respond_error(req_msg_id, &RpcError::new(400, message));
                } else {
                    session.respond(req_msg_id, &tl_aligned(result));
                }
            }
            Op::Send(body) => session.push_update(tl_aligned(body)),
            Op::Wait { secs, millis } => {
                peer.now += Duration::from_secs(secs.into()) + Duration::from_millis(millis.into());
            }
            Op::Lost(salt) => session.set_salt(salt),
            Op::Cancel(_) => {}
            Op::SetClock(secs) => peer.now = T0 + Duration::from_secs(secs.into()),
        }
        while let Some(packet) = self.session.poll_transmit(self.peer.now, &mut self.rng) {
            self.peer.learn(Direction::ServerToClient, &packet);
            self.outbox.push(packet);
        }
        while let Some(event) = self.session.poll_event() {
            if let ServerEvent::Request { msg_id, .. } = event {
                Peer::remember(&mut self.peer.requests, msg_id);
            }
        }
    }

    /// The packets the session sent since the last call.
    pub fn take_sent(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.outbox)
    }

    /// How many requests the session reported so far (the most recent ones are kept).
    pub fn requests(&self) -> usize {
        self.peer.requests.len()
    }

    /// The harness's clock.
    pub fn now(&self) -> Duration {
        self.peer.now
    }

    /// `body` with every id the session sent replaced by its marker (for seeds).
    pub fn mark(&self, body: &[u8]) -> Vec<u8> {
        self.peer.mark(body)
    }
}

/// The `session_server` entry point: a [`ServerSession`] reads what a client sent.
pub fn server(data: &[u8]) {
    server_run(data);
}

/// Runs the `session_server` target on `data` and returns the run (for tests of the seeds).
pub fn server_run(data: &[u8]) -> ServerRun {
    let mut input = Input::new(data);
    let mut run = ServerRun::new(input.u8());
    for _ in 0..MAX_OPS {
        if input.is_empty() {
            break;
        }
        run.apply(Op::read(&mut input));
        run.outbox.clear();
    }
    run
}

/// `bytes` padded with zeros to a multiple of 4: what the application hands a session is
/// serialized TL, which always is (a session sends other lengths as they are, and every
/// peer refuses them).
fn tl_aligned(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.resize(bytes.len().div_ceil(4) * 4, 0);
    bytes
}

/// A `ping` request body.
pub fn ping(ping_id: i64) -> Vec<u8> {
    ::mtproto_proto::schema::functions::Ping { ping_id }.to_bytes()
}
