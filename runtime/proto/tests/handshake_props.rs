//! Hostile server answers during the key exchange: every client step, fed a mutated copy of
//! the real answer (bytes flipped, truncated or extended), returns a typed error or goes on,
//! and never panics.

use std::time::Duration;

use mtproto_crypto::{DhParams, PrimeCache, RsaPrivateKey};
use mtproto_proto::handshake::client::{self, ClientConfig};
use mtproto_proto::handshake::server::{self, DhParamsStep, ServerConfig, ServerQuirks};
use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const NOW: Duration = Duration::from_secs(1_700_000_000);

fn server_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(include_str!("fixtures/test_server_key.pem")).expect("test key")
}

/// A change to one packet.
#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Truncate { len: usize },
    Extend { bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(|bytes| Mutation::Extend { bytes }),
    ]
}

fn apply(packet: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Flip { at, mask } => {
            let n = packet.len();
            packet[at % n] ^= mask;
        }
        Mutation::Truncate { len } => packet.truncate(len % packet.len()),
        Mutation::Extend { bytes } => packet.extend_from_slice(bytes),
    }
}

/// Runs the exchange, mutating the server packet number `target` (0: resPQ, 1: DH params,
/// 2: dh_gen answer); every client error is fine, a panic fails the test.
fn run_with(target: usize, m: &Mutation) {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let config = ServerConfig {
        keys: vec![server_key()],
        dh: DhParams::telegram(),
        quirks: ServerQuirks::default(),
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
        .unwrap();
    if target == 0 {
        apply(&mut res_pq, m);
    }
    let Ok((c, p)) = c.handle(&res_pq, NOW, &mut rng) else {
        return;
    };
    let Ok(DhParamsStep::Continue(s, mut dh)) = s.handle(&config, &p, NOW, &mut rng) else {
        return;
    };
    if target == 1 {
        apply(&mut dh, m);
    }
    let Ok((c, p)) = c.handle(&dh, NOW, &mut rng, &mut primes) else {
        return;
    };
    let Ok(server::DhGenStep::Done(_, mut answer)) = s.handle(&config, &p, NOW) else {
        return;
    };
    if target == 2 {
        apply(&mut answer, m);
    }
    let _ = c.handle(&answer, NOW, &mut rng);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn mutated_res_pq_never_panics(m in mutation()) {
        run_with(0, &m);
    }

    #[test]
    fn mutated_dh_params_never_panic(m in mutation()) {
        run_with(1, &m);
    }

    #[test]
    fn mutated_dh_gen_answer_never_panics(m in mutation()) {
        run_with(2, &m);
    }
}
