//! The encrypted session: client against the server role with a virtual clock, plus crafted
//! server packets for each service message and each incoming check (security guidelines 8-14).

use std::time::Duration;

use mtproto_crypto::keys::{derive_v2, msg_key_v2};
use mtproto_crypto::{AuthKey, Direction};
use mtproto_proto::schema::{enums, functions, types};
use mtproto_proto::session::wire::{self, Message};
use mtproto_proto::session::{
    Event, ResendReason, RpcError, ServerEvent, ServerSession, Session, SessionConfig, SessionError,
};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tl_wire::{Deserialize, Identifiable, Serialize};

const T0: Duration = Duration::from_secs(1_700_000_000);
const SESSION_ID: i64 = 0x1122_3344_5566_7788;
const SALT: i64 = 0x0102_0304_0506_0708;

fn key() -> AuthKey {
    let mut k = [0u8; 256];
    ChaCha20Rng::seed_from_u64(1).fill_bytes(&mut k);
    AuthKey::from_bytes(k)
}

/// A client and a server session over one key, a virtual clock, and a seeded RNG.
struct Pair {
    client: Session,
    server: ServerSession,
    now: Duration,
    rng: ChaCha20Rng,
    /// Packets the client sent (for tests that replay or inspect them).
    sent: Vec<Vec<u8>>,
}

impl Pair {
    fn new(config: SessionConfig) -> Self {
        Self {
            client: Session::new(config.clone(), key(), SALT, Some(0), SESSION_ID),
            server: ServerSession::new(config, key(), SALT),
            now: T0,
            rng: ChaCha20Rng::seed_from_u64(2),
            sent: Vec::new(),
        }
    }

    /// Delivers everything the client has to the server; returns the packet count.
    fn client_to_server(&mut self) -> usize {
        let mut n = 0;
        while let Some(p) = self.client.poll_transmit(self.now, &mut self.rng) {
            self.server
                .handle_packet(self.now, &p)
                .expect("server accepts");
            self.sent.push(p);
            n += 1;
        }
        n
    }

    fn server_to_client(&mut self) -> usize {
        let mut n = 0;
        while let Some(p) = self.server.poll_transmit(self.now, &mut self.rng) {
            self.client
                .handle_packet(self.now, &p)
                .expect("client accepts");
            n += 1;
        }
        n
    }

    /// Server requests (answering none).
    fn server_requests(&mut self) -> Vec<(i64, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some(e) = self.server.poll_event() {
            if let ServerEvent::Request { msg_id, body } = e {
                out.push((msg_id, body));
            }
        }
        out
    }

    fn client_events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    /// Runs both ways until nothing moves, answering every request with `answer(body)`.
    fn drive(&mut self, answer: impl Fn(&[u8]) -> Result<Vec<u8>, RpcError>) {
        for _ in 0..16 {
            let moved = self.client_to_server();
            for (msg_id, body) in self.server_requests() {
                match answer(&body) {
                    Ok(r) => self.server.respond(msg_id, &r),
                    Err(e) => self.server.respond_error(msg_id, &e),
                }
            }
            if moved + self.server_to_client() == 0 {
                return;
            }
        }
        panic!("the sessions did not settle");
    }
}

fn echo(body: &[u8]) -> Result<Vec<u8>, RpcError> {
    Ok(body.to_vec())
}

fn responses(events: &[Event]) -> Vec<(u64, Result<Vec<u8>, RpcError>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Response { id, result } => Some((id.0, result.clone())),
            _ => None,
        })
        .collect()
}

fn request(n: i64) -> Vec<u8> {
    functions::Ping { ping_id: n }
        .to_bytes()
        .iter()
        .map(|b| b ^ 0x55)
        .collect()
}

#[test]
fn request_gets_its_response_and_both_sides_ack() {
    let mut p = Pair::new(SessionConfig::default());
    let id = p.client.enqueue(request(1));
    p.drive(echo);
    let events = p.client_events();
    assert!(events.contains(&Event::NewSession {
        first_msg_id: events_first_msg_id(&events)
    }));
    assert_eq!(responses(&events), vec![(id.0, Ok(request(1)))]);
    assert_eq!(p.client.unanswered(), 0);
}

fn events_first_msg_id(events: &[Event]) -> i64 {
    events
        .iter()
        .find_map(|e| match e {
            Event::NewSession { first_msg_id } => Some(*first_msg_id),
            _ => None,
        })
        .expect("new_session_created reached the client")
}

#[test]
fn requests_are_batched_in_containers_within_limits() {
    let config = SessionConfig {
        max_container_messages: 3,
        ..SessionConfig::default()
    };
    let mut p = Pair::new(config);
    let ids: Vec<_> = (0..7).map(|i| p.client.enqueue(request(i))).collect();
    assert_eq!(
        p.client_to_server(),
        3,
        "7 requests in containers of at most 3"
    );
    let got = p.server_requests();
    assert_eq!(got.len(), 7);
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "ids increase");
    for (i, (_, body)) in got.iter().enumerate() {
        assert_eq!(body, &request(i as i64));
    }
    for (msg_id, body) in got {
        p.server.respond(msg_id, &body);
    }
    p.server_to_client();
    let r = responses(&p.client_events());
    assert_eq!(r.len(), 7);
    assert_eq!(
        r.iter().map(|x| x.0).collect::<Vec<_>>(),
        ids.iter().map(|i| i.0).collect::<Vec<_>>()
    );
}

#[test]
fn rpc_error_is_split_into_name_and_value() {
    let mut p = Pair::new(SessionConfig::default());
    let id = p.client.enqueue(request(1));
    p.drive(|_| Err(RpcError::new(420, "FLOOD_WAIT_17".into())));
    let r = responses(&p.client_events());
    let Err(e) = &r[0].1 else {
        panic!("expected an error")
    };
    assert_eq!(r[0].0, id.0);
    assert_eq!(
        (e.code, e.name.as_str(), e.value),
        (420, "FLOOD_WAIT", Some(17))
    );
    assert_eq!(RpcError::new(400, "PHONE_CODE_INVALID".into()).value, None);
    assert_eq!(
        RpcError::new(303, "PHONE_MIGRATE_2".into()).name,
        "PHONE_MIGRATE"
    );
}

#[test]
fn gzip_packed_both_ways_and_both_framings() {
    let config = SessionConfig {
        gzip_min_len: Some(64),
        ..SessionConfig::default()
    };
    let mut p = Pair::new(config);
    let big = vec![7u8; 4000];
    p.client.enqueue(big.clone());
    p.client_to_server();
    let got = p.server_requests();
    assert_eq!(got[0].1, big, "the server sees the unpacked request");
    assert!(p.sent[0].len() < 1000, "the request went compressed");
    // Answers packed with gzip framing and with zlib framing both arrive unpacked.
    let gz = tl_wire::gzip::pack(&big);
    let mut zlib = Vec::new();
    {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(&mut zlib, flate2::Compression::default());
        e.write_all(&big).unwrap();
        e.finish().unwrap();
    }
    let id2 = p.client.enqueue(request(2));
    p.client_to_server();
    let second = p.server_requests();
    p.server.respond(got[0].0, &gz);
    p.server.respond(second[0].0, &gzip_packed(&zlib));
    p.server_to_client();
    let r = responses(&p.client_events());
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|(_, res)| res.as_ref() == Ok(&big)));
    assert_eq!(r[1].0, id2.0);
}

fn gzip_packed(data: &[u8]) -> Vec<u8> {
    let mut out = wire::GZIP_PACKED_ID.to_le_bytes().to_vec();
    tl_wire::write_bytes(&mut out, data);
    out
}

#[test]
fn bad_server_salt_is_recovered_transparently() {
    let mut p = Pair::new(SessionConfig::default());
    p.client.enqueue(request(0));
    p.drive(echo);
    p.client_events();
    p.server.set_salt(0x7777);
    let id = p.client.enqueue(request(1));
    p.drive(echo);
    let events = p.client_events();
    assert!(events.contains(&Event::Resent {
        id,
        reason: ResendReason::BadSalt
    }));
    assert_eq!(
        responses(&events),
        vec![(id.0, Ok(request(1)))],
        "answered exactly once"
    );
    assert_eq!(p.client.salt(), 0x7777);
}

#[test]
fn bad_msg_16_and_17_resync_the_clock_and_resend() {
    for (skew, code) in [(400i64, 16), (-100, 17)] {
        let config = SessionConfig::default();
        let mut p = Pair::new(config.clone());
        // A client whose clock is off and not yet synchronized.
        p.client = Session::new(config, key(), SALT, None, SESSION_ID);
        let client_now = Duration::from_secs((T0.as_secs() as i64 - skew) as u64);
        let id = p.client.enqueue(request(1));
        let packet = p.client.poll_transmit(client_now, &mut p.rng).unwrap();
        p.server.handle_packet(T0, &packet).unwrap();
        assert!(
            p.server_requests().is_empty(),
            "the server refused the message"
        );
        while let Some(pk) = p.server.poll_transmit(T0, &mut p.rng) {
            p.client.handle_packet(client_now, &pk).unwrap();
        }
        assert_eq!(
            p.client.time_offset(),
            skew,
            "clock taken from the server msg_id"
        );
        let resend = p.client.poll_transmit(client_now, &mut p.rng).unwrap();
        p.server.handle_packet(T0, &resend).unwrap();
        let got = p.server_requests();
        assert_eq!(got.len(), 1, "code {code}: resent and accepted");
        p.server.respond(got[0].0, &got[0].1);
        while let Some(pk) = p.server.poll_transmit(T0, &mut p.rng) {
            p.client.handle_packet(client_now, &pk).unwrap();
        }
        let events = p.client_events();
        assert!(events.contains(&Event::Resent {
            id,
            reason: ResendReason::BadMsg(code)
        }));
        assert_eq!(responses(&events).len(), 1);
    }
}

#[test]
fn connection_loss_resends_unanswered_requests_once() {
    let mut p = Pair::new(SessionConfig::default());
    let answered = p.client.enqueue(request(1));
    p.drive(echo);
    let lost = p.client.enqueue(request(2));
    // Sent, but the connection drops before the server gets it.
    let dropped = p.client.poll_transmit(p.now, &mut p.rng).unwrap();
    p.client.connection_lost();
    p.drive(echo);
    let events = p.client_events();
    assert!(events.contains(&Event::Resent {
        id: lost,
        reason: ResendReason::Reconnect
    }));
    let r = responses(&events);
    assert_eq!(r.iter().filter(|x| x.0 == lost.0).count(), 1);
    assert_eq!(
        r.iter().filter(|x| x.0 == answered.0).count(),
        1,
        "no second answer"
    );
    // The dropped packet arriving late is a replay of nothing new: the server executes a
    // request with its old msg_id, whose answer the client ignores.
    p.server.handle_packet(p.now, &dropped).unwrap();
    p.drive(echo);
    assert!(responses(&p.client_events()).is_empty());
}

#[test]
fn pings_and_future_salts_are_internal() {
    let mut p = Pair::new(SessionConfig::default());
    p.client.handle_timeout(p.now); // arms the ping timer, asks for salts
    let at = p.client.poll_timeout().expect("ping scheduled");
    p.drive(echo);
    p.now = at;
    p.client.handle_timeout(p.now);
    p.drive(echo);
    let events = p.client_events();
    assert!(
        responses(&events).is_empty(),
        "internal requests raise no events: {events:?}"
    );
    assert_eq!(p.client.unanswered(), 0);
    assert!(p.client.poll_timeout().unwrap() > at);
}

/// Minimal valid padding.
const AUTO: usize = 0;

/// A server packet crafted by hand: `padding_len` padding bytes (or the minimal valid padding
/// for [`AUTO`]), and optionally a false `message_data_length`.
fn craft(msg: &Message, session_id: i64, padding_len: usize, declared_len: Option<u32>) -> Vec<u8> {
    let mut plain = wire::plaintext(SALT, session_id, msg);
    if let Some(len) = declared_len {
        plain[28..32].copy_from_slice(&len.to_le_bytes());
    }
    let padding_len = if padding_len == AUTO {
        12 + (16 - (plain.len() + 12) % 16) % 16
    } else {
        padding_len
    };
    plain.extend(std::iter::repeat(0xAB).take(padding_len));
    let k = key();
    let msg_key = msg_key_v2(&k, Direction::ServerToClient, &plain);
    let aes = derive_v2(&k, Direction::ServerToClient, &msg_key);
    mtproto_crypto::ige::encrypt_ige(&mut plain, aes.key(), aes.iv()).unwrap();
    let mut out = k.id_bytes().to_vec();
    out.extend_from_slice(&msg_key);
    out.extend_from_slice(&plain);
    out
}

fn update(msg_id: i64) -> Message {
    Message {
        msg_id,
        seq_no: 1,
        body: vec![1, 2, 3, 4, 5, 6, 7, 8],
    }
}

fn server_id(secs_from_t0: i64, n: i64) -> i64 {
    ((T0.as_secs() as i64 + secs_from_t0) << 32) | (n * 4 + 3)
}

/// Asserts that `packet` is rejected with `expected` and leaves the client unchanged, then that
/// a valid copy of the message is still accepted (the rejected id was not recorded).
fn rejected_without_change(
    client: &mut Session,
    packet: &[u8],
    expected: SessionError,
    valid: Option<&[u8]>,
) {
    assert_eq!(client.handle_packet(T0, packet), Err(expected));
    assert!(
        client.poll_event().is_none(),
        "no event from a rejected message"
    );
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    assert!(
        client.poll_transmit(T0, &mut rng).is_none(),
        "nothing to ack"
    );
    if let Some(valid) = valid {
        client
            .handle_packet(T0, valid)
            .expect("the valid message is accepted");
        assert!(matches!(client.poll_event(), Some(Event::Update { .. })));
    }
}

fn fresh_client() -> Session {
    Session::new(SessionConfig::default(), key(), SALT, Some(0), SESSION_ID)
}

#[test]
fn every_incoming_check_rejects_without_changing_state() {
    let id = server_id(0, 1);
    let valid = craft(&update(id), SESSION_ID, AUTO, None);

    // 8: msg_key recomputed (a flipped msg_key byte), auth_key_id, length % 16.
    let mut bad = valid.clone();
    bad[8] ^= 1;
    rejected_without_change(
        &mut fresh_client(),
        &bad,
        SessionError::Decrypt,
        Some(&valid),
    );
    let mut bad = valid.clone();
    bad[0] ^= 1;
    rejected_without_change(
        &mut fresh_client(),
        &bad,
        SessionError::Decrypt,
        Some(&valid),
    );
    let mut bad = valid.clone();
    bad.truncate(bad.len() - 4);
    rejected_without_change(
        &mut fresh_client(),
        &bad,
        SessionError::Decrypt,
        Some(&valid),
    );

    // 9: padding below 12 or above 1024, body length past the plaintext or not a multiple of 4.
    let short_pad = craft(&update(id), SESSION_ID, 8, None);
    rejected_without_change(
        &mut fresh_client(),
        &short_pad,
        SessionError::Decrypt,
        Some(&valid),
    );
    let long_pad = craft(&update(id), SESSION_ID, 1032, None);
    rejected_without_change(
        &mut fresh_client(),
        &long_pad,
        SessionError::Decrypt,
        Some(&valid),
    );
    let too_long = craft(&update(id), SESSION_ID, 24, Some(4096));
    rejected_without_change(
        &mut fresh_client(),
        &too_long,
        SessionError::Decrypt,
        Some(&valid),
    );
    let unaligned = craft(&update(id), SESSION_ID, 24, Some(6));
    rejected_without_change(
        &mut fresh_client(),
        &unaligned,
        SessionError::Decrypt,
        Some(&valid),
    );

    // 10: session_id.
    let other = craft(&update(id), 42, AUTO, None);
    rejected_without_change(
        &mut fresh_client(),
        &other,
        SessionError::WrongSession {
            expected: SESSION_ID,
            got: 42,
        },
        Some(&valid),
    );

    // 11: server msg_id parity.
    let even = craft(&update(id - 3), SESSION_ID, AUTO, None);
    rejected_without_change(
        &mut fresh_client(),
        &even,
        SessionError::BadMsgIdParity { msg_id: id - 3 },
        Some(&valid),
    );

    // 12: replay: a duplicate, and an id below a full window.
    let mut c = fresh_client();
    c.handle_packet(T0, &valid).unwrap();
    c.poll_event();
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    c.poll_transmit(T0, &mut rng); // flush the ack
    rejected_without_change(&mut c, &valid, SessionError::Replayed { msg_id: id }, None);
    let config = SessionConfig {
        replay_window: 2,
        ..SessionConfig::default()
    };
    let mut c = Session::new(config, key(), SALT, Some(0), SESSION_ID);
    for n in 10..12 {
        c.handle_packet(T0, &craft(&update(server_id(0, n)), SESSION_ID, AUTO, None))
            .unwrap();
    }
    while c.poll_event().is_some() {}
    c.poll_transmit(T0, &mut rng);
    let old = craft(&update(server_id(0, 5)), SESSION_ID, AUTO, None);
    rejected_without_change(
        &mut c,
        &old,
        SessionError::TooOld {
            msg_id: server_id(0, 5),
        },
        None,
    );

    // 13: time window once synchronized: 301 s behind is refused. 31 s ahead as the first
    // message of a connection cannot be a replay (a replay is always behind): the client's
    // clock is behind, so it follows the server's instead of refusing every answer.
    let ahead = craft(&update(server_id(31, 1)), SESSION_ID, AUTO, None);
    let mut c = fresh_client();
    c.handle_packet(T0, &ahead).expect("ahead: accepted");
    assert!(matches!(c.poll_event(), Some(Event::Update { .. })));
    assert_eq!(c.time_offset(), 31, "the clock follows the server");
    // Once the connection has carried a message, 31 s ahead is refused...
    let mut c = fresh_client();
    c.handle_packet(T0, &valid).expect("valid");
    c.poll_event();
    c.poll_transmit(T0, &mut rng); // flush the ack
    let second = server_id(0, 2);
    rejected_without_change(
        &mut c,
        &ahead,
        SessionError::OutsideTimeWindow {
            msg_id: server_id(31, 1),
            skew: 31,
        },
        Some(&craft(&update(second), SESSION_ID, AUTO, None)),
    );
    assert_eq!(
        c.time_offset(),
        0,
        "the refused message did not move the clock"
    );
    // ... until the next connection, whose first message sets the clock again.
    c.poll_transmit(T0, &mut rng);
    c.connection_lost();
    c.handle_packet(T0, &ahead)
        .expect("first message of a new connection");
    assert!(matches!(c.poll_event(), Some(Event::Update { .. })));
    assert_eq!(c.time_offset(), 31);
    let behind = craft(&update(server_id(-301, 1)), SESSION_ID, AUTO, None);
    rejected_without_change(
        &mut fresh_client(),
        &behind,
        SessionError::OutsideTimeWindow {
            msg_id: server_id(-301, 1),
            skew: -301,
        },
        Some(&valid),
    );
    // seq_no parity: an update must be odd (content-related), an ack even.
    let even_update = Message {
        seq_no: 2,
        ..update(id)
    };
    rejected_without_change(
        &mut fresh_client(),
        &craft(&even_update, SESSION_ID, AUTO, None),
        SessionError::BadSeqNoParity {
            msg_id: id,
            seq_no: 2,
            expected_odd: true,
        },
        Some(&valid),
    );
    let odd_ack = Message {
        msg_id: id,
        seq_no: 1,
        body: enums::MsgsAck::from(types::MsgsAck { msg_ids: vec![4] }).to_bytes(),
    };
    rejected_without_change(
        &mut fresh_client(),
        &craft(&odd_ack, SESSION_ID, AUTO, None),
        SessionError::BadSeqNoParity {
            msg_id: id,
            seq_no: 1,
            expected_odd: false,
        },
        Some(&valid),
    );

    // ... except bad_server_salt, which must get through to fix the clock or salt.
    let salt_fix = Message {
        msg_id: server_id(-301, 2),
        seq_no: 0,
        body: enums::BadMsgNotification::from(types::BadServerSalt {
            bad_msg_id: 4,
            bad_msg_seqno: 1,
            error_code: 48,
            new_server_salt: 99,
        })
        .to_bytes(),
    };
    let mut c = fresh_client();
    c.handle_packet(T0, &craft(&salt_fix, SESSION_ID, AUTO, None))
        .expect("exempt from the window");
    assert_eq!(c.salt(), 99);
    // An unsynchronized client accepts any time.
    let mut c = Session::new(SessionConfig::default(), key(), SALT, None, SESSION_ID);
    c.handle_packet(T0, &ahead)
        .expect("no window before the clock is synced");
}

#[test]
fn service_messages_from_the_server() {
    let mut c = fresh_client();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let id = c.enqueue(request(1));
    let sent = c.poll_transmit(T0, &mut rng).unwrap();
    let mut server = ServerSession::new(SessionConfig::default(), key(), SALT);
    server.handle_packet(T0, &sent).unwrap();
    let req_msg_id = std::iter::from_fn(|| server.poll_event())
        .find_map(|e| match e {
            ServerEvent::Request { msg_id, .. } => Some(msg_id),
            _ => None,
        })
        .unwrap();

    // msg_resend_req: the client sends the request again (same RequestId).
    let resend_req = Message {
        msg_id: server_id(0, 1),
        seq_no: 1,
        body: enums::MsgResendReq::from(types::MsgResendReq {
            msg_ids: vec![req_msg_id],
        })
        .to_bytes(),
    };
    c.handle_packet(T0, &craft(&resend_req, SESSION_ID, AUTO, None))
        .unwrap();
    assert_eq!(
        c.poll_event(),
        Some(Event::Resent {
            id,
            reason: ResendReason::ServerRequest
        })
    );
    let again = c.poll_transmit(T0, &mut rng).unwrap();
    server.handle_packet(T0, &again).unwrap();
    let bodies: Vec<_> = std::iter::from_fn(|| server.poll_event())
        .filter_map(|e| match e {
            ServerEvent::Request { body, .. } => Some(body),
            _ => None,
        })
        .collect();
    assert_eq!(bodies, vec![request(1)]);

    // msgs_state_req: answered with msgs_state_info naming the request's msg_id.
    let state_req = Message {
        msg_id: server_id(0, 2),
        seq_no: 3,
        body: enums::MsgsStateReq::from(types::MsgsStateReq {
            msg_ids: vec![server_id(0, 1), server_id(0, 77)],
        })
        .to_bytes(),
    };
    c.handle_packet(T0, &craft(&state_req, SESSION_ID, AUTO, None))
        .unwrap();
    let out = c.poll_transmit(T0, &mut rng).unwrap();
    let plain =
        mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ClientToServer, &out)
            .unwrap();
    let inner = wire::parse_container(&plain.body).expect("acks and the state info, batched");
    let info = inner
        .iter()
        .find_map(|m| enums::MsgsStateInfo::from_bytes(&m.body).ok())
        .expect("msgs_state_info sent");
    let enums::MsgsStateInfo::MsgsStateInfo(info) = info;
    assert_eq!(info.req_msg_id, server_id(0, 2));
    assert_eq!(
        info.info,
        vec![4, 3],
        "received / not received and newer than every id seen"
    );

    // msg_detailed_info about an answer never received: the client asks for it.
    let detailed = Message {
        msg_id: server_id(0, 3),
        seq_no: 4,
        body: enums::MsgDetailedInfo::from(types::MsgDetailedInfo {
            msg_id: req_msg_id,
            answer_msg_id: server_id(0, 50),
            bytes: 100,
            status: 0,
        })
        .to_bytes(),
    };
    c.handle_packet(T0, &craft(&detailed, SESSION_ID, AUTO, None))
        .unwrap();
    let out = c.poll_transmit(T0, &mut rng).unwrap();
    let plain =
        mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ClientToServer, &out)
            .unwrap();
    let asked = enums::MsgResendReq::from_bytes(&plain.body).expect("msg_resend_req sent alone");
    assert_eq!(
        asked,
        types::MsgResendReq {
            msg_ids: vec![server_id(0, 50)]
        }
        .into()
    );
}

/// Sends one request from `c`, returns its msg_id as the server saw it.
fn send_one(c: &mut Session, rng: &mut ChaCha20Rng) -> (i64, i32) {
    let packet = c.poll_transmit(T0, rng).expect("a request to send");
    let plain =
        mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ClientToServer, &packet)
            .unwrap();
    (plain.msg_id, plain.seq_no)
}

fn bad_msg(bad_msg_id: i64, bad_msg_seqno: i32, error_code: i32, n: i64) -> Vec<u8> {
    let m = Message {
        msg_id: server_id(0, n),
        seq_no: 0,
        body: enums::BadMsgNotification::from(types::BadMsgNotification {
            bad_msg_id,
            bad_msg_seqno,
            error_code,
        })
        .to_bytes(),
    };
    craft(&m, SESSION_ID, AUTO, None)
}

#[test]
fn bad_msg_codes_resend_and_32_33_start_a_new_session() {
    for code in [18, 19, 20, 32, 33, 34, 35, 48, 64] {
        let mut c = fresh_client();
        let mut rng = ChaCha20Rng::seed_from_u64(code as u64);
        let id = c.enqueue(request(1));
        let (first_id, _) = send_one(&mut c, &mut rng);
        c.handle_packet(T0, &bad_msg(first_id, 1, code, 1)).unwrap();
        assert_eq!(
            c.poll_event(),
            Some(Event::Resent {
                id,
                reason: ResendReason::BadMsg(code)
            })
        );
        let packet = c.poll_transmit(T0, &mut rng).expect("resent");
        let plain =
            mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ClientToServer, &packet)
                .unwrap();
        // The resend may be batched with the ack of the notification; find the request.
        let resent: Vec<Message> = if wire::peek_id(&plain.body) == Some(wire::MSG_CONTAINER_ID) {
            wire::parse_container(&plain.body).unwrap()
        } else {
            vec![Message {
                msg_id: plain.msg_id,
                seq_no: plain.seq_no,
                body: plain.body.clone(),
            }]
        };
        let req = resent
            .iter()
            .find(|m| m.body == request(1))
            .expect("the request again");
        assert!(req.msg_id > first_id, "code {code}: a new msg_id");
        if code == 32 || code == 33 {
            assert_ne!(plain.session_id, SESSION_ID, "code {code}: a new session");
            assert_eq!(req.seq_no, 1, "code {code}: seq_no restarts");
            assert_eq!(c.session_id(), plain.session_id);
        } else {
            assert_eq!(plain.session_id, SESSION_ID);
        }
    }
}

#[test]
fn bad_msg_about_a_container_resends_its_contents() {
    let mut c = fresh_client();
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let a = c.enqueue(request(1));
    let b = c.enqueue(request(2));
    let (container_id, _) = send_one(&mut c, &mut rng);
    c.handle_packet(T0, &bad_msg(container_id, 2, 64, 1))
        .unwrap();
    let events: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    for id in [a, b] {
        assert!(events.contains(&Event::Resent {
            id,
            reason: ResendReason::BadMsg(64)
        }));
    }
    assert_eq!(c.unanswered(), 2);
}

#[test]
fn detailed_info_about_a_received_answer_is_acknowledged() {
    let mut c = fresh_client();
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let answer_id = server_id(0, 1);
    c.handle_packet(T0, &craft(&update(answer_id), SESSION_ID, AUTO, None))
        .unwrap();
    c.poll_event();
    c.poll_transmit(T0, &mut rng); // ack of the update
    let info = Message {
        msg_id: server_id(0, 2),
        seq_no: 2,
        body: enums::MsgDetailedInfo::from(types::MsgNewDetailedInfo {
            answer_msg_id: answer_id,
            bytes: 8,
            status: 0,
        })
        .to_bytes(),
    };
    c.handle_packet(T0, &craft(&info, SESSION_ID, AUTO, None))
        .unwrap();
    let out = c.poll_transmit(T0, &mut rng).expect("an ack");
    let plain =
        mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ClientToServer, &out)
            .unwrap();
    let enums::MsgsAck::MsgsAck(ack) = enums::MsgsAck::from_bytes(&plain.body).unwrap();
    assert_eq!(ack.msg_ids, vec![answer_id]);
}

#[test]
fn future_salts_are_used_when_valid_and_destroy_session_is_answered() {
    let mut p = Pair::new(SessionConfig::default());
    p.server.set_salt(0x5a17);
    p.client.handle_timeout(p.now); // asks for future salts
    p.drive(echo);
    // The first request went with the old salt and was corrected; the future salts now hold
    // the server's current salt, which the client uses from then on.
    assert_eq!(p.client.salt(), 0x5a17);
    // An hour later the next future salt is due: the client switches by itself, and the server
    // (switched too) gets the request without a bad_server_salt round.
    p.now += Duration::from_secs(3601);
    p.server.set_salt(0x5a18);
    p.client.enqueue(request(7));
    let packet = p.client.poll_transmit(p.now, &mut p.rng).unwrap();
    p.server.handle_packet(p.now, &packet).unwrap();
    assert_eq!(
        p.server_requests().len(),
        1,
        "accepted with the future salt"
    );
    assert_eq!(p.client.salt(), 0x5a18);
    p.drive(echo);
    p.client_events();
    let id = p
        .client
        .enqueue(functions::DestroySession { session_id: 1 }.to_bytes());
    p.drive(echo);
    let r = responses(&p.client_events());
    let (rid, Ok(body)) = &r[0] else {
        panic!("{r:?}")
    };
    assert_eq!(*rid, id.0);
    assert_eq!(
        enums::DestroySessionRes::from_bytes(body).unwrap(),
        types::DestroySessionNone { session_id: 1 }.into()
    );
}

#[test]
fn session_start_with_the_server_clock_far_ahead_recovers() {
    // The client believes it is synchronized (offset 0), but the server is 400 s ahead: the
    // first message is refused (16) in a packet of its own, which the client's time window lets
    // through; the client resyncs and the request is answered.
    let mut p = Pair::new(SessionConfig::default());
    let server_now = T0 + Duration::from_secs(400);
    let id = p.client.enqueue(request(1));
    let first = p.client.poll_transmit(p.now, &mut p.rng).unwrap();
    p.server.handle_packet(server_now, &first).unwrap();
    assert!(
        p.server.session_id().is_none(),
        "no session for a refused message"
    );
    let refusal = p.server.poll_transmit(server_now, &mut p.rng).unwrap();
    assert!(
        p.server.poll_transmit(server_now, &mut p.rng).is_none(),
        "the refusal goes alone"
    );
    p.client
        .handle_packet(p.now, &refusal)
        .expect("a lone refusal passes the time window");
    assert_eq!(p.client.time_offset(), 400);
    while let Some(packet) = p.client.poll_transmit(p.now, &mut p.rng) {
        p.server.handle_packet(server_now, &packet).unwrap();
    }
    let got = p.server_requests();
    assert_eq!(got.len(), 1);
    p.server.respond(got[0].0, &got[0].1);
    while let Some(packet) = p.server.poll_transmit(server_now, &mut p.rng) {
        p.client.handle_packet(p.now, &packet).unwrap();
    }
    assert_eq!(responses(&p.client_events()), vec![(id.0, Ok(request(1)))]);
}

#[test]
fn a_request_refused_again_and_again_fails() {
    let mut c = fresh_client();
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let id = c.enqueue(request(1));
    let mut events = Vec::new();
    for n in 1..=i64::from(mtproto_proto::session::MAX_REFUSALS) {
        let Some(packet) = c.poll_transmit(T0, &mut rng) else {
            break;
        };
        let plain =
            mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ClientToServer, &packet)
                .unwrap();
        c.handle_packet(T0, &bad_msg(plain.msg_id, plain.seq_no, 20, n))
            .unwrap();
        events.extend(std::iter::from_fn(|| c.poll_event()));
    }
    assert_eq!(
        events.last(),
        Some(&Event::Failed {
            id,
            reason: ResendReason::BadMsg(20)
        })
    );
    assert_eq!(c.unanswered(), 0);
    assert!(
        c.poll_transmit(T0, &mut rng).is_none(),
        "nothing left to send"
    );
}

#[test]
fn rekey_moves_unanswered_requests_to_the_new_key() {
    let mut c = fresh_client();
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let a = c.enqueue(request(1));
    let b = c.enqueue(request(2));
    c.poll_transmit(T0, &mut rng).unwrap();
    let mut new_key = [0u8; 256];
    rng.fill_bytes(&mut new_key);
    let new_key = AuthKey::from_bytes(new_key);
    c.rekey(new_key.clone(), 77, 5, 0x99);
    assert_eq!((c.salt(), c.session_id(), c.time_offset()), (77, 0x99, 5));
    let packet = c.poll_transmit(T0, &mut rng).unwrap();
    let mut server = ServerSession::new(SessionConfig::default(), new_key, 77);
    server
        .handle_packet(T0 + Duration::from_secs(5), &packet)
        .unwrap();
    let bodies: Vec<_> = std::iter::from_fn(|| server.poll_event())
        .filter_map(|e| match e {
            ServerEvent::Request { body, .. } => Some(body),
            _ => None,
        })
        .collect();
    assert_eq!(
        bodies,
        vec![request(1), request(2)],
        "same order, under the new key"
    );
    assert_eq!(c.unanswered(), 2);
    let _ = (a, b);
}

#[test]
fn an_application_ping_gets_its_bare_pong() {
    let mut p = Pair::new(SessionConfig::default());
    let id = p.client.enqueue(functions::Ping { ping_id: 42 }.to_bytes());
    p.drive(echo);
    let r = responses(&p.client_events());
    let (rid, Ok(body)) = &r[0] else {
        panic!("{r:?}")
    };
    assert_eq!(*rid, id.0);
    let enums::Pong::Pong(pong) = enums::Pong::from_bytes(body).unwrap();
    assert_eq!(pong.ping_id, 42);
}

#[test]
fn answered_containers_are_forgotten() {
    let mut p = Pair::new(SessionConfig::default());
    for round in 0..50 {
        p.client.enqueue(request(round));
        p.client.enqueue(request(round + 1000));
        p.drive(echo);
    }
    assert_eq!(responses(&p.client_events()).len(), 100);
    assert!(
        p.client.containers_in_flight() <= 1,
        "{} containers remembered after every answer arrived",
        p.client.containers_in_flight()
    );
}

#[test]
fn pings_and_salt_requests_are_acknowledged_by_their_answer_only() {
    let mut p = Pair::new(SessionConfig::default());
    // Warm up so new_session_created and its ack are out of the way.
    p.client.enqueue(request(0));
    p.drive(echo);
    p.client_events();
    p.client.enqueue(functions::Ping { ping_id: 5 }.to_bytes());
    p.client
        .enqueue(functions::GetFutureSalts { num: 2 }.to_bytes());
    p.client_to_server();
    let packet = p.server.poll_transmit(p.now, &mut p.rng).expect("answers");
    let plain =
        mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ServerToClient, &packet)
            .unwrap();
    let inner = if wire::peek_id(&plain.body) == Some(wire::MSG_CONTAINER_ID) {
        wire::parse_container(&plain.body).unwrap()
    } else {
        vec![plain.clone().into()]
    };
    let ids: Vec<u32> = inner
        .iter()
        .filter_map(|m| wire::peek_id(&m.body))
        .collect();
    assert!(ids.contains(&types::Pong::CONSTRUCTOR_ID), "{ids:x?}");
    assert!(
        ids.contains(&types::FutureSalts::CONSTRUCTOR_ID),
        "{ids:x?}"
    );
    assert!(
        !ids.contains(&types::MsgsAck::CONSTRUCTOR_ID),
        "no separate ack: {ids:x?}"
    );
}

// ---------------------------------------------------------------------------------------
// Regression tests of the foundation review (each failed on f9a95b4).

/// Runs a request through a client whose clock reads `client_now` and a server at `server_now`
/// until it is answered; returns the client's events.
fn exchange_with_clocks(p: &mut Pair, client_now: Duration, server_now: Duration) -> Vec<Event> {
    for _ in 0..8 {
        while let Some(packet) = p.client.poll_transmit(client_now, &mut p.rng) {
            p.server.handle_packet(server_now, &packet).unwrap();
        }
        for (msg_id, body) in p.server_requests() {
            p.server.respond(msg_id, &body);
        }
        let mut moved = false;
        while let Some(packet) = p.server.poll_transmit(server_now, &mut p.rng) {
            moved = true;
            // A rejected packet is what the old client did with every answer here.
            let _ = p.client.handle_packet(client_now, &packet);
        }
        if !moved {
            break;
        }
    }
    p.client_events()
}

#[test]
fn clock_skews_inside_the_servers_window_still_get_answers() {
    // The client believes its clock is synchronized (offset 0) but it is off by `skew`
    // seconds. The server accepts its messages (300 s behind, 30 s ahead); the client must
    // then accept the server's answers too, following the server's clock.
    for skew in [-299i64, -120, -31, 29] {
        let mut p = Pair::new(SessionConfig::default());
        let client_now = Duration::from_secs((T0.as_secs() as i64 + skew) as u64);
        let id = p.client.enqueue(request(1));
        let events = exchange_with_clocks(&mut p, client_now, T0);
        assert_eq!(
            responses(&events),
            vec![(id.0, Ok(request(1)))],
            "skew {skew}: answered"
        );
        let id = p.client.enqueue(request(2));
        let events = exchange_with_clocks(&mut p, client_now, T0);
        assert_eq!(
            responses(&events),
            vec![(id.0, Ok(request(2)))],
            "skew {skew}"
        );
        if skew < -30 {
            assert_eq!(p.client.time_offset(), -skew, "skew {skew}: clock followed");
        }
    }
}

#[test]
fn a_clock_stepped_back_mid_session_changes_nothing() {
    let mut p = Pair::new(SessionConfig::default());
    let id = p.client.enqueue(request(1));
    assert_eq!(responses(&exchange_with_clocks(&mut p, T0, T0)).len(), 1);
    let _ = id;
    // The wall clock steps back two minutes (an NTP correction): the session keeps its time.
    let stepped = T0 - Duration::from_secs(120);
    let id = p.client.enqueue(request(2));
    let events = exchange_with_clocks(&mut p, stepped, T0 + Duration::from_secs(1));
    assert_eq!(responses(&events), vec![(id.0, Ok(request(2)))]);
    assert_eq!(p.client.time_offset(), 0, "no resync was needed");
}

#[test]
fn an_answer_that_cannot_be_read_ends_its_request_with_an_error() {
    // A corrupt gzip_packed result, and an rpc_error whose message is not UTF-8.
    let mut corrupt_gzip = wire::GZIP_PACKED_ID.to_le_bytes().to_vec();
    tl_wire::write_bytes(
        &mut corrupt_gzip,
        &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff],
    );
    let mut bad_utf8 = wire::RPC_ERROR_ID.to_le_bytes().to_vec();
    bad_utf8.extend_from_slice(&400i32.to_le_bytes());
    tl_wire::write_bytes(&mut bad_utf8, &[0xff, 0xfe, b'A']);
    for (what, answer) in [("gzip", corrupt_gzip), ("utf-8", bad_utf8)] {
        let mut p = Pair::new(SessionConfig::default());
        let id = p.client.enqueue(request(1));
        p.client_to_server();
        let (msg_id, _) = p.server_requests()[0];
        p.server.respond(msg_id, &answer);
        p.server_to_client();
        let events = p.client_events();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::BadAnswer { id: got, .. } if *got == id)),
            "{what}: the caller hears of it: {events:?}"
        );
        assert_eq!(p.client.unanswered(), 0, "{what}: the request is over");
    }
}

#[test]
fn the_server_answers_msgs_state_req_itself() {
    let mut p = Pair::new(SessionConfig::default());
    let first = p.client.enqueue(request(1));
    p.drive(echo);
    let _ = first;
    let known = p.sent.len();
    // The client asks about a message the server got and one it never saw.
    let received = {
        let plain = mtproto_crypto::message::decrypt_v2_message(
            &key(),
            Direction::ClientToServer,
            &p.sent[known - 1],
        )
        .unwrap();
        plain.msg_id
    };
    let ask = enums::MsgsStateReq::from(types::MsgsStateReq {
        msg_ids: vec![received, received + 4000],
    })
    .to_bytes();
    p.client.enqueue(ask);
    p.client_to_server();
    assert!(
        p.server_requests().is_empty(),
        "a service message never reaches the application"
    );
    let packet = p.server.poll_transmit(p.now, &mut p.rng).unwrap();
    let plain =
        mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ServerToClient, &packet)
            .unwrap();
    let bodies = if wire::peek_id(&plain.body) == Some(wire::MSG_CONTAINER_ID) {
        wire::parse_container(&plain.body)
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect()
    } else {
        vec![plain.body]
    };
    let info = bodies
        .iter()
        .find_map(|b| enums::MsgsStateInfo::from_bytes(b).ok())
        .expect("msgs_state_info, not an rpc_result");
    let enums::MsgsStateInfo::MsgsStateInfo(info) = info;
    assert_eq!(info.info, vec![4, 3], "received / not yet received");
    assert!(bodies
        .iter()
        .all(|b| wire::peek_id(b) != Some(wire::RPC_RESULT_ID)));
}

/// A client packet built by hand (for checks the client role would never violate).
fn client_packet(msg: &Message, rng: &mut ChaCha20Rng) -> Vec<u8> {
    wire::seal(
        &key(),
        Direction::ClientToServer,
        SALT,
        SESSION_ID,
        msg,
        rng,
    )
}

fn client_id(secs_from_t0: i64, n: i64) -> i64 {
    ((T0.as_secs() as i64 + secs_from_t0) << 32) | (n * 4)
}

/// The bad_msg_notification codes in everything the server has to send.
fn refusal_codes(server: &mut ServerSession, rng: &mut ChaCha20Rng) -> Vec<i32> {
    let mut codes = Vec::new();
    while let Some(packet) = server.poll_transmit(T0, rng) {
        let plain =
            mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ServerToClient, &packet)
                .unwrap();
        let bodies = match wire::parse_container(&plain.body) {
            Ok(inner) => inner.into_iter().map(|m| m.body).collect(),
            Err(_) => vec![plain.body],
        };
        for body in bodies {
            if let Ok(enums::BadMsgNotification::BadMsgNotification(bad)) =
                enums::BadMsgNotification::from_bytes(&body)
            {
                codes.push(bad.error_code);
            }
        }
    }
    codes
}

#[test]
fn the_server_checks_seq_no_parity_and_the_messages_inside_containers() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    // A request with an even seq_no: 35 (odd expected); an ack with an odd one: 34.
    let mut server = ServerSession::new(SessionConfig::default(), key(), SALT);
    let even_request = Message {
        msg_id: client_id(0, 1),
        seq_no: 2,
        body: request(1),
    };
    server
        .handle_packet(T0, &client_packet(&even_request, &mut rng))
        .unwrap();
    let odd_container = Message {
        msg_id: client_id(0, 3),
        seq_no: 3,
        body: wire::build_container(&[Message {
            msg_id: client_id(0, 2),
            seq_no: 3,
            body: request(2),
        }]),
    };
    server
        .handle_packet(T0, &client_packet(&odd_container, &mut rng))
        .unwrap();
    // An ack with an odd seq_no is let through: mtcute sends them so, and Telegram accepts.
    let odd_ack = Message {
        msg_id: client_id(0, 4),
        seq_no: 5,
        body: enums::MsgsAck::from(types::MsgsAck { msg_ids: vec![1] }).to_bytes(),
    };
    server
        .handle_packet(T0, &client_packet(&odd_ack, &mut rng))
        .unwrap();
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert_eq!(
        events,
        vec![
            ServerEvent::Refused { code: 35 },
            ServerEvent::Refused { code: 34 },
            // The accepted ack starts the session.
            ServerEvent::NewSession {
                session_id: SESSION_ID
            },
        ],
        "refused, and nothing reaches the application"
    );
    assert_eq!(refusal_codes(&mut server, &mut rng), vec![35, 34]);

    // Inside a container: a message 301 s old (16), one 31 s ahead (17), one with the wrong
    // parity (35), and a good one that gets through.
    let mut server = ServerSession::new(SessionConfig::default(), key(), SALT);
    let inner = vec![
        Message {
            msg_id: client_id(-301, 1),
            seq_no: 1,
            body: request(1),
        },
        Message {
            msg_id: client_id(31, 2),
            seq_no: 3,
            body: request(2),
        },
        Message {
            msg_id: client_id(0, 3),
            seq_no: 4,
            body: request(3),
        },
        Message {
            msg_id: client_id(0, 4),
            seq_no: 5,
            body: request(4),
        },
    ];
    let container = Message {
        msg_id: client_id(0, 5),
        seq_no: 6,
        body: wire::build_container(&inner),
    };
    server
        .handle_packet(T0, &client_packet(&container, &mut rng))
        .unwrap();
    let bodies: Vec<_> = std::iter::from_fn(|| server.poll_event())
        .filter_map(|e| match e {
            ServerEvent::Request { body, .. } => Some(body),
            _ => None,
        })
        .collect();
    assert_eq!(bodies, vec![request(4)], "only the good message is served");
    let mut codes = refusal_codes(&mut server, &mut rng);
    codes.sort();
    assert_eq!(codes, vec![16, 17, 35]);
}

#[test]
fn the_client_checks_the_messages_inside_containers() {
    let inner = vec![
        // 301 s behind the synchronized clock.
        update(server_id(-301, 1)),
        // Content-related body with an even seq_no.
        Message {
            seq_no: 2,
            ..update(server_id(0, 2))
        },
        // Good.
        update(server_id(0, 3)),
    ];
    let container = Message {
        msg_id: server_id(0, 4),
        seq_no: 4,
        body: wire::build_container(&inner),
    };
    let mut c = fresh_client();
    c.handle_packet(T0, &craft(&container, SESSION_ID, AUTO, None))
        .unwrap();
    let updates: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(updates.len(), 1, "only the good message: {updates:?}");
}

/// `destroy_session` is answered bare (its answer is the acknowledgement, as Telethon and
/// mtcute expect): `destroy_session_ok` for an earlier session of the key, `_none` otherwise;
/// our client takes the bare answer as the request's response.
#[test]
fn destroy_session_is_answered_bare_and_knows_earlier_sessions() {
    let mut p = Pair::new(SessionConfig::default());
    p.client.enqueue(request(0));
    p.drive(echo);
    p.client_events();
    // The client moves to a new session over the same key.
    const NEXT: i64 = SESSION_ID + 1;
    p.now += Duration::from_secs(5);
    p.client = Session::new(SessionConfig::default(), key(), SALT, Some(0), NEXT);
    p.client.enqueue(request(1));
    p.drive(echo);
    p.client_events();
    assert_eq!(p.server.session_id(), Some(NEXT));

    let old = p.client.enqueue(
        functions::DestroySession {
            session_id: SESSION_ID,
        }
        .to_bytes(),
    );
    let unknown = p
        .client
        .enqueue(functions::DestroySession { session_id: 999 }.to_bytes());
    p.client_to_server();
    let packet = p.server.poll_transmit(p.now, &mut p.rng).expect("answers");
    let plain =
        mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ServerToClient, &packet)
            .unwrap();
    let inner = if wire::peek_id(&plain.body) == Some(wire::MSG_CONTAINER_ID) {
        wire::parse_container(&plain.body).unwrap()
    } else {
        vec![plain.clone().into()]
    };
    let bodies: Vec<&[u8]> = inner.iter().map(|m| m.body.as_slice()).collect();
    let ok = enums::DestroySessionRes::from(types::DestroySessionOk {
        session_id: SESSION_ID,
    })
    .to_bytes();
    let none =
        enums::DestroySessionRes::from(types::DestroySessionNone { session_id: 999 }).to_bytes();
    assert_eq!(
        bodies,
        [ok.as_slice(), none.as_slice()],
        "bare, no rpc_result, no ack"
    );

    // The client routes them to their requests.
    p.client.handle_packet(p.now, &packet).unwrap();
    let r = responses(&p.client_events());
    assert_eq!(r, vec![(old.0, Ok(ok.clone())), (unknown.0, Ok(none))]);

    // A session is destroyed once.
    let again = p.client.enqueue(
        functions::DestroySession {
            session_id: SESSION_ID,
        }
        .to_bytes(),
    );
    p.drive(echo);
    let r = responses(&p.client_events());
    assert_eq!(
        r,
        vec![(
            again.0,
            Ok(enums::DestroySessionRes::from(types::DestroySessionNone {
                session_id: SESSION_ID
            })
            .to_bytes())
        )]
    );
}
