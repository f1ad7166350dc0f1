//! Hostile server answers during the key exchange: each server answer the client reads (`resPQ`,
//! `server_DH_params_ok`/`_fail`, `dh_gen_ok`/`_retry`/`_fail`) is replaced by a mutated copy (a
//! byte flipped, the packet truncated or extended, with or without a matching length field).
//! The client must never accept it: no completed key exchange, and no verified refusal
//! (`ServerDhParamsFail`, `DhGenFail`) from a mutated refusal. The only exceptions are the bytes
//! listed by [`Target::unchecked`], which no check covers because they carry nothing the client
//! uses; a mutation there must leave the outcome exactly as without it.

mod util;
use util::server_key;

use std::ops::Range;
use std::sync::OnceLock;
use std::time::Duration;

use mtproto_crypto::{DhParams, PrimeCache};
use mtproto_proto::handshake::client::{self, ClientConfig, ClientDhGenStep};
use mtproto_proto::handshake::server::{
    self, DhParamsStep, ServerConfig, ServerDhGenStep, ServerQuirks,
};
use mtproto_proto::handshake::KexError;
use mtproto_proto::plain;
use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const NOW: Duration = Duration::from_secs(1_700_000_000);

/// Which server answer is mutated (the server is configured to send it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    ResPq,
    DhParamsOk,
    DhParamsFail,
    DhGenOk,
    /// The first `dh_gen_retry` (the server then accepts the retried `g_b`).
    DhGenRetry,
    DhGenFail,
}

const TARGETS: [Target; 6] = [
    Target::ResPq,
    Target::DhParamsOk,
    Target::DhParamsFail,
    Target::DhGenOk,
    Target::DhGenRetry,
    Target::DhGenFail,
];

/// The `msg_id` of an unencrypted message (after the 8-byte zero `auth_key_id`).
const MSG_ID: Range<usize> = 8..16;
/// In `resPQ`: the zero bytes that pad `pq:bytes` (1 length byte + 8 bytes) to 12.
const RES_PQ_PQ_PADDING: Range<usize> = 65..68;

impl Target {
    fn quirks(self) -> ServerQuirks {
        let mut quirks = ServerQuirks::default();
        match self {
            Target::DhParamsFail => quirks.refuse_dh_params = true,
            Target::DhGenRetry => quirks.retry_once = true,
            Target::DhGenFail => quirks.fail_dh_gen = true,
            Target::ResPq | Target::DhParamsOk | Target::DhGenOk => {}
        }
        quirks
    }

    /// The bytes of this answer that no check covers, deliberately left out of the property:
    ///
    /// - `msg_id` (8..16) of every answer: the client has no use for the `msg_id` of an
    ///   unencrypted message (it takes the server's time from `server_time`, inside the hashed
    ///   answer), so it does not read it. The rest of the header is checked: `auth_key_id`
    ///   must be 0 and the length must match the body.
    /// - in `resPQ`, the 3 bytes padding `pq` to a multiple of 4: TL readers skip padding
    ///   without looking at it (`tl_wire::Reader::read_bytes_ref`) and it carries nothing.
    ///
    /// Nothing else is exempt. The other answers have no TL padding: their fields are
    /// fixed-size, and `encrypted_answer` (592 bytes behind a 4-byte length) needs none. The
    /// random padding after `answer_with_hash` is not on the wire as such: it is inside the
    /// AES-256-IGE ciphertext, where a changed byte garbles its whole 16-byte block and every
    /// later one on decryption, and the last block always holds at least one byte covered by
    /// the SHA1 (the padding is at most 15 bytes), so any change to the ciphertext breaks
    /// the answer hash. `the_unchecked_bytes_are_where_the_comment_says` checks the layout.
    fn unchecked(self) -> &'static [Range<usize>] {
        match self {
            Target::ResPq => &[MSG_ID, RES_PQ_PQ_PADDING],
            _ => &[MSG_ID],
        }
    }
}

/// Where a flip lands.
#[derive(Clone, Copy, Debug)]
enum Position {
    /// Anywhere in the packet (modulo its length).
    Anywhere(usize),
    /// In the first [`FIELDS_LEN`] bytes of the body (modulo that), where the constructor id,
    /// the nonces, `new_nonce_hash` and the length prefixes are: each byte there is checked
    /// on its own, while a flip anywhere in the ciphertext is caught by the one answer hash.
    Fields(usize),
}

/// The body bytes [`Position::Fields`] aims at: the whole body of a `dh_gen_*` answer.
const FIELDS_LEN: usize = 52;

impl Position {
    fn resolve(self, len: usize) -> usize {
        match self {
            Position::Anywhere(at) => at % len,
            Position::Fields(at) if len > plain::HEADER_LEN => {
                plain::HEADER_LEN + at % (len - plain::HEADER_LEN).min(FIELDS_LEN)
            }
            Position::Fields(at) => at % len,
        }
    }
}

/// A change to one packet.
#[derive(Clone, Debug)]
enum Mutation {
    /// XOR one byte with a non-zero mask.
    Flip { at: Position, mask: u8 },
    /// Keep the first `len` (modulo the length) bytes; `fix_length` rewrites the header's
    /// length field to match, so the error (if any) comes from the body.
    Truncate { len: usize, fix_length: bool },
    /// Append bytes; `fix_length` as for `Truncate`.
    Extend { bytes: Vec<u8>, fix_length: bool },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = prop_oneof![
        1 => any::<usize>().prop_map(Position::Anywhere),
        2 => any::<usize>().prop_map(Position::Fields),
    ];
    // Flips are most of the cases: each field has its own check, while any truncation or
    // extension is caught by the length checks and TL decoding.
    prop_oneof![
        4 => (at, 1..=255u8).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        1 => (any::<usize>(), any::<bool>())
            .prop_map(|(len, fix_length)| Mutation::Truncate { len, fix_length }),
        1 => (proptest::collection::vec(any::<u8>(), 1..64), any::<bool>())
            .prop_map(|(bytes, fix_length)| Mutation::Extend { bytes, fix_length }),
    ]
}

fn fix_length(packet: &mut [u8]) {
    if packet.len() >= plain::HEADER_LEN {
        let len = (packet.len() - plain::HEADER_LEN) as u32;
        packet[16..20].copy_from_slice(&len.to_le_bytes());
    }
}

/// Applies `m`; returns whether it only touched bytes in `unchecked`.
fn apply(packet: &mut Vec<u8>, m: &Mutation, unchecked: &[Range<usize>]) -> bool {
    match m {
        Mutation::Flip { at, mask } => {
            let at = at.resolve(packet.len());
            packet[at] ^= mask;
            unchecked.iter().any(|r| r.contains(&at))
        }
        Mutation::Truncate {
            len,
            fix_length: fix,
        } => {
            packet.truncate(len % packet.len());
            if *fix {
                fix_length(packet);
            }
            false
        }
        Mutation::Extend {
            bytes,
            fix_length: fix,
        } => {
            packet.extend_from_slice(bytes);
            if *fix {
                fix_length(packet);
            }
            false
        }
    }
}

/// How an exchange ended, from the client's side.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// The client completed the exchange with this key.
    Completed(Vec<u8>),
    ClientError(KexError),
    /// The server refused what the client sent, or had nothing more to say.
    ServerStopped,
}

impl Outcome {
    /// Whether the client took the answer as genuine: a key, or a verified refusal.
    fn accepted(&self) -> bool {
        matches!(
            self,
            Outcome::Completed(_)
                | Outcome::ClientError(KexError::ServerDhParamsFail | KexError::DhGenFail)
        )
    }
}

/// Runs the exchange against a server configured for `target`, passing the targeted answer
/// through `edit` (given a copy of the answer as sent, it may change it).
fn run_with(target: Target, edit: &mut dyn FnMut(&mut Vec<u8>)) -> Outcome {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let config = ServerConfig {
        keys: vec![server_key().clone()],
        dh: DhParams::telegram(),
        quirks: target.quirks(),
    };
    let client_config = ClientConfig {
        dc_id: 2,
        public_keys: vec![server_key().public_key().clone()],
        temp_key_expires_in: None,
        max_retries: 1,
    };
    let mut primes = PrimeCache::new();
    let (c, p) = client::start(client_config, NOW, &mut rng);
    let (s, mut res_pq) = server::ExpectReqPq::new()
        .handle(&config, &p, NOW, &mut rng)
        .expect("server accepts req_pq_multi");
    if target == Target::ResPq {
        edit(&mut res_pq);
    }
    let (c, p) = match c.handle(&res_pq, NOW, &mut rng) {
        Ok(x) => x,
        Err(e) => return Outcome::ClientError(e),
    };
    let (mut s, mut dh) = match s.handle(&config, &p, NOW, &mut rng) {
        Ok(DhParamsStep::Continue(s, dh)) => (Some(s), dh),
        Ok(DhParamsStep::Refused(dh)) => (None, dh),
        Err(_) => return Outcome::ServerStopped,
    };
    if matches!(target, Target::DhParamsOk | Target::DhParamsFail) {
        edit(&mut dh);
    }
    let (mut c, mut p) = match c.handle(&dh, NOW, &mut rng, &mut primes) {
        Ok(x) => x,
        Err(e) => return Outcome::ClientError(e),
    };
    for round in 0.. {
        let Some(step) = s.take() else {
            return Outcome::ServerStopped;
        };
        let mut answer = match step.handle(&config, &p, NOW) {
            Ok(ServerDhGenStep::Done(_, answer) | ServerDhGenStep::Failed(answer)) => answer,
            Ok(ServerDhGenStep::Retry(next, answer)) => {
                s = Some(next);
                answer
            }
            Err(_) => return Outcome::ServerStopped,
        };
        if round == 0
            && matches!(
                target,
                Target::DhGenOk | Target::DhGenRetry | Target::DhGenFail
            )
        {
            edit(&mut answer);
        }
        match c.handle(&answer, NOW, &mut rng) {
            Ok(ClientDhGenStep::Done(outcome)) => {
                return Outcome::Completed(outcome.auth_key.as_bytes().to_vec())
            }
            Ok(ClientDhGenStep::Retry(next, packet)) => {
                c = *next;
                p = packet;
            }
            Err(e) => return Outcome::ClientError(e),
        }
    }
    unreachable!()
}

/// The unmutated exchange for `target`: its outcome, and the targeted answer as sent.
fn baseline_run(target: Target) -> &'static (Outcome, Vec<u8>) {
    static BASELINES: OnceLock<Vec<(Outcome, Vec<u8>)>> = OnceLock::new();
    let all = BASELINES.get_or_init(|| {
        TARGETS
            .iter()
            .map(|&t| {
                let mut packet = Vec::new();
                let outcome = run_with(t, &mut |p| packet = p.clone());
                (outcome, packet)
            })
            .collect()
    });
    &all[TARGETS.iter().position(|&t| t == target).expect("listed")]
}

/// The outcome of the unmutated exchange for `target`.
fn baseline(target: Target) -> &'static Outcome {
    &baseline_run(target).0
}

/// The property: a mutated answer is never accepted, unless the mutation only touched
/// unchecked bytes, in which case nothing changes.
fn check(target: Target, m: &Mutation) -> Result<(), TestCaseError> {
    let mut unchecked_only = false;
    let outcome = run_with(target, &mut |packet| {
        unchecked_only = apply(packet, m, target.unchecked());
    });
    if unchecked_only {
        prop_assert_eq!(&outcome, baseline(target), "{:?}: {:?}", target, m);
    } else {
        prop_assert!(
            !outcome.accepted(),
            "{:?}: {:?} gave {:?}",
            target,
            m,
            outcome
        );
    }
    Ok(())
}

#[test]
fn the_unchecked_bytes_are_where_the_comment_says() {
    for target in TARGETS {
        let packet = &baseline_run(target).1;
        let (_, body) = plain::unwrap(packet).expect("plain");
        let len = body.len();
        match target {
            Target::ResPq => {
                // id, nonce, server_nonce, pq (1 + 8 + 3 padding), Vector<long> of one key.
                assert_eq!(packet.len(), 84);
                assert_eq!(packet[56], 8, "pq has 8 bytes");
                assert_eq!(&packet[RES_PQ_PQ_PADDING], &[0, 0, 0]);
                assert_eq!(packet[68..72], 0x1cb5_c415u32.to_le_bytes(), "vector");
            }
            Target::DhParamsOk => {
                // id, nonce, server_nonce, encrypted_answer (254, 3-byte length, 592 bytes).
                assert_eq!(len, 4 + 32 + 4 + 592);
                assert_eq!(packet[56], 254);
                assert_eq!(&packet[57..60], &[0x50, 0x02, 0x00]);
            }
            // id, nonce, server_nonce, new_nonce_hash: fixed-size.
            _ => assert_eq!(len, 4 + 16 * 3, "{target:?}"),
        }
    }
    // The exemptions are real: those bytes are unchecked, and changing them changes nothing.
    for target in TARGETS {
        let mut positions = vec![MSG_ID.start + target as usize % MSG_ID.len()];
        if target == Target::ResPq {
            positions.push(RES_PQ_PQ_PADDING.end - 1);
        }
        for at in positions {
            let outcome = run_with(target, &mut |p| p[at] ^= 0xff);
            assert_eq!(&outcome, baseline(target), "{target:?} byte {at}");
        }
    }
    // And each baseline is what that server sends.
    for target in TARGETS {
        let want_completed = !matches!(target, Target::DhParamsFail | Target::DhGenFail);
        assert!(baseline(target).accepted(), "{target:?}");
        assert_eq!(
            matches!(baseline(target), Outcome::Completed(_)),
            want_completed,
            "{target:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn mutated_res_pq_is_never_accepted(m in mutation()) {
        check(Target::ResPq, &m)?;
    }

    #[test]
    fn mutated_server_dh_params_ok_is_never_accepted(m in mutation()) {
        check(Target::DhParamsOk, &m)?;
    }

    #[test]
    fn mutated_server_dh_params_fail_is_never_accepted(m in mutation()) {
        check(Target::DhParamsFail, &m)?;
    }

    #[test]
    fn mutated_dh_gen_ok_is_never_accepted(m in mutation()) {
        check(Target::DhGenOk, &m)?;
    }

    #[test]
    fn mutated_dh_gen_retry_is_never_accepted(m in mutation()) {
        check(Target::DhGenRetry, &m)?;
    }

    #[test]
    fn mutated_dh_gen_fail_is_never_accepted(m in mutation()) {
        check(Target::DhGenFail, &m)?;
    }
}
