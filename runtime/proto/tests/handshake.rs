//! The key exchange, client against the server role, with fixed time and seeded randomness:
//! success (permanent and temporary keys), every DH answer (ok, retry, fail, bad hash) and the
//! client's checks against a misbehaving or tampered server.

use std::time::Duration;

use mtproto_crypto::{DhError, DhParams, DhValue, PrimeCache, RsaPrivateKey};
use mtproto_proto::handshake::client::{self, ClientConfig, DhGenStep};
use mtproto_proto::handshake::server::{self, DhParamsStep, ServerConfig, ServerQuirks};
use mtproto_proto::handshake::{KexError, KeyExchangeOutcome};
use mtproto_proto::plain;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const NOW: Duration = Duration::from_secs(1_700_000_000);

fn server_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(include_str!("fixtures/test_server_key.pem")).expect("test key")
}

fn server_config(quirks: ServerQuirks) -> ServerConfig {
    ServerConfig {
        keys: vec![server_key()],
        dh: DhParams::telegram(),
        quirks,
    }
}

fn client_config(temp: Option<i32>) -> ClientConfig {
    ClientConfig {
        dc_id: 10002,
        public_keys: vec![server_key().public_key().clone()],
        temp_key_expires_in: temp,
        max_retries: 3,
    }
}

/// What happened to a full exchange.
#[derive(Debug)]
enum Ending {
    Both(KeyExchangeOutcome, server::ServerKeyOutcome),
    ClientError(KexError),
}

/// Runs client and server against each other; `tamper` may edit each server packet
/// (by index) before the client sees it. The client's clock is `skew` seconds behind.
fn run(
    quirks: ServerQuirks,
    temp: Option<i32>,
    skew: u64,
    tamper: impl Fn(usize, &mut Vec<u8>),
) -> Ending {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let config = server_config(quirks);
    let client_now = NOW - Duration::from_secs(skew);
    let mut primes = PrimeCache::new();

    let (c, req_pq) = client::start(client_config(temp), client_now, &mut rng);
    let (s, mut res_pq) = server::ExpectReqPq::new()
        .handle(&config, &req_pq, NOW, &mut rng)
        .expect("server accepts req_pq_multi");
    tamper(0, &mut res_pq);
    let (c, req_dh) = match c.handle(&res_pq, client_now, &mut rng) {
        Ok(x) => x,
        Err(e) => return Ending::ClientError(e),
    };
    let (s, mut dh_params) = match s
        .handle(&config, &req_dh, NOW, &mut rng)
        .expect("server accepts req_DH_params")
    {
        DhParamsStep::Continue(s, p) => (Some(s), p),
        DhParamsStep::Refused(p) => (None, p),
    };
    tamper(1, &mut dh_params);
    let (mut c, mut set_dh) = match c.handle(&dh_params, client_now, &mut rng, &mut primes) {
        Ok(x) => x,
        Err(e) => return Ending::ClientError(e),
    };
    let mut s = s;
    loop {
        let step = s.take().expect("server is waiting");
        let (answer, server_done) = match step.handle(&config, &set_dh, NOW).expect("server step") {
            server::DhGenStep::Done(outcome, p) => (p, Some(outcome)),
            server::DhGenStep::Retry(next, p) => {
                s = Some(next);
                (p, None)
            }
            server::DhGenStep::Failed(p) => (p, None),
        };
        let mut answer = answer;
        tamper(2, &mut answer);
        match c.handle(&answer, client_now, &mut rng) {
            Ok(DhGenStep::Done(outcome)) => {
                return Ending::Both(outcome, server_done.expect("server finished too"))
            }
            Ok(DhGenStep::Retry(next, packet)) => {
                c = *next;
                set_dh = packet;
            }
            Err(e) => return Ending::ClientError(e),
        }
    }
}

fn client_error(ending: Ending) -> KexError {
    match ending {
        Ending::ClientError(e) => e,
        Ending::Both(..) => panic!("the exchange should have failed"),
    }
}

#[test]
fn permanent_key_exchange_agrees_on_key_salt_and_time() {
    let Ending::Both(c, s) = run(ServerQuirks::default(), None, 25, |_, _| {}) else {
        panic!("exchange failed")
    };
    assert_eq!(c.auth_key.as_bytes(), s.auth_key.as_bytes());
    assert_ne!(c.auth_key.as_bytes(), &[0u8; 256]);
    assert_eq!(c.first_salt, s.first_salt);
    assert_eq!(c.time_offset, 25, "clock offset from server_time");
    assert_eq!(c.expires_at, None);
    assert_eq!((s.dc, s.temp_expires_in), (Some(10002), None));
}

#[test]
fn temporary_key_uses_temp_dc_inner_data() {
    let Ending::Both(c, s) = run(ServerQuirks::default(), Some(3600), 0, |_, _| {}) else {
        panic!("exchange failed")
    };
    assert_eq!(c.auth_key.id(), s.auth_key.id());
    assert_eq!(s.temp_expires_in, Some(3600));
    assert_eq!(c.expires_at, Some(NOW.as_secs() as i64 + 3600));
}

#[test]
fn dh_gen_retry_sends_a_new_g_b_with_retry_id() {
    let quirks = ServerQuirks {
        retry_once: true,
        ..Default::default()
    };
    // The server checks that retry_id is the aux_hash of the refused key.
    let Ending::Both(c, s) = run(quirks, None, 0, |_, _| {}) else {
        panic!("exchange failed")
    };
    assert_eq!(c.auth_key.as_bytes(), s.auth_key.as_bytes());
}

#[test]
fn dh_gen_fail_is_reported_after_its_hash_is_checked() {
    let quirks = ServerQuirks {
        fail_dh_gen: true,
        ..Default::default()
    };
    assert_eq!(
        client_error(run(quirks, None, 0, |_, _| {})),
        KexError::DhGenFail
    );
}

#[test]
fn bad_new_nonce_hash_is_rejected() {
    let quirks = ServerQuirks {
        corrupt_new_nonce_hash: true,
        ..Default::default()
    };
    assert_eq!(
        client_error(run(quirks, None, 0, |_, _| {})),
        KexError::NewNonceHashMismatch { number: 1 }
    );
}

#[test]
fn bad_answer_hash_is_rejected() {
    let quirks = ServerQuirks {
        corrupt_answer_hash: true,
        ..Default::default()
    };
    assert_eq!(
        client_error(run(quirks, None, 0, |_, _| {})),
        KexError::Dh(DhError::AnswerHashMismatch)
    );
}

#[test]
fn server_dh_params_fail_is_reported() {
    let quirks = ServerQuirks {
        refuse_dh_params: true,
        ..Default::default()
    };
    assert_eq!(
        client_error(run(quirks, None, 0, |_, _| {})),
        KexError::ServerDhParamsFail
    );
}

#[test]
fn out_of_range_g_a_is_rejected() {
    let quirks = ServerQuirks {
        bad_g_a: true,
        ..Default::default()
    };
    assert_eq!(
        client_error(run(quirks, None, 0, |_, _| {})),
        KexError::Dh(DhError::ValueOutOfRange { which: DhValue::GA })
    );
}

/// Offsets inside the server's packets (after the 20-byte plain header and the 4-byte id).
const NONCE_AT: usize = plain::HEADER_LEN + 4;
const SERVER_NONCE_AT: usize = NONCE_AT + 16;

#[test]
fn tampered_nonces_are_rejected_at_every_step() {
    let e = client_error(run(ServerQuirks::default(), None, 0, |i, p| {
        if i == 0 {
            p[NONCE_AT] ^= 1;
        }
    }));
    assert_eq!(e, KexError::NonceMismatch { step: "resPQ" });

    let e = client_error(run(ServerQuirks::default(), None, 0, |i, p| {
        if i == 1 {
            p[SERVER_NONCE_AT] ^= 1;
        }
    }));
    assert_eq!(
        e,
        KexError::ServerNonceMismatch {
            step: "server_DH_params_ok"
        }
    );

    let e = client_error(run(ServerQuirks::default(), None, 0, |i, p| {
        if i == 2 {
            p[NONCE_AT + 3] ^= 0x80;
        }
    }));
    assert_eq!(e, KexError::NonceMismatch { step: "dh_gen_ok" });
}

#[test]
fn unknown_fingerprint_and_garbage_are_typed_errors() {
    let e = client_error(run(ServerQuirks::default(), None, 0, |i, p| {
        if i == 0 {
            // The last 8 bytes of resPQ are the only fingerprint.
            let n = p.len();
            p[n - 1] ^= 1;
        }
    }));
    assert!(matches!(e, KexError::NoKnownKey { .. }), "{e:?}");

    let e = client_error(run(ServerQuirks::default(), None, 0, |i, p| {
        if i == 1 {
            p.truncate(plain::HEADER_LEN + 10);
            let len = 10u32.to_le_bytes();
            p[16..20].copy_from_slice(&len);
        }
    }));
    assert!(matches!(e, KexError::Decode { .. }), "{e:?}");
}

#[test]
fn key_exchange_is_deterministic_for_a_seed() {
    let a = run(ServerQuirks::default(), None, 0, |_, _| {});
    let b = run(ServerQuirks::default(), None, 0, |_, _| {});
    let (Ending::Both(a, _), Ending::Both(b, _)) = (a, b) else {
        panic!("exchange failed")
    };
    assert_eq!(a.auth_key.as_bytes(), b.auth_key.as_bytes());
    // Debug never shows key material.
    let text = format!("{a:?}");
    assert!(
        !text.contains(&format!("{:?}", &a.auth_key.as_bytes()[..8])),
        "{text}"
    );
}
