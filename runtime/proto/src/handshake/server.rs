//! The server role of the key exchange, for the test DC: accepts `req_pq` and `req_pq_multi`,
//! every `p_q_inner_data` variant (also the legacy RSA scheme Telethon uses), temporary keys,
//! and `dh_gen_retry` rounds. `ServerQuirks` (feature `testing`) make it misbehave on purpose so client checks can
//! be tested.

use std::time::Duration;

use crate::schema::{enums, functions, types};
use mtproto_crypto::dh::{unwrap_with_hash, wrap_with_hash_random};
use mtproto_crypto::keys::{self, DhGenAnswer};
use mtproto_crypto::{AuthKey, DhParams, DhSecret, DhValue, RsaPrivateKey};
use rand_core::CryptoRngCore;
use tl_wire::{Deserialize, Identifiable, Reader, Serialize};

use super::{KexError, SecretNonce};
use crate::msg_id::{MsgIdGenerator, MsgIdKind};
use crate::plain;
use crate::session::wire::decode;

/// What the server side needs; shared by all connections and passed to each step.
#[derive(Debug)]
pub struct ServerConfig {
    /// The server's RSA keys (clients must know one of their public halves).
    pub keys: Vec<RsaPrivateKey>,
    /// The Diffie-Hellman group.
    pub dh: DhParams,
    /// Deliberate misbehaviour, for testing clients (feature `testing` only). `Default` is a
    /// correct server.
    #[cfg(feature = "testing")]
    pub quirks: ServerQuirks,
}

impl ServerConfig {
    /// A correct server with these keys and group.
    pub fn new(keys: Vec<RsaPrivateKey>, dh: DhParams) -> Self {
        Self {
            keys,
            dh,
            #[cfg(feature = "testing")]
            quirks: ServerQuirks::default(),
        }
    }
}

/// Whether a deliberate misbehaviour is on: always `false` without the `testing` feature, so
/// a production build cannot misbehave.
macro_rules! quirk {
    ($config:expr, $name:ident) => {{
        #[cfg(feature = "testing")]
        let on = $config.quirks.$name;
        #[cfg(not(feature = "testing"))]
        let on = false;
        on
    }};
}

/// Ways the test server can misbehave, each exercising one client check (feature `testing`).
#[cfg(feature = "testing")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerQuirks {
    /// Answer `req_DH_params` with `server_DH_params_fail`.
    pub refuse_dh_params: bool,
    /// Corrupt the encrypted answer so its SHA1 does not match.
    pub corrupt_answer_hash: bool,
    /// Answer the first `set_client_DH_params` with `dh_gen_retry`.
    pub retry_once: bool,
    /// Answer every `set_client_DH_params` with `dh_gen_retry` (each `retry_id` still
    /// checked), so that only the client's retry limit ends the exchange.
    pub retry_forever: bool,
    /// Answer `set_client_DH_params` with `dh_gen_fail`.
    pub fail_dh_gen: bool,
    /// Send the `new_nonce_hash` of whichever answer carries one (`server_DH_params_fail`,
    /// `dh_gen_ok`, `dh_gen_retry`, `dh_gen_fail`) with one bit flipped.
    pub corrupt_new_nonce_hash: bool,
    /// Compute the `new_nonce_hashN` of the `dh_gen_*` answers with the number of another
    /// answer: `dh_gen_ok` carries hash 2, `dh_gen_retry` hash 3, `dh_gen_fail` hash 1.
    pub misnumber_new_nonce_hash: bool,
    /// Put a wrong `nonce` into `server_DH_inner_data` (under a correct answer hash; the outer
    /// `server_DH_params_ok` stays right).
    pub wrong_inner_nonce: bool,
    /// Put a wrong `server_nonce` into `server_DH_inner_data` (under a correct answer hash).
    pub wrong_inner_server_nonce: bool,
    /// Send a `g_a` of 1 (out of range).
    pub bad_g_a: bool,
    /// Send a `dh_prime` that is not a safe prime (Telegram's minus 24: same residues).
    pub bad_dh_prime: bool,
    /// Send `g = 1` (not one of 2..=7).
    pub bad_g: bool,
    /// Send `g = 2` with the server's prime, which for Telegram's prime (p mod 8 = 3, not 7)
    /// fails the quadratic residue condition: 2 does not generate the subgroup of order
    /// (p-1)/2. (`g = 2` is in 2..=7, and the prime stays safe, so only that check refuses.)
    pub bad_generator_residue: bool,
    /// Send a `g_a` of 2: inside (1, p-1) but below 2^1984, so only the safe-range check
    /// refuses it.
    pub small_g_a: bool,
    /// Put a wrong `nonce` into the `dh_gen_ok`, `dh_gen_retry` or `dh_gen_fail` answer
    /// (its `new_nonce_hash` stays right).
    pub wrong_dh_gen_nonce: bool,
    /// Put a wrong `server_nonce` into the `dh_gen_ok`, `dh_gen_retry` or `dh_gen_fail`
    /// answer (its `new_nonce_hash` stays right).
    pub wrong_dh_gen_server_nonce: bool,
    /// Answer `req_pq` with another `nonce` than the client's.
    pub wrong_res_pq_nonce: bool,
    /// Put a wrong `server_nonce` into the outer `server_DH_params_ok`.
    pub wrong_outer_server_nonce: bool,
    /// Send a `pq` in `resPQ` that is not the product of two primes (still 8 bytes).
    pub unfactorable_pq: Option<UnfactorablePq>,
    /// Send `resPQ` in an unencrypted envelope whose `message_data_length` claims 4 bytes
    /// more than the body has (the body itself is a correct `resPQ`).
    pub bad_plain_length: bool,
}

/// Which `pq` [`ServerQuirks::unfactorable_pq`] sends instead of `p·q` (feature `testing`).
#[cfg(feature = "testing")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnfactorablePq {
    /// A prime: the larger of the two random primes, alone.
    Prime,
    /// Three primes: `3·p·q` (below 2^64, as `p·q` is below 2^62).
    ThreeFactors,
}

/// What a successful exchange gives the server.
#[derive(Debug)]
pub struct ServerKeyOutcome {
    /// The new authorization key.
    pub auth_key: AuthKey,
    /// The first salt.
    pub first_salt: i64,
    /// The DC id the client asked for (`None` for the legacy `p_q_inner_data`).
    pub dc: Option<i32>,
    /// `Some(seconds)` for a temporary key.
    pub temp_expires_in: Option<i32>,
}

/// Waiting for `req_pq_multi` (or the older `req_pq`).
#[derive(Debug, Default)]
pub struct ExpectReqPq {
    msg_ids: MsgIdGenerator,
}

/// Waiting for `req_DH_params`.
#[derive(Debug)]
pub struct ExpectReqDhParams {
    msg_ids: MsgIdGenerator,
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    p: u64,
    q: u64,
}

/// Waiting for `set_client_DH_params`.
#[derive(Debug)]
pub struct ExpectSetClientDhParams {
    msg_ids: MsgIdGenerator,
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: SecretNonce,
    secret: DhSecret,
    tmp: keys::AesKeyIv,
    dc: Option<i32>,
    temp_expires_in: Option<i32>,
    expected_retry_id: i64,
    retried: bool,
}

/// The answer to `req_DH_params`.
#[derive(Debug)]
pub enum DhParamsStep {
    /// `server_DH_params_ok` was sent; wait for `set_client_DH_params`.
    Continue(ExpectSetClientDhParams, Vec<u8>),
    /// `server_DH_params_fail` was sent (a quirk); the exchange is over.
    Refused(Vec<u8>),
}

/// What the server's last step ([`ExpectSetClientDhParams::handle`]) gives: the answer to
/// `set_client_DH_params`. (The client's counterpart is
/// [`super::client::ClientDhGenStep`].)
#[derive(Debug)]
pub enum ServerDhGenStep {
    /// `dh_gen_ok` was sent: the key exists.
    Done(ServerKeyOutcome, Vec<u8>),
    /// `dh_gen_retry` was sent; wait for another `set_client_DH_params`.
    Retry(ExpectSetClientDhParams, Vec<u8>),
    /// `dh_gen_fail` was sent; the exchange is over.
    Failed(Vec<u8>),
}

impl ExpectReqPq {
    /// A new exchange on a fresh connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles `req_pq_multi`/`req_pq`: answers `resPQ` with a fresh `server_nonce`, a `pq`
    /// made of two random 31-bit primes, and the fingerprints of the server keys.
    pub fn handle(
        self,
        config: &ServerConfig,
        packet: &[u8],
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(ExpectReqDhParams, Vec<u8>), KexError> {
        let (_, body) = plain::unwrap(packet)?;
        let id = Reader::new(body)
            .peek_u32()
            .map_err(KexError::decode("req_pq_multi"))?;
        let nonce = match id {
            functions::ReqPqMulti::CONSTRUCTOR_ID => {
                decode::<functions::ReqPqMulti>(body)
                    .map_err(KexError::decode("req_pq_multi"))?
                    .nonce
            }
            functions::ReqPq::CONSTRUCTOR_ID => {
                decode::<functions::ReqPq>(body)
                    .map_err(KexError::decode("req_pq"))?
                    .nonce
            }
            _ => return Err(KexError::UnexpectedMessage { step: "req_pq", id }),
        };
        let mut server_nonce = [0u8; 16];
        rng.fill_bytes(&mut server_nonce);
        let (p, q) = random_factors(rng);
        let pq = res_pq_value(config, p, q);
        let mut res_nonce = nonce;
        if quirk!(config, wrong_res_pq_nonce) {
            res_nonce[0] ^= 1;
        }
        let res: enums::ResPq = types::ResPq {
            nonce: res_nonce,
            server_nonce,
            pq: pq.to_be_bytes().to_vec(),
            server_public_key_fingerprints: config
                .keys
                .iter()
                .map(|k| k.public_key().fingerprint())
                .collect(),
        }
        .into();
        let mut msg_ids = self.msg_ids;
        let mut packet = plain::wrap(msg_ids.next(now, MsgIdKind::ServerReply), &res.to_bytes());
        if quirk!(config, bad_plain_length) {
            let declared = (packet.len() - plain::HEADER_LEN + 4) as u32;
            packet[16..20].copy_from_slice(&declared.to_le_bytes());
        }
        Ok((
            ExpectReqDhParams {
                msg_ids,
                nonce,
                server_nonce,
                p,
                q,
            },
            packet,
        ))
    }
}

/// The `pq` that `resPQ` carries: `p·q`, or what [`ServerQuirks::unfactorable_pq`] asks for.
#[cfg_attr(not(feature = "testing"), allow(unused_variables))]
fn res_pq_value(config: &ServerConfig, p: u64, q: u64) -> u64 {
    #[cfg(feature = "testing")]
    match config.quirks.unfactorable_pq {
        Some(UnfactorablePq::Prime) => return q,
        Some(UnfactorablePq::ThreeFactors) => return 3 * p * q,
        None => {}
    }
    p * q
}

/// The fields of any `p_q_inner_data` variant.
struct Inner {
    pq: Vec<u8>,
    p: Vec<u8>,
    q: Vec<u8>,
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: SecretNonce,
    dc: Option<i32>,
    expires_in: Option<i32>,
}

fn parse_inner(data: &[u8]) -> Option<Inner> {
    // The inner data is followed by random padding: read one object, ignore the rest.
    let inner =
        enums::PQInnerData::deserialize(&mut Reader::with_limits(data, tl_wire::Limits::NO_GZIP))
            .ok()?;
    // The nonce moves into a `SecretNonce`; the decoded struct keeps zeros.
    // Every variant has the same first six fields; `dc` and `expires_in` vary.
    macro_rules! inner {
        ($i:expr, $dc:expr, $expires_in:expr) => {
            Inner {
                pq: $i.pq,
                p: $i.p,
                q: $i.q,
                nonce: $i.nonce,
                server_nonce: $i.server_nonce,
                new_nonce: SecretNonce::from_bytes(std::mem::take(&mut $i.new_nonce)),
                dc: $dc,
                expires_in: $expires_in,
            }
        };
    }
    Some(match inner {
        enums::PQInnerData::PQInnerData(mut i) => inner!(i, None, None),
        enums::PQInnerData::Dc(mut i) => inner!(i, Some(i.dc), None),
        enums::PQInnerData::Temp(mut i) => inner!(i, None, Some(i.expires_in)),
        enums::PQInnerData::TempDc(mut i) => inner!(i, Some(i.dc), Some(i.expires_in)),
    })
}

fn be_u64(bytes: &[u8]) -> Option<u64> {
    if bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

impl ExpectReqDhParams {
    /// Handles `req_DH_params`: checks nonces and factors, decrypts the inner data (RSA_PAD,
    /// or the legacy scheme), and answers with the encrypted DH parameters.
    pub fn handle(
        self,
        config: &ServerConfig,
        packet: &[u8],
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Result<DhParamsStep, KexError> {
        let (_, body) = plain::unwrap(packet)?;
        let req =
            decode::<functions::ReqDhParams>(body).map_err(KexError::decode("req_DH_params"))?;
        if req.nonce != self.nonce {
            return Err(KexError::NonceMismatch {
                step: "req_DH_params",
            });
        }
        if req.server_nonce != self.server_nonce {
            return Err(KexError::ServerNonceMismatch {
                step: "req_DH_params",
            });
        }
        if be_u64(&req.p) != Some(self.p) || be_u64(&req.q) != Some(self.q) {
            return Err(KexError::WrongFactors);
        }
        let key = config
            .keys
            .iter()
            .find(|k| k.public_key().fingerprint() == req.public_key_fingerprint)
            .ok_or_else(|| KexError::NoKnownKey {
                fingerprints: vec![req.public_key_fingerprint],
            })?;
        let inner = key
            .decrypt_pad(&req.encrypted_data)
            .ok()
            .and_then(|data| parse_inner(&data[..]))
            .or_else(|| {
                key.decrypt_legacy(&req.encrypted_data)
                    .ok()
                    .and_then(|data| parse_inner(&data))
            })
            .ok_or(KexError::BadInnerData)?;
        if inner.nonce != self.nonce {
            return Err(KexError::NonceMismatch {
                step: "p_q_inner_data",
            });
        }
        if inner.server_nonce != self.server_nonce {
            return Err(KexError::ServerNonceMismatch {
                step: "p_q_inner_data",
            });
        }
        if be_u64(&inner.pq) != Some(self.p * self.q)
            || be_u64(&inner.p) != Some(self.p)
            || be_u64(&inner.q) != Some(self.q)
        {
            return Err(KexError::WrongFactors);
        }
        let mut msg_ids = self.msg_ids;
        if quirk!(config, refuse_dh_params) {
            let mut new_nonce_hash = keys::dh_params_fail_nonce_hash(&inner.new_nonce);
            if quirk!(config, corrupt_new_nonce_hash) {
                new_nonce_hash[0] ^= 1;
            }
            let fail: enums::ServerDhParams = types::ServerDhParamsFail {
                nonce: self.nonce,
                server_nonce: self.server_nonce,
                new_nonce_hash,
            }
            .into();
            let packet = plain::wrap(msg_ids.next(now, MsgIdKind::ServerReply), &fail.to_bytes());
            return Ok(DhParamsStep::Refused(packet));
        }
        let (secret, mut g_a) = config.dh.generate_secret(rng, DhValue::GA)?;
        if quirk!(config, bad_g_a) {
            g_a = [0u8; 256];
            g_a[255] = 1;
        }
        if quirk!(config, small_g_a) {
            g_a = [0u8; 256];
            g_a[255] = 2;
        }
        let (mut inner_nonce, mut inner_server_nonce) = (self.nonce, self.server_nonce);
        if quirk!(config, wrong_inner_nonce) {
            inner_nonce[0] ^= 1;
        }
        if quirk!(config, wrong_inner_server_nonce) {
            inner_server_nonce[0] ^= 1;
        }
        let mut dh_prime = config.dh.p_bytes().to_vec();
        if quirk!(config, bad_dh_prime) {
            // p − 24 keeps every residue the client checks for g (mod 24) and is not a
            // safe prime: only the primality check can refuse it.
            let mut borrow = 24u16;
            for byte in dh_prime.iter_mut().rev() {
                let (value, under) = byte.overflowing_sub(borrow as u8);
                *byte = value;
                borrow = u16::from(under);
                if borrow == 0 {
                    break;
                }
            }
        }
        let g = match (quirk!(config, bad_g), quirk!(config, bad_generator_residue)) {
            (true, _) => 1,
            (false, true) => 2,
            (false, false) => config.dh.g() as i32,
        };
        let answer: enums::ServerDhInnerData = types::ServerDhInnerData {
            nonce: inner_nonce,
            server_nonce: inner_server_nonce,
            g,
            dh_prime,
            g_a: g_a.to_vec(),
            server_time: now.as_secs() as i32,
        }
        .into();
        let tmp = keys::tmp_aes_key_iv(&inner.new_nonce, &self.server_nonce);
        let mut encrypted_answer = wrap_with_hash_random(&answer.to_bytes(), &tmp, rng);
        if quirk!(config, corrupt_answer_hash) {
            // IGE propagates a flipped bit to every later block, so no prefix hashes right.
            encrypted_answer[0] ^= 1;
        }
        let mut outer_server_nonce = self.server_nonce;
        if quirk!(config, wrong_outer_server_nonce) {
            outer_server_nonce[0] ^= 1;
        }
        let ok: enums::ServerDhParams = types::ServerDhParamsOk {
            nonce: self.nonce,
            server_nonce: outer_server_nonce,
            encrypted_answer,
        }
        .into();
        let packet = plain::wrap(msg_ids.next(now, MsgIdKind::ServerReply), &ok.to_bytes());
        Ok(DhParamsStep::Continue(
            ExpectSetClientDhParams {
                msg_ids,
                nonce: self.nonce,
                server_nonce: self.server_nonce,
                new_nonce: inner.new_nonce,
                secret,
                tmp,
                dc: inner.dc,
                temp_expires_in: inner.expires_in,
                expected_retry_id: 0,
                retried: false,
            },
            packet,
        ))
    }
}

impl ExpectSetClientDhParams {
    /// The `retry_id` the next `set_client_DH_params` must carry: 0 at first, then the
    /// aux_hash of the key refused by the last `dh_gen_retry`.
    pub fn expected_retry_id(&self) -> i64 {
        self.expected_retry_id
    }

    /// Handles `set_client_DH_params`: decrypts `client_DH_inner_data`, checks nonces,
    /// `retry_id` and `g_b`, computes the key, and answers `dh_gen_ok` (or, per the quirks,
    /// `dh_gen_retry` / `dh_gen_fail`).
    pub fn handle(
        mut self,
        config: &ServerConfig,
        packet: &[u8],
        now: Duration,
    ) -> Result<ServerDhGenStep, KexError> {
        let (_, body) = plain::unwrap(packet)?;
        let req = decode::<functions::SetClientDhParams>(body)
            .map_err(KexError::decode("set_client_DH_params"))?;
        if req.nonce != self.nonce {
            return Err(KexError::NonceMismatch {
                step: "set_client_DH_params",
            });
        }
        if req.server_nonce != self.server_nonce {
            return Err(KexError::ServerNonceMismatch {
                step: "set_client_DH_params",
            });
        }
        let data = unwrap_with_hash(&req.encrypted_data, &self.tmp)?;
        let enums::ClientDhInnerData::ClientDhInnerData(inner) =
            decode::<enums::ClientDhInnerData>(&data)
                .map_err(KexError::decode("client_DH_inner_data"))?;
        if inner.nonce != self.nonce {
            return Err(KexError::NonceMismatch {
                step: "client_DH_inner_data",
            });
        }
        if inner.server_nonce != self.server_nonce {
            return Err(KexError::ServerNonceMismatch {
                step: "client_DH_inner_data",
            });
        }
        if inner.retry_id != self.expected_retry_id {
            return Err(KexError::WrongRetryId {
                expected: self.expected_retry_id,
                got: inner.retry_id,
            });
        }
        let auth_key = config.dh.auth_key(&self.secret, &inner.g_b, DhValue::GB)?;
        let hash = |answer: DhGenAnswer| {
            let number_as = if quirk!(config, misnumber_new_nonce_hash) {
                match answer {
                    DhGenAnswer::Ok => DhGenAnswer::Retry,
                    DhGenAnswer::Retry => DhGenAnswer::Fail,
                    DhGenAnswer::Fail => DhGenAnswer::Ok,
                }
            } else {
                answer
            };
            let mut hash = keys::new_nonce_hash(&self.new_nonce, number_as, &auth_key);
            if quirk!(config, corrupt_new_nonce_hash) {
                hash[0] ^= 1;
            }
            hash
        };
        let (mut nonce, mut server_nonce) = (self.nonce, self.server_nonce);
        if quirk!(config, wrong_dh_gen_nonce) {
            nonce[0] ^= 1;
        }
        if quirk!(config, wrong_dh_gen_server_nonce) {
            server_nonce[0] ^= 1;
        }
        let retry = match (quirk!(config, retry_forever), quirk!(config, retry_once)) {
            (true, _) => true,
            (false, once) => once && !self.retried,
        };
        let answer: enums::SetClientDhParamsAnswer = if quirk!(config, fail_dh_gen) {
            types::DhGenFail {
                nonce,
                server_nonce,
                new_nonce_hash3: hash(DhGenAnswer::Fail),
            }
            .into()
        } else if retry {
            types::DhGenRetry {
                nonce,
                server_nonce,
                new_nonce_hash2: hash(DhGenAnswer::Retry),
            }
            .into()
        } else {
            types::DhGenOk {
                nonce,
                server_nonce,
                new_nonce_hash1: hash(DhGenAnswer::Ok),
            }
            .into()
        };
        let packet = plain::wrap(
            self.msg_ids.next(now, MsgIdKind::ServerReply),
            &answer.to_bytes(),
        );
        Ok(match answer {
            enums::SetClientDhParamsAnswer::DhGenFail(_) => ServerDhGenStep::Failed(packet),
            enums::SetClientDhParamsAnswer::DhGenRetry(_) => {
                self.retried = true;
                self.expected_retry_id = auth_key.aux_hash();
                ServerDhGenStep::Retry(self, packet)
            }
            enums::SetClientDhParamsAnswer::DhGenOk(_) => ServerDhGenStep::Done(
                ServerKeyOutcome {
                    first_salt: keys::first_salt(&self.new_nonce, &self.server_nonce),
                    auth_key,
                    dc: self.dc,
                    temp_expires_in: self.temp_expires_in,
                },
                packet,
            ),
        })
    }
}

/// Two distinct random primes in [2^30, 2^31), smaller first: `pq` stays below 2^62.
fn random_factors(rng: &mut impl CryptoRngCore) -> (u64, u64) {
    let mut prime = || loop {
        let candidate = (rng.next_u32() | (1 << 30) | 1) & 0x7fff_ffff;
        if is_prime_u32(candidate) {
            return u64::from(candidate);
        }
    };
    let a = prime();
    let mut b = prime();
    while b == a {
        b = prime();
    }
    (a.min(b), a.max(b))
}

fn is_prime_u32(n: u32) -> bool {
    if n < 2 || n % 2 == 0 {
        return n == 2;
    }
    let mut d = 3u32;
    while u64::from(d) * u64::from(d) <= u64::from(n) {
        if n % d == 0 {
            return false;
        }
        d += 2;
    }
    true
}
