//! The key exchange, client against the server role, with fixed time and seeded randomness:
//! success (permanent and temporary keys), every DH answer (ok, retry, fail) with its right
//! and a wrong `new_nonce_hash`, the retry limit, `retry_id` on the wire, and the client's nonce
//! checks, each at every place the client makes it, against a misbehaving or tampered server.

mod util;
use util::server_key;

use std::time::Duration;

use mtproto_crypto::dh::{unwrap_with_hash, TELEGRAM_DH_PRIME};
use mtproto_crypto::{keys, DhError, DhParams, DhValue, PrimeCache};
use mtproto_proto::handshake::client::{self, ClientConfig, ClientDhGenStep};
use mtproto_proto::handshake::server::{
    self, DhParamsStep, ServerConfig, ServerDhGenStep, ServerQuirks, UnfactorablePq,
};
use mtproto_proto::handshake::{KexError, KeyExchangeOutcome};
use mtproto_proto::plain::{self, PlainError};
use mtproto_proto::schema::{enums, functions};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tl_wire::{Deserialize, Reader};

const NOW: Duration = Duration::from_secs(1_700_000_000);

/// The server packets as `tamper` numbers them: `resPQ`, the answer to `req_DH_params`, then
/// the answers to `set_client_DH_params` (`DH_GEN + n` after `n` retries).
const RES_PQ: usize = 0;
const DH_PARAMS: usize = 1;
const DH_GEN: usize = 2;

/// Rounds of `set_client_DH_params` after which the harness gives up (a client without a
/// retry limit would go on forever against `retry_forever`).
const MAX_ROUNDS: usize = 20;

/// One exchange's parameters.
struct Setup {
    quirks: ServerQuirks,
    /// `Some(seconds)`: a temporary key.
    temp: Option<i32>,
    /// The client's clock is this many seconds behind the server's.
    skew: u64,
    max_retries: u32,
}

impl Setup {
    fn new(quirks: ServerQuirks) -> Self {
        Self {
            quirks,
            temp: None,
            skew: 0,
            max_retries: 3,
        }
    }
}

/// What happened to a full exchange. (Some payloads are only read through `Debug`, in the
/// messages of failed assertions.)
#[derive(Debug)]
#[allow(dead_code)]
enum Ending {
    Both(KeyExchangeOutcome, server::ServerKeyOutcome),
    /// The client finished although the server did not: it accepted a forged answer.
    ClientAlone(KeyExchangeOutcome),
    ClientError(KexError),
    ServerError(KexError),
    /// The server had sent its last answer and the client went on.
    ServerStopped,
    /// Still retrying after `MAX_ROUNDS`.
    Unfinished,
}

/// What the client sent, for checks on the wire.
#[derive(Debug, Default)]
struct Sent {
    req_dh_params: Vec<u8>,
    /// Each `set_client_DH_params`, with the `retry_id` the server expected in it.
    set_client_dh_params: Vec<(Vec<u8>, i64)>,
    /// How many `dh_gen_retry` answers the client accepted (sending a new `g_b`).
    retries: u32,
}

/// Runs client and server against each other; `tamper` may edit each server packet (numbered
/// as [`RES_PQ`], [`DH_PARAMS`], [`DH_GEN`]) before the client sees it.
fn run_traced(setup: Setup, tamper: impl Fn(usize, &mut Vec<u8>)) -> (Ending, Sent) {
    let mut sent = Sent::default();
    let ending = exchange(setup, &tamper, &mut sent);
    (ending, sent)
}

fn exchange(setup: Setup, tamper: &dyn Fn(usize, &mut Vec<u8>), sent: &mut Sent) -> Ending {
    macro_rules! client {
        ($step:expr) => {
            match $step {
                Ok(x) => x,
                Err(e) => return Ending::ClientError(e),
            }
        };
    }
    macro_rules! server {
        ($step:expr) => {
            match $step {
                Ok(x) => x,
                Err(e) => return Ending::ServerError(e),
            }
        };
    }
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let config = ServerConfig {
        keys: vec![server_key().clone()],
        dh: DhParams::telegram(),
        quirks: setup.quirks,
    };
    let client_config = ClientConfig {
        dc_id: 10002,
        public_keys: vec![server_key().public_key().clone()],
        temp_key_expires_in: setup.temp,
        max_retries: setup.max_retries,
    };
    let client_now = NOW - Duration::from_secs(setup.skew);
    let mut primes = PrimeCache::new();

    let (c, req_pq) = client::start(client_config, client_now, &mut rng);
    let (s, mut res_pq) =
        server!(server::ExpectReqPq::new().handle(&config, &req_pq, NOW, &mut rng));
    tamper(RES_PQ, &mut res_pq);
    let (c, req_dh) = client!(c.handle(&res_pq, client_now, &mut rng));
    sent.req_dh_params = req_dh.clone();
    let (mut s, mut dh_params) = match server!(s.handle(&config, &req_dh, NOW, &mut rng)) {
        DhParamsStep::Continue(s, p) => (Some(s), p),
        DhParamsStep::Refused(p) => (None, p),
    };
    tamper(DH_PARAMS, &mut dh_params);
    let (mut c, mut set_dh) = client!(c.handle(&dh_params, client_now, &mut rng, &mut primes));
    for round in 0..MAX_ROUNDS {
        let Some(step) = s.take() else {
            return Ending::ServerStopped;
        };
        sent.set_client_dh_params
            .push((set_dh.clone(), step.expected_retry_id()));
        let (mut answer, server_done) = match server!(step.handle(&config, &set_dh, NOW)) {
            ServerDhGenStep::Done(outcome, p) => (p, Some(outcome)),
            ServerDhGenStep::Retry(next, p) => {
                s = Some(next);
                (p, None)
            }
            ServerDhGenStep::Failed(p) => (p, None),
        };
        tamper(DH_GEN + round, &mut answer);
        match client!(c.handle(&answer, client_now, &mut rng)) {
            ClientDhGenStep::Done(outcome) => {
                return match server_done {
                    Some(server) => Ending::Both(outcome, server),
                    None => Ending::ClientAlone(outcome),
                }
            }
            ClientDhGenStep::Retry(next, packet) => {
                sent.retries += 1;
                c = *next;
                set_dh = packet;
            }
        }
    }
    Ending::Unfinished
}

fn run(quirks: ServerQuirks, tamper: impl Fn(usize, &mut Vec<u8>)) -> Ending {
    run_traced(Setup::new(quirks), tamper).0
}

fn client_error(ending: Ending) -> KexError {
    match ending {
        Ending::ClientError(e) => e,
        other => panic!("the client should have failed, but: {other:?}"),
    }
}

/// Reads the `retry_id` of a client's `set_client_DH_params` the way a server does: the
/// `new_nonce` comes from the client's `req_DH_params`, decrypted with the test server's key.
fn retry_id_on_the_wire(req_dh_params: &[u8], set_client_dh_params: &[u8]) -> i64 {
    let (_, body) = plain::unwrap(req_dh_params).expect("plain req_DH_params");
    let req = functions::ReqDhParams::from_bytes(body).expect("req_DH_params");
    let data = server_key()
        .decrypt_pad(&req.encrypted_data)
        .expect("RSA_PAD");
    // Random padding follows the inner data: read one object.
    let enums::PQInnerData::Dc(inner) =
        enums::PQInnerData::deserialize(&mut Reader::new(&data[..])).expect("p_q_inner_data")
    else {
        panic!("the client sends p_q_inner_data_dc for a permanent key")
    };
    let tmp = keys::tmp_aes_key_iv(&inner.new_nonce, &inner.server_nonce);
    let (_, body) = plain::unwrap(set_client_dh_params).expect("plain set_client_DH_params");
    let set = functions::SetClientDhParams::from_bytes(body).expect("set_client_DH_params");
    let data = unwrap_with_hash(&set.encrypted_data, &tmp).expect("client_DH_inner_data hash");
    let enums::ClientDhInnerData::ClientDhInnerData(inner) =
        enums::ClientDhInnerData::from_bytes(&data).expect("client_DH_inner_data");
    inner.retry_id
}

#[test]
fn permanent_key_exchange_agrees_on_key_salt_and_time() {
    let setup = Setup {
        skew: 25,
        ..Setup::new(ServerQuirks::default())
    };
    let Ending::Both(c, s) = run_traced(setup, |_, _| {}).0 else {
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
    let setup = Setup {
        temp: Some(3600),
        ..Setup::new(ServerQuirks::default())
    };
    let Ending::Both(c, s) = run_traced(setup, |_, _| {}).0 else {
        panic!("exchange failed")
    };
    assert_eq!(c.auth_key.id(), s.auth_key.id());
    assert_eq!(s.temp_expires_in, Some(3600));
    assert_eq!(c.expires_at, Some(NOW.as_secs() as i64 + 3600));
}

#[test]
fn dh_gen_retry_sends_a_new_g_b_with_retry_id() {
    let retry_once = ServerQuirks {
        retry_once: true,
        ..Default::default()
    };
    let (ending, sent) = run_traced(Setup::new(retry_once.clone()), |_, _| {});
    // On the wire: the first g_b has retry_id 0, the second the aux_hash of the refused key
    // (which the server derived from its own secret).
    let [(first, first_expected), (second, second_expected)] = &sent.set_client_dh_params[..]
    else {
        panic!("two set_client_DH_params expected: {sent:?}")
    };
    assert_eq!(*first_expected, 0);
    assert_eq!(retry_id_on_the_wire(&sent.req_dh_params, first), 0);
    assert_ne!(*second_expected, 0);
    assert_eq!(
        retry_id_on_the_wire(&sent.req_dh_params, second),
        *second_expected
    );
    assert_eq!(sent.retries, 1);
    let Ending::Both(c, s) = ending else {
        panic!("exchange failed: {ending:?}")
    };
    assert_eq!(c.auth_key.as_bytes(), s.auth_key.as_bytes());
    assert_ne!(c.auth_key.aux_hash(), *second_expected, "a new key");

    // A dh_gen_retry whose new_nonce_hash2 is wrong (a flipped bit, or new_nonce_hash3 in its
    // place) is refused before any new g_b is sent.
    for wrong in [
        ServerQuirks {
            corrupt_new_nonce_hash: true,
            ..retry_once.clone()
        },
        ServerQuirks {
            misnumber_new_nonce_hash: true,
            ..retry_once
        },
    ] {
        let (ending, sent) = run_traced(Setup::new(wrong), |_, _| {});
        assert_eq!(
            client_error(ending),
            KexError::NewNonceHashMismatch { number: 2 }
        );
        assert_eq!(sent.retries, 0);
    }
}

#[test]
fn dh_gen_retry_stops_after_max_retries() {
    for max_retries in [0, 1, 3] {
        let setup = Setup {
            max_retries,
            ..Setup::new(ServerQuirks {
                retry_forever: true,
                ..Default::default()
            })
        };
        let (ending, sent) = run_traced(setup, |_, _| {});
        assert_eq!(
            client_error(ending),
            KexError::TooManyRetries { limit: max_retries },
            "max_retries {max_retries}"
        );
        assert_eq!(sent.retries, max_retries);
        assert_eq!(sent.set_client_dh_params.len(), max_retries as usize + 1);
        // Every retry carried the aux_hash of the key refused just before.
        for (packet, expected) in &sent.set_client_dh_params {
            assert_eq!(retry_id_on_the_wire(&sent.req_dh_params, packet), *expected);
        }
    }
}

#[test]
fn dh_gen_fail_is_reported_after_its_hash_is_checked() {
    let fail = ServerQuirks {
        fail_dh_gen: true,
        ..Default::default()
    };
    assert_eq!(
        client_error(run(fail.clone(), |_, _| {})),
        KexError::DhGenFail
    );
    // A dh_gen_fail whose new_nonce_hash3 is wrong (a flipped bit, or new_nonce_hash1 in its
    // place) is not reported as the server's verdict.
    for wrong in [
        ServerQuirks {
            corrupt_new_nonce_hash: true,
            ..fail.clone()
        },
        ServerQuirks {
            misnumber_new_nonce_hash: true,
            ..fail
        },
    ] {
        assert_eq!(
            client_error(run(wrong, |_, _| {})),
            KexError::NewNonceHashMismatch { number: 3 }
        );
    }
}

#[test]
fn bad_new_nonce_hash_is_rejected() {
    for wrong in [
        ServerQuirks {
            corrupt_new_nonce_hash: true,
            ..Default::default()
        },
        // new_nonce_hash2 where new_nonce_hash1 belongs.
        ServerQuirks {
            misnumber_new_nonce_hash: true,
            ..Default::default()
        },
    ] {
        assert_eq!(
            client_error(run(wrong, |_, _| {})),
            KexError::NewNonceHashMismatch { number: 1 }
        );
    }
}

#[test]
fn bad_answer_hash_is_rejected() {
    let quirks = ServerQuirks {
        corrupt_answer_hash: true,
        ..Default::default()
    };
    assert_eq!(
        client_error(run(quirks, |_, _| {})),
        KexError::Dh(DhError::AnswerHashMismatch)
    );
}

#[test]
fn server_dh_params_fail_is_reported() {
    let refuse = ServerQuirks {
        refuse_dh_params: true,
        ..Default::default()
    };
    assert_eq!(
        client_error(run(refuse.clone(), |_, _| {})),
        KexError::ServerDhParamsFail
    );
    // With a wrong new_nonce_hash it is not reported as the server's verdict.
    let wrong = ServerQuirks {
        corrupt_new_nonce_hash: true,
        ..refuse
    };
    assert_eq!(
        client_error(run(wrong, |_, _| {})),
        KexError::NewNonceHashMismatch { number: 0 }
    );
}

#[test]
fn out_of_range_g_a_is_rejected() {
    let quirks = ServerQuirks {
        bad_g_a: true,
        ..Default::default()
    };
    assert_eq!(
        client_error(run(quirks, |_, _| {})),
        KexError::Dh(DhError::ValueOutOfRange { which: DhValue::GA })
    );
}

/// Offsets inside the server's packets (after the 20-byte plain header and the 4-byte id):
/// every answer the client checks starts with `nonce`, most then `server_nonce`.
const NONCE_AT: usize = plain::HEADER_LEN + 4;
const SERVER_NONCE_AT: usize = NONCE_AT + 16;

/// One place where the client checks a nonce: the server (`quirks`), the byte flipped on the
/// wire (packet number and offset; `None` when a quirk puts the wrong nonce inside the
/// encrypted answer), and the error.
struct NonceCase {
    quirks: ServerQuirks,
    flip: Option<(usize, usize)>,
    want: KexError,
}

/// Every nonce check of the client (`check_res_pq_nonce` and each `check_nonces` answer type in
/// client.rs), each with its own tampered answer.
fn nonce_cases() -> Vec<NonceCase> {
    let correct = ServerQuirks::default;
    let refuse = || ServerQuirks {
        refuse_dh_params: true,
        ..Default::default()
    };
    let retry = || ServerQuirks {
        retry_once: true,
        ..Default::default()
    };
    let fail = || ServerQuirks {
        fail_dh_gen: true,
        ..Default::default()
    };
    let nonce = |step| KexError::NonceMismatch { step };
    let server_nonce = |step| KexError::ServerNonceMismatch { step };
    let case = |quirks, flip, want| NonceCase { quirks, flip, want };
    vec![
        case(correct(), Some((RES_PQ, NONCE_AT)), nonce("resPQ")),
        case(
            correct(),
            Some((DH_PARAMS, NONCE_AT + 15)),
            nonce("server_DH_params_ok"),
        ),
        case(
            correct(),
            Some((DH_PARAMS, SERVER_NONCE_AT)),
            server_nonce("server_DH_params_ok"),
        ),
        case(
            ServerQuirks {
                wrong_inner_nonce: true,
                ..Default::default()
            },
            None,
            nonce("server_DH_inner_data"),
        ),
        case(
            ServerQuirks {
                wrong_inner_server_nonce: true,
                ..Default::default()
            },
            None,
            server_nonce("server_DH_inner_data"),
        ),
        case(
            refuse(),
            Some((DH_PARAMS, NONCE_AT + 7)),
            nonce("server_DH_params_fail"),
        ),
        case(
            refuse(),
            Some((DH_PARAMS, SERVER_NONCE_AT + 15)),
            server_nonce("server_DH_params_fail"),
        ),
        case(correct(), Some((DH_GEN, NONCE_AT + 3)), nonce("dh_gen_ok")),
        case(
            correct(),
            Some((DH_GEN, SERVER_NONCE_AT + 8)),
            server_nonce("dh_gen_ok"),
        ),
        case(retry(), Some((DH_GEN, NONCE_AT)), nonce("dh_gen_retry")),
        case(
            retry(),
            Some((DH_GEN, SERVER_NONCE_AT)),
            server_nonce("dh_gen_retry"),
        ),
        case(fail(), Some((DH_GEN, NONCE_AT + 1)), nonce("dh_gen_fail")),
        case(
            fail(),
            Some((DH_GEN, SERVER_NONCE_AT + 2)),
            server_nonce("dh_gen_fail"),
        ),
    ]
}

#[test]
fn tampered_nonces_are_rejected_at_every_step() {
    // Untampered, each server gives its usual ending: the flip alone causes the error.
    let untampered = |quirks: ServerQuirks| run(quirks, |_, _| {});
    assert!(matches!(
        untampered(ServerQuirks {
            retry_once: true,
            ..Default::default()
        }),
        Ending::Both(..)
    ));
    assert_eq!(
        client_error(untampered(ServerQuirks {
            refuse_dh_params: true,
            ..Default::default()
        })),
        KexError::ServerDhParamsFail
    );
    assert_eq!(
        client_error(untampered(ServerQuirks {
            fail_dh_gen: true,
            ..Default::default()
        })),
        KexError::DhGenFail
    );

    let cases = nonce_cases();
    assert_eq!(cases.len(), 13, "1 + 2 × 6 nonce checks");
    for NonceCase { quirks, flip, want } in cases {
        let e = client_error(run(quirks, |i, p| {
            if let Some((packet, at)) = flip {
                if i == packet {
                    p[at] ^= 0x41;
                }
            }
        }));
        assert_eq!(e, want, "flip {flip:?}");
    }
}

#[test]
fn unknown_fingerprint_and_garbage_are_typed_errors() {
    let e = client_error(run(ServerQuirks::default(), |i, p| {
        if i == RES_PQ {
            // The last 8 bytes of resPQ are the only fingerprint.
            let n = p.len();
            p[n - 1] ^= 1;
        }
    }));
    assert!(matches!(e, KexError::NoKnownKey { .. }), "{e:?}");

    let e = client_error(run(ServerQuirks::default(), |i, p| {
        if i == DH_PARAMS {
            p.truncate(plain::HEADER_LEN + 10);
            let len = 10u32.to_le_bytes();
            p[16..20].copy_from_slice(&len);
        }
    }));
    assert!(matches!(e, KexError::Decode { .. }), "{e:?}");
}

#[test]
fn key_exchange_is_deterministic_for_a_seed() {
    let a = run(ServerQuirks::default(), |_, _| {});
    let b = run(ServerQuirks::default(), |_, _| {});
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

/// The test DC's key-exchange attack modes each break exactly one client check.
#[test]
fn each_server_quirk_trips_its_client_check() {
    let with = |set: fn(&mut ServerQuirks)| {
        let mut quirks = ServerQuirks::default();
        set(&mut quirks);
        client_error(run(quirks, |_, _| {}))
    };
    assert_eq!(
        with(|q| q.wrong_res_pq_nonce = true),
        KexError::NonceMismatch { step: "resPQ" }
    );
    assert_eq!(
        with(|q| q.wrong_outer_server_nonce = true),
        KexError::ServerNonceMismatch {
            step: "server_DH_params_ok"
        }
    );
    assert!(matches!(
        with(|q| q.bad_g = true),
        KexError::Dh(DhError::GeneratorOutOfRange { .. })
    ));
    // A prime with the right residues but not safe: refused by the primality check.
    assert_eq!(
        with(|q| q.bad_dh_prime = true),
        KexError::Dh(DhError::PrimeNotSafe)
    );
    // g = 2 is in 2..=7, but Telegram's prime is 3 mod 8 (2 needs 7 mod 8): only the residue
    // condition refuses it. (The test server's usual g = 3 passes it.)
    assert_eq!(
        with(|q| q.bad_generator_residue = true),
        KexError::Dh(DhError::GeneratorResidue { g: 2 })
    );
    assert_eq!(DhParams::telegram().g(), 3);
    assert_eq!(
        DhParams::new(&TELEGRAM_DH_PRIME, 2, &mut PrimeCache::new()).unwrap_err(),
        DhError::GeneratorResidue { g: 2 }
    );
    // g_a = 2 is inside (1, p-1) but below 2^1984.
    assert_eq!(
        with(|q| q.small_g_a = true),
        KexError::Dh(DhError::ValueNotInSafeRange { which: DhValue::GA })
    );
    // dh_gen_ok with a wrong nonce or server_nonce (and a right new_nonce_hash1).
    assert_eq!(
        with(|q| q.wrong_dh_gen_nonce = true),
        KexError::NonceMismatch { step: "dh_gen_ok" }
    );
    assert_eq!(
        with(|q| q.wrong_dh_gen_server_nonce = true),
        KexError::ServerNonceMismatch { step: "dh_gen_ok" }
    );
    // A pq that is prime, or the product of three primes: the client's factoring refuses it
    // (and says which) before anything is encrypted.
    let factor_error = |e: KexError| match e {
        KexError::Factor(reason) => reason,
        other => panic!("not a factoring error: {other:?}"),
    };
    let prime = factor_error(with(|q| q.unfactorable_pq = Some(UnfactorablePq::Prime)));
    assert!(prime.ends_with(" is prime"), "{prime}");
    let three = factor_error(with(|q| {
        q.unfactorable_pq = Some(UnfactorablePq::ThreeFactors)
    }));
    assert!(
        three.ends_with(" is not a product of exactly two primes"),
        "{three}"
    );
    // resPQ's envelope claims 4 bytes more than its body: refused before the body is read.
    assert!(matches!(
        with(|q| q.bad_plain_length = true),
        KexError::Plain(PlainError::LengthMismatch { declared, actual }) if declared == actual + 4
    ));
}
