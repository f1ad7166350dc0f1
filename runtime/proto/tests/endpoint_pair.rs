//! Client endpoint against server endpoint, in process: no sockets, a virtual clock for each
//! side, seeded randomness. Key exchange, session and transport run end to end, the way the
//! tokio edges drive them; the reliability work grows this harness into a simulator.

mod util;
use util::server_key;

use std::time::Duration;

use mtproto_crypto::{AuthKey, DhParams};
use mtproto_proto::endpoint::PfsConfig;
use mtproto_proto::endpoint::{
    ClientEndpoint, ClientEndpointConfig, ClientEvent, ConnectionError, ConnectionId, Obfuscation,
    ServerEndpoint, ServerEndpointConfig, ServerEndpointEvent, StoredAuth,
};
use mtproto_proto::handshake::client::ClientConfig as KexConfig;
use mtproto_proto::handshake::server::ServerConfig;
use mtproto_proto::session::{Event, RequestId, SessionConfig, BIND_TEMP_AUTH_KEY_ID};

/// `boolTrue`.
const BOOL_TRUE: [u8; 4] = 0x9972_75b5_u32.to_le_bytes();
/// `boolFalse`.
const BOOL_FALSE: [u8; 4] = 0xbc79_9737_u32.to_le_bytes();
use mtproto_proto::transport::{Transport, TransportConfig, TransportError, DEFAULT_MAX_FRAME_LEN};

const T0: Duration = Duration::from_secs(1_700_000_000);
const DC: i32 = 2;

fn client_config(transport: Transport, obfuscated: bool) -> ClientEndpointConfig {
    ClientEndpointConfig {
        transport,
        obfuscation: obfuscated.then_some(Obfuscation {
            dc_id: DC as i16,
            secret: None,
        }),
        transport_config: TransportConfig::for_client(),
        kex: KexConfig {
            dc_id: DC,
            public_keys: vec![server_key().public_key().clone()],
            temp_key_expires_in: None,
            max_retries: 3,
        },
        session: SessionConfig::default(),
        idle_timeout: Some(Duration::from_secs(90)),
        pfs: None,
        prologue: None,
    }
}

fn server() -> ServerEndpoint {
    ServerEndpoint::new(
        ServerEndpointConfig {
            kex: ServerConfig::new(vec![server_key().clone()], DhParams::telegram()),
            session: SessionConfig::default(),
            transport_config: TransportConfig::for_server(),
            mtproxy_secret: None,
        },
        [2; 32],
    )
}

/// A serialized "request": any boxed body the server does not handle itself.
fn request(n: u32) -> Vec<u8> {
    let mut body = 0x1234_5678u32.to_le_bytes().to_vec();
    body.extend_from_slice(&n.to_le_bytes());
    body
}

/// The server answers every request with its body reversed.
fn answer_of(body: &[u8]) -> Vec<u8> {
    body.iter().rev().copied().collect()
}

/// Edits a chunk of bytes the server sent (whole frames: what one `poll_transmit` of the
/// server wrote) before the client reads it: a hostile network or server below MTProto.
type ToClient = Box<dyn FnMut(&mut Vec<u8>)>;

/// Both endpoints, one simulated TCP connection between them, and two clocks.
struct Pair {
    client: ClientEndpoint,
    server: ServerEndpoint,
    conn: Option<ConnectionId>,
    client_now: Duration,
    server_now: Duration,
    /// Requests the server got, in order (resent copies included).
    served: Vec<Vec<u8>>,
    /// Answer requests (else the server stays silent about them).
    answering: bool,
    /// Leave `auth.bindTempAuthKey` unanswered (kept here as key id, msg id, session id
    /// and body) until the test answers it.
    hold_bind: bool,
    held_binds: Vec<(i64, i64, i64, Vec<u8>)>,
    /// Applied by [`Pair::drive`] to every non-empty chunk of server bytes before the
    /// client reads it; `None` delivers them untouched.
    to_client: Option<ToClient>,
    client_events: Vec<ClientEvent>,
    server_events: Vec<ServerEndpointEvent>,
}

impl Pair {
    fn new(client: ClientEndpoint, server: ServerEndpoint) -> Self {
        Self {
            client,
            server,
            conn: None,
            client_now: T0,
            server_now: T0,
            served: Vec::new(),
            answering: true,
            hold_bind: false,
            held_binds: Vec::new(),
            to_client: None,
            client_events: Vec::new(),
            server_events: Vec::new(),
        }
    }

    /// A preshared key known to both sides.
    fn preshared(transport: Transport) -> Self {
        let auth_key = AuthKey::from_bytes([9; 256]);
        let mut server = server();
        server.add_key(auth_key.clone(), 77);
        let auth = StoredAuth {
            auth_key,
            salt: 77,
            time_offset: 0,
        };
        Self::new(
            ClientEndpoint::new(client_config(transport, false), Some(auth), [1; 32]),
            server,
        )
    }

    fn connect(&mut self) {
        self.client.connect(self.client_now).expect("connect");
        self.conn = Some(self.server.accept());
    }

    /// The connection dies (neither side sends anything more on it).
    fn drop_connection(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.server.close(conn);
        }
        self.client.connection_lost();
    }

    /// Moves bytes both ways until nothing moves; returns the first connection error.
    fn drive(&mut self) -> Result<(), ConnectionError> {
        for _ in 0..64 {
            let Some(conn) = self.conn else {
                return Err(ConnectionError::NotConnected);
            };
            let mut to_server = Vec::new();
            let mut moved = self.client.poll_transmit(self.client_now, &mut to_server)?;
            let server_result = self.server.handle_input(conn, self.server_now, &to_server);
            while let Some(event) = self.server.poll_event() {
                if let ServerEndpointEvent::Request {
                    key_id,
                    msg_id,
                    session_id,
                    body,
                    ..
                } = &event
                {
                    self.served.push(body.clone());
                    if body.get(..4) == Some(&BIND_TEMP_AUTH_KEY_ID.to_le_bytes()[..]) {
                        if self.hold_bind {
                            self.held_binds
                                .push((*key_id, *msg_id, *session_id, body.clone()));
                        } else {
                            self.server.respond(*key_id, *msg_id, Ok(&BOOL_TRUE));
                        }
                    } else if self.answering {
                        self.server.respond(*key_id, *msg_id, Ok(&answer_of(body)));
                    }
                }
                self.server_events.push(event);
            }
            let mut to_client = Vec::new();
            moved |= self
                .server
                .poll_transmit(conn, self.server_now, &mut to_client)?;
            if let Some(tamper) = &mut self.to_client {
                if !to_client.is_empty() {
                    tamper(&mut to_client);
                }
            }
            let client_result = self.client.handle_input(self.client_now, &to_client);
            while let Some(event) = self.client.poll_event() {
                self.client_events.push(event);
            }
            if let Err(error) = server_result.and(client_result) {
                self.drop_connection();
                return Err(error);
            }
            if !moved {
                return Ok(());
            }
        }
        panic!("the endpoints did not settle");
    }

    /// Answers received, by request.
    fn answers(&self) -> Vec<(RequestId, Vec<u8>)> {
        self.client_events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Session(Event::Response {
                    id,
                    result: Ok(body),
                }) => Some((*id, body.clone())),
                _ => None,
            })
            .collect()
    }

    fn key_created(&self) -> bool {
        self.client_events.contains(&ClientEvent::KeyCreated)
    }
}

#[test]
fn login_shaped_exchange_over_every_transport() {
    // Key exchange on the first connection, then requests over the new key, and the same
    // key reused by a second connection.
    for (transport, obfuscated) in [
        (Transport::Abridged, false),
        (Transport::Intermediate, false),
        (Transport::PaddedIntermediate, true),
        (Transport::Full, false),
    ] {
        let client = ClientEndpoint::new(client_config(transport, obfuscated), None, [3; 32]);
        let mut p = Pair::new(client, server());
        // Queued before any key exists: sent once it does.
        let early = p.client.enqueue(request(1));
        p.connect();
        p.drive().expect("key exchange and first request");
        assert!(p.key_created(), "{transport:?}");
        assert!(p.server_events.iter().any(|e| matches!(
            e,
            ServerEndpointEvent::TransportDetected { transport: t, obfuscated: o, .. }
                if *t == transport && *o == obfuscated
        )));
        let later = p.client.enqueue(request(2));
        p.drive().unwrap();
        assert_eq!(
            p.answers(),
            vec![
                (early, answer_of(&request(1))),
                (later, answer_of(&request(2)))
            ],
            "{transport:?}"
        );
        let auth = p.client.auth().expect("a key");
        assert!(p.server.auth_key(auth.auth_key.id()).is_some());

        p.drop_connection();
        p.connect();
        let third = p.client.enqueue(request(3));
        p.drive().unwrap();
        assert_eq!(p.answers().last(), Some(&(third, answer_of(&request(3)))));
        assert_eq!(p.client.key_exchanges(), 1, "the key is reused");
    }
}

#[test]
fn a_request_survives_a_reconnect_and_is_answered_once() {
    let mut p = Pair::preshared(Transport::Intermediate);
    p.connect();
    p.answering = false;
    let id = p.client.enqueue(request(7));
    p.drive().unwrap();
    assert_eq!(p.served, vec![request(7)], "the server got it");
    // The connection dies before the answer.
    p.drop_connection();
    p.answering = true;
    p.connect();
    p.drive().unwrap();
    assert_eq!(
        p.served,
        vec![request(7), request(7)],
        "resent on the new connection"
    );
    assert_eq!(
        p.answers(),
        vec![(id, answer_of(&request(7)))],
        "one answer"
    );
    assert!(p.client_events.iter().any(|e| matches!(
        e,
        ClientEvent::Session(Event::Resent { id: got, .. }) if *got == id
    )));
}

#[test]
fn clock_skews_inside_the_servers_window() {
    for skew in [-299i64, -120, -31, 29] {
        let mut p = Pair::preshared(Transport::Abridged);
        // The client believes it is synchronized, but its clock is off by `skew`.
        p.client_now = Duration::from_secs((T0.as_secs() as i64 + skew) as u64);
        p.connect();
        let ids: Vec<_> = (0..3).map(|n| p.client.enqueue(request(n))).collect();
        p.drive().unwrap();
        let answered: Vec<_> = p.answers().into_iter().map(|(id, _)| id).collect();
        assert_eq!(answered, ids, "skew {skew}");
        assert!(
            !p.server_events
                .iter()
                .any(|e| matches!(e, ServerEndpointEvent::Refused { .. })),
            "skew {skew}: nothing refused"
        );
    }
}

#[test]
fn a_clock_far_off_is_corrected_by_the_servers_refusal() {
    // Outside the server's window: bad_msg_notification 16 / 17, then the resent request.
    for skew in [-400i64, 60] {
        let mut p = Pair::preshared(Transport::Abridged);
        p.client_now = Duration::from_secs((T0.as_secs() as i64 + skew) as u64);
        p.connect();
        let id = p.client.enqueue(request(1));
        p.drive().unwrap();
        assert_eq!(
            p.answers(),
            vec![(id, answer_of(&request(1)))],
            "skew {skew}"
        );
        let code = if skew < 0 { 16 } else { 17 };
        assert!(p
            .server_events
            .iter()
            .any(|e| matches!(e, ServerEndpointEvent::Refused { code: c, .. } if *c == code)));
    }
}

#[test]
fn a_clock_stepped_back_mid_session() {
    let mut p = Pair::preshared(Transport::Abridged);
    p.connect();
    p.client.enqueue(request(1));
    p.drive().unwrap();
    p.client_now -= Duration::from_secs(120);
    p.server_now += Duration::from_secs(1);
    let id = p.client.enqueue(request(2));
    p.drive().unwrap();
    assert_eq!(p.answers().last(), Some(&(id, answer_of(&request(2)))));
}

#[test]
fn a_salt_change_is_recovered() {
    let mut p = Pair::preshared(Transport::Abridged);
    p.connect();
    p.client.enqueue(request(1));
    p.drive().unwrap();
    let key_id = p.client.auth().unwrap().auth_key.id();
    p.server.session_mut(key_id).unwrap().set_salt(0x5a17);
    let id = p.client.enqueue(request(2));
    p.drive().unwrap();
    assert_eq!(p.answers().last(), Some(&(id, answer_of(&request(2)))));
    assert_eq!(p.client.auth().unwrap().salt, 0x5a17);
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEndpointEvent::Refused { code: 48, .. })));
}

#[test]
fn an_unknown_key_is_reported_and_replaced_on_request() {
    let mut p = Pair::preshared(Transport::Intermediate);
    p.connect();
    p.client.enqueue(request(1));
    p.drive().unwrap();
    let old = p.client.auth().unwrap();
    p.server.forget_keys();
    let id = p.client.enqueue(request(2));
    let error = p.drive().unwrap_err();
    assert!(error.is_unknown_key(), "{error:?}");
    // The endpoint replaced nothing by itself.
    assert_eq!(p.client.auth().unwrap().auth_key, old.auth_key);
    assert!(!p.client.needs_key());
    // The application decides to create a new key: the waiting request goes out over it.
    p.client.replace_key();
    p.connect();
    p.drive().unwrap();
    assert!(p.key_created());
    assert_ne!(p.client.auth().unwrap().auth_key, old.auth_key);
    assert_eq!(p.answers().last(), Some(&(id, answer_of(&request(2)))));
}

#[test]
fn an_idle_connection_is_reported_by_the_timer() {
    let mut p = Pair::preshared(Transport::Abridged);
    p.connect();
    p.client.enqueue(request(1));
    p.drive().unwrap();
    let at = p.client.poll_timeout().expect("a timer");
    // Nothing arrives until the idle deadline (pings are due first; the server is silent).
    let mut now = p.client_now;
    let mut result = Ok(());
    while result.is_ok() && now < p.client_now + Duration::from_secs(200) {
        now = p.client.poll_timeout().unwrap_or(now).max(now);
        result = p.client.handle_timeout(now);
        let mut sink = Vec::new();
        let _ = p.client.poll_transmit(now, &mut sink);
    }
    assert!(at <= now);
    assert_eq!(result, Err(ConnectionError::Idle(Duration::from_secs(90))));
}

/// `auth.bindTempAuthKey`'s fields: perm_auth_key_id, nonce, expires_at, encrypted_message.
fn parse_bind(body: &[u8]) -> (i64, i64, i32, Vec<u8>) {
    let long = |at: usize| i64::from_le_bytes(body[at..at + 8].try_into().unwrap());
    let expires_at = i32::from_le_bytes(body[20..24].try_into().unwrap());
    // TL bytes: a one-byte length below 254, else 0xfe and three bytes.
    let (len, start) = if body[24] < 254 {
        (body[24] as usize, 25)
    } else {
        (
            u32::from_le_bytes([body[25], body[26], body[27], 0]) as usize,
            28,
        )
    };
    (
        long(4),
        long(12),
        expires_at,
        body[start..start + len].to_vec(),
    )
}

#[test]
fn pfs_binds_a_temporary_key_before_any_request_and_uses_it() {
    let mut config = client_config(Transport::Abridged, false);
    config.pfs = Some(PfsConfig::new(Duration::from_secs(3600)));
    let client = ClientEndpoint::new(config, None, [4; 32]);
    let mut p = Pair::new(client, server());
    p.hold_bind = true;
    let early = p.client.enqueue(request(1));
    p.connect();
    p.drive().expect("two key exchanges and the bind");

    // A permanent key, then a temporary one; only the bind went out, and it waits.
    assert!(p.key_created());
    let temp_created: Vec<i64> = p
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::TempKeyCreated { key_id } => Some(*key_id),
            _ => None,
        })
        .collect();
    assert_eq!(temp_created.len(), 1);
    assert_eq!(p.client.key_exchanges(), 2);
    assert_eq!(p.served.len(), 1, "only the bind before its answer");
    let perm = p.client.auth().expect("a permanent key");
    let temp = temp_created[0];
    assert_ne!(temp, perm.auth_key.id());
    assert_eq!(p.client.wire_key_id(), Some(temp));
    assert!(!p.client.is_bound());

    // The bind is real: its MTProto 1.0 message decrypts with the permanent key for the
    // outer msg_id and names this temporary key and session.
    let (key_id, msg_id, session_id, body) = p.held_binds[0].clone();
    assert_eq!(key_id, temp);
    let (perm_id, nonce, expires_at, encrypted) = parse_bind(&body);
    assert_eq!(perm_id, perm.auth_key.id());
    let inner = mtproto_crypto::pfs::decrypt_bind_message(&perm.auth_key, &encrypted, msg_id)
        .expect("the bind message decrypts with the permanent key");
    assert_eq!(
        (
            inner.nonce,
            inner.temp_auth_key_id,
            inner.perm_auth_key_id,
            inner.temp_session_id
        ),
        (nonce, temp, perm_id, session_id)
    );
    assert_eq!(inner.expires_at, expires_at);
    let lifetime = i64::from(expires_at) - T0.as_secs() as i64;
    assert!((3590..=3610).contains(&lifetime), "{lifetime}");

    // Answered: the held request goes out, over the temporary key, and is answered.
    p.server.respond(key_id, msg_id, Ok(&BOOL_TRUE));
    p.drive().unwrap();
    assert!(p
        .client_events
        .contains(&ClientEvent::Session(Event::Bound)));
    assert!(p.client.is_bound());
    assert_eq!(p.served[1], request(1));
    assert_eq!(p.answers(), vec![(early, answer_of(&request(1)))]);
    let keys: Vec<i64> = p
        .server_events
        .iter()
        .filter_map(|e| match e {
            ServerEndpointEvent::Request { key_id, .. } => Some(*key_id),
            _ => None,
        })
        .collect();
    assert_eq!(keys, [temp, temp]);
}

#[test]
fn pfs_resends_the_bind_after_a_reconnect_with_a_fresh_message() {
    let mut config = client_config(Transport::Abridged, false);
    config.pfs = Some(PfsConfig::new(Duration::from_secs(3600)));
    let mut p = Pair::new(ClientEndpoint::new(config, None, [5; 32]), server());
    p.hold_bind = true;
    let id = p.client.enqueue(request(7));
    p.connect();
    p.drive().unwrap();
    assert_eq!(p.held_binds.len(), 1);
    p.drop_connection();
    p.hold_bind = false;
    p.client_now += Duration::from_secs(1);
    p.connect();
    p.drive().unwrap();
    // The second bind has its own msg_id (and so a new encrypted message); the request is
    // answered once.
    let binds: Vec<&Vec<u8>> = p
        .served
        .iter()
        .filter(|b| b.get(..4) == Some(&BIND_TEMP_AUTH_KEY_ID.to_le_bytes()[..]))
        .collect();
    assert_eq!(binds.len(), 2);
    assert_ne!(parse_bind(binds[0]).3, parse_bind(binds[1]).3);
    assert_eq!(p.answers(), vec![(id, answer_of(&request(7)))]);
    assert_eq!(p.served.iter().filter(|b| **b == request(7)).count(), 1);
}

#[test]
fn pfs_a_bind_answered_with_bool_false_is_refused_and_a_new_temporary_key_is_bound() {
    // Check 32: the bind answer must be boolTrue. boolFalse is a refusal: the connection
    // ends with `BindRefused`, no request goes out over the refused key, and the next
    // connection makes (and binds) a new temporary key under the same permanent key.
    let mut config = client_config(Transport::Abridged, false);
    config.pfs = Some(PfsConfig::new(Duration::from_secs(3600)));
    let mut p = Pair::new(ClientEndpoint::new(config, None, [6; 32]), server());
    p.hold_bind = true;
    let id = p.client.enqueue(request(1));
    p.connect();
    p.drive().expect("two key exchanges and the bind");
    assert_eq!(p.held_binds.len(), 1);
    assert_eq!(p.client.key_exchanges(), 2);
    let perm = p.client.auth().expect("a permanent key");
    let refused_temp = p.client.wire_key_id().expect("a temporary key");

    let (key_id, msg_id, _, _) = p.held_binds[0].clone();
    assert_eq!(key_id, refused_temp);
    p.server.respond(key_id, msg_id, Ok(&BOOL_FALSE));
    let Err(error) = p.drive() else {
        panic!("boolFalse was taken for a bind")
    };
    let ConnectionError::BindRefused(rpc) = &error else {
        panic!("not a bind refusal: {error:?}")
    };
    assert_eq!((rpc.code, rpc.name.as_str()), (400, "BIND_ANSWER_NOT_TRUE"));
    assert!(
        !error.is_unknown_perm_key(),
        "the permanent key is not blamed"
    );
    assert!(p.client_events.iter().any(|e| matches!(
        e,
        ClientEvent::Session(Event::BindRefused { error }) if error == rpc
    )));
    assert!(!p
        .client_events
        .contains(&ClientEvent::Session(Event::Bound)));
    assert!(!p.client.is_connected(), "the connection is closed");
    assert!(!p.client.is_bound());
    assert_eq!(p.served.len(), 1, "only the bind went out");
    assert!(p.answers().is_empty());

    // The next connection starts with a temporary-key exchange; that key is bound (boolTrue
    // this time) and carries the waiting request, answered once.
    p.hold_bind = false;
    p.client_now += Duration::from_secs(1);
    p.connect();
    assert!(
        p.client.needs_key(),
        "a new temporary key on this connection"
    );
    p.drive().unwrap();
    assert_eq!(
        p.client.key_exchanges(),
        3,
        "one more exchange: a temporary key"
    );
    let temps: Vec<i64> = p
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::TempKeyCreated { key_id } => Some(*key_id),
            _ => None,
        })
        .collect();
    assert_eq!(temps.len(), 2);
    assert_eq!(temps[0], refused_temp);
    let new_temp = temps[1];
    assert_ne!(new_temp, refused_temp, "a new temporary key");
    assert_eq!(p.client.wire_key_id(), Some(new_temp));
    assert_eq!(
        p.client_events
            .iter()
            .filter(|e| matches!(e, ClientEvent::KeyCreated))
            .count(),
        1,
        "the permanent key is kept"
    );
    assert_eq!(p.client.auth().unwrap().auth_key, perm.auth_key);
    assert!(p.client.is_bound());
    assert!(p
        .client_events
        .contains(&ClientEvent::Session(Event::Bound)));
    // The server saw: the refused bind, the new bind over the new key, then the request.
    let requests: Vec<(i64, bool)> = p
        .server_events
        .iter()
        .filter_map(|e| match e {
            ServerEndpointEvent::Request { key_id, body, .. } => Some((
                *key_id,
                body.get(..4) == Some(&BIND_TEMP_AUTH_KEY_ID.to_le_bytes()[..]),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        requests,
        [(refused_temp, true), (new_temp, true), (new_temp, false)]
    );
    let (perm_id, ..) = parse_bind(&p.served[1]);
    assert_eq!(
        perm_id,
        perm.auth_key.id(),
        "bound to the same permanent key"
    );
    assert_eq!(p.served[2], request(1));
    assert_eq!(p.answers(), vec![(id, answer_of(&request(1)))]);
}

/// What the tamper function of [`a_packet_failing_a_check_ends_the_connection_and_is_redone`]
/// does to the server's packets.
#[derive(Clone, Copy, PartialEq)]
enum Tamper {
    /// Pass them through, keeping the last one.
    Record,
    /// Flip a bit of the `msg_key` (a decryption failure).
    FlipMsgKey,
    /// Send the recorded packet again instead (a replay: a session check fails).
    Replay,
}

#[test]
fn a_packet_failing_a_check_ends_the_connection_and_is_redone() {
    // Check 14: a server packet failing decryption or a session check ends the connection
    // with a typed error (no event, no answer); on the next connection the request goes out
    // again and is answered exactly once.
    use std::sync::{Arc, Mutex};
    for mode in [Tamper::FlipMsgKey, Tamper::Replay] {
        let mut p = Pair::preshared(Transport::Intermediate);
        let state = Arc::new(Mutex::new((Tamper::Record, Vec::new())));
        let shared = Arc::clone(&state);
        p.server
            .set_tamper(Some(Box::new(move |_key, packet: Vec<u8>| {
                let mut state = shared.lock().unwrap();
                match state.0 {
                    Tamper::Record => {
                        state.1 = packet.clone();
                        packet
                    }
                    Tamper::FlipMsgKey => {
                        let mut packet = packet;
                        packet[8] ^= 1;
                        packet
                    }
                    Tamper::Replay => state.1.clone(),
                }
            })));
        p.connect();
        let first = p.client.enqueue(request(1));
        p.drive().unwrap();
        state.lock().unwrap().0 = mode;

        let second = p.client.enqueue(request(2));
        let events_before = p.client_events.len();
        let error = p.drive().unwrap_err();
        match mode {
            Tamper::FlipMsgKey => assert_eq!(error, ConnectionError::Decrypt),
            _ => assert!(
                matches!(
                    error,
                    ConnectionError::Security(
                        mtproto_proto::session::SessionError::Replayed { .. }
                    )
                ),
                "{error:?}"
            ),
        }
        assert!(
            !p.client_events[events_before..]
                .iter()
                .any(|e| matches!(e, ClientEvent::Session(Event::Response { .. }))),
            "no answer from a refused packet"
        );
        assert_eq!(p.served, vec![request(1), request(2)]);

        // The server behaves again: the request is redone on a new connection, answered once.
        state.lock().unwrap().0 = Tamper::Record;
        p.connect();
        p.drive().unwrap();
        assert_eq!(
            p.served,
            vec![request(1), request(2), request(2)],
            "redone once"
        );
        assert_eq!(
            p.answers(),
            vec![
                (first, answer_of(&request(1))),
                (second, answer_of(&request(2)))
            ],
            "each request answered exactly once"
        );
    }
}

#[test]
fn an_unencrypted_packet_in_an_encrypted_session_is_ignored() {
    // Check 31: once the key exists, a plain (auth_key_id 0) packet is dropped without an
    // error or an event, and the connection goes on.
    let mut p = Pair::preshared(Transport::Intermediate);
    p.connect();
    let first = p.client.enqueue(request(1));
    p.drive().unwrap();
    let events_before = p.client_events.len();
    let packet = mtproto_proto::plain::wrap(0x6000_0000_0000_0001, &request(9));
    let mut frame = (packet.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(&packet);
    p.client
        .handle_input(p.client_now, &frame)
        .expect("ignored, not an error");
    assert!(p.client.poll_event().is_none(), "no event");
    assert_eq!(p.client_events.len(), events_before);
    let second = p.client.enqueue(request(2));
    p.drive().expect("the connection goes on");
    assert_eq!(
        p.answers(),
        vec![
            (first, answer_of(&request(1))),
            (second, answer_of(&request(2)))
        ]
    );
}

#[test]
fn answers_go_to_the_connection_the_client_used_last() {
    // Two clients share one stored key (a process restarted from a session file while its
    // predecessor's connection lingers): the server must not hand the new client's answer
    // to the old connection, which nobody reads any more.
    let auth_key = AuthKey::from_bytes([9; 256]);
    let mut server = server();
    server.add_key(auth_key.clone(), 77);
    let stored = || StoredAuth {
        auth_key: auth_key.clone(),
        salt: 77,
        time_offset: 0,
    };
    let answer_all = |server: &mut ServerEndpoint| {
        while let Some(event) = server.poll_event() {
            if let ServerEndpointEvent::Request {
                key_id,
                msg_id,
                body,
                ..
            } = event
            {
                server.respond(key_id, msg_id, Ok(&answer_of(&body)));
            }
        }
    };
    let answers = |client: &mut ClientEndpoint| {
        let mut out = Vec::new();
        while let Some(event) = client.poll_event() {
            if let ClientEvent::Session(Event::Response {
                id,
                result: Ok(body),
            }) = event
            {
                out.push((id, body));
            }
        }
        out
    };
    // The old client's whole exchange; its connection then stays open, unread.
    let mut old = ClientEndpoint::new(
        client_config(Transport::Intermediate, false),
        Some(stored()),
        [1; 32],
    );
    old.connect(T0).unwrap();
    let old_conn = server.accept();
    let first = old.enqueue(request(1));
    let mut bytes = Vec::new();
    old.poll_transmit(T0, &mut bytes).unwrap();
    server.handle_input(old_conn, T0, &bytes).unwrap();
    answer_all(&mut server);
    let mut to_old = Vec::new();
    server.poll_transmit(old_conn, T0, &mut to_old).unwrap();
    old.handle_input(T0, &to_old).unwrap();
    assert_eq!(answers(&mut old), vec![(first, answer_of(&request(1)))]);

    // The new client, same key, a second later: its request and answer.
    let t1 = T0 + Duration::from_secs(1);
    let mut new = ClientEndpoint::new(
        client_config(Transport::Intermediate, false),
        Some(stored()),
        [2; 32],
    );
    new.connect(t1).unwrap();
    let new_conn = server.accept();
    let second = new.enqueue(request(2));
    let mut bytes = Vec::new();
    new.poll_transmit(t1, &mut bytes).unwrap();
    server.handle_input(new_conn, t1, &bytes).unwrap();
    answer_all(&mut server);
    // The old connection asks first: the session's output is not its to take.
    let mut to_old = Vec::new();
    server.poll_transmit(old_conn, t1, &mut to_old).unwrap();
    assert!(
        to_old.is_empty(),
        "the old connection took the new client's answer"
    );
    let mut to_new = Vec::new();
    server.poll_transmit(new_conn, t1, &mut to_new).unwrap();
    new.handle_input(t1, &to_new).unwrap();
    assert_eq!(answers(&mut new), vec![(second, answer_of(&request(2)))]);

    // Once the client's connection is closed, another connection of the key takes over.
    new.enqueue(request(3));
    let mut bytes = Vec::new();
    new.poll_transmit(t1, &mut bytes).unwrap();
    server.handle_input(new_conn, t1, &bytes).unwrap();
    answer_all(&mut server);
    server.close(new_conn);
    let mut to_old = Vec::new();
    assert!(server.poll_transmit(old_conn, t1, &mut to_old).unwrap());
}

/// The header of a server frame announcing a payload of `len` bytes, as `transport` frames
/// it (abridged in its 4-byte form; for `full`, the length field counts its 12 envelope
/// bytes). Nothing of the payload follows.
fn server_frame_header(transport: Transport, len: usize) -> Vec<u8> {
    match transport {
        Transport::Abridged => {
            let words = u32::try_from(len / 4).unwrap();
            assert!(words < 1 << 24);
            let mut header = vec![0x7f];
            header.extend_from_slice(&words.to_le_bytes()[..3]);
            header
        }
        Transport::Intermediate | Transport::PaddedIntermediate => {
            u32::try_from(len).unwrap().to_le_bytes().to_vec()
        }
        Transport::Full => u32::try_from(len + 12).unwrap().to_le_bytes().to_vec(),
        other => panic!("no framing for {other:?}"),
    }
}

/// Over a preshared key and `transport`: one request is answered; then `tamper` edits the
/// server's bytes while a second request is answered, and the client's error is returned.
/// Before returning it asserts that the refused bytes delivered no answer, and that the next
/// connection (untampered) redoes the second request, each request being answered once.
fn refused_then_redone(transport: Transport, tamper: ToClient) -> ConnectionError {
    let mut p = Pair::preshared(transport);
    p.connect();
    let first = p.client.enqueue(request(1));
    p.drive().unwrap();
    assert_eq!(p.answers(), vec![(first, answer_of(&request(1)))]);

    p.to_client = Some(tamper);
    let second = p.client.enqueue(request(2));
    let Err(error) = p.drive() else {
        panic!("{transport:?}: the tampered bytes were accepted")
    };
    assert!(
        !p.client.is_connected(),
        "{transport:?}: the connection is closed"
    );
    assert_eq!(
        p.answers(),
        vec![(first, answer_of(&request(1)))],
        "{transport:?}: no answer from refused bytes"
    );
    assert_eq!(p.served, vec![request(1), request(2)]);

    p.to_client = None;
    p.connect();
    p.drive().unwrap();
    assert_eq!(
        p.served,
        vec![request(1), request(2), request(2)],
        "{transport:?}: redone once"
    );
    assert_eq!(
        p.answers(),
        vec![
            (first, answer_of(&request(1))),
            (second, answer_of(&request(2)))
        ],
        "{transport:?}: each request answered exactly once"
    );
    error
}

#[test]
fn an_oversize_frame_header_from_the_server_is_refused_before_its_body() {
    // Check 26, client role: the server's answer is replaced by a frame header announcing 4
    // bytes more than the client's limit, and no body. The client refuses on the header
    // alone: it neither waits for nor buffers the announced payload.
    let max = TransportConfig::for_client().max_frame_len;
    assert_eq!(max, DEFAULT_MAX_FRAME_LEN);
    for transport in [
        Transport::Abridged,
        Transport::Intermediate,
        Transport::PaddedIntermediate,
        Transport::Full,
    ] {
        let header = server_frame_header(transport, max + 4);
        let error = refused_then_redone(
            transport,
            Box::new(move |bytes: &mut Vec<u8>| bytes.clone_from(&header)),
        );
        assert_eq!(
            error,
            ConnectionError::Transport(TransportError::FrameTooLarge {
                len: max as u64 + 4,
                max
            }),
            "{transport:?}"
        );
    }
}

#[test]
fn a_flipped_crc_byte_from_the_server_is_refused() {
    // Check 27, client role: under `full`, one bit of the CRC32 of the server's next frame
    // (the answer) is flipped; the payload is intact, so only the CRC check can refuse it.
    let error = refused_then_redone(
        Transport::Full,
        Box::new(|bytes: &mut Vec<u8>| {
            let len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
            // The CRC's last byte (little-endian: its top byte).
            bytes[len - 1] ^= 1;
        }),
    );
    let ConnectionError::Transport(TransportError::BadCrc { expected, got }) = error else {
        panic!("not a CRC error: {error:?}")
    };
    assert_eq!(got, expected ^ 0x0100_0000, "the flipped bit, and only it");
}

#[test]
fn an_untrimmable_padded_frame_from_the_server_is_refused() {
    // Check 28, client role: under padded intermediate, the server's first frame (resPQ,
    // unencrypted, so its length field says where the padding starts) gets 16 more bytes
    // of padding, beyond the 15 allowed; the client cannot trim it and refuses it.
    use std::cell::Cell;
    use std::rc::Rc;
    let client = ClientEndpoint::new(
        client_config(Transport::PaddedIntermediate, false),
        None,
        [7; 32],
    );
    let mut p = Pair::new(client, server());
    let id = p.client.enqueue(request(1));
    let frame_len = Rc::new(Cell::new(0));
    let seen = Rc::clone(&frame_len);
    p.to_client = Some(Box::new(move |bytes: &mut Vec<u8>| {
        let len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        assert_eq!(bytes.len(), 4 + len, "one frame");
        assert_eq!(bytes[4..12], [0; 8], "an unencrypted packet");
        bytes.extend_from_slice(&[0; 16]);
        bytes[..4].copy_from_slice(&u32::try_from(len + 16).unwrap().to_le_bytes());
        seen.set(len + 16);
    }));
    p.connect();
    let Err(error) = p.drive() else {
        panic!("the untrimmable frame was accepted")
    };
    assert_eq!(
        error,
        ConnectionError::Transport(TransportError::BadPadding {
            len: frame_len.get()
        })
    );
    assert!(!p.client.is_connected());
    assert!(!p.key_created());
    assert!(p.served.is_empty());

    // Untampered, the next connection creates the key and the request is answered once.
    p.to_client = None;
    p.connect();
    p.drive().unwrap();
    assert!(p.key_created());
    assert_eq!(p.client.key_exchanges(), 1);
    assert_eq!(p.served, vec![request(1)]);
    assert_eq!(p.answers(), vec![(id, answer_of(&request(1)))]);
}
