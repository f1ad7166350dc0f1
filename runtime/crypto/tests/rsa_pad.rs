//! RSA: PEM parsing, fingerprints, RSA_PAD and its inverse, with a throw-away 2048-bit test
//! key generated for these tests with Python `cryptography` 50 (`rsa.generate_private_key`);
//! it protects nothing.

use mtproto_crypto::rsa::{self, RsaError, RsaPrivateKey, RsaPublicKey};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

const PRIVATE_PEM: &str = include_str!("fixtures/rsa_test_key.pem");
const SPKI_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAt/kXYH4aQzARk4LzUvvV\n\
STlQWsnwXjNWX88AI2MTmc4Ca4sm0CW0OiH3UCKbOGBPjG2Bb1E+pzUt4jqYErPB\n\
HwRPhidvWwkvNLMV2SvuAlDgP5gQ6740t92vcvw7jD/GsFoW+E8iSWBz6wtQarUl\n\
Adh8Ys8035qWKpjGpORBnoOQyazzZxOjxpEfn7CGJ9l1XHPsan3JOPYlDirUCmpk\n\
s2s9K44erSwSrXoZr5rXVUCDQ7rdX7bG7sCFcg8wC9f6IhIdlxAjzHq6th9OpQqm\n\
LF2sk4StYVhRHikUlCLi0t8hvfNqz8uctgO+obiko1MlcZgiBJsAdVG+9dwL4D9Y\n\
ewIDAQAB\n\
-----END PUBLIC KEY-----";
const PKCS1_PEM: &str = "-----BEGIN RSA PUBLIC KEY-----\n\
MIIBCgKCAQEAt/kXYH4aQzARk4LzUvvVSTlQWsnwXjNWX88AI2MTmc4Ca4sm0CW0\n\
OiH3UCKbOGBPjG2Bb1E+pzUt4jqYErPBHwRPhidvWwkvNLMV2SvuAlDgP5gQ6740\n\
t92vcvw7jD/GsFoW+E8iSWBz6wtQarUlAdh8Ys8035qWKpjGpORBnoOQyazzZxOj\n\
xpEfn7CGJ9l1XHPsan3JOPYlDirUCmpks2s9K44erSwSrXoZr5rXVUCDQ7rdX7bG\n\
7sCFcg8wC9f6IhIdlxAjzHq6th9OpQqmLF2sk4StYVhRHikUlCLi0t8hvfNqz8uc\n\
tgO+obiko1MlcZgiBJsAdVG+9dwL4D9YewIDAQAB\n\
-----END RSA PUBLIC KEY-----";
/// The same key's fingerprint as computed by Telethon 1.45
/// (`telethon.crypto.rsa._compute_fingerprint`).
const TELETHON_FINGERPRINT: i64 = 5569140480925879595;

fn key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(PRIVATE_PEM).unwrap()
}

#[test]
fn pem_forms_agree_and_fingerprint_matches_telethon() {
    let private = key();
    let spki = RsaPublicKey::from_pem(SPKI_PEM).unwrap();
    let pkcs1 = RsaPublicKey::from_pem(PKCS1_PEM).unwrap();
    assert_eq!(private.public_key(), &spki);
    assert_eq!(spki, pkcs1);
    assert_eq!(pkcs1.fingerprint(), TELETHON_FINGERPRINT);
    assert_eq!(
        RsaPublicKey::from_pem(&pkcs1.to_pkcs1_pem()).unwrap(),
        pkcs1
    );
    let debug = format!("{private:?}");
    assert!(debug.contains("<redacted>"), "{debug}");
}

#[test]
fn rsa_pad_roundtrip() {
    let private = key();
    let public = private.public_key();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for len in [0usize, 1, 96, 100, 143, 144] {
        let mut data = vec![0u8; len];
        rng.fill_bytes(&mut data);
        let block = public.encrypt_pad(&data, &mut rng).unwrap();
        assert_eq!(block.len(), 256);
        let padded = private.decrypt_pad(&block).unwrap();
        assert_eq!(&padded[..len], &data[..]);
    }
    assert_eq!(
        public.encrypt_pad(&[0u8; 145], &mut rng),
        Err(RsaError::DataTooLong { len: 145 })
    );
}

#[test]
fn rsa_pad_rejects_tampering_and_bad_blocks() {
    let private = key();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let block = private
        .public_key()
        .encrypt_pad(b"inner data", &mut rng)
        .unwrap();
    for i in [0usize, 100, 255] {
        let mut bad = block;
        bad[i] ^= 1;
        let err = private.decrypt_pad(&bad).unwrap_err();
        assert!(
            matches!(err, RsaError::PaddingMismatch | RsaError::BlockOutOfRange),
            "{err:?}"
        );
    }
    assert_eq!(
        private.decrypt_pad(&block[..255]),
        Err(RsaError::BlockLength { len: 255 })
    );
    assert_eq!(
        private.decrypt_pad(&[0xFF; 256]),
        Err(RsaError::BlockOutOfRange)
    );
    // Another key cannot open it.
    let other = RsaPublicKey::from_pem(rsa::TELEGRAM_TEST_KEY_PEM).unwrap();
    assert_ne!(other.fingerprint(), private.public_key().fingerprint());
}

#[test]
fn legacy_sha1_scheme_roundtrip() {
    // SHA1(data) + data + random padding to 255 bytes, as Telethon 1.x sends p_q_inner_data.
    use sha1::{Digest, Sha1};
    let private = key();
    let data = b"p_q_inner_data goes here".to_vec();
    let mut block = vec![0u8];
    block.extend_from_slice(&Sha1::digest(&data));
    block.extend_from_slice(&data);
    block.resize(256, 0x5A);
    let enc = private.public_key().encrypt_raw(&block).unwrap();
    assert_eq!(private.decrypt_raw(&enc).unwrap().to_vec(), block);
    assert_eq!(private.decrypt_legacy(&enc).unwrap(), data);
    let mut bad = block.clone();
    bad[5] ^= 1;
    let enc = private.public_key().encrypt_raw(&bad).unwrap();
    assert_eq!(private.decrypt_legacy(&enc), Err(RsaError::PaddingMismatch));
}

#[test]
fn inconsistent_private_key_is_rejected() {
    let private = key();
    let public = private.public_key();
    let n = public.n_bytes();
    let e = public.e_bytes();
    assert_eq!(
        RsaPrivateKey::from_components(&n, &e, &[3]).unwrap_err(),
        RsaError::InvalidPrivateKey
    );
    assert_eq!(
        RsaPublicKey::from_components(&n[1..], &e).unwrap_err(),
        RsaError::ModulusSize { bits: 2040 }
    );
    assert_eq!(
        RsaPublicKey::from_components(&n, &[2]).unwrap_err(),
        RsaError::InvalidExponent
    );
}
