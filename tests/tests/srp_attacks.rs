//! The 2FA password step against a DC that lies in `account.getPassword` (SECURITY.md rows
//! 34, 35 and 36), end to end: a real `auth_api::Client` signs in over a socket to a
//! `TestServer` whose backend is the test DC's own [`AuthBackend`] behind a hostile wrapper
//! that rewrites only the `account.password` answer. The client must refuse the SRP values
//! with `ClientError::Srp(..)` naming the problem, and send nothing to
//! `auth.checkPassword`. Once the wrapper stops lying, the same client signs in, so every
//! refusal comes from the lie.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use auth_api::client::{Client, ClientConfig, ClientError, PasswordToken, SignIn};
use auth_api::{enums, functions, Deserialize, Identifiable, Serialize};
use mtproto_crypto::dh::{DhError, DhSecret, DhValue, PrimeCache, TELEGRAM_DH_PRIME};
use mtproto_crypto::srp::{self, SrpError, SrpParams, SrpServer};
use project_tests::script::bounded;
use test_dc::backend::ReplyFuture;
use test_dc::{Account, AuthBackend, AuthConfig, Backend, Call, Reply, TestServer};
use test_dc::{TestServerConfig, TestServerHandle};

const CODE: &str = "24680";
const PHONE: &str = "+9996621234";
const PASSWORD: &str = "hunter2";
const DC: i32 = 2;

/// How the hostile wrapper rewrites the `account.password` answer.
#[derive(Clone)]
enum Lie {
    /// `current_algo` carries this `g` and `p` instead of the account's group.
    Group {
        /// The generator sent.
        g: i32,
        /// The prime sent (big-endian).
        p: Vec<u8>,
    },
    /// `srp_B` is these bytes.
    SrpB(Vec<u8>),
    /// `srp_B = (k·v + t) mod p` for the real verifier `v` of [`PASSWORD`], so that the
    /// client's `t = (srp_B - k·v) mod p` is this small number (`k·v + t` wraps past `p`
    /// only if `k·v > p - 1 - t`, a chance of about 2^-2040).
    SrpBMakingT(u8),
}

impl std::fmt::Debug for Lie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = |v: &[u8]| match v {
            [] | [_] | [_, _] => format!("{v:02x?}"),
            _ => format!("{} bytes ..{:02x?}", v.len(), &v[v.len() - 2..]),
        };
        match self {
            Lie::Group { g, p } => write!(f, "Group {{ g: {g}, p: {} }}", short(p)),
            Lie::SrpB(b) => write!(f, "SrpB({})", short(b)),
            Lie::SrpBMakingT(t) => write!(f, "SrpBMakingT({t})"),
        }
    }
}

impl Lie {
    /// The answer with the lie applied.
    fn apply(&self, answer: &[u8]) -> Vec<u8> {
        let enums::account::Password::Password(mut info) =
            enums::account::Password::from_bytes(answer).expect("the DC's account.password");
        let Some(enums::PasswordKdfAlgo::Sha256sha256pbkdf2hmacsha512iter100000Sha256ModPow(algo)) =
            info.current_algo.as_mut()
        else {
            panic!("the account has a password, so current_algo is set");
        };
        match self {
            Lie::Group { g, p } => {
                algo.g = *g;
                algo.p = p.clone();
            }
            Lie::SrpB(b) => info.srp_b = Some(b.clone()),
            Lie::SrpBMakingT(t) => {
                let params = SrpParams::new(
                    &algo.salt1,
                    &algo.salt2,
                    algo.g,
                    &algo.p,
                    &mut PrimeCache::new(),
                )
                .expect("the DC's own group is valid");
                let mut small = [0u8; 256];
                small[255] = *t;
                info.srp_b = Some(add(&k_times_v(&params, PASSWORD), &small).to_vec());
            }
        }
        enums::account::Password::Password(info).to_bytes()
    }
}

/// `k·v mod p` for `password`, with no big-integer library: an SRP server with a known
/// secret `b` sends `B = (k·v + g^b) mod p`, so `k·v = (B - g^b) mod p`.
fn k_times_v(params: &SrpParams, password: &str) -> [u8; 256] {
    let verifier = srp::compute_verifier(params, password.as_bytes());
    let b = DhSecret::from_bytes([0x5c; 256]);
    let server =
        SrpServer::with_secret(params.clone(), &verifier, b.clone()).expect("an SRP server");
    let g_b = params.group().public_value(&b);
    let (difference, borrowed) = sub(server.srp_b(), &g_b);
    if borrowed {
        add(&difference, params.group().p_bytes())
    } else {
        difference
    }
}

/// `a - b` on 256-byte big-endian numbers, wrapping modulo 2^2048; whether it wrapped.
fn sub(a: &[u8; 256], b: &[u8; 256]) -> ([u8; 256], bool) {
    let mut out = [0u8; 256];
    let mut borrow = 0i16;
    for i in (0..256).rev() {
        let d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = (d + 256 * borrow) as u8;
    }
    (out, borrow == 1)
}

/// `a + b` on 256-byte big-endian numbers, wrapping modulo 2^2048.
fn add(a: &[u8; 256], b: &[u8; 256]) -> [u8; 256] {
    let mut out = [0u8; 256];
    let mut carry = 0u16;
    for i in (0..256).rev() {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    out
}

/// The test DC's login backend with a liar in front of `account.getPassword`; counts the
/// password calls it sees.
struct Hostile {
    honest: AuthBackend,
    lie: Mutex<Option<Lie>>,
    get_password: AtomicU64,
    check_password: AtomicU64,
}

impl Backend for Hostile {
    fn call(&self, call: Call) -> ReplyFuture {
        let id = call
            .query
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if id == functions::auth::CheckPassword::CONSTRUCTOR_ID {
            self.check_password.fetch_add(1, Ordering::SeqCst);
        }
        let reply = self.honest.call(call);
        if id != functions::account::GetPassword::CONSTRUCTOR_ID {
            return reply;
        }
        self.get_password.fetch_add(1, Ordering::SeqCst);
        let lie = self.lie.lock().unwrap().clone();
        Box::pin(async move {
            match (reply.await, lie) {
                (Reply::Ok(answer), Some(lie)) => Reply::Ok(lie.apply(&answer)),
                (reply, _) => reply,
            }
        })
    }
}

/// A client stopped at the password step of an account with a password, on one DC behind
/// [`Hostile`].
struct AtPasswordStep {
    hostile: Arc<Hostile>,
    client: Client,
    token: PasswordToken,
    _server: TestServerHandle,
}

async fn at_password_step() -> AtPasswordStep {
    let honest = AuthBackend::new(AuthConfig {
        code: Some(CODE.into()),
        ..AuthConfig::default()
    });
    let hostile = Arc::new(Hostile {
        honest: honest.clone(),
        lie: Mutex::new(None),
        get_password: AtomicU64::new(0),
        check_password: AtomicU64::new(0),
    });
    let key = test_dc::test_server_key();
    let mut config = TestServerConfig::with_backend(vec![key.clone()], hostile.clone());
    config.dc = DC;
    let (addr, server) = TestServer::bind(config).await.expect("bind");
    honest.add_dc(DC, addr, Some(server.link()));
    honest
        .add_account(&Account::new(PHONE).password(PASSWORD).home_dc(DC))
        .expect("account");
    let client = Client::new(ClientConfig::new(
        611_335,
        "d524b414d21f4d37f08684c1df41ac9c",
        [(DC, addr)],
        DC,
        vec![key.public_key().clone()],
    ))
    .expect("client");
    let code = client
        .send_code(PHONE)
        .await
        .expect("sendCode")
        .into_code()
        .expect("a code");
    let SignIn::PasswordRequired(token) = client.sign_in(&code, CODE).await.expect("signIn") else {
        panic!("the account has a password")
    };
    AtPasswordStep {
        hostile,
        client,
        token,
        _server: server,
    }
}

impl AtPasswordStep {
    /// Runs the password step under `lie`: it must fail with `ClientError::Srp` after a
    /// fresh `account.getPassword` and before any `auth.checkPassword`. Returns the error.
    async fn refused(&self, lie: Lie) -> SrpError {
        *self.hostile.lie.lock().unwrap() = Some(lie.clone());
        let asked = self.hostile.get_password.load(Ordering::SeqCst);
        let result = self.client.check_password(&self.token, PASSWORD).await;
        assert!(
            self.hostile.get_password.load(Ordering::SeqCst) > asked,
            "{lie:?}: the password step asked for account.password"
        );
        assert_eq!(
            self.hostile.check_password.load(Ordering::SeqCst),
            0,
            "{lie:?}: nothing may reach auth.checkPassword (the step ended with {result:?})"
        );
        match result {
            Err(ClientError::Srp(error)) => {
                assert_eq!(
                    ClientError::Srp(error.clone()).to_string(),
                    format!("password check: {error}")
                );
                error
            }
            other => panic!("{lie:?}: expected ClientError::Srp, got {other:?}"),
        }
    }

    /// With the lie lifted the same client signs in: the DC and the password are right.
    async fn signs_in_honestly(&self) {
        *self.hostile.lie.lock().unwrap() = None;
        let user = self
            .client
            .check_password(&self.token, PASSWORD)
            .await
            .expect("the honest password step signs in");
        assert!(user.id != 0);
        assert_eq!(self.hostile.check_password.load(Ordering::SeqCst), 1);
    }
}

/// Row 34: `g = 2` with Telegram's prime (p mod 8 = 3) does not generate the subgroup.
#[tokio::test]
async fn a_generator_failing_its_residue_condition_is_refused_before_check_password() {
    bounded(async {
        let step = at_password_step().await;
        let error = step
            .refused(Lie::Group {
                g: 2,
                p: TELEGRAM_DH_PRIME.to_vec(),
            })
            .await;
        assert_eq!(error, SrpError::Dh(DhError::GeneratorResidue { g: 2 }));
        assert_eq!(
            error.to_string(),
            "generator g = 2 fails its quadratic residue condition for dh_prime"
        );
        step.signs_in_honestly().await;
    })
    .await;
}

/// Row 34: a 2048-bit `p` that is not a safe prime (Telegram's prime + 24: odd, same
/// residues mod 3 and mod 8, so `g = 3` still passes its residue condition, but composite).
#[tokio::test]
async fn a_prime_that_is_not_a_safe_prime_is_refused_before_check_password() {
    bounded(async {
        let step = at_password_step().await;
        let mut p = TELEGRAM_DH_PRIME;
        p[255] += 24;
        let error = step
            .refused(Lie::Group {
                g: 3,
                p: p.to_vec(),
            })
            .await;
        assert_eq!(error, SrpError::Dh(DhError::PrimeNotSafe));
        assert_eq!(error.to_string(), "dh_prime is not a safe prime");
        step.signs_in_honestly().await;
    })
    .await;
}

/// Row 35: `srp_B` outside `(1, p-1)`: 0, 1, p-1 and p.
#[tokio::test]
async fn srp_b_outside_the_open_range_is_refused_before_check_password() {
    bounded(async {
        let step = at_password_step().await;
        let mut p_minus_1 = TELEGRAM_DH_PRIME;
        p_minus_1[255] -= 1;
        for srp_b in [
            vec![0u8],
            vec![1u8],
            p_minus_1.to_vec(),
            TELEGRAM_DH_PRIME.to_vec(),
        ] {
            let error = step.refused(Lie::SrpB(srp_b)).await;
            assert_eq!(
                error,
                SrpError::Dh(DhError::ValueOutOfRange { which: DhValue::GB })
            );
            assert_eq!(error.to_string(), "g_b is not in (1, p-1)");
        }
        step.signs_in_honestly().await;
    })
    .await;
}

/// Row 36: `srp_B = k·v mod p` makes `t = 0`, outside `(1, p-1)`.
#[tokio::test]
async fn srp_b_equal_to_k_v_is_refused_before_check_password() {
    bounded(async {
        let step = at_password_step().await;
        let error = step.refused(Lie::SrpBMakingT(0)).await;
        assert_eq!(
            error,
            SrpError::Dh(DhError::ValueOutOfRange {
                which: DhValue::SrpT
            })
        );
        assert_eq!(error.to_string(), "t is not in (1, p-1)");
        step.signs_in_honestly().await;
    })
    .await;
}

/// Row 36: `srp_B = k·v + 2 mod p` makes `t = 2`: in `(1, p-1)` but below 2^1984.
#[tokio::test]
async fn srp_b_making_t_small_is_refused_before_check_password() {
    bounded(async {
        let step = at_password_step().await;
        let error = step.refused(Lie::SrpBMakingT(2)).await;
        assert_eq!(
            error,
            SrpError::Dh(DhError::ValueNotInSafeRange {
                which: DhValue::SrpT
            })
        );
        assert_eq!(error.to_string(), "t is not in [2^1984, p - 2^1984]");
        step.signs_in_honestly().await;
    })
    .await;
}
