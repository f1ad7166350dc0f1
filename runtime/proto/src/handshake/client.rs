//! The client role of the key exchange, one consuming step per expected answer
//! (`ExpectResPq` → `ExpectServerDhParams` → `ExpectDhGenAnswer`).

use std::time::Duration;

use crate::schema::{enums, functions, types};
use mtproto_crypto::dh::{unwrap_with_hash, wrap_with_hash_random};
use mtproto_crypto::keys::{self, DhGenAnswer};
use mtproto_crypto::{AuthKey, DhParams, DhSecret, DhValue, PrimeCache, RsaPublicKey};
use rand_core::CryptoRngCore;
use tl_wire::Serialize;
use zeroize::Zeroizing;

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
    /// How many `dh_gen_retry` answers to accept before giving up.
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
    nonce: [u8; 16],
    server_nonce: [u8; 16],
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
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    msg_ids: MsgIdGenerator,
    dh: DhParams,
    g_a: Vec<u8>,
    tmp: keys::AesKeyIv,
}

/// The result of the last step: the key, or a retry with a new `g_b` to send.
#[derive(Debug)]
pub enum DhGenStep {
    /// The key exchange succeeded.
    Done(KeyExchangeOutcome),
    /// The server asked for another `g_b`: send the packet and wait again.
    Retry(Box<ExpectDhGenAnswer>, Vec<u8>),
}

/// Proof that the nonces of an answer were checked; only [`check_nonces`] creates it.
struct NoncesChecked(());

fn check_nonces(
    step: &'static str,
    (nonce, server_nonce): (&[u8; 16], &[u8; 16]),
    (want_nonce, want_server_nonce): (&[u8; 16], &[u8; 16]),
) -> Result<NoncesChecked, KexError> {
    if nonce != want_nonce {
        return Err(KexError::NonceMismatch { step });
    }
    if server_nonce != want_server_nonce {
        return Err(KexError::ServerNonceMismatch { step });
    }
    Ok(NoncesChecked(()))
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
        if res.nonce != self.nonce {
            return Err(KexError::NonceMismatch { step: "resPQ" });
        }
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
        let inner: enums::PQInnerData = match self.config.temp_key_expires_in {
            None => types::PQInnerDataDc {
                pq: res.pq.clone(),
                p: p.clone(),
                q: q.clone(),
                nonce: self.nonce,
                server_nonce: res.server_nonce,
                new_nonce: *new_nonce,
                dc: self.config.dc_id,
            }
            .into(),
            Some(expires_in) => types::PQInnerDataTempDc {
                pq: res.pq.clone(),
                p: p.clone(),
                q: q.clone(),
                nonce: self.nonce,
                server_nonce: res.server_nonce,
                new_nonce: *new_nonce,
                dc: self.config.dc_id,
                expires_in,
            }
            .into(),
        };
        let inner_bytes = Zeroizing::new(inner.to_bytes());
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
                nonce: self.nonce,
                server_nonce: res.server_nonce,
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
        let ok = match answer {
            enums::ServerDhParams::Ok(ok) => ok,
            enums::ServerDhParams::Fail(fail) => {
                check_nonces(
                    "server_DH_params_fail",
                    (&fail.nonce, &fail.server_nonce),
                    (&self.nonce, &self.server_nonce),
                )?;
                if fail.new_nonce_hash != keys::dh_params_fail_nonce_hash(&self.new_nonce) {
                    return Err(KexError::NewNonceHashMismatch { number: 0 });
                }
                return Err(KexError::ServerDhParamsFail);
            }
        };
        check_nonces(
            "server_DH_params_ok",
            (&ok.nonce, &ok.server_nonce),
            (&self.nonce, &self.server_nonce),
        )?;
        let tmp = keys::tmp_aes_key_iv(&self.new_nonce, &self.server_nonce);
        let answer = Zeroizing::new(unwrap_with_hash(&ok.encrypted_answer, &tmp)?);
        let enums::ServerDhInnerData::ServerDhInnerData(inner) =
            decode::<enums::ServerDhInnerData>(&answer)
                .map_err(KexError::decode("server_DH_inner_data"))?;
        check_nonces(
            "server_DH_inner_data",
            (&inner.nonce, &inner.server_nonce),
            (&self.nonce, &self.server_nonce),
        )?;
        let dh = DhParams::new(&inner.dh_prime, inner.g, primes)?;
        dh.check_value(&inner.g_a, DhValue::GA)?;
        let mut msg_ids = self.msg_ids;
        msg_ids.sync_to_server_time(now, i64::from(inner.server_time));
        let mut pending = DhRound {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            msg_ids,
            dh,
            g_a: inner.g_a,
            tmp,
        };
        let (auth_key, packet) = pending.send_g_b(0, now, rng)?;
        Ok((
            ExpectDhGenAnswer {
                config: self.config,
                new_nonce: self.new_nonce,
                round: pending,
                auth_key,
                retries: 0,
            },
            packet,
        ))
    }
}

impl DhRound {
    /// Draws `b`, computes the key, and builds the `set_client_DH_params` packet.
    fn send_g_b(
        &mut self,
        retry_id: i64,
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(AuthKey, Vec<u8>), KexError> {
        let (secret, g_b): (DhSecret, _) = self.dh.generate_secret(rng, DhValue::GB)?;
        let auth_key = self.dh.auth_key(&secret, &self.g_a, DhValue::GA)?;
        let inner: enums::ClientDhInnerData = types::ClientDhInnerData {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            retry_id,
            g_b: g_b.to_vec(),
        }
        .into();
        let encrypted_data = wrap_with_hash_random(&inner.to_bytes(), &self.tmp, rng);
        let request = functions::SetClientDhParams {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
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
    /// (with `retry_id` = aux_hash of the refused key); `dh_gen_fail` is an error. Every
    /// answer's nonces and `new_nonce_hash` are checked first.
    pub fn handle(
        mut self,
        packet: &[u8],
        now: Duration,
        rng: &mut impl CryptoRngCore,
    ) -> Result<DhGenStep, KexError> {
        let (_, body) = plain::unwrap(packet)?;
        let answer = decode::<enums::SetClientDhParamsAnswer>(body)
            .map_err(KexError::decode("Set_client_DH_params_answer"))?;
        let want = (&self.round.nonce, &self.round.server_nonce);
        match answer {
            enums::SetClientDhParamsAnswer::DhGenOk(ok) => {
                let _checked: NoncesChecked =
                    check_nonces("dh_gen_ok", (&ok.nonce, &ok.server_nonce), want)?;
                self.check_hash(DhGenAnswer::Ok, &ok.new_nonce_hash1)?;
                let server_now = self.round.msg_ids.server_now(now);
                Ok(DhGenStep::Done(KeyExchangeOutcome {
                    first_salt: keys::first_salt(&self.new_nonce, &self.round.server_nonce),
                    time_offset: self.round.msg_ids.time_offset(),
                    expires_at: self
                        .config
                        .temp_key_expires_in
                        .map(|s| server_now + i64::from(s)),
                    auth_key: self.auth_key,
                }))
            }
            enums::SetClientDhParamsAnswer::DhGenRetry(retry) => {
                check_nonces("dh_gen_retry", (&retry.nonce, &retry.server_nonce), want)?;
                self.check_hash(DhGenAnswer::Retry, &retry.new_nonce_hash2)?;
                if self.retries >= self.config.max_retries {
                    return Err(KexError::TooManyRetries {
                        limit: self.config.max_retries,
                    });
                }
                self.retries += 1;
                let retry_id = self.auth_key.aux_hash();
                let (auth_key, packet) = self.round.send_g_b(retry_id, now, rng)?;
                self.auth_key = auth_key;
                Ok(DhGenStep::Retry(Box::new(self), packet))
            }
            enums::SetClientDhParamsAnswer::DhGenFail(fail) => {
                check_nonces("dh_gen_fail", (&fail.nonce, &fail.server_nonce), want)?;
                self.check_hash(DhGenAnswer::Fail, &fail.new_nonce_hash3)?;
                Err(KexError::DhGenFail)
            }
        }
    }
}
