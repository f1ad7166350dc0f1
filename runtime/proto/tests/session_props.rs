//! Hostile input to the sessions: arbitrary bytes, and arbitrary bodies inside correctly
//! encrypted messages (so they pass decryption and reach the TL parsing), never panic.

use std::time::Duration;

use mtproto_crypto::keys::{derive_v2, msg_key_v2};
use mtproto_crypto::{AuthKey, Direction};
use mtproto_proto::session::wire::{self, Message};
use mtproto_proto::session::{ServerSession, Session, SessionConfig};
use proptest::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

const T0: Duration = Duration::from_secs(1_700_000_000);
const SESSION_ID: i64 = 0x0bad_cafe;
const SALT: i64 = 7;

fn key() -> AuthKey {
    let mut k = [0u8; 256];
    ChaCha20Rng::seed_from_u64(99).fill_bytes(&mut k);
    AuthKey::from_bytes(k)
}

/// Encrypts `msg` as `direction` would, with minimal padding.
fn seal(msg: &Message, direction: Direction) -> Vec<u8> {
    let mut plain = wire::plaintext(SALT, SESSION_ID, msg);
    let pad = 12 + (16 - (plain.len() + 12) % 16) % 16;
    plain.extend(std::iter::repeat(0x11).take(pad));
    let k = key();
    let msg_key = msg_key_v2(&k, direction, &plain);
    let aes = derive_v2(&k, direction, &msg_key);
    mtproto_crypto::ige::encrypt_ige(&mut plain, aes.key(), aes.iv()).unwrap();
    let mut out = k.id_bytes().to_vec();
    out.extend_from_slice(&msg_key);
    out.extend_from_slice(&plain);
    out
}

/// Bodies that start like real messages (container, rpc_result, gzip, service ids) and go on
/// with random bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let ids = prop_oneof![
        Just(wire::MSG_CONTAINER_ID),
        Just(wire::RPC_RESULT_ID),
        Just(wire::GZIP_PACKED_ID),
        Just(wire::RPC_ERROR_ID),
        Just(0xedab_447b_u32), // bad_server_salt
        Just(0xa7ef_f811_u32), // bad_msg_notification
        Just(0x9ec2_0908_u32), // new_session_created
        Just(0xae50_0895_u32), // future_salts
        Just(0x3477_73c5_u32), // pong
        Just(0xda69_fb52_u32), // msgs_state_req
        Just(0x7d86_1a08_u32), // msg_resend_req
        Just(0x276d_3ec6_u32), // msg_detailed_info
        Just(0x62d6_b459_u32), // msgs_ack
        any::<u32>(),
    ];
    (ids, proptest::collection::vec(any::<u8>(), 0..300)).prop_map(|(id, rest)| {
        let mut b = id.to_le_bytes().to_vec();
        b.extend(rest);
        b.truncate(b.len() / 4 * 4);
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn client_session_survives_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut c = Session::new(SessionConfig::default(), key(), SALT, Some(0), SESSION_ID);
        let _ = c.handle_packet(T0, &bytes);
    }

    #[test]
    fn server_session_survives_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut s = ServerSession::new(SessionConfig::default(), key(), SALT);
        let _ = s.handle_packet(T0, &bytes);
    }

    #[test]
    fn client_survives_authenticated_garbage(bodies in proptest::collection::vec(body(), 1..6), seq in any::<i32>()) {
        let mut c = Session::new(SessionConfig::default(), key(), SALT, Some(0), SESSION_ID);
        let id = c.enqueue(vec![1, 2, 3, 4]);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let _ = c.poll_transmit(T0, &mut rng);
        for (i, body) in bodies.into_iter().enumerate() {
            let msg = Message { msg_id: (T0.as_secs() as i64) << 32 | (i as i64 * 4 + 1), seq_no: seq, body };
            let _ = c.handle_packet(T0, &seal(&msg, Direction::ServerToClient));
            while c.poll_event().is_some() {}
            let _ = c.poll_transmit(T0, &mut rng);
        }
        c.cancel(id);
    }

    #[test]
    fn server_survives_authenticated_garbage(bodies in proptest::collection::vec(body(), 1..6), seq in any::<i32>()) {
        let mut s = ServerSession::new(SessionConfig::default(), key(), SALT);
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        for (i, body) in bodies.into_iter().enumerate() {
            let msg = Message { msg_id: (T0.as_secs() as i64) << 32 | (i as i64 * 4 + 4), seq_no: seq, body };
            let _ = s.handle_packet(T0, &seal(&msg, Direction::ClientToServer));
            while s.poll_event().is_some() {}
            while s.poll_transmit(T0, &mut rng).is_some() {}
        }
    }
}
