//! The encrypted session against Telethon 1.45 (an independent implementation), at the level
//! of whole MTProto 2.0 messages: headers, containers, `gzip_packed`, `rpc_result`.
//!
//! - Our client [`Session`]'s packets decrypt with Telethon's key derivation (x = 0), their
//!   msg_key is the one Telethon computes, and Telethon's `BinaryReader` parses header,
//!   container and bodies back to exactly the requests we sent.
//! - Telethon as the client (`MessagePacker` + `MTProtoState.encrypt_message_data`) is
//!   accepted by our [`ServerSession`], which hands over Telethon's requests with Telethon's
//!   msg_ids; our answers then pass Telethon's own client-side
//!   `MTProtoState.decrypt_message_data` and decode to what we sent.
//!
//! The Python side is `tests/py/session_telethon.py`. Run with the oracle venv:
//! `cargo test -p project-tests --test session_telethon`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_api::{enums, functions, types, Serialize, LAYER};
use mtproto_crypto::AuthKey;
use mtproto_proto::session::{RpcError, ServerEvent, ServerSession, Session, SessionConfig};
use project_tests::run_python;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

const SESSION_ID: i64 = 0x1122_3344_5566_7788;
const SALT: i64 = -0x0102_0304_0506_0708;

fn key(seed: u64) -> AuthKey {
    let mut bytes = [0u8; 256];
    ChaCha20Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
    AuthKey::from_bytes(bytes)
}

/// Real time: Telethon's `decrypt_message_data` checks msg_ids against its own clock.
fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

fn lines(out: Vec<u8>) -> Vec<Vec<String>> {
    String::from_utf8(out)
        .expect("oracle output is UTF-8")
        .lines()
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect()
}

fn int(field: &str) -> i64 {
    field
        .parse()
        .unwrap_or_else(|e| panic!("oracle printed {field:?}: {e}"))
}

fn unhex(field: &str) -> Vec<u8> {
    hex::decode(field).unwrap_or_else(|e| panic!("oracle printed bad hex {field:?}: {e}"))
}

fn init_connection<X>(device_model: String, query: X) -> functions::InitConnection<X> {
    functions::InitConnection::new(
        12345,
        device_model,
        "1.0".into(),
        "0.1".into(),
        "en".into(),
        String::new(),
        "en".into(),
        query,
    )
}

/// The requests our client sends: the first login call as a real client wraps it, two more
/// `auth.*` calls, and one long enough to be sent `gzip_packed`.
fn client_requests() -> Vec<(&'static str, Vec<u8>)> {
    let send_code = functions::InvokeWithLayer::new(
        LAYER,
        init_connection(
            "rust oracle test".into(),
            functions::auth::SendCode::new(
                "+999661234567".into(),
                12345,
                "0123456789abcdef".into(),
                types::CodeSettings::default().into(),
            ),
        ),
    );
    let mut sign_in = functions::auth::SignIn::new("+999661234567".into(), "hash".into());
    sign_in.phone_code = Some("12345".into());
    let export =
        functions::auth::ExportLoginToken::new(12345, "0123456789abcdef".into(), vec![1, 2, 3]);
    let big = functions::InvokeWithLayer::new(
        LAYER,
        init_connection("x".repeat(2000), functions::help::GetNearestDc {}),
    );
    vec![
        ("InvokeWithLayerRequest", send_code.to_bytes()),
        ("SignInRequest", sign_in.to_bytes()),
        ("ExportLoginTokenRequest", export.to_bytes()),
        ("gzip:InvokeWithLayerRequest", big.to_bytes()),
    ]
}

/// One packet as Telethon parsed it (`decrypt-client`).
#[derive(Debug)]
struct Parsed {
    salt: i64,
    session_id: i64,
    msg_id: i64,
    seq_no: i64,
    padding: i64,
    container: Option<usize>,
    /// (msg_id, seq_no, Telethon class, `bytes(obj)`)
    messages: Vec<(i64, i64, String, Vec<u8>)>,
}

fn decrypt_client(key: &AuthKey, packets: &[Vec<u8>]) -> Vec<Parsed> {
    let input: String = packets
        .iter()
        .map(|p| format!("{} {}\n", hex::encode(key.as_bytes()), hex::encode(p)))
        .collect();
    let out = lines(run_python(
        "session_telethon.py",
        &["decrypt-client"],
        input.as_bytes(),
    ));
    let mut parsed: Vec<Parsed> = Vec::new();
    for l in out {
        match l[0].as_str() {
            "packet" => parsed.push(Parsed {
                salt: int(&l[1]),
                session_id: int(&l[2]),
                msg_id: int(&l[3]),
                seq_no: int(&l[4]),
                padding: int(&l[6]),
                container: None,
                messages: Vec::new(),
            }),
            "container" => parsed.last_mut().unwrap().container = Some(int(&l[1]) as usize),
            "message" => parsed.last_mut().unwrap().messages.push((
                int(&l[1]),
                int(&l[2]),
                l[3].clone(),
                unhex(&l[4]),
            )),
            other => panic!("unexpected oracle line {other:?}"),
        }
    }
    assert_eq!(parsed.len(), packets.len());
    parsed
}

#[test]
fn client_session_messages_decrypt_and_parse_with_telethon() {
    let key = key(1);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut client = Session::new(
        SessionConfig::default(),
        key.clone(),
        SALT,
        Some(0),
        SESSION_ID,
    );
    let requests = client_requests();
    let t = now();

    // One request alone, then three in one container (one of them gzip_packed).
    client.enqueue(requests[0].1.clone());
    let mut packets = vec![client.poll_transmit(t, &mut rng).expect("a packet")];
    for (_, body) in &requests[1..] {
        client.enqueue(body.clone());
    }
    packets.push(client.poll_transmit(t, &mut rng).expect("a container"));
    assert!(client.poll_transmit(t, &mut rng).is_none());

    let parsed = decrypt_client(&key, &packets);
    for p in &parsed {
        assert_eq!((p.salt, p.session_id), (SALT, SESSION_ID));
        assert!((12..=1024).contains(&p.padding), "padding {}", p.padding);
        assert_eq!(p.msg_id % 4, 0, "client msg_ids are divisible by 4");
        assert!((p.msg_id >> 32).abs_diff(t.as_secs() as i64) <= 1);
    }
    // The single message: content-related, first in the session.
    let single = &parsed[0];
    assert_eq!(single.container, None);
    assert_eq!(single.seq_no, 1);
    assert_eq!(
        single.messages,
        vec![(
            single.msg_id,
            1,
            requests[0].0.to_string(),
            requests[0].1.clone()
        )]
    );
    // The container: its contents are content-related with seq_no 3, 5, 7 and decode to
    // exactly what was sent; the container is not content-related, and its msg_id and
    // seq_no (2 * 4 content-related messages so far) are above its contents'.
    let container = &parsed[1];
    assert_eq!(container.container, Some(3));
    assert_eq!(container.seq_no, 8);
    let mut last = single.msg_id;
    for ((msg_id, seq_no, class, bytes), (i, (want_class, want))) in container
        .messages
        .iter()
        .zip(requests[1..].iter().enumerate())
    {
        assert!(*msg_id > last && msg_id % 4 == 0);
        last = *msg_id;
        assert_eq!(*seq_no, 3 + 2 * i as i64);
        assert_eq!((class.as_str(), bytes), (*want_class, want));
    }
    assert!(container.msg_id > last);
}

#[test]
fn telethon_client_is_accepted_by_server_session_and_decrypts_its_answers() {
    let key = key(3);
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    // Telethon as the client: three packets, four requests (see the script).
    let input = format!("{} {} {}\n", hex::encode(key.as_bytes()), SESSION_ID, SALT);
    let out = lines(run_python(
        "session_telethon.py",
        &["encrypt-client"],
        input.as_bytes(),
    ));
    let mut server = ServerSession::new(SessionConfig::default(), key.clone(), SALT);
    let mut sent = Vec::new();
    let mut received = Vec::new();
    for l in out {
        match l[0].as_str() {
            "packet" => {
                server
                    .handle_packet(now(), &unhex(&l[1]))
                    .expect("the server session accepts Telethon's packet");
                while let Some(event) = server.poll_event() {
                    match event {
                        ServerEvent::Request { msg_id, body } => received.push((msg_id, body)),
                        ServerEvent::NewSession { session_id } => {
                            assert_eq!(session_id, SESSION_ID)
                        }
                        ServerEvent::Refused { code } => {
                            panic!("Telethon's message refused with code {code}")
                        }
                    }
                }
            }
            "request" => sent.push((int(&l[1]), unhex(&l[2]))),
            other => panic!("unexpected oracle line {other:?}"),
        }
    }
    assert_eq!(sent.len(), 4);
    // Same msg_ids, same bodies (the gzip_packed one unpacked).
    assert_eq!(received, sent);

    // Answer them: a sentCode, an RPC error, a loginToken, and a nearestDc.
    let sent_code: enums::auth::SentCode = types::auth::SentCode {
        r#type: types::auth::SentCodeTypeSms { length: 5 }.into(),
        phone_code_hash: "hash".into(),
        next_type: None,
        timeout: Some(60),
    }
    .into();
    let login_token: enums::auth::LoginToken = types::auth::LoginToken {
        expires: 1_800_000_000,
        token: vec![7; 32].into(),
    }
    .into();
    let nearest: enums::NearestDc = types::NearestDc {
        country: "NL".into(),
        this_dc: 2,
        nearest_dc: 4,
    }
    .into();
    let answers = [
        Ok(("SentCode", sent_code.to_bytes())),
        Err(RpcError::new(400, "PHONE_CODE_INVALID".into())),
        Ok(("LoginToken", login_token.to_bytes())),
        Ok(("NearestDc", nearest.to_bytes())),
    ];
    for ((msg_id, _), answer) in received.iter().zip(&answers) {
        match answer {
            Ok((_, bytes)) => server.respond(*msg_id, bytes),
            Err(error) => server.respond_error(*msg_id, error),
        }
    }
    let mut packets = Vec::new();
    while let Some(p) = server.poll_transmit(now(), &mut rng) {
        packets.push(p);
    }
    assert!(!packets.is_empty());

    let input: String = packets
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {}\n",
                hex::encode(key.as_bytes()),
                SESSION_ID,
                SALT,
                hex::encode(p)
            )
        })
        .collect();
    let out = lines(run_python(
        "session_telethon.py",
        &["decrypt-server"],
        input.as_bytes(),
    ));
    let mut results = Vec::new();
    let mut acked = Vec::new();
    let mut new_session = None;
    for l in &out {
        match l[0].as_str() {
            "ignored" => panic!("Telethon ignored one of our packets: {out:?}"),
            "container" => {}
            "rpc_result" => {
                assert_eq!(int(&l[1]) % 4, 1, "answers have msg_id = 1 mod 4");
                results.push((int(&l[3]), Ok((l[4].clone(), unhex(&l[5])))));
            }
            "rpc_error" => {
                let message = l[5..].join(" ");
                results.push((int(&l[3]), Err((int(&l[4]), message))));
            }
            "msgs_ack" => acked.extend(l[3].split(',').map(int)),
            "new_session_created" => new_session = Some((int(&l[3]), int(&l[5]))),
            other => panic!("unexpected message {other:?} in {out:?}"),
        }
    }
    // Telethon saw the session start at its first message, with our salt.
    assert_eq!(new_session, Some((sent[0].0, SALT)));
    // Every content-related message was acknowledged (the four requests; Telethon's
    // container itself is not content-related).
    for (msg_id, _) in &sent {
        assert!(acked.contains(msg_id), "{msg_id} not acked: {acked:?}");
    }
    let want: Vec<_> = sent
        .iter()
        .zip(&answers)
        .map(|((msg_id, _), answer)| {
            let answer = match answer {
                Ok((class, bytes)) => Ok((class.to_string(), bytes.clone())),
                Err(e) => Err((i64::from(e.code), e.message.clone())),
            };
            (*msg_id, answer)
        })
        .collect();
    assert_eq!(results, want);
}
