//! The client role of the encrypted session.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use crate::schema::{enums, functions, types};
use mtproto_crypto::message::decrypt_v2_message;
use mtproto_crypto::{AuthKey, Direction};
use rand_core::CryptoRngCore;
use tl_wire::{DecodeError, Identifiable, Serialize};

use super::replay::{ReplayVerdict, ReplayWindow};
use super::wire::{self, Message, RpcError};
use super::{SessionConfig, SessionError};
use crate::msg_id::{msg_id_time, MsgIdGenerator, MsgIdKind};

/// Identifies a request the application enqueued; stays the same across resends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Something the application should know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The answer to a request: the result object's bytes (gzip already unpacked), or the
    /// RPC error.
    Response {
        /// The request.
        id: RequestId,
        /// The result.
        result: Result<Vec<u8>, RpcError>,
    },
    /// A message that is not an answer (an update, for example).
    Update {
        /// Its TL body.
        body: Vec<u8>,
    },
    /// The server started a new session (`new_session_created`): updates may have been missed.
    NewSession {
        /// The first message id the server saw in it.
        first_msg_id: i64,
    },
    /// A request was given up: the server refused it too many times in a row.
    Failed {
        /// The request.
        id: RequestId,
        /// The last refusal.
        reason: ResendReason,
    },
    /// The answer to a request came but cannot be read (a corrupt `gzip_packed`, an
    /// `rpc_error` whose message is not UTF-8, ...). The request is over: it is not resent.
    BadAnswer {
        /// The request.
        id: RequestId,
        /// What was wrong with the answer.
        error: DecodeError,
    },
    /// The temporary key is bound to the permanent one (`auth.bindTempAuthKey` answered
    /// `boolTrue`): the requests held back go out now.
    Bound,
    /// The server refused to bind the temporary key (the RPC error, or an answer that is not
    /// `boolTrue`): requests stay held back until the endpoint decides.
    BindRefused {
        /// The error, e.g. `ENCRYPTED_MESSAGE_INVALID` or `PERM_AUTH_KEY_INVALID`.
        error: RpcError,
    },
    /// A request was sent again (after a reconnect or a `bad_msg_notification`).
    Resent {
        /// The request.
        id: RequestId,
        /// Why.
        reason: ResendReason,
    },
}

/// Why a request was sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResendReason {
    /// The connection was lost before the answer came.
    Reconnect,
    /// `bad_server_salt` (or code 48).
    BadSalt,
    /// `bad_msg_notification` with this code.
    BadMsg(i32),
    /// The server asked for it (`msg_resend_req`) or announced an answer we never got.
    ServerRequest,
}

/// What kind of request an outgoing message is; internal ones do not surface as events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    App(RequestId),
    Ping,
    FutureSalts,
    /// A service message that expects no answer (`msg_resend_req`, `msgs_state_info`).
    Service,
    /// `auth.bindTempAuthKey`: its body is built when it is sent (it encrypts its own
    /// msg_id and the session id).
    Bind,
}

/// Binding this session's (temporary) key to a permanent key (core.telegram.org/api/pfs).
#[derive(Clone)]
pub struct BindPlan {
    /// The permanent key, which encrypts the MTProto 1.0 bind message.
    pub perm_key: AuthKey,
    /// A random nonce.
    pub nonce: i64,
    /// When the temporary key expires (Unix time, server clock).
    pub expires_at: i32,
}

impl std::fmt::Debug for BindPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BindPlan")
            .field("perm_key", &self.perm_key)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Constructor id of `auth.bindTempAuthKey` (the same at layer 23 and layer 230).
pub const BIND_TEMP_AUTH_KEY_ID: u32 = 0xcdd4_2a05;
/// Constructor id of `boolTrue`.
const BOOL_TRUE_ID: u32 = 0x9972_75b5;

/// A request waiting to be sent, or sent and waiting for its answer.
#[derive(Clone, Debug)]
struct Request {
    purpose: Purpose,
    body: Vec<u8>,
    /// `bad_msg_notification`/`bad_server_salt` refusals so far.
    refusals: u32,
    /// Whether the body went through the [`Prologue`].
    introduced: bool,
}

impl Request {
    fn new(purpose: Purpose, body: Vec<u8>) -> Self {
        Self {
            purpose,
            body,
            refusals: 0,
            introduced: false,
        }
    }
}

/// Wraps the first application request over each new key: how a client declares its
/// layer and app (`invokeWithLayer(initConnection(...))`), which the server keeps per key.
/// The runtime knows no API schema, so the application supplies the wrapping.
#[derive(Clone)]
pub struct Prologue(std::sync::Arc<WrapFn>);

/// What a [`Prologue`] runs.
type WrapFn = dyn Fn(&[u8]) -> Vec<u8> + Send + Sync;

impl Prologue {
    /// A prologue that wraps a request body with `wrap`.
    pub fn new(wrap: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(wrap))
    }

    /// `body` wrapped.
    pub fn wrap(&self, body: &[u8]) -> Vec<u8> {
        (self.0)(body)
    }
}

impl std::fmt::Debug for Prologue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prologue(..)")
    }
}

/// A bug planted on purpose (feature `testing`), to prove that the simulator and the tests
/// catch what it breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlantedBug {
    /// A lost connection forgets the requests it carried instead of resending them.
    ForgetUnansweredOnReconnect,
}

/// How many times in a row the server may refuse one request before it fails
/// ([`Event::Failed`]); stops a resend loop with a server whose clock disagrees with itself.
pub const MAX_REFUSALS: u32 = 5;

/// The client side of an MTProto 2.0 session: builds encrypted packets, checks and
/// dispatches incoming ones, and keeps requests until they are answered.
///
/// Polling order for a driver: after every input ([`Session::handle_packet`],
/// [`Session::handle_timeout`], [`Session::enqueue`]), call [`Session::poll_transmit`] until
/// it returns `None`, then drain [`Session::poll_event`], then sleep until
/// [`Session::poll_timeout`]. Extra timeout calls are harmless. Time should not go
/// backwards; if the caller's clock steps back, the session holds its time at the latest
/// value it saw until the clock catches up.
///
/// Clock: the session follows the server's clock: from the key exchange, `bad_msg` 16/17,
/// and the first authenticated message of each connection when that is more than 30 s
/// ahead (a replay is always behind). Once a connection has carried a message, the time
/// window holds (security check 13): a message more than 300 s behind or more than 30 s
/// ahead is refused, and refusing closes the connection; the next connection's first
/// message sets the clock again, so a stale stored offset or a server clock that stepped
/// forward costs one reconnect, never a lock-out.
pub struct Session {
    config: SessionConfig,
    auth_key: AuthKey,
    session_id: i64,
    salt: i64,
    future_salts: Vec<types::FutureSalt>,
    msg_ids: MsgIdGenerator,
    time_synced: bool,
    /// No message has been accepted on this connection yet: the next one may move the clock
    /// forward instead of being refused as too far ahead.
    clock_may_follow: bool,
    seq: wire::SeqNo,
    next_request: u64,
    queue: VecDeque<Request>,
    /// Sent and unanswered, by msg_id.
    pending: BTreeMap<i64, Request>,
    /// Containers sent, with the ids they held.
    containers: HashMap<i64, Vec<i64>>,
    acks: Vec<i64>,
    replay: ReplayWindow,
    events: VecDeque<Event>,
    next_ping: Option<Duration>,
    ping_id: i64,
    salts_requested: bool,
    new_session_needed: bool,
    /// The latest `now` seen: time never goes backwards inside the session.
    last_now: Duration,
    /// The bind in progress, if any.
    bind: Option<BindPlan>,
    /// Application requests wait in the queue (a bind is in progress, or the endpoint
    /// holds them while it changes keys).
    gated: bool,
    /// Wraps the first application request over each key.
    prologue: Option<Prologue>,
    /// The next application request sent goes through the prologue.
    needs_prologue: bool,
    /// A bug planted by a test (feature `testing`); `None` in production.
    planted: Option<PlantedBug>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("auth_key", &self.auth_key)
            .field("session_id", &format_args!("{:#x}", self.session_id))
            .field("queued", &self.queue.len())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A new session over `auth_key`. `time_offset` (server minus local seconds, from the key
    /// exchange) marks the clock as synchronized; `session_id` must be random.
    pub fn new(
        config: SessionConfig,
        auth_key: AuthKey,
        salt: i64,
        time_offset: Option<i64>,
        session_id: i64,
    ) -> Self {
        let mut msg_ids = MsgIdGenerator::new();
        if let Some(offset) = time_offset {
            msg_ids.sync_to_server_time(Duration::ZERO, offset);
        }
        Self {
            replay: ReplayWindow::new(config.replay_window),
            config,
            auth_key,
            session_id,
            salt,
            future_salts: Vec::new(),
            msg_ids,
            time_synced: time_offset.is_some(),
            clock_may_follow: true,
            seq: wire::SeqNo::default(),
            next_request: 0,
            queue: VecDeque::new(),
            pending: BTreeMap::new(),
            containers: HashMap::new(),
            acks: Vec::new(),
            events: VecDeque::new(),
            next_ping: None,
            ping_id: 0,
            salts_requested: false,
            new_session_needed: false,
            last_now: Duration::ZERO,
            bind: None,
            gated: false,
            prologue: None,
            needs_prologue: true,
            planted: None,
        }
    }

    /// `now`, or the latest time seen if the caller's clock stepped back.
    fn observe(&mut self, now: Duration) -> Duration {
        self.last_now = self.last_now.max(now);
        self.last_now
    }

    /// This session's id.
    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// The salt used for the next message.
    pub fn salt(&self) -> i64 {
        self.salt
    }

    /// The authorization key.
    pub fn auth_key(&self) -> &AuthKey {
        &self.auth_key
    }

    /// Server time minus local time, in seconds.
    pub fn time_offset(&self) -> i64 {
        self.msg_ids.time_offset()
    }

    /// Containers sent whose messages are not all answered yet (a diagnostic: it stays small).
    pub fn containers_in_flight(&self) -> usize {
        self.containers.len()
    }

    /// Requests enqueued or sent and not yet answered.
    pub fn unanswered(&self) -> usize {
        self.queue
            .iter()
            .chain(self.pending.values())
            .filter(|r| matches!(r.purpose, Purpose::App(_)))
            .count()
    }

    /// Wraps the first application request over this key, and over each new key after a
    /// [`Session::rekey`] or [`Session::start_bind`], with `prologue`.
    pub fn set_prologue(&mut self, prologue: Option<Prologue>) {
        self.prologue = prologue;
    }

    /// Plants `bug` (feature `testing`): for proving that tests catch it.
    #[cfg(feature = "testing")]
    pub fn plant_bug(&mut self, bug: Option<PlantedBug>) {
        self.planted = bug;
    }

    /// Binds this session's key to a permanent key: `auth.bindTempAuthKey` goes first, alone
    /// in its packet, and application requests wait until it is answered
    /// ([`Event::Bound`] or [`Event::BindRefused`]).
    pub fn start_bind(&mut self, plan: BindPlan) {
        self.queue.retain(|r| r.purpose != Purpose::Bind);
        self.pending.retain(|_, r| r.purpose != Purpose::Bind);
        self.bind = Some(plan);
        self.gated = true;
        self.queue
            .push_front(Request::new(Purpose::Bind, Vec::new()));
    }

    /// Holds application requests in the queue (`true`) or lets them go (`false`; not
    /// while a bind is in progress). Service messages and answers keep flowing.
    pub fn set_gated(&mut self, gated: bool) {
        self.gated = gated || self.bind.is_some();
    }

    /// Whether application requests are held back.
    pub fn is_gated(&self) -> bool {
        self.gated
    }

    /// Application requests sent and not yet answered (the queue not counted).
    pub fn in_flight(&self) -> usize {
        self.pending
            .values()
            .filter(|r| matches!(r.purpose, Purpose::App(_)))
            .count()
    }

    /// Enqueues a serialized request (a boxed TL function, possibly wrapped in
    /// `invokeWithLayer`/`initConnection`).
    pub fn enqueue(&mut self, body: Vec<u8>) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        self.queue.push_back(Request::new(Purpose::App(id), body));
        id
    }

    /// Enqueues a request under an id its caller assigned (the client endpoint numbers
    /// requests itself: they may come before the session exists). Never mix with
    /// [`Session::enqueue`] in one session.
    pub(crate) fn push_request(&mut self, id: RequestId, body: Vec<u8>) {
        self.queue.push_back(Request::new(Purpose::App(id), body));
    }

    /// Forgets a request: it is not sent (or resent), and its answer is dropped.
    pub fn cancel(&mut self, id: RequestId) {
        let introduced = self
            .queue
            .iter()
            .chain(self.pending.values())
            .any(|r| r.purpose == Purpose::App(id) && r.introduced);
        self.queue.retain(|r| r.purpose != Purpose::App(id));
        self.pending.retain(|_, r| r.purpose != Purpose::App(id));
        // The declaration may never have reached the server: the next request carries it.
        if introduced {
            self.needs_prologue = true;
        }
    }

    /// The connection was lost: every sent and unanswered request goes back to the queue, to
    /// be sent again with a new msg_id on the next connection (pings are dropped).
    pub fn connection_lost(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        if self.planted == Some(PlantedBug::ForgetUnansweredOnReconnect) {
            pending.clear();
        }
        self.containers.clear();
        let mut resend: Vec<Request> = pending
            .into_values()
            .filter(|r| r.purpose != Purpose::Ping)
            .collect();
        for r in &resend {
            if let Purpose::App(id) = r.purpose {
                self.events.push_back(Event::Resent {
                    id,
                    reason: ResendReason::Reconnect,
                });
            }
        }
        resend.extend(self.queue.drain(..));
        self.queue = resend.into();
        self.salts_requested = false;
        self.clock_may_follow = true;
    }

    /// Moves the session to a new authorization key (after the old one was lost, transport
    /// error -404): a fresh session (`session_id`, seq 0, salt, clock) in which every
    /// unanswered request is sent again, in its original order and with its `RequestId`.
    pub fn rekey(&mut self, auth_key: AuthKey, salt: i64, time_offset: i64, session_id: i64) {
        self.connection_lost();
        self.auth_key = auth_key;
        self.salt = salt;
        self.future_salts.clear();
        self.session_id = session_id;
        self.seq = wire::SeqNo::default();
        self.acks.clear();
        self.replay = ReplayWindow::new(self.config.replay_window);
        self.msg_ids = MsgIdGenerator::new();
        self.msg_ids
            .sync_to_server_time(Duration::ZERO, time_offset);
        self.time_synced = true;
        self.new_session_needed = false;
        self.needs_prologue = true;
        for r in &mut self.queue {
            r.refusals = 0;
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Session::handle_timeout`] should next be called. Before the first call it is
    /// "now" (`Duration::ZERO`), which arms the keepalive timer.
    pub fn poll_timeout(&self) -> Option<Duration> {
        Some(self.next_ping.unwrap_or(Duration::ZERO))
    }

    /// Queues a keepalive `ping_delay_disconnect` when its time has come, and
    /// `get_future_salts` when the known salts run low.
    pub fn handle_timeout(&mut self, now: Duration) {
        let now = self.observe(now);
        match self.next_ping {
            None => self.next_ping = Some(now + self.config.ping_interval),
            Some(at) if now >= at => {
                self.ping_id += 1;
                let body = functions::PingDelayDisconnect {
                    ping_id: self.ping_id,
                    disconnect_delay: self.config.ping_disconnect_delay,
                }
                .to_bytes();
                self.pending.retain(|_, r| r.purpose != Purpose::Ping);
                self.queue.push_back(Request::new(Purpose::Ping, body));
                self.next_ping = Some(now + self.config.ping_interval);
            }
            Some(_) => {}
        }
        let server_now = self.msg_ids.server_now(now);
        let salts_left = self
            .future_salts
            .iter()
            .filter(|s| i64::from(s.valid_until) > server_now)
            .count();
        if salts_left < 2 && !self.salts_requested {
            self.salts_requested = true;
            self.queue.push_back(Request::new(
                Purpose::FutureSalts,
                functions::GetFutureSalts { num: 32 }.to_bytes(),
            ));
        }
    }

    fn current_salt(&mut self, now: Duration) -> i64 {
        let server_now = self.msg_ids.server_now(now);
        if let Some(s) = self
            .future_salts
            .iter()
            .filter(|s| {
                i64::from(s.valid_since) <= server_now && server_now < i64::from(s.valid_until)
            })
            .max_by_key(|s| s.valid_until)
        {
            self.salt = s.salt;
        }
        self.salt
    }

    /// The next encrypted packet to send, if there is anything to send: queued requests
    /// (batched into a container within the configured limits) and acknowledgements.
    pub fn poll_transmit(
        &mut self,
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Option<Vec<u8>> {
        let now = self.observe(now);
        if self.new_session_needed {
            self.start_new_session(rng);
        }
        let gated = self.gated;
        let sendable = |r: &Request| !(gated && matches!(r.purpose, Purpose::App(_)));
        if !self.queue.iter().any(sendable) && self.acks.is_empty() {
            return None;
        }
        // The bind goes alone in its packet, so that its msg_id is the packet's.
        if self.queue.front().map(|r| r.purpose) == Some(Purpose::Bind) {
            return self.transmit_bind(now, rng);
        }
        let mut messages = Vec::new();
        let mut bytes = 0usize;
        let max_messages = self
            .config
            .max_container_messages
            .clamp(1, wire::MAX_CONTAINER_MESSAGES);
        if let Some(body) = wire::take_acks(&mut self.acks) {
            bytes += body.len() + wire::INNER_HEADER_LEN;
            let msg = Message {
                msg_id: self.msg_ids.next(now, MsgIdKind::Client),
                seq_no: self.seq.next(false),
                body,
            };
            messages.push(msg);
        }
        let mut held = VecDeque::new();
        while let Some(req) = self.queue.front() {
            if !sendable(req) {
                held.extend(self.queue.pop_front());
                continue;
            }
            if req.purpose == Purpose::Bind {
                break;
            }
            let cost = req.body.len() + wire::INNER_HEADER_LEN;
            if !messages.is_empty()
                && (messages.len() >= max_messages
                    || bytes + cost > self.config.max_container_bytes)
            {
                break;
            }
            let Some(mut req) = self.queue.pop_front() else {
                break;
            };
            if let (Purpose::App(_), true) = (req.purpose, self.needs_prologue) {
                self.needs_prologue = false;
                if let (Some(prologue), false) = (&self.prologue, req.introduced) {
                    req.body = prologue.wrap(&req.body);
                    req.introduced = true;
                }
            }
            bytes += cost;
            let body = self.maybe_gzip(&req.body);
            let msg = Message {
                msg_id: self.msg_ids.next(now, MsgIdKind::Client),
                seq_no: self.seq.next(true),
                body,
            };
            if req.purpose != Purpose::Service {
                self.pending.insert(msg.msg_id, req);
            }
            messages.push(msg);
        }
        // Held requests keep their place, ahead of what was not reached.
        while let Some(req) = held.pop_back() {
            self.queue.push_front(req);
        }
        if messages.is_empty() {
            return None;
        }
        let salt = self.current_salt(now);
        let outer = if messages.len() == 1 {
            messages.pop()?
        } else {
            let ids = messages.iter().map(|m| m.msg_id).collect();
            let container = Message {
                msg_id: self.msg_ids.next(now, MsgIdKind::Client),
                seq_no: self.seq.next(false),
                body: wire::build_container(&messages),
            };
            // Forget containers whose messages were all answered, so the map stays as small
            // as what is in flight.
            let pending = &self.pending;
            self.containers
                .retain(|_, inner| inner.iter().any(|id| pending.contains_key(id)));
            self.containers.insert(container.msg_id, ids);
            container
        };
        Some(wire::seal(
            &self.auth_key,
            Direction::ClientToServer,
            salt,
            self.session_id,
            &outer,
            rng,
        ))
    }

    /// The packet carrying `auth.bindTempAuthKey`, its bind message encrypted for this
    /// msg_id and session id.
    fn transmit_bind(&mut self, now: Duration, rng: &mut impl CryptoRngCore) -> Option<Vec<u8>> {
        let plan = self.bind.clone()?;
        let req = self.queue.pop_front()?;
        let msg_id = self.msg_ids.next(now, MsgIdKind::Client);
        let inner = mtproto_crypto::pfs::BindAuthKeyInner {
            nonce: plan.nonce,
            temp_auth_key_id: self.auth_key.id(),
            perm_auth_key_id: plan.perm_key.id(),
            temp_session_id: self.session_id,
            expires_at: plan.expires_at,
        };
        let encrypted =
            mtproto_crypto::pfs::encrypt_bind_message(&plan.perm_key, msg_id, &inner, rng);
        let mut body = Vec::with_capacity(4 + 8 + 8 + 4 + encrypted.len() + 8);
        body.extend_from_slice(&BIND_TEMP_AUTH_KEY_ID.to_le_bytes());
        body.extend_from_slice(&plan.perm_key.id().to_le_bytes());
        body.extend_from_slice(&plan.nonce.to_le_bytes());
        body.extend_from_slice(&plan.expires_at.to_le_bytes());
        encrypted.serialize(&mut body);
        let msg = Message {
            msg_id,
            seq_no: self.seq.next(true),
            body,
        };
        self.pending.insert(msg_id, req);
        let salt = self.current_salt(now);
        Some(wire::seal(
            &self.auth_key,
            Direction::ClientToServer,
            salt,
            self.session_id,
            &msg,
            rng,
        ))
    }

    fn maybe_gzip(&self, body: &[u8]) -> Vec<u8> {
        match self.config.gzip_min_len {
            Some(min) if body.len() >= min => {
                let out = tl_wire::gzip::pack(body);
                if out.len() < body.len() {
                    out
                } else {
                    body.to_vec()
                }
            }
            _ => body.to_vec(),
        }
    }

    fn start_new_session(&mut self, rng: &mut impl CryptoRngCore) {
        self.new_session_needed = false;
        self.session_id = rng.next_u64() as i64;
        self.seq = wire::SeqNo::default();
        let pending = std::mem::take(&mut self.pending);
        self.containers.clear();
        let mut resend: VecDeque<Request> = pending
            .into_values()
            .filter(|r| r.purpose != Purpose::Ping)
            .collect();
        resend.extend(self.queue.drain(..));
        self.queue = resend;
    }

    /// Decrypts and checks one packet from the server, then processes it. On error nothing
    /// changed (security guidelines items 8 to 14; the caller should drop the connection on
    /// [`SessionError::Decrypt`] and may ignore the others).
    pub fn handle_packet(&mut self, now: Duration, packet: &[u8]) -> Result<(), SessionError> {
        let now = self.observe(now);
        let msg = decrypt_v2_message(&self.auth_key, Direction::ServerToClient, packet)
            .map_err(|_| SessionError::Decrypt)?;
        if msg.session_id != self.session_id {
            return Err(SessionError::WrongSession {
                expected: self.session_id,
                got: msg.session_id,
            });
        }
        let resync = self.check_server_msg_id(now, msg.msg_id, &msg.body)?;
        let msg = Message::from(msg);
        // A gzip_packed body is checked once unpacked, in `process`.
        if let Some(expected_odd) = wire::parity_violation(&msg, &msg.body, false) {
            return Err(SessionError::BadSeqNoParity {
                msg_id: msg.msg_id,
                seq_no: msg.seq_no,
                expected_odd,
            });
        }
        self.accept_msg_id(now, msg.msg_id, resync);
        let mut budget = self.config.max_inflated;
        self.process(now, msg, true, &mut budget);
        Ok(())
    }

    /// Checks a server msg_id (parity, replay window, time window). `Ok(true)` means the
    /// message is authentic but more than 30 s ahead of our idea of the server's clock: our
    /// clock is behind, so follow the server's (a replayed message is always behind, never
    /// ahead).
    fn check_server_msg_id(
        &self,
        now: Duration,
        msg_id: i64,
        body: &[u8],
    ) -> Result<bool, SessionError> {
        if msg_id & 1 != 1 {
            return Err(SessionError::BadMsgIdParity { msg_id });
        }
        match self.replay.check(msg_id) {
            ReplayVerdict::Fresh => {}
            ReplayVerdict::Duplicate => return Err(SessionError::Replayed { msg_id }),
            ReplayVerdict::TooOld => return Err(SessionError::TooOld { msg_id }),
        }
        let exempt = matches!(
            wire::peek_id(body),
            Some(types::BadServerSalt::CONSTRUCTOR_ID | types::BadMsgNotification::CONSTRUCTOR_ID)
        );
        if !self.time_synced || exempt {
            return Ok(false);
        }
        let skew = msg_id_time(msg_id) - self.msg_ids.server_now(now);
        if skew < -300 || (skew > 30 && !self.clock_may_follow) {
            return Err(SessionError::OutsideTimeWindow { msg_id, skew });
        }
        Ok(skew > 30)
    }

    /// Records an accepted msg_id, following its clock when it was ahead of ours.
    fn accept_msg_id(&mut self, now: Duration, msg_id: i64, resync: bool) {
        if resync {
            tracing::info!(
                skew = msg_id_time(msg_id) - self.msg_ids.server_now(now),
                "the server's clock is ahead of ours: following it"
            );
            self.msg_ids.sync_to_server_time(now, msg_id_time(msg_id));
        }
        self.clock_may_follow = false;
        self.replay.insert(msg_id);
    }

    /// Processes one authenticated message (top-level, or inside a container). `budget` is
    /// what the packet may still inflate (`SessionConfig::max_inflated` for all of it).
    fn process(&mut self, now: Duration, msg: Message, top_level: bool, budget: &mut usize) {
        let body = match wire::unpack(&msg.body, budget, self.config.max_inflated) {
            Ok(b) => b.into_owned(),
            Err(e) => {
                if msg.is_content_related() {
                    self.acks.push(msg.msg_id);
                }
                tracing::warn!(msg_id = msg.msg_id, error = %e, "dropping a gzip_packed message");
                return;
            }
        };
        if let Some(expected_odd) = wire::parity_violation(&msg, &body, false) {
            tracing::warn!(
                msg_id = msg.msg_id,
                seq_no = msg.seq_no,
                expected_odd,
                "dropping a message whose seq_no has the wrong parity"
            );
            return;
        }
        if msg.is_content_related() {
            self.acks.push(msg.msg_id);
        }
        let Some(id) = wire::peek_id(&body) else {
            tracing::warn!(msg_id = msg.msg_id, "dropping an empty message");
            return;
        };
        let result = match id {
            wire::MSG_CONTAINER_ID if top_level => self.on_container(now, &body, budget),
            wire::RPC_RESULT_ID => self.on_rpc_result(&body, budget),
            types::MsgsAck::CONSTRUCTOR_ID => Ok(()),
            types::BadServerSalt::CONSTRUCTOR_ID => self.on_bad_server_salt(&body),
            types::BadMsgNotification::CONSTRUCTOR_ID => self.on_bad_msg(now, msg.msg_id, &body),
            types::NewSessionCreated::CONSTRUCTOR_ID => self.on_new_session(&body),
            types::Pong::CONSTRUCTOR_ID => self.on_pong(&body),
            types::FutureSalts::CONSTRUCTOR_ID => self.on_future_salts(&body),
            types::DestroySessionOk::CONSTRUCTOR_ID | types::DestroySessionNone::CONSTRUCTOR_ID => {
                self.on_destroy_session(body)
            }
            types::MsgDetailedInfo::CONSTRUCTOR_ID | types::MsgNewDetailedInfo::CONSTRUCTOR_ID => {
                self.on_detailed_info(&body)
            }
            types::MsgsStateReq::CONSTRUCTOR_ID => self.on_state_req(msg.msg_id, &body),
            types::MsgResendReq::CONSTRUCTOR_ID => self.on_resend_req(&body),
            types::MsgsStateInfo::CONSTRUCTOR_ID | types::MsgsAllInfo::CONSTRUCTOR_ID => Ok(()),
            _ => {
                self.events.push_back(Event::Update { body });
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!(msg_id = msg.msg_id, constructor = id, error = %e, "dropping a malformed message");
        }
    }

    /// The messages of a container get the checks of a top-level message (msg_id parity,
    /// replay and time windows; seq_no parity in `process`); a failing one is dropped alone.
    fn on_container(
        &mut self,
        now: Duration,
        body: &[u8],
        budget: &mut usize,
    ) -> Result<(), DecodeError> {
        for inner in wire::parse_container(body)? {
            match self.check_server_msg_id(now, inner.msg_id, &inner.body) {
                Ok(resync) => self.accept_msg_id(now, inner.msg_id, resync),
                Err(error) => {
                    tracing::warn!(msg_id = inner.msg_id, %error, "dropping a message of a container");
                    continue;
                }
            }
            self.process(now, inner, false, budget);
        }
        Ok(())
    }

    /// Routes an `rpc_result` to its request. Once the request is known, it always ends:
    /// with its answer, its RPC error, or [`Event::BadAnswer`] when the result cannot be read.
    fn on_rpc_result(&mut self, body: &[u8], budget: &mut usize) -> Result<(), DecodeError> {
        let (req_msg_id, result) = wire::parse_rpc_result(body)?;
        let Some(req) = self.pending.remove(&req_msg_id) else {
            tracing::debug!(req_msg_id, "answer to an unknown or cancelled request");
            return Ok(());
        };
        let answer = wire::unpack(result, budget, self.config.max_inflated).and_then(|result| {
            if wire::peek_id(&result) == Some(wire::RPC_ERROR_ID) {
                RpcError::parse(&result).map(Err)
            } else {
                Ok(Ok(result.into_owned()))
            }
        });
        match (req.purpose, answer) {
            (Purpose::App(id), Ok(result)) => {
                self.events.push_back(Event::Response { id, result });
            }
            (Purpose::App(id), Err(error)) => {
                self.events.push_back(Event::BadAnswer { id, error });
            }
            (Purpose::FutureSalts, answer) => {
                self.salts_requested = false;
                if let Ok(Ok(body)) = answer {
                    self.on_future_salts(&body)?;
                }
            }
            (Purpose::Bind, answer) => {
                let error = match answer {
                    Ok(Ok(body)) if wire::peek_id(&body) == Some(BOOL_TRUE_ID) => None,
                    Ok(Ok(_)) => Some(RpcError::new(400, "BIND_ANSWER_NOT_TRUE".into())),
                    Ok(Err(error)) => Some(error),
                    Err(error) => Some(RpcError::new(
                        400,
                        format!("BIND_ANSWER_UNREADABLE: {error}"),
                    )),
                };
                self.bind = None;
                match error {
                    None => {
                        self.gated = false;
                        self.events.push_back(Event::Bound);
                    }
                    Some(error) => self.events.push_back(Event::BindRefused { error }),
                }
            }
            (Purpose::Ping | Purpose::Service, _) => {}
        }
        Ok(())
    }

    /// Sends `msg_id` again (or every message of the container `msg_id`). A request the
    /// server refused [`MAX_REFUSALS`] times in a row fails instead ([`Event::Failed`]).
    fn resend(&mut self, msg_id: i64, reason: ResendReason) {
        let ids = self
            .containers
            .remove(&msg_id)
            .unwrap_or_else(|| vec![msg_id]);
        let refusal = matches!(reason, ResendReason::BadSalt | ResendReason::BadMsg(_));
        for id in ids.into_iter().rev() {
            let Some(mut req) = self.pending.remove(&id) else {
                continue;
            };
            if refusal {
                req.refusals += 1;
                if req.refusals >= MAX_REFUSALS {
                    if let Purpose::App(rid) = req.purpose {
                        self.events.push_back(Event::Failed { id: rid, reason });
                    }
                    continue;
                }
            }
            if let Purpose::App(rid) = req.purpose {
                self.events.push_back(Event::Resent { id: rid, reason });
            }
            self.queue.push_front(req);
        }
    }

    fn on_bad_server_salt(&mut self, body: &[u8]) -> Result<(), DecodeError> {
        let enums::BadMsgNotification::BadServerSalt(bad) =
            wire::decode::<enums::BadMsgNotification>(body)?
        else {
            return Ok(());
        };
        self.salt = bad.new_server_salt;
        self.future_salts.clear();
        self.resend(bad.bad_msg_id, ResendReason::BadSalt);
        Ok(())
    }

    fn on_bad_msg(
        &mut self,
        now: Duration,
        server_msg_id: i64,
        body: &[u8],
    ) -> Result<(), DecodeError> {
        let enums::BadMsgNotification::BadMsgNotification(bad) =
            wire::decode::<enums::BadMsgNotification>(body)?
        else {
            return Ok(());
        };
        match bad.error_code {
            16 | 17 => {
                // Our clock is off: take the server's from its message id, then resend.
                self.msg_ids
                    .sync_to_server_time(now, msg_id_time(server_msg_id));
                self.time_synced = true;
            }
            32 | 33 => {
                // seq_no out of step: start a fresh session, resending everything pending.
                self.new_session_needed = true;
            }
            18 | 19 | 20 | 34 | 35 | 48 | 64 => {}
            code => tracing::warn!(code, "unknown bad_msg_notification code"),
        }
        self.resend(bad.bad_msg_id, ResendReason::BadMsg(bad.error_code));
        Ok(())
    }

    fn on_new_session(&mut self, body: &[u8]) -> Result<(), DecodeError> {
        let enums::NewSession::Created(new) = wire::decode::<enums::NewSession>(body)?;
        self.salt = new.server_salt;
        self.events.push_back(Event::NewSession {
            first_msg_id: new.first_msg_id,
        });
        Ok(())
    }

    fn on_pong(&mut self, body: &[u8]) -> Result<(), DecodeError> {
        let enums::Pong::Pong(pong) = wire::decode::<enums::Pong>(body)?;
        // `pong` comes bare, not in rpc_result: it answers the ping with that msg_id, whether
        // the session's own keepalive or an application's `ping`.
        match self.pending.get(&pong.msg_id).map(|r| r.purpose) {
            Some(Purpose::Ping) => {
                self.pending.remove(&pong.msg_id);
            }
            Some(Purpose::App(id)) => {
                self.pending.remove(&pong.msg_id);
                self.events.push_back(Event::Response {
                    id,
                    result: Ok(body.to_vec()),
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn on_future_salts(&mut self, body: &[u8]) -> Result<(), DecodeError> {
        let enums::FutureSalts::FutureSalts(salts) = wire::decode::<enums::FutureSalts>(body)?;
        if let Some(req) = self.pending.get(&salts.req_msg_id) {
            if req.purpose == Purpose::FutureSalts {
                self.pending.remove(&salts.req_msg_id);
            }
        }
        self.salts_requested = false;
        self.future_salts = salts.salts.0;
        Ok(())
    }

    /// A bare `destroy_session_ok`/`_none` (servers answer `destroy_session` this way, without
    /// `rpc_result`): the answer of the pending `destroy_session` for that session id.
    fn on_destroy_session(&mut self, body: Vec<u8>) -> Result<(), DecodeError> {
        let session_id = match wire::decode::<enums::DestroySessionRes>(&body)? {
            enums::DestroySessionRes::DestroySessionOk(r) => r.session_id,
            enums::DestroySessionRes::DestroySessionNone(r) => r.session_id,
        };
        let request = functions::DestroySession { session_id }.to_bytes();
        let found = self
            .pending
            .iter()
            .find(|(_, r)| r.body == request)
            .map(|(msg_id, r)| (*msg_id, r.purpose));
        match found {
            Some((msg_id, Purpose::App(id))) => {
                self.pending.remove(&msg_id);
                self.events.push_back(Event::Response {
                    id,
                    result: Ok(body),
                });
            }
            _ => tracing::debug!("destroy_session answer for no pending request"),
        }
        Ok(())
    }

    fn on_detailed_info(&mut self, body: &[u8]) -> Result<(), DecodeError> {
        let answer_msg_id = match wire::decode::<enums::MsgDetailedInfo>(body)? {
            enums::MsgDetailedInfo::MsgDetailedInfo(i) => i.answer_msg_id,
            enums::MsgDetailedInfo::MsgNewDetailedInfo(i) => i.answer_msg_id,
        };
        if self.replay.contains(answer_msg_id) {
            self.acks.push(answer_msg_id);
        } else {
            // We never got the answer: ask for it again.
            let body = enums::MsgResendReq::from(types::MsgResendReq {
                msg_ids: vec![answer_msg_id],
            })
            .to_bytes();
            self.queue.push_back(Request::new(Purpose::Service, body));
        }
        Ok(())
    }

    fn on_state_req(&mut self, msg_id: i64, body: &[u8]) -> Result<(), DecodeError> {
        let enums::MsgsStateReq::MsgsStateReq(req) = wire::decode::<enums::MsgsStateReq>(body)?;
        // One byte per id (see `ReplayWindow::state_of`).
        let info: Vec<u8> = req
            .msg_ids
            .iter()
            .map(|id| self.replay.state_of(*id))
            .collect();
        let body = enums::MsgsStateInfo::from(types::MsgsStateInfo {
            req_msg_id: msg_id,
            info,
        })
        .to_bytes();
        self.queue.push_back(Request::new(Purpose::Service, body));
        Ok(())
    }

    fn on_resend_req(&mut self, body: &[u8]) -> Result<(), DecodeError> {
        let ids = match wire::decode::<enums::MsgResendReq>(body)? {
            enums::MsgResendReq::MsgResendReq(r) => r.msg_ids,
            enums::MsgResendReq::MsgResendAnsReq(r) => r.msg_ids,
        };
        for id in ids {
            self.resend(id, ResendReason::ServerRequest);
        }
        Ok(())
    }
}
