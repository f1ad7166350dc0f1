//! The client role of the key exchange, one consuming step per expected answer
//! (`ExpectResPq` → `ExpectServerDhParams` → `ExpectDhGenAnswer`).
//!
//! Every answer goes through the nonce check (`checked::check_nonces`, or for `resPQ`
//! `checked::check_res_pq_nonce`) before anything is derived from it: the functions that
//! accept an answer (build `req_DH_params`, derive the temporary key, check the DH values and
//! send `g_b`, build the outcome, send a retry, report a verified failure) take the answer only
//! wrapped in a `checked::NoncesChecked`, which nothing outside that private module can
//! create, so accepting an unchecked answer does not compile.

use std::time::Duration;

use crate::schema::{enums, functions, types};
use mtproto_crypto::dh::{unwrap_with_hash, wrap_with_hash_random};
use mtproto_crypto::keys::{self, DhGenAnswer};
use mtproto_crypto::{AuthKey, DhParams, DhSecret, DhValue, PrimeCache, RsaPublicKey};
use rand_core::CryptoRngCore;
use tl_wire::Serialize;
use zeroize::Zeroizing;

use self::checked::{check_nonces, check_res_pq_nonce, Nonces, NoncesChecked};
use super::{KexError, KeyExchangeOutcome, SecretNonce};
use crate::msg_id::{MsgIdGenerator, MsgIdKind};
use crate::plain;
use crate::session::wire::decode;

/// What the client needs to create a key.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The DC id sent in `p_q_inner_data_dc`: +10000 for test DCs, negative for media DCs.
    pub dc_id: i32,
    /// The server RSA keys the client trusts.
    pub public_keys: Vec<RsaPublicKey>,
    /// `Some(seconds)` creates a temporary key (PFS) with `p_q_inner_data_temp_dc`.
    pub temp_key_expires_in: Option<i32>,
    /// How many `dh_gen_retry` answers to accept before giving up: the next one is
    /// [`KexError::TooManyRetries`].
    pub max_retries: u32,
}

/// Starts a key exchange: returns the first step and the `req_pq_multi` packet to send.
pub fn start(
    config: ClientConfig,
    now: Duration,
    rng: &mut impl CryptoRngCore,
) -> (ExpectResPq, Vec<u8>) {
    let mut nonce = [0u8; 16];
    rng.fill_bytes(&mut nonce);
    let mut msg_ids = MsgIdGenerator::new();
    let body = functions::ReqPqMulti { nonce }.to_bytes();
    let packet = plain::wrap(msg_ids.next(now, MsgIdKind::Client), &body);
    (
        ExpectResPq {
            config,
            nonce,
            msg_ids,
        },
        packet,
    )
}

/// Waiting for `resPQ`.
#[derive(Debug)]
pub struct ExpectResPq {
    config: ClientConfig,
    nonce: [u8; 16],
    msg_ids: MsgIdGenerator,
}

/// Waiting for `server_DH_params_ok` or `server_DH_params_fail`.
#[derive(Debug)]
pub struct ExpectServerDhParams {
    config: ClientConfig,
    nonces: Nonces,
    new_nonce: SecretNonce,
    msg_ids: MsgIdGenerator,
}

/// Waiting for `dh_gen_ok`, `dh_gen_retry` or `dh_gen_fail`.
#[derive(Debug)]
pub struct ExpectDhGenAnswer {
    config: ClientConfig,
    new_nonce: SecretNonce,
    round: DhRound,
    /// The key of the `g_b` sent last.
    auth_key: AuthKey,
    retries: u32,
}

/// What sending a (new) `g_b` needs.
#[derive(Debug)]
struct DhRound {
    nonces: Nonces,
    msg_ids: MsgIdGenerator,
    dh: DhParams,
    g_a: Vec<u8>,
    tmp: keys::AesKeyIv,
}

/// What the client's last step ([`ExpectDhGenAnswer::handle`]) gives: the key, or a retry
/// with a new `g_b` to send. (The server's counterpart is
/// [`super::server::ServerDhGenStep`].)
#[derive(Debug)]
pub enum ClientDhGenStep {
    /// `dh_gen_ok`: the key exchange succeeded.
    Done(KeyExchangeOutcome),
    /// `dh_gen_retry`: send the packet (a new `g_b`) and wait again.
    Retry(Box<ExpectDhGenAnswer>, Vec<u8>),
}

/// The nonce check and its proof, in a module of their own: the field of [`NoncesChecked`] is
/// private here, so the rest of the client can only get one from [`check_nonces`] or
/// [`check_res_pq_nonce`].
mod checked {
    use super::KexError;
    use crate::schema::types;

    /// The `nonce` this client chose and the `server_nonce` of `resPQ`: what every later
    /// answer must carry.
    #[derive(Clone, Copy, Debug)]
    pub(super) struct Nonces {
        pub(super) nonce: [u8; 16],
        pub(super) server_nonce: [u8; 16],
    }

    /// An answer whose nonces were checked. Holding one is the only way to reach the answer's
    /// fields after the check, and the functions that accept an answer take it in this form.
    pub(super) struct NoncesChecked<T>(T);

    impl<T> NoncesChecked<T> {
        /// The checked answer.
        pub(super) fn get(&self) -> &T {
            &self.0
        }

        /// The checked answer, by value.
        pub(super) fn into_inner(self) -> T {
            self.0
        }
    }

    /// An answer that carries both `nonce` and `server_nonce`.
    pub(super) trait CarriesNonces {
        /// The message name, for the error.
        const STEP: &'static str;
        /// Its `nonce` and `server_nonce`.
        fn nonces(&self) -> (&[u8; 16], &[u8; 16]);
    }

    macro_rules! carries_nonces {
        ($($ty:ty => $step:literal,)*) => {$(
            impl CarriesNonces for $ty {
                const STEP: &'static str = $step;
                fn nonces(&self) -> (&[u8; 16], &[u8; 16]) {
                    (&self.nonce, &self.server_nonce)
                }
            }
        )*};
    }

    carries_nonces! {
        types::ServerDhParamsOk => "server_DH_params_ok",
        types::ServerDhParamsFail => "server_DH_params_fail",
        types::ServerDhInnerData => "server_DH_inner_data",
        types::DhGenOk => "dh_gen_ok",
        types::DhGenRetry => "dh_gen_retry",
        types::DhGenFail => "dh_gen_fail",
    }

    /// Checks `nonce` and then `server_nonce` of an answer after `resPQ`.
    pub(super) fn check_nonces<T: CarriesNonces>(
        answer: T,
        want: &Nonces,
    ) -> Result<NoncesChecked<T>, KexError> {
        let (nonce, server_nonce) = answer.nonces();
        if *nonce != want.nonce {
            return Err(KexError::NonceMismatch { step: T::STEP });
        }
        if *server_nonce != want.server_nonce {
            return Err(KexError::ServerNonceMismatch { step: T::STEP });
        }
        Ok(NoncesChecked(answer))
    }

    /// Checks the `nonce` of `resPQ` (its `server_nonce` is new: there is nothing to compare
    /// it with).
    pub(super) fn check_res_pq_nonce(
        res: types::ResPq,
        want: &[u8; 16],
    ) -> Result<NoncesChecked<types::ResPq>, KexError> {
        if res.nonce != *want {
            return Err(KexError::NonceMismatch { step: "resPQ" });
        }
        Ok(NoncesChecked(res))
    }
}

fn minimal_be(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    bytes[skip..].to_vec()
}

impl ExpectResPq {
    /// Handles `resPQ`: checks the nonce, factors pq, picks a known key, and returns the
    /// `req_DH_params` packet with the RSA_PAD-encrypted inner data.
    pub fn handle(
        self,
        packet: &[u8],
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(ExpectServerDhParams, Vec<u8>), KexError> {
        let (_, body) = plain::unwrap(packet)?;
        let enums::ResPq::ResPq(res) =
            decode::<enums::ResPq>(body).map_err(KexError::decode("resPQ"))?;
        let res = check_res_pq_nonce(res, &self.nonce)?;
        self.request_dh_params(res, now, rng)
    }

    /// Accepts a checked `resPQ`: factors pq and builds `req_DH_params`.
    fn request_dh_params(
        self,
        res: NoncesChecked<types::ResPq>,
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(ExpectServerDhParams, Vec<u8>), KexError> {
        let res = res.into_inner();
        let key = mtproto_crypto::rsa::find_key(
            &self.config.public_keys,
            &res.server_public_key_fingerprints,
        )
        .ok_or_else(|| KexError::NoKnownKey {
            fingerprints: res.server_public_key_fingerprints.clone(),
        })?;
        let pq_bytes: [u8; 8] = res
            .pq
            .as_slice()
            .try_into()
            .map_err(|_| KexError::Factor(format!("pq has {} bytes, not 8", res.pq.len())))?;
        let pq = u64::from_be_bytes(pq_bytes);
        let (p, q) = mtproto_crypto::factorize(pq).map_err(|e| KexError::Factor(e.to_string()))?;
        let new_nonce = SecretNonce::random(rng);
        let (p, q) = (minimal_be(p), minimal_be(q));
        let mut inner: enums::PQInnerData = match self.config.temp_key_expires_in {
            None => types::PQInnerDataDc {
                pq: res.pq.clone(),
                p: p.clone(),
                q: q.clone(),
                nonce: self.nonce,
                server_nonce: res.server_nonce,
                new_nonce: (*new_nonce).into(),
                dc: self.config.dc_id,
            }
            .into(),
            Some(expires_in) => types::PQInnerDataTempDc {
                pq: res.pq.clone(),
                p: p.clone(),
                q: q.clone(),
                nonce: self.nonce,
                server_nonce: res.server_nonce,
                new_nonce: (*new_nonce).into(),
                dc: self.config.dc_id,
                expires_in,
            }
            .into(),
        };
        let inner_bytes = Zeroizing::new(inner.to_bytes());
        super::wipe_new_nonce(&mut inner);
        let encrypted_data = key.encrypt_pad(&inner_bytes, rng)?.to_vec();
        let request = functions::ReqDhParams {
            nonce: self.nonce,
            server_nonce: res.server_nonce,
            p,
            q,
            public_key_fingerprint: key.fingerprint(),
            encrypted_data,
        };
        let mut msg_ids = self.msg_ids;
        let packet = plain::wrap(msg_ids.next(now, MsgIdKind::Client), &request.to_bytes());
        Ok((
            ExpectServerDhParams {
                config: self.config,
                nonces: Nonces {
                    nonce: self.nonce,
                    server_nonce: res.server_nonce,
                },
                new_nonce,
                msg_ids,
            },
            packet,
        ))
    }
}

impl ExpectServerDhParams {
    /// Handles `server_DH_params_ok` (decrypts and checks the answer hash, the prime, `g` and
    /// `g_a`, syncs the clock to `server_time`) and returns the `set_client_DH_params` packet.
    /// A verified `server_DH_params_fail` is [`KexError::ServerDhParamsFail`].
    pub fn handle(
        self,
        packet: &[u8],
        now: Duration,
        rng: &mut impl CryptoRngCore,
        primes: &mut PrimeCache,
    ) -> Result<(ExpectDhGenAnswer, Vec<u8>), KexError> {
        let (_, body) = plain::unwrap(packet)?;
        let answer =
            decode::<enums::ServerDhParams>(body).map_err(KexError::decode("Server_DH_Params"))?;
        match answer {
            enums::ServerDhParams::Fail(fail) => {
                Err(self.refused(check_nonces(fail, &self.nonces)?))
            }
            enums::ServerDhParams::Ok(ok) => {
                let (tmp, answer) = self.decrypt_answer(check_nonces(ok, &self.nonces)?)?;
                let enums::ServerDhInnerData::ServerDhInnerData(inner) =
                    decode::<enums::ServerDhInnerData>(&answer)
                        .map_err(KexError::decode("server_DH_inner_data"))?;
                let inner = check_nonces(inner, &self.nonces)?;
                self.accept_dh_params(inner, tmp, now, rng, primes)
            }
        }
    }

    /// Accepts a checked `server_DH_params_fail`: checks its `new_nonce_hash` and returns the
    /// error to report.
    fn refused(&self, fail: NoncesChecked<types::ServerDhParamsFail>) -> KexError {
        if fail.get().new_nonce_hash != keys::dh_params_fail_nonce_hash(&self.new_nonce) {
            return KexError::NewNonceHashMismatch { number: 0 };
        }
        KexError::ServerDhParamsFail
    }

    /// Accepts a checked `server_DH_params_ok`: derives the temporary key and decrypts and
    /// verifies `answer_with_hash`, returning the key and the answer.
    fn decrypt_answer(
        &self,
        ok: NoncesChecked<types::ServerDhParamsOk>,
    ) -> Result<(keys::AesKeyIv, Zeroizing<Vec<u8>>), KexError> {
        let tmp = keys::tmp_aes_key_iv(&self.new_nonce, &self.nonces.server_nonce);
        let answer = Zeroizing::new(unwrap_with_hash(&ok.get().encrypted_answer, &tmp)?);
        Ok((tmp, answer))
    }

    /// Accepts a checked `server_DH_inner_data`: checks the group and `g_a`, syncs the clock,
    /// and sends the first `g_b`.
    fn accept_dh_params(
        self,
        inner: NoncesChecked<types::ServerDhInnerData>,
        tmp: keys::AesKeyIv,
        now: Duration,
        rng: &mut impl CryptoRngCore,
        primes: &mut PrimeCache,
    ) -> Result<(ExpectDhGenAnswer, Vec<u8>), KexError> {
        let inner = inner.into_inner();
        let dh = DhParams::new(&inner.dh_prime, inner.g, primes)?;
        dh.check_value(&inner.g_a, DhValue::GA)?;
        let mut msg_ids = self.msg_ids;
        msg_ids.sync_to_server_time(now, i64::from(inner.server_time));
        let mut round = DhRound {
            nonces: self.nonces,
            msg_ids,
            dh,
            g_a: inner.g_a,
            tmp,
        };
        let (auth_key, packet) = round.send_g_b(0, now, rng)?;
        Ok((
            ExpectDhGenAnswer {
                config: self.config,
                new_nonce: self.new_nonce,
                round,
                auth_key,
                retries: 0,
            },
            packet,
        ))
    }
}

impl DhRound {
    /// Draws `b`, computes the key, and builds the `set_client_DH_params` packet. Called only
    /// by the functions that accept a checked `server_DH_inner_data` or `dh_gen_retry`.
    fn send_g_b(
        &mut self,
        retry_id: i64,
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(AuthKey, Vec<u8>), KexError> {
        let (secret, g_b): (DhSecret, _) = self.dh.generate_secret(rng, DhValue::GB)?;
        let auth_key = self.dh.auth_key(&secret, &self.g_a, DhValue::GA)?;
        let Nonces {
            nonce,
            server_nonce,
        } = self.nonces;
        let inner: enums::ClientDhInnerData = types::ClientDhInnerData {
            nonce,
            server_nonce,
            retry_id,
            g_b: g_b.to_vec(),
        }
        .into();
        let encrypted_data = wrap_with_hash_random(&inner.to_bytes(), &self.tmp, rng);
        let request = functions::SetClientDhParams {
            nonce,
            server_nonce,
            encrypted_data,
        };
        let packet = plain::wrap(
            self.msg_ids.next(now, MsgIdKind::Client),
            &request.to_bytes(),
        );
        Ok((auth_key, packet))
    }
}

impl ExpectDhGenAnswer {
    fn check_hash(&self, answer: DhGenAnswer, got: &[u8; 16]) -> Result<(), KexError> {
        if keys::new_nonce_hash(&self.new_nonce, answer, &self.auth_key) == *got {
            Ok(())
        } else {
            Err(KexError::NewNonceHashMismatch {
                number: answer.number(),
            })
        }
    }

    /// Handles the final answer: `dh_gen_ok` gives the key; `dh_gen_retry` sends a new `g_b`
    /// (with `retry_id` = aux_hash of the refused key), at most `max_retries` times;
    /// `dh_gen_fail` is [`KexError::DhGenFail`]. Every answer's nonces and `new_nonce_hash`
    /// are checked first.
    pub fn handle(
        self,
        packet: &[u8],
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Result<ClientDhGenStep, KexError> {
        let (_, body) = plain::unwrap(packet)?;
        let answer = decode::<enums::SetClientDhParamsAnswer>(body)
            .map_err(KexError::decode("Set_client_DH_params_answer"))?;
        let nonces = self.round.nonces;
        match answer {
            enums::SetClientDhParamsAnswer::DhGenOk(ok) => self
                .finish(check_nonces(ok, &nonces)?, now)
                .map(ClientDhGenStep::Done),
            enums::SetClientDhParamsAnswer::DhGenRetry(retry) => {
                self.retry(check_nonces(retry, &nonces)?, now, rng)
            }
            enums::SetClientDhParamsAnswer::DhGenFail(fail) => {
                Err(self.failed(check_nonces(fail, &nonces)?))
            }
        }
    }

    /// Accepts a checked `dh_gen_ok`: checks `new_nonce_hash1` and builds the outcome.
    fn finish(
        self,
        ok: NoncesChecked<types::DhGenOk>,
        now: Duration,
    ) -> Result<KeyExchangeOutcome, KexError> {
        self.check_hash(DhGenAnswer::Ok, &ok.get().new_nonce_hash1)?;
        let server_now = self.round.msg_ids.server_now(now);
        Ok(KeyExchangeOutcome {
            first_salt: keys::first_salt(&self.new_nonce, &self.round.nonces.server_nonce),
            time_offset: self.round.msg_ids.time_offset(),
            expires_at: self
                .config
                .temp_key_expires_in
                .map(|s| server_now + i64::from(s)),
            auth_key: self.auth_key,
        })
    }

    /// Accepts a checked `dh_gen_retry`: checks `new_nonce_hash2` and the retry limit, and
    /// sends a new `g_b` with `retry_id` = aux_hash of the refused key.
    fn retry(
        mut self,
        retry: NoncesChecked<types::DhGenRetry>,
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Result<ClientDhGenStep, KexError> {
        self.check_hash(DhGenAnswer::Retry, &retry.get().new_nonce_hash2)?;
        if self.retries >= self.config.max_retries {
            return Err(KexError::TooManyRetries {
                limit: self.config.max_retries,
            });
        }
        self.retries += 1;
        let retry_id = self.auth_key.aux_hash();
        let (auth_key, packet) = self.round.send_g_b(retry_id, now, rng)?;
        self.auth_key = auth_key;
        Ok(ClientDhGenStep::Retry(Box::new(self), packet))
    }

    /// Accepts a checked `dh_gen_fail`: checks `new_nonce_hash3` and returns the error to
    /// report.
    fn failed(&self, fail: NoncesChecked<types::DhGenFail>) -> KexError {
        match self.check_hash(DhGenAnswer::Fail, &fail.get().new_nonce_hash3) {
            Ok(()) => KexError::DhGenFail,
            Err(e) => e,
        }
    }
}
