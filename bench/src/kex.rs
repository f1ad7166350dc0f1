//! Key generation CPU: our client and server handshakes (`mtproto-proto`) against each other,
//! each side's steps timed apart; grammers-mtproto 0.11's client steps against a server
//! played here; and the floor: 2048-bit modular exponentiations.
//!
//! grammers encrypts `p_q_inner_data` only to Telegram's own RSA keys (their private halves
//! are Telegram's), so no server can read its `new_nonce`. The harness reads it from
//! grammers' `Step2` value instead (64 bytes: `nonce`, `server_nonce` and `new_nonce`, found by
//! the two known nonces), then plays the server: `server_DH_params_ok` with our DH group, and
//! `dh_gen_ok` after computing the key from grammers' `g_b`. Only grammers' own steps
//! (`step2`, `step3`, `create_key`) are timed, as only our client's steps are.

use std::hint::black_box;
use std::time::{Duration, Instant};

use gr::{Deserializable, Serializable};
use grammers_mtproto::authentication as gra;
use grammers_tl_types as gr;
use mtproto_crypto::dh::{wrap_with_hash, DhParams, DhSecret, DhValue, TELEGRAM_DH_PRIME};
use mtproto_crypto::keys::{new_nonce_hash, tmp_aes_key_iv, DhGenAnswer};
use mtproto_crypto::{decrypt_ige, PrimeCache};
use mtproto_proto::handshake::client::{self as kc, ClientDhGenStep};
use mtproto_proto::handshake::server::{self as ks, DhParamsStep, ServerConfig, ServerDhGenStep};
use num_bigint::BigUint;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::harness::{alternate, Figure, Plan, SelfTimed, Unit, Whole};

/// Telegram's production key fingerprint, one grammers knows.
const TELEGRAM_FINGERPRINT: i64 = -3_414_540_481_677_951_611;

/// Our client against our server: one whole exchange, each side's CPU time.
pub struct OurExchange {
    server: ServerConfig,
    client: kc::ClientConfig,
    rng: ChaCha20Rng,
    primes: PrimeCache,
}

impl OurExchange {
    /// Both sides with the test DC's RSA key and Telegram's DH group.
    pub fn new() -> Self {
        let key = test_dc::test_server_key();
        let client = kc::ClientConfig {
            dc_id: 2,
            public_keys: vec![key.public_key().clone()],
            temp_key_expires_in: None,
            max_retries: 2,
        };
        Self {
            server: ServerConfig::new(vec![key], DhParams::telegram()),
            client,
            rng: ChaCha20Rng::seed_from_u64(0x6b6579),
            primes: PrimeCache::new(),
        }
    }

    /// Runs one exchange; returns (client time, server time).
    pub fn run(&mut self) -> (Duration, Duration) {
        let now = test_dc::unix_now();
        let rng = &mut self.rng;
        let (mut c, mut s) = (Duration::ZERO, Duration::ZERO);
        let t = Instant::now();
        let (c1, p1) = kc::start(self.client.clone(), now, rng);
        c += t.elapsed();
        let t = Instant::now();
        let (s1, r1) = ks::ExpectReqPq::new()
            .handle(&self.server, &p1, now, rng)
            .expect("resPQ");
        s += t.elapsed();
        let t = Instant::now();
        let (c2, p2) = c1.handle(&r1, now, rng).expect("req_DH_params");
        c += t.elapsed();
        let t = Instant::now();
        let DhParamsStep::Continue(s2, r2) = s1
            .handle(&self.server, &p2, now, rng)
            .expect("server_DH_params")
        else {
            panic!("the server refused")
        };
        s += t.elapsed();
        let t = Instant::now();
        let (c3, p3) = c2
            .handle(&r2, now, rng, &mut self.primes)
            .expect("set_client_DH_params");
        c += t.elapsed();
        let t = Instant::now();
        let ServerDhGenStep::Done(server_key, r3) =
            s2.handle(&self.server, &p3, now).expect("dh_gen")
        else {
            panic!("no dh_gen_ok")
        };
        s += t.elapsed();
        let t = Instant::now();
        let ClientDhGenStep::Done(client_key) = c3.handle(&r3, now, rng).expect("the key") else {
            panic!("a retry")
        };
        c += t.elapsed();
        assert_eq!(client_key.auth_key.id(), server_key.auth_key.id());
        (c, s)
    }
}

/// grammers' client against the server played here.
pub struct PeerExchange {
    dh: DhParams,
    a: DhSecret,
    g_a: [u8; 256],
    pqs: Vec<u64>,
    next: usize,
    rng: ChaCha20Rng,
}

impl PeerExchange {
    /// A server with Telegram's group and one secret `a` (its cost is not measured).
    pub fn new() -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(0x677261);
        let dh = DhParams::telegram();
        let (a, g_a) = dh.generate_secret(&mut rng, DhValue::GA).expect("a");
        Self {
            dh,
            a,
            g_a,
            pqs: crate::crypto::random_pqs(),
            next: 0,
            rng,
        }
    }

    /// Runs one exchange; returns grammers' client time.
    pub fn run(&mut self) -> Duration {
        let mut c = Duration::ZERO;
        let (req_pq, step1) = gra::step1().expect("step1");
        let mut server_nonce = [0u8; 16];
        self.rng.fill_bytes(&mut server_nonce);
        let pq = self.pqs[self.next % self.pqs.len()];
        self.next += 1;
        let res_pq = gr::enums::ResPq::Pq(gr::types::ResPq {
            nonce: req_pq.nonce,
            server_nonce,
            pq: pq.to_be_bytes().to_vec(),
            server_public_key_fingerprints: vec![TELEGRAM_FINGERPRINT],
        });
        let t = Instant::now();
        let (req_dh, step2) = gra::step2(step1, res_pq).expect("step2");
        c += t.elapsed();
        black_box(&req_dh);
        let new_nonce = read_new_nonce(&step2, &req_pq.nonce, &server_nonce);

        let inner = gr::enums::ServerDhInnerData::Data(gr::types::ServerDhInnerData {
            nonce: req_pq.nonce,
            server_nonce,
            g: 3,
            dh_prime: TELEGRAM_DH_PRIME.to_vec(),
            g_a: self.g_a.to_vec(),
            server_time: test_dc::unix_now().as_secs() as i32,
        })
        .to_bytes();
        let tmp = tmp_aes_key_iv(&new_nonce, &server_nonce);
        let pad = (16 - (20 + inner.len()) % 16) % 16;
        let encrypted_answer = wrap_with_hash(&inner, &tmp, &vec![0u8; pad]).expect("wrap");
        let params = gr::enums::ServerDhParams::Ok(gr::types::ServerDhParamsOk {
            nonce: req_pq.nonce,
            server_nonce,
            encrypted_answer,
        });
        let t = Instant::now();
        let (set_params, step3) = gra::step3(step2, params).expect("step3");
        c += t.elapsed();

        let mut data = set_params.encrypted_data.clone();
        decrypt_ige(&mut data, tmp.key(), tmp.iv()).expect("aligned");
        let mut cursor = gr::Cursor::from_slice(&data[20..]);
        let gr::enums::ClientDhInnerData::Data(client_inner) =
            gr::enums::ClientDhInnerData::deserialize(&mut cursor).expect("client_DH_inner_data");
        let auth_key = self
            .dh
            .auth_key(&self.a, &client_inner.g_b, DhValue::GB)
            .expect("g_b");
        let answer = gr::enums::SetClientDhParamsAnswer::DhGenOk(gr::types::DhGenOk {
            nonce: req_pq.nonce,
            server_nonce,
            new_nonce_hash1: new_nonce_hash(&new_nonce, DhGenAnswer::Ok, &auth_key),
        });
        let t = Instant::now();
        let finished = gra::create_key(step3, answer).expect("create_key");
        c += t.elapsed();
        assert_eq!(&finished.auth_key, auth_key.as_bytes(), "keys differ");
        c
    }
}

/// grammers' `Step2` holds `nonce`, `server_nonce` and `new_nonce` (64 bytes of `u8`
/// arrays, in an order Rust chooses): finds the two known nonces and returns the rest.
fn read_new_nonce(step2: &gra::Step2, nonce: &[u8; 16], server_nonce: &[u8; 16]) -> [u8; 32] {
    assert_eq!(
        std::mem::size_of::<gra::Step2>(),
        64,
        "grammers' Step2 changed"
    );
    // SAFETY: `Step2` is 64 bytes of `u8` arrays (checked above): no padding, every byte
    // initialized; read as bytes only.
    let bytes: [u8; 64] = unsafe { std::mem::transmute_copy(step2) };
    let chunks: Vec<&[u8]> = bytes.chunks(16).collect();
    let is_known = |c: &[u8]| c == nonce || c == server_nonce;
    let rest: Vec<u8> = chunks
        .iter()
        .filter(|c| !is_known(c))
        .flat_map(|c| c.iter().copied())
        .collect();
    assert_eq!(rest.len(), 32, "cannot find new_nonce in grammers' Step2");
    rest.try_into().expect("32 bytes")
}

/// A 2048-bit modular exponentiation with a full-size exponent (num-bigint, the library
/// under both our DH and grammers').
struct Modexp {
    p: BigUint,
    bases: Vec<BigUint>,
    exps: Vec<BigUint>,
    i: usize,
}

impl Modexp {
    fn new() -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(0x6d6f64);
        let p = BigUint::from_bytes_be(&TELEGRAM_DH_PRIME);
        let mut big = || {
            let mut b = [0u8; 256];
            rng.fill_bytes(&mut b);
            BigUint::from_bytes_be(&b) % &p
        };
        let bases = (0..8).map(|_| big()).collect();
        let exps = (0..8).map(|_| big()).collect();
        Self {
            p,
            bases,
            exps,
            i: 0,
        }
    }

    fn run(&mut self) {
        let k = self.i % self.bases.len();
        self.i += 1;
        black_box(self.bases[k].modpow(&self.exps[k], &self.p));
    }
}

/// `keygen_client` (against grammers), `keygen_client_vs_modexps` (against two modexps)
/// and `keygen_server` (ours alone).
pub fn figures(plan: Plan) -> Vec<Figure> {
    let mut ours = OurExchange::new();
    let mut peer = PeerExchange::new();
    let mut server_times = Vec::new();
    let how = format!("median of {} alternating rounds", plan.rounds);
    let (o, p) = alternate(
        plan,
        &mut SelfTimed(|| {
            let (c, s) = ours.run();
            server_times.push(s.as_nanos() as f64);
            c
        }),
        &mut SelfTimed(|| peer.run()),
    );
    let mut figures = vec![Figure {
        name: "keygen_client".into(),
        ours: Unit::Ms.of_ns(o),
        peer: Some(Unit::Ms.of_ns(p)),
        peer_name: "grammers-mtproto 0.11 step2 + step3 + create_key",
        unit: Unit::Ms,
        how: how.clone(),
    }];
    let mut modexp = Modexp::new();
    let (o2, m2) = alternate(
        plan,
        &mut SelfTimed(|| ours.run().0),
        &mut Whole(|| {
            modexp.run();
            modexp.run();
        }),
    );
    figures.push(Figure {
        name: "keygen_client_vs_modexps".into(),
        ours: Unit::Ms.of_ns(o2),
        peer: Some(Unit::Ms.of_ns(m2)),
        peer_name: "two 2048-bit modexps (num-bigint modpow)",
        unit: Unit::Ms,
        how: how.clone(),
    });
    let server = crate::harness::median(&mut server_times);
    figures.push(Figure {
        name: "keygen_server".into(),
        ours: Unit::Ms.of_ns(server),
        peer: None,
        peer_name: "",
        unit: Unit::Ms,
        how: format!("median of {} exchanges", server_times.len()),
    });
    figures
}
