//! The test DC's session attack modes and fault knobs really misbehave on the wire.
//!
//! A raw client (TCP, intermediate framing, our crypto; no session logic that could hide
//! what the server sent) sends `help.getNearestDc` under a key registered on the server,
//! reads the server's packets and opens them itself: each `SessionAttack` shows up as
//! exactly the violation it names. Whether a client rejects them is the client's test.

use std::time::{Duration, Instant};

use auth_api::{functions, Serialize};
use mtproto_crypto::message::{decrypt_v2, decrypt_v2_message, encrypt_v2};
use mtproto_crypto::{AuthKey, Direction};
use project_tests::script::bounded;
use rand::RngCore;
use test_dc::{SessionAttack, TestDc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SALT: i64 = 0x0102_0304_0506_0708;
const SESSION: i64 = 0x1111_2222_3333_4444;

struct RawClient {
    stream: TcpStream,
    key: AuthKey,
    seq: i32,
}

impl RawClient {
    async fn connect(dc: &TestDc) -> Self {
        let mut bytes = [0u8; 256];
        rand::thread_rng().fill_bytes(&mut bytes);
        let key = AuthKey::from_bytes(bytes);
        dc.server(1).add_key(key.clone(), SALT);
        let mut stream = TcpStream::connect(dc.addr(1)).await.expect("connect");
        stream.write_all(&[0xee; 4]).await.unwrap();
        Self {
            stream,
            key,
            seq: 1,
        }
    }

    /// Sends a content-related message with `body`.
    async fn send(&mut self, body: &[u8]) {
        let now = test_dc::unix_now();
        let msg_id = ((now.as_secs() as i64) << 32) | (i64::from(now.subsec_nanos()) & !3);
        let mut plain = Vec::new();
        plain.extend_from_slice(&SALT.to_le_bytes());
        plain.extend_from_slice(&SESSION.to_le_bytes());
        plain.extend_from_slice(&msg_id.to_le_bytes());
        plain.extend_from_slice(&self.seq.to_le_bytes());
        plain.extend_from_slice(&(body.len() as u32).to_le_bytes());
        plain.extend_from_slice(body);
        self.seq += 2;
        let packet = encrypt_v2(
            &self.key,
            Direction::ClientToServer,
            &plain,
            &mut rand::thread_rng(),
        );
        let mut frame = (packet.len() as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(&packet);
        self.stream.write_all(&frame).await.unwrap();
    }

    /// The next packet the server sends.
    async fn packet(&mut self) -> Vec<u8> {
        let read = async {
            let mut len = [0u8; 4];
            self.stream.read_exact(&mut len).await.unwrap();
            let mut packet = vec![0u8; u32::from_le_bytes(len) as usize];
            self.stream.read_exact(&mut packet).await.unwrap();
            packet
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("the server sent nothing")
    }
}

/// Whether a server packet carries an `rpc_result` (alone or in a container).
fn carries_answer(key: &AuthKey, packet: &[u8]) -> bool {
    use mtproto_proto::session::wire;
    let Ok(msg) = decrypt_v2_message(key, Direction::ServerToClient, packet) else {
        return false;
    };
    let bodies = if wire::peek_id(&msg.body) == Some(wire::MSG_CONTAINER_ID) {
        wire::parse_container(&msg.body)
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect()
    } else {
        vec![msg.body]
    };
    bodies
        .iter()
        .any(|b| wire::peek_id(b) == Some(wire::RPC_RESULT_ID))
}

fn get_nearest_dc() -> Vec<u8> {
    functions::help::GetNearestDc {}.to_bytes()
}

/// (session_id, msg_id) of a packet that opens; `None` otherwise.
fn header(key: &AuthKey, packet: &[u8]) -> Option<(i64, i64)> {
    decrypt_v2_message(key, Direction::ServerToClient, packet)
        .ok()
        .map(|m| (m.session_id, m.msg_id))
}

async fn attacked(attack: SessionAttack) -> (RawClient, Vec<Vec<u8>>) {
    let dc = TestDc::builder().start().await.expect("start");
    let mut client = RawClient::connect(&dc).await;
    dc.server(1).update_knobs(|k| k.attack = Some(attack));
    let mut packets = Vec::new();
    for _ in 0..2 {
        client.send(&get_nearest_dc()).await;
        packets.push(client.packet().await);
    }
    assert!(dc.server(1).stats().tampered_packets >= 2);
    (client, packets)
}

#[tokio::test]
async fn an_untouched_server_sends_packets_that_pass_every_check() {
    bounded(async {
        let dc = TestDc::builder().start().await.expect("start");
        let mut client = RawClient::connect(&dc).await;
        client.send(&get_nearest_dc()).await;
        let packet = client.packet().await;
        let (session, msg_id) = header(&client.key, &packet).expect("opens");
        assert_eq!(session, SESSION);
        assert_eq!(msg_id % 2, 1, "server msg_ids are odd");
        let age = (test_dc::unix_now().as_secs() as i64) - (msg_id >> 32);
        assert!(age.abs() < 30);
        assert_eq!(dc.server(1).stats().tampered_packets, 0);
    })
    .await;
}

#[tokio::test]
async fn wrong_msg_key_packets_do_not_authenticate() {
    bounded(async {
        let (client, packets) = attacked(SessionAttack::WrongMsgKey).await;
        for packet in packets {
            assert!(decrypt_v2(&client.key, Direction::ServerToClient, &packet).is_err());
        }
    })
    .await;
}

#[tokio::test]
async fn envelope_attacks_break_the_key_id_or_the_length() {
    bounded(async {
        let (client, packets) = attacked(SessionAttack::WrongAuthKeyId).await;
        for packet in &packets {
            assert_ne!(packet[..8], client.key.id_bytes());
            assert!(decrypt_v2(&client.key, Direction::ServerToClient, packet).is_err());
            // Only the key id is wrong: with it put back, the packet opens.
            let mut fixed = packet.clone();
            fixed[0] ^= 1;
            assert!(header(&client.key, &fixed).is_some());
        }

        let (client, packets) = attacked(SessionAttack::UnalignedLength).await;
        for packet in &packets {
            assert_eq!(packet[..8], client.key.id_bytes());
            assert_eq!((packet.len() - 24) % 16, 12, "4 bytes cut");
            assert!(decrypt_v2(&client.key, Direction::ServerToClient, packet).is_err());
        }
    })
    .await;
}

#[tokio::test]
async fn header_attacks_break_exactly_their_field() {
    bounded(async {
        let (client, packets) = attacked(SessionAttack::WrongSessionId).await;
        let (session, msg_id) = header(&client.key, &packets[0]).expect("opens");
        assert_ne!(session, SESSION);
        assert_eq!(msg_id % 2, 1);

        let (client, packets) = attacked(SessionAttack::EvenMsgId).await;
        let (session, msg_id) = header(&client.key, &packets[0]).expect("opens");
        assert_eq!((session, msg_id % 2), (SESSION, 0));

        let (client, packets) = attacked(SessionAttack::ReplayedMsgId).await;
        let first = header(&client.key, &packets[0]).expect("opens");
        let second = header(&client.key, &packets[1]).expect("opens");
        assert_eq!(
            first, second,
            "the second packet repeats the first's msg_id"
        );

        let (client, packets) = attacked(SessionAttack::StaleMsgId).await;
        let (_, msg_id) = header(&client.key, &packets[0]).expect("opens");
        let age = (test_dc::unix_now().as_secs() as i64) - (msg_id >> 32);
        assert!((590..=610).contains(&age), "{age} s old");
    })
    .await;
}

#[tokio::test]
async fn the_seq_no_parity_attack_breaks_only_the_parity() {
    use mtproto_proto::session::wire;
    bounded(async {
        let (client, packets) = attacked(SessionAttack::WrongSeqNoParity).await;
        let mut judged = 0;
        for packet in &packets {
            // Authentic, for this session, with an odd msg_id: only the seq_no is wrong.
            let msg = decrypt_v2_message(&client.key, Direction::ServerToClient, packet)
                .expect("the msg_key is right");
            assert_eq!((msg.session_id, msg.msg_id % 2), (SESSION, 1));
            // An answer (or new_session_created) now has an even seq_no, an ack or a
            // container an odd one; service messages that may have either are not judged.
            let Some(expected_odd) = wire::peek_id(&msg.body).and_then(wire::expected_parity)
            else {
                continue;
            };
            assert_ne!(
                msg.seq_no % 2 == 1,
                expected_odd,
                "seq_no {} for {:#010x?}",
                msg.seq_no,
                wire::peek_id(&msg.body)
            );
            judged += 1;
        }
        assert!(judged >= 1, "no packet with a parity rule");
    })
    .await;
}

#[tokio::test]
async fn padding_and_length_attacks_authenticate_but_break_the_layout() {
    bounded(async {
        for attack in [
            SessionAttack::BadPadding,
            SessionAttack::BadLength,
            SessionAttack::OversizePadding,
            SessionAttack::UnalignedBodyLength,
        ] {
            let (client, packets) = attacked(attack).await;
            for packet in &packets {
                let plain = decrypt_v2(&client.key, Direction::ServerToClient, packet)
                    .expect("the msg_key is right");
                let claimed = u32::from_le_bytes(plain[28..32].try_into().unwrap()) as usize;
                let room = plain.len() - 32;
                match attack {
                    SessionAttack::BadPadding => assert!(room - claimed < 12, "{attack:?}"),
                    SessionAttack::BadLength => assert!(claimed > room, "{attack:?}"),
                    SessionAttack::OversizePadding => {
                        assert_eq!(claimed % 4, 0, "{attack:?}");
                        assert!(claimed <= room && room - claimed > 1024, "{attack:?}");
                    }
                    _ => {
                        assert_ne!(claimed % 4, 0, "{attack:?}");
                        let padding = room - claimed;
                        assert!((12..=1024).contains(&padding), "{attack:?}: {padding}");
                    }
                }
                assert!(header(&client.key, packet).is_none(), "{attack:?}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn delayed_answers_wait_and_silence_swallows_them() {
    bounded(async {
        let dc = TestDc::builder().start().await.expect("start");
        let mut client = RawClient::connect(&dc).await;
        dc.server(1)
            .update_knobs(|k| k.delay_answers = Some(Duration::from_millis(1500)));
        let started = Instant::now();
        client.send(&get_nearest_dc()).await;
        // new_session_created and the ack may come first; the answer waits.
        loop {
            let packet = client.packet().await;
            if carries_answer(&client.key, &packet) {
                break;
            }
        }
        assert!(started.elapsed() >= Duration::from_millis(1500));

        dc.server(1).update_knobs(|k| {
            k.delay_answers = None;
            k.silent = true;
        });
        client.send(&get_nearest_dc()).await;
        let nothing = tokio::time::timeout(Duration::from_secs(2), client.stream.read_u8()).await;
        assert!(nothing.is_err(), "a silent server sent something");
        assert!(dc.server(1).stats().swallowed_packets >= 1);
    })
    .await;
}

#[tokio::test]
async fn a_knob_set_for_one_connection_leaves_the_others_alone() {
    bounded(async {
        let dc = TestDc::builder().start().await.expect("start");
        let server = dc.server(1);
        // The next connection is closed at once, the one after is silenced; a third is
        // untouched.
        let first = server.next_connection_index();
        server.update_connection_knobs(first, |k| k.close_on_accept = true);
        server.update_connection_knobs(first + 1, |k| k.silent = true);
        let mut closed = TcpStream::connect(dc.addr(1)).await.unwrap();
        let mut byte = [0u8; 1];
        let eof = tokio::time::timeout(Duration::from_secs(5), closed.read(&mut byte)).await;
        assert!(matches!(eof, Ok(Ok(0)) | Ok(Err(_))), "{eof:?}");

        let mut silenced = RawClient::connect(&dc).await;
        let mut fine = RawClient::connect(&dc).await;
        silenced.send(&get_nearest_dc()).await;
        fine.send(&get_nearest_dc()).await;
        let answer = fine.packet().await;
        assert!(header(&fine.key, &answer).is_some());
        let nothing = tokio::time::timeout(Duration::from_secs(2), silenced.stream.read_u8()).await;
        assert!(nothing.is_err(), "the silenced connection got bytes");
        let stats = server.stats();
        assert_eq!(stats.dropped_connections, 1);
        assert!(stats.swallowed_packets >= 1);
        assert_eq!(stats.connections, first + 3);
    })
    .await;
}
