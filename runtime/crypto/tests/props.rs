//! Property tests: round trips, and hostile input never panics (it returns the error).

use mtproto_crypto::dh::{self, DhParams, DhValue};
use mtproto_crypto::ige::{decrypt_ige, encrypt_ige};
use mtproto_crypto::keys::{self, AuthKey, Direction};
use mtproto_crypto::{factorize, message, pfs, rsa, FactorError};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn auth_key(seed: u8) -> AuthKey {
    let mut bytes = [0u8; 256];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(seed);
    }
    AuthKey::from_bytes(bytes)
}

fn direction(server: bool) -> Direction {
    if server {
        Direction::ServerToClient
    } else {
        Direction::ClientToServer
    }
}

fn is_prime_u32(n: u32) -> bool {
    if n < 2 {
        return false;
    }
    let n = n as u64;
    let mut d = 2u64;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

fn next_prime(mut n: u32) -> u32 {
    n = n.max(2);
    while !is_prime_u32(n) {
        n = n.wrapping_add(1).max(2);
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn ige_roundtrip(key in any::<[u8; 32]>(), iv in any::<[u8; 32]>(),
                     blocks in prop::collection::vec(any::<[u8; 16]>(), 0..64)) {
        let plain: Vec<u8> = blocks.concat();
        let mut data = plain.clone();
        encrypt_ige(&mut data, &key, &iv).unwrap();
        if !plain.is_empty() {
            prop_assert_ne!(&data, &plain);
        }
        decrypt_ige(&mut data, &key, &iv).unwrap();
        prop_assert_eq!(data, plain);
    }

    #[test]
    fn ige_rejects_unaligned(len in 0usize..200) {
        let mut data = vec![0u8; len];
        let res = encrypt_ige(&mut data, &[0; 32], &[0; 32]);
        prop_assert_eq!(res.is_ok(), len % 16 == 0);
    }

    #[test]
    fn v2_roundtrip(seed in any::<u8>(), server in any::<bool>(),
                    plain in prop::collection::vec(any::<u8>(), 0..600), rng_seed in any::<u64>()) {
        let key = auth_key(seed);
        let dir = direction(server);
        let mut rng = ChaCha20Rng::seed_from_u64(rng_seed);
        let enc = message::encrypt_v2(&key, dir, &plain, &mut rng);
        prop_assert_eq!(enc.len() % 16, 8);
        let dec = message::decrypt_v2(&key, dir, &enc).unwrap();
        prop_assert_eq!(&dec[..plain.len()], &plain[..]);
        let pad = dec.len() - plain.len();
        prop_assert!((12..=27).contains(&pad));
    }

    #[test]
    fn v2_message_roundtrip(seed in any::<u8>(), body_words in prop::collection::vec(any::<u32>(), 0..100),
                            salt in any::<i64>(), session in any::<i64>(), msg_id in any::<i64>(),
                            seq in any::<i32>(), extra_blocks in 0usize..60) {
        let key = auth_key(seed);
        let body: Vec<u8> = body_words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut plain = Vec::new();
        plain.extend_from_slice(&salt.to_le_bytes());
        plain.extend_from_slice(&session.to_le_bytes());
        plain.extend_from_slice(&msg_id.to_le_bytes());
        plain.extend_from_slice(&seq.to_le_bytes());
        plain.extend_from_slice(&(body.len() as u32).to_le_bytes());
        plain.extend_from_slice(&body);
        let pad_len = message::padding_len_v2(plain.len()) + 16 * extra_blocks;
        let padding = vec![0xA5u8; pad_len];
        let enc = message::encrypt_v2_with_padding(&key, Direction::ServerToClient, &plain, &padding);
        if pad_len > 1024 {
            prop_assert!(enc.is_err());
        } else {
            let msg = message::decrypt_v2_message(&key, Direction::ServerToClient, &enc.unwrap()).unwrap();
            prop_assert_eq!((msg.salt, msg.session_id, msg.msg_id, msg.seq_no), (salt, session, msg_id, seq));
            prop_assert_eq!(msg.body, body);
        }
    }

    #[test]
    fn v2_corruption_is_an_error(seed in any::<u8>(), plain in prop::collection::vec(any::<u8>(), 0..300),
                                 index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let key = auth_key(seed);
        let mut rng = ChaCha20Rng::seed_from_u64(seed as u64);
        let mut enc = message::encrypt_v2(&key, Direction::ClientToServer, &plain, &mut rng);
        let i = index.index(enc.len());
        enc[i] ^= flip;
        prop_assert!(message::decrypt_v2(&key, Direction::ClientToServer, &enc).is_err());
        prop_assert!(message::decrypt_v2_message(&key, Direction::ClientToServer, &enc).is_err());
    }

    #[test]
    fn v2_truncation_is_an_error(seed in any::<u8>(), plain in prop::collection::vec(any::<u8>(), 0..300),
                                 cut in any::<prop::sample::Index>()) {
        let key = auth_key(seed);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let enc = message::encrypt_v2(&key, Direction::ClientToServer, &plain, &mut rng);
        let keep = cut.index(enc.len());
        prop_assert!(message::decrypt_v2(&key, Direction::ClientToServer, &enc[..keep]).is_err());
    }

    #[test]
    fn garbage_never_panics(seed in any::<u8>(), data in prop::collection::vec(any::<u8>(), 0..700),
                            with_key_id in any::<bool>()) {
        let key = auth_key(seed);
        let mut data = data;
        if with_key_id && data.len() >= 8 {
            data[..8].copy_from_slice(&key.id_bytes());
        }
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            prop_assert!(message::decrypt_v2(&key, dir, &data).is_err());
            prop_assert!(message::decrypt_v2_message(&key, dir, &data).is_err());
            prop_assert!(message::decrypt_v1(&key, dir, &data).is_err());
        }
        prop_assert!(pfs::decrypt_bind_message(&key, &data, 0).is_err());
        let kv = keys::tmp_aes_key_iv(&[seed; 32], &[seed; 16]);
        prop_assert!(dh::unwrap_with_hash(&data, &kv).is_err());
        let params = DhParams::telegram();
        let _ = params.check_value(&data, DhValue::GA);
        let _ = rsa::RsaPublicKey::from_pem(&String::from_utf8_lossy(&data));
        let _ = rsa::RsaPublicKey::from_pkcs1_der(&data);
        let _ = rsa::RsaPublicKey::from_spki_der(&data);
    }

    #[test]
    fn v1_roundtrip(seed in any::<u8>(), body_words in prop::collection::vec(any::<u32>(), 0..40)) {
        let key = auth_key(seed);
        let body: Vec<u8> = body_words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut plain = vec![0u8; 28];
        plain.extend_from_slice(&(body.len() as u32).to_le_bytes());
        plain.extend_from_slice(&body);
        let mut rng = ChaCha20Rng::seed_from_u64(seed as u64);
        let enc = message::encrypt_v1(&key, Direction::ClientToServer, &plain, &mut rng);
        prop_assert_eq!(message::decrypt_v1(&key, Direction::ClientToServer, &enc).unwrap(), plain);
    }

    #[test]
    fn pfs_roundtrip(seed in any::<u8>(), nonce in any::<i64>(), temp in any::<i64>(),
                     session in any::<i64>(), expires in any::<i32>(), msg_id in any::<i64>()) {
        let perm = auth_key(seed);
        let inner = pfs::BindAuthKeyInner {
            nonce,
            temp_auth_key_id: temp,
            perm_auth_key_id: perm.id(),
            temp_session_id: session,
            expires_at: expires,
        };
        let mut rng = ChaCha20Rng::seed_from_u64(nonce as u64);
        let enc = pfs::encrypt_bind_message(&perm, msg_id, &inner, &mut rng);
        prop_assert_eq!(pfs::decrypt_bind_message(&perm, &enc, msg_id).unwrap(), inner);
    }

    /// Random products of two random u32 primes factor back.
    #[test]
    fn factor_two_random_u32_primes(a in 2u32.., b in 2u32..) {
        let p = next_prime(a) as u64;
        let q = next_prime(b) as u64;
        prop_assert_eq!(factorize(p * q), Ok((p.min(q), p.max(q))));
    }

    #[test]
    fn factor_never_panics(n in any::<u64>()) {
        match factorize(n) {
            Ok((p, q)) => prop_assert_eq!(p * q, n),
            Err(FactorError::TooSmall { .. }) => prop_assert!(n < 2),
            Err(_) => {}
        }
    }
}
