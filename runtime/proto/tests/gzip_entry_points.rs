//! The two hostile `gzip_packed` objects of `runtime/wire/tests/fixtures/` (63 nested layers
//! of ~16 MiB in 56 KB; a 32-byte stream whose trailer claims 4 GiB) fed to every decoding
//! entry point of this crate: the client and server key exchange (where `gzip_packed` is
//! refused outright) and both session roles (one inflation budget per packet). Peak memory
//! is measured with a counting allocator and must stay under twice the budget.

mod util;
use util::server_key;

use std::time::Duration;

use mtproto_crypto::{AuthKey, DhParams, Direction};
use mtproto_proto::handshake::client::{self, ClientConfig};
use mtproto_proto::handshake::server::{ExpectReqPq, ServerConfig};
use mtproto_proto::plain;
use mtproto_proto::session::wire::{self, Message};
use mtproto_proto::session::{Event, ServerEvent, ServerSession, Session, SessionConfig};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

#[path = "../../wire/tests/util/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{exclusive, peak_during, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const NESTED: &[u8] = include_bytes!("../../wire/tests/fixtures/nested_gzip.bin");
const FORGED_SIZE: &[u8] = include_bytes!("../../wire/tests/fixtures/forged_size_gzip.bin");
const T0: Duration = Duration::from_secs(1_700_000_000);
/// The sessions' inflation budget in these tests.
const BUDGET: usize = 4 << 20;

fn attacks() -> [(&'static str, &'static [u8]); 2] {
    [("nested", NESTED), ("forged size", FORGED_SIZE)]
}

fn assert_bounded(what: &str, peak: usize) {
    assert!(
        peak < 2 * BUDGET,
        "{what}: peak {peak} bytes for a {BUDGET}-byte budget"
    );
}

#[test]
fn key_exchange_refuses_gzip_in_both_roles() {
    let _guard = exclusive();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let config = ServerConfig::new(vec![server_key().clone()], DhParams::telegram());
    for (what, attack) in attacks() {
        // Client: the attack where resPQ should be.
        let (step, _) = client::start(
            ClientConfig {
                dc_id: 2,
                public_keys: vec![server_key().public_key().clone()],
                temp_key_expires_in: None,
                max_retries: 3,
            },
            T0,
            &mut rng,
        );
        let packet = plain::wrap(1 << 32 | 1, attack);
        let (result, peak) = peak_during(|| step.handle(&packet, T0, &mut rng));
        assert!(result.is_err(), "{what}: client");
        assert!(peak < 64 << 10, "{what}: client peak {peak}");

        // Server: the attack where req_pq_multi should be, then where req_DH_params should.
        let (result, peak) =
            peak_during(|| ExpectReqPq::new().handle(&config, &packet, T0, &mut rng));
        assert!(result.is_err(), "{what}: server, first message");
        assert!(peak < 64 << 10, "{what}: server peak {peak}");
        let req_pq = plain::wrap(4 << 32, &{
            let mut b = 0xbe7e_8ef1u32.to_le_bytes().to_vec(); // req_pq_multi
            b.extend_from_slice(&[7; 16]);
            b
        });
        let (step, _) = ExpectReqPq::new()
            .handle(&config, &req_pq, T0, &mut rng)
            .expect("req_pq_multi");
        let (result, peak) = peak_during(|| step.handle(&config, &packet, T0, &mut rng));
        assert!(result.is_err(), "{what}: server, second message");
        assert!(peak < 64 << 10, "{what}: server peak {peak}");
    }
}

fn key() -> AuthKey {
    AuthKey::from_bytes([5; 256])
}

fn config() -> SessionConfig {
    SessionConfig {
        max_inflated: BUDGET,
        ..SessionConfig::default()
    }
}

#[test]
fn client_session_stays_within_its_budget() {
    let _guard = exclusive();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for (what, attack) in attacks() {
        let mut session = Session::new(config(), key(), 9, Some(0), 77);
        let id = session.enqueue(vec![1, 0, 0, 0]);
        let sent = session.poll_transmit(T0, &mut rng).unwrap();
        let req_msg_id =
            mtproto_crypto::message::decrypt_v2_message(&key(), Direction::ClientToServer, &sent)
                .unwrap()
                .msg_id;
        // As a top-level message (an update), and as the result of the request.
        for (n, body) in [attack.to_vec(), wire::build_rpc_result(req_msg_id, attack)]
            .into_iter()
            .enumerate()
        {
            let msg = Message {
                msg_id: ((T0.as_secs() as i64) << 32) | (n as i64 * 4 + 1),
                seq_no: 1,
                body,
            };
            let packet = wire::seal(&key(), Direction::ServerToClient, 9, 77, &msg, &mut rng);
            let (result, peak) = peak_during(|| session.handle_packet(T0, &packet));
            assert!(result.is_ok(), "{what}: authentic, so accepted");
            assert_bounded(what, peak);
        }
        // The request ends with an error, not in silence.
        let events: Vec<_> = std::iter::from_fn(|| session.poll_event()).collect();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::BadAnswer { id: got, .. } if *got == id)),
            "{what}: {events:?}"
        );
    }
}

#[test]
fn server_session_stays_within_its_budget() {
    let _guard = exclusive();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    for (what, attack) in attacks() {
        let mut server = ServerSession::new(config(), key(), 9);
        let msg = Message {
            msg_id: (T0.as_secs() as i64) << 32 | 4,
            seq_no: 1,
            body: attack.to_vec(),
        };
        let packet = wire::seal(&key(), Direction::ClientToServer, 9, 77, &msg, &mut rng);
        let (result, peak) = peak_during(|| server.handle_packet(T0, &packet));
        assert!(result.is_ok(), "{what}");
        assert_bounded(what, peak);
        let requests = std::iter::from_fn(|| server.poll_event())
            .filter(|e| matches!(e, ServerEvent::Request { .. }))
            .count();
        assert_eq!(
            requests, 0,
            "{what}: nothing undecodable reaches the application"
        );
    }
}
