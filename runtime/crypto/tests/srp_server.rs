//! SRP client against the crate's server side (what a test DC uses to check a password).

use mtproto_crypto::dh::{DhError, DhValue, PrimeCache, TELEGRAM_DH_PRIME};
use mtproto_crypto::srp::{self, SrpError, SrpParams, SrpServer};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn params() -> SrpParams {
    SrpParams::new(
        &[0x11; 40],
        &[0x22; 16],
        3,
        &TELEGRAM_DH_PRIME,
        &mut PrimeCache::new(),
    )
    .unwrap()
}

#[test]
fn client_and_server_agree_and_wrong_password_fails() {
    let params = params();
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let verifier = srp::compute_verifier(&params, "correct horse".as_bytes());
    let server = SrpServer::new(params.clone(), &verifier, &mut rng).unwrap();

    let good = srp::compute_check(
        &params,
        "correct horse".as_bytes(),
        server.srp_b(),
        &mut rng,
    )
    .unwrap();
    server.verify(&good.a, &good.m1).unwrap();

    let bad =
        srp::compute_check(&params, "wrong horse".as_bytes(), server.srp_b(), &mut rng).unwrap();
    assert_eq!(server.verify(&bad.a, &bad.m1), Err(SrpError::M1Mismatch));
    // Tampered proof or A.
    let mut m1 = good.m1;
    m1[0] ^= 1;
    assert_eq!(server.verify(&good.a, &m1), Err(SrpError::M1Mismatch));
    assert_eq!(
        server.verify(&[1], &good.m1),
        Err(SrpError::Dh(DhError::ValueOutOfRange {
            which: DhValue::GA
        }))
    );
    assert!(format!("{server:?}").contains("redacted"));
    assert!(format!("{good:?}").contains("redacted"));
}

#[test]
fn client_checks_srp_b_and_group() {
    let params = params();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for bad_b in [
        vec![0u8],
        vec![1u8],
        TELEGRAM_DH_PRIME.to_vec(),
        vec![0xFF; 257],
    ] {
        assert_eq!(
            srp::compute_check(&params, b"pw", &bad_b, &mut rng),
            Err(SrpError::Dh(DhError::ValueOutOfRange {
                which: DhValue::GB
            }))
        );
    }
    // A group that fails the checks is refused when the parameters are built.
    assert_eq!(
        SrpParams::new(&[1], &[2], 2, &TELEGRAM_DH_PRIME, &mut PrimeCache::new()).unwrap_err(),
        SrpError::Dh(DhError::GeneratorResidue { g: 2 })
    );
    assert_eq!(
        SrpParams::new(
            &[1],
            &[2],
            3,
            &TELEGRAM_DH_PRIME[1..],
            &mut PrimeCache::new()
        )
        .unwrap_err(),
        SrpError::Dh(DhError::PrimeWrongSize { bits: 2037 })
    );
}

#[test]
fn srp_b_equal_to_k_v_gives_t_zero_which_is_refused_as_out_of_range() {
    // If srp_B = k*v mod p then t = 0: the safe-range check on t must refuse it.
    use num_bigint::BigUint;
    use sha2::{Digest, Sha256};
    let params = params();
    let v = BigUint::from_bytes_be(&srp::compute_verifier(&params, b"pw"));
    let p = BigUint::from_bytes_be(&TELEGRAM_DH_PRIME);
    let mut g_pad = [0u8; 256];
    g_pad[255] = 3;
    let k = BigUint::from_bytes_be(
        &Sha256::new()
            .chain_update(TELEGRAM_DH_PRIME)
            .chain_update(g_pad)
            .finalize(),
    );
    let b = (k * v) % &p;
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    assert_eq!(
        srp::compute_check(&params, b"pw", &b.to_bytes_be(), &mut rng),
        Err(SrpError::Dh(DhError::ValueOutOfRange {
            which: DhValue::SrpT
        }))
    );
}
