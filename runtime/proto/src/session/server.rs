//! The server role of the encrypted session, for the test DC: checks client packets, answers
//! the service messages itself (pings, future salts, state requests, destroy_session), sends
//! `bad_server_salt` / `bad_msg_notification` when a client gets salt, time or ids wrong, and
//! hands every other request to the application.

use std::collections::VecDeque;
use std::time::Duration;

use crate::schema::{enums, functions, types};
use mtproto_crypto::message::decrypt_v2_message;
use mtproto_crypto::{AuthKey, Direction};
use rand_core::CryptoRngCore;
use tl_wire::{Identifiable, Serialize};

use super::replay::{ReplayVerdict, ReplayWindow};
use super::wire::{self, Message, RpcError};
use super::{SessionConfig, SessionError};
use crate::msg_id::{msg_id_time, MsgIdGenerator, MsgIdKind};

/// What the application serving requests must act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// A request to answer with [`ServerSession::respond`] or [`ServerSession::respond_error`].
    Request {
        /// Its message id (the `req_msg_id` of the answer).
        msg_id: i64,
        /// The request's TL body (gzip unpacked).
        body: Vec<u8>,
    },
    /// The client started a new session.
    NewSession {
        /// Its id.
        session_id: i64,
    },
    /// A client message was refused with `bad_msg_notification` (this code) or
    /// `bad_server_salt` (code 48).
    Refused {
        /// The error code.
        code: i32,
    },
}

/// One message waiting to be sent.
#[derive(Debug)]
struct Outgoing {
    body: Vec<u8>,
    content_related: bool,
    kind: MsgIdKind,
}

/// How many earlier sessions of a key the server remembers for `destroy_session`.
const PAST_SESSIONS: usize = 16;

/// The server side of an MTProto 2.0 session over one authorization key.
pub struct ServerSession {
    config: SessionConfig,
    auth_key: AuthKey,
    salt: i64,
    session_id: Option<i64>,
    /// Sessions the client used before the current one (the newest last, at most
    /// [`PAST_SESSIONS`]): `destroy_session` can end them.
    past_sessions: VecDeque<i64>,
    msg_ids: MsgIdGenerator,
    seq: wire::SeqNo,
    replay: ReplayWindow,
    outgoing: VecDeque<Outgoing>,
    /// Refusals (`bad_msg_notification`, `bad_server_salt`), each sent in a packet of its own
    /// with the session id of the refused message, before anything else: a client whose clock
    /// is wrong checks a container's msg_id against its time window, but not a lone refusal.
    refusals: VecDeque<(i64, Vec<u8>)>,
    acks: Vec<i64>,
    events: VecDeque<ServerEvent>,
    /// The latest `now` seen: time never goes backwards inside the session.
    last_now: Duration,
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("auth_key", &self.auth_key)
            .field("session_id", &self.session_id)
            .field("outgoing", &self.outgoing.len())
            .finish_non_exhaustive()
    }
}

impl ServerSession {
    /// A session over `auth_key` that accepts `salt`.
    pub fn new(config: SessionConfig, auth_key: AuthKey, salt: i64) -> Self {
        Self {
            replay: ReplayWindow::new(config.replay_window),
            config,
            auth_key,
            salt,
            session_id: None,
            past_sessions: VecDeque::new(),
            msg_ids: MsgIdGenerator::new(),
            seq: wire::SeqNo::default(),
            outgoing: VecDeque::new(),
            refusals: VecDeque::new(),
            acks: Vec::new(),
            events: VecDeque::new(),
            last_now: Duration::ZERO,
        }
    }

    /// `now`, or the latest time seen if the caller's clock stepped back.
    fn observe(&mut self, now: Duration) -> Duration {
        self.last_now = self.last_now.max(now);
        self.last_now
    }

    /// The salt clients must use; changing it makes the next client message get a
    /// `bad_server_salt`.
    pub fn set_salt(&mut self, salt: i64) {
        self.salt = salt;
    }

    /// The current salt.
    pub fn salt(&self) -> i64 {
        self.salt
    }

    /// The client's session id, once a message arrived.
    pub fn session_id(&self) -> Option<i64> {
        self.session_id
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// Answers request `req_msg_id` with the serialized result object.
    pub fn respond(&mut self, req_msg_id: i64, result: &[u8]) {
        self.push(
            wire::build_rpc_result(req_msg_id, result),
            true,
            MsgIdKind::ServerReply,
        );
    }

    /// Answers request `req_msg_id` with an RPC error.
    pub fn respond_error(&mut self, req_msg_id: i64, error: &RpcError) {
        self.respond(req_msg_id, &error.to_bytes());
    }

    /// Sends a message that is not an answer (an update).
    pub fn push_update(&mut self, body: Vec<u8>) {
        self.push(body, true, MsgIdKind::ServerOther);
    }

    fn push(&mut self, body: Vec<u8>, content_related: bool, kind: MsgIdKind) {
        self.outgoing.push_back(Outgoing {
            body,
            content_related,
            kind,
        });
    }

    /// Decrypts and checks a client packet, answers service messages, and queues events for
    /// requests. Client mistakes that the protocol reports (salt, time, ids, seq_no parity)
    /// are answered with `bad_server_salt`/`bad_msg_notification` and return `Ok`.
    pub fn handle_packet(&mut self, now: Duration, packet: &[u8]) -> Result<(), SessionError> {
        let now = self.observe(now);
        let msg = decrypt_v2_message(&self.auth_key, Direction::ClientToServer, packet)
            .map_err(|_| SessionError::Decrypt)?;
        match self.replay.check(msg.msg_id) {
            ReplayVerdict::Fresh => {}
            ReplayVerdict::Duplicate => return Err(SessionError::Replayed { msg_id: msg.msg_id }),
            ReplayVerdict::TooOld => return Err(SessionError::TooOld { msg_id: msg.msg_id }),
        }
        if let Some(code) = self.msg_id_problem(now, msg.msg_id) {
            self.bad_msg(msg.session_id, msg.msg_id, msg.seq_no, code);
            return Ok(());
        }
        if msg.salt != self.salt {
            let bad = enums::BadMsgNotification::from(types::BadServerSalt {
                bad_msg_id: msg.msg_id,
                bad_msg_seqno: msg.seq_no,
                error_code: 48,
                new_server_salt: self.salt,
            });
            self.refusals.push_back((msg.session_id, bad.to_bytes()));
            self.events.push_back(ServerEvent::Refused { code: 48 });
            return Ok(());
        }
        let session_id = msg.session_id;
        let msg = Message::from(msg);
        // A gzip_packed body is checked once unpacked, in `process`.
        if let Some(expected_odd) = wire::parity_violation(&msg, &msg.body, true) {
            self.bad_msg(
                session_id,
                msg.msg_id,
                msg.seq_no,
                parity_code(expected_odd),
            );
            return Ok(());
        }
        if self.session_id != Some(session_id) {
            if let Some(old) = self.session_id.replace(session_id) {
                self.past_sessions.retain(|s| *s != old && *s != session_id);
                if self.past_sessions.len() == PAST_SESSIONS {
                    self.past_sessions.pop_front();
                }
                self.past_sessions.push_back(old);
            }
            self.seq = wire::SeqNo::default();
            let created = enums::NewSession::from(types::NewSessionCreated {
                first_msg_id: msg.msg_id,
                unique_id: session_id ^ msg.msg_id,
                server_salt: self.salt,
            });
            self.push(created.to_bytes(), true, MsgIdKind::ServerOther);
            self.events
                .push_back(ServerEvent::NewSession { session_id });
        }
        self.replay.insert(msg.msg_id);
        let mut budget = self.config.max_inflated;
        self.process(now, msg, true, &mut budget);
        Ok(())
    }

    /// The `bad_msg_notification` code for a client msg_id, if it is wrong.
    fn msg_id_problem(&self, now: Duration, msg_id: i64) -> Option<i32> {
        if msg_id % 4 != 0 {
            return Some(18);
        }
        let skew = msg_id_time(msg_id) - now.as_secs() as i64;
        if skew > 30 {
            Some(17)
        } else if skew < -300 {
            Some(16)
        } else {
            None
        }
    }

    fn bad_msg(&mut self, session_id: i64, msg_id: i64, seq_no: i32, code: i32) {
        let bad = enums::BadMsgNotification::from(types::BadMsgNotification {
            bad_msg_id: msg_id,
            bad_msg_seqno: seq_no,
            error_code: code,
        });
        self.refusals.push_back((session_id, bad.to_bytes()));
        self.events.push_back(ServerEvent::Refused { code });
    }

    /// Processes one accepted message (top-level, or inside a container). `budget` is what
    /// the packet may still inflate (`SessionConfig::max_inflated` for all of it).
    fn process(&mut self, now: Duration, msg: Message, top_level: bool, budget: &mut usize) {
        let session_id = self.session_id.unwrap_or_default();
        let body = match wire::unpack(&msg.body, budget, self.config.max_inflated) {
            Ok(b) => b.into_owned(),
            Err(error) => {
                tracing::warn!(msg_id = msg.msg_id, %error, "dropping a gzip_packed client message");
                return;
            }
        };
        if let Some(expected_odd) = wire::parity_violation(&msg, &body, true) {
            self.bad_msg(
                session_id,
                msg.msg_id,
                msg.seq_no,
                parity_code(expected_odd),
            );
            return;
        }
        let id = wire::peek_id(&body);
        // Pings, salt and state requests are acknowledged by their answer (`pong`,
        // `future_salts`, `msgs_state_info`); a separate ack would reach the client first.
        let answered_itself = matches!(
            id,
            Some(
                functions::Ping::CONSTRUCTOR_ID
                    | functions::PingDelayDisconnect::CONSTRUCTOR_ID
                    | functions::GetFutureSalts::CONSTRUCTOR_ID
                    | functions::DestroySession::CONSTRUCTOR_ID
                    | types::MsgsStateReq::CONSTRUCTOR_ID
            )
        );
        if msg.is_content_related() && !answered_itself {
            self.acks.push(msg.msg_id);
        }
        let result = match id {
            Some(wire::MSG_CONTAINER_ID) if top_level => {
                wire::parse_container(&body).map(|inner| {
                    for m in inner {
                        if let Some(code) = self.msg_id_problem(now, m.msg_id) {
                            self.bad_msg(session_id, m.msg_id, m.seq_no, code);
                        } else if self.replay.check(m.msg_id) == ReplayVerdict::Fresh {
                            self.replay.insert(m.msg_id);
                            self.process(now, m, false, budget);
                        }
                    }
                })
            }
            Some(wire::MSG_CONTAINER_ID) => {
                self.bad_msg(session_id, msg.msg_id, msg.seq_no, 64);
                Ok(())
            }
            Some(types::MsgsAck::CONSTRUCTOR_ID | types::MsgResendReq::CONSTRUCTOR_ID) => Ok(()),
            Some(types::MsgsStateInfo::CONSTRUCTOR_ID) => Ok(()),
            Some(types::MsgsStateReq::CONSTRUCTOR_ID) => wire::decode::<enums::MsgsStateReq>(&body)
                .map(|enums::MsgsStateReq::MsgsStateReq(req)| {
                    self.state_info(msg.msg_id, &req.msg_ids)
                }),
            Some(functions::Ping::CONSTRUCTOR_ID) => {
                wire::decode::<functions::Ping>(&body).map(|p| self.pong(msg.msg_id, p.ping_id))
            }
            Some(functions::PingDelayDisconnect::CONSTRUCTOR_ID) => {
                wire::decode::<functions::PingDelayDisconnect>(&body)
                    .map(|p| self.pong(msg.msg_id, p.ping_id))
            }
            Some(functions::GetFutureSalts::CONSTRUCTOR_ID) => {
                wire::decode::<functions::GetFutureSalts>(&body)
                    .map(|g| self.future_salts(now, msg.msg_id, g.num))
            }
            Some(functions::DestroySession::CONSTRUCTOR_ID) => {
                wire::decode::<functions::DestroySession>(&body)
                    .map(|d| self.destroy_session(d.session_id))
            }
            Some(_) => {
                self.events.push_back(ServerEvent::Request {
                    msg_id: msg.msg_id,
                    body,
                });
                Ok(())
            }
            None => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(msg_id = msg.msg_id, error = %e, "dropping a malformed client message");
        }
    }

    /// Answers `destroy_session` bare (the answer is its acknowledgement, as Telethon and
    /// mtcute expect): `destroy_session_ok` for a past session of this key, which is then
    /// forgotten, `destroy_session_none` for any other (the current one included).
    fn destroy_session(&mut self, session_id: i64) {
        let known = self.past_sessions.iter().position(|s| *s == session_id);
        let answer = match known {
            Some(i) => {
                self.past_sessions.remove(i);
                enums::DestroySessionRes::from(types::DestroySessionOk { session_id })
            }
            None => enums::DestroySessionRes::from(types::DestroySessionNone { session_id }),
        };
        self.push(answer.to_bytes(), true, MsgIdKind::ServerReply);
    }

    /// Answers `msgs_state_req` itself, as a service message (never a request for the
    /// application): one byte per id, from what the replay window knows.
    fn state_info(&mut self, req_msg_id: i64, msg_ids: &[i64]) {
        let info = msg_ids.iter().map(|id| self.replay.state_of(*id)).collect();
        let answer = enums::MsgsStateInfo::from(types::MsgsStateInfo { req_msg_id, info });
        self.push(answer.to_bytes(), false, MsgIdKind::ServerReply);
    }

    fn pong(&mut self, msg_id: i64, ping_id: i64) {
        // `pong` goes bare, not inside rpc_result, as Telegram's servers send it.
        let pong = enums::Pong::from(types::Pong { msg_id, ping_id });
        self.push(pong.to_bytes(), true, MsgIdKind::ServerReply);
    }

    fn future_salts(&mut self, now: Duration, req_msg_id: i64, num: i32) {
        let now = i32::try_from(now.as_secs()).unwrap_or(i32::MAX);
        let num = num.clamp(1, 64);
        // The current salt for this hour, then one more per hour: `salt + i`. The server does
        // not switch by itself; `set_salt` does.
        let salts = (0..num)
            .map(|i| types::FutureSalt {
                valid_since: now.saturating_add(i * 3600),
                valid_until: now.saturating_add((i + 1) * 3600),
                salt: if i == 0 {
                    self.salt
                } else {
                    self.salt.wrapping_add(i64::from(i))
                },
            })
            .collect::<Vec<_>>();
        let answer = enums::FutureSalts::from(types::FutureSalts {
            req_msg_id,
            now,
            salts: salts.into(),
        });
        self.push(answer.to_bytes(), true, MsgIdKind::ServerReply);
    }

    /// The next encrypted packet for the client, if anything is waiting.
    pub fn poll_transmit(
        &mut self,
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Option<Vec<u8>> {
        let now = self.observe(now);
        if let Some((session_id, body)) = self.refusals.pop_front() {
            let msg = Message {
                msg_id: self.msg_ids.next(now, MsgIdKind::ServerReply),
                seq_no: self.seq.next(false),
                body,
            };
            return Some(wire::seal(
                &self.auth_key,
                Direction::ServerToClient,
                self.salt,
                session_id,
                &msg,
                rng,
            ));
        }
        let session_id = self.session_id?;
        if self.outgoing.is_empty() && self.acks.is_empty() {
            return None;
        }
        let mut messages = Vec::new();
        if let Some(body) = wire::take_acks(&mut self.acks) {
            let msg_id = self.msg_ids.next(now, MsgIdKind::ServerOther);
            let seq_no = self.seq.next(false);
            messages.push(Message {
                msg_id,
                seq_no,
                body,
            });
        }
        let max = self
            .config
            .max_container_messages
            .clamp(1, wire::MAX_CONTAINER_MESSAGES);
        while messages.len() < max {
            let Some(out) = self.outgoing.pop_front() else {
                break;
            };
            let msg_id = self.msg_ids.next(now, out.kind);
            let seq_no = self.seq.next(out.content_related);
            messages.push(Message {
                msg_id,
                seq_no,
                body: out.body,
            });
        }
        let outer = if messages.len() == 1 {
            messages.pop()?
        } else {
            let msg_id = self.msg_ids.next(now, MsgIdKind::ServerOther);
            let seq_no = self.seq.next(false);
            Message {
                msg_id,
                seq_no,
                body: wire::build_container(&messages),
            }
        };
        Some(wire::seal(
            &self.auth_key,
            Direction::ServerToClient,
            self.salt,
            session_id,
            &outer,
            rng,
        ))
    }
}

/// The `bad_msg_notification` code for a seq_no of the wrong parity: 35 when an odd one was
/// expected (a content-related message), 34 when an even one was.
fn parity_code(expected_odd: bool) -> i32 {
    if expected_odd {
        35
    } else {
        34
    }
}
