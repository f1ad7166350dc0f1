//! RSA private keys: generation, PKCS#1 / PKCS#8 PEM reading, PKCS#1 PEM writing.
//!
//! The fixture is the throw-away key of `rsa_pad.rs` (written by Python `cryptography`, an
//! independent PKCS#1 encoder), so writing it back byte for byte checks our encoder, and
//! recovering its primes from `(n, e, d)` alone checks the prime recovery. Keys that Python
//! writes as PKCS#8 are checked in `tests/tests/crypto_rsa_keys.rs` (it needs the oracle
//! Python).

use mtproto_crypto::rsa::{RsaError, RsaPrivateKey, RsaPublicKey, BLOCK_LEN};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

const PRIVATE_PEM: &str = include_str!("fixtures/rsa_test_key.pem");

/// DER of a PEM block (our own tiny base64 decoder, independent of the one under test).
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in body.bytes().filter(|&c| c != b'=') {
        let v = alphabet.iter().position(|&a| a == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Base64 with 64-character lines, for building PEM text by hand.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let mut buf = [0u8; 3];
        buf[..chunk.len()].copy_from_slice(chunk);
        let v = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(alphabet[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// DER TLV with a definite length.
fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(body);
    out
}

/// PKCS#8 `PrivateKeyInfo` around a PKCS#1 key, with the given last OID arc and parameters.
fn pkcs8_wrap(pkcs1_der: &[u8], oid_last: u8, params: &[u8]) -> Vec<u8> {
    let mut alg = vec![
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, oid_last,
    ];
    alg.extend_from_slice(params);
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(&tlv(0x30, &alg));
    body.extend_from_slice(&tlv(0x04, pkcs1_der));
    tlv(0x30, &body)
}

/// The nine INTEGERs of a PKCS#1 private key, as DER TLVs, and back.
fn pkcs1_fields(der: &[u8]) -> Vec<Vec<u8>> {
    // SEQUENCE header: 30 82 LL LL.
    assert_eq!(&der[..2], &[0x30, 0x82]);
    let mut rest = &der[4..];
    let mut fields = Vec::new();
    while !rest.is_empty() {
        assert_eq!(rest[0], 0x02);
        let (len, head) = match rest[1] {
            l if l < 0x80 => (l as usize, 2),
            0x81 => (rest[2] as usize, 3),
            0x82 => (((rest[2] as usize) << 8) | rest[3] as usize, 4),
            other => panic!("length form {other:#x}"),
        };
        fields.push(rest[..head + len].to_vec());
        rest = &rest[head + len..];
    }
    fields
}

/// The value of an INTEGER TLV, without its sign byte.
fn int_value(field: &[u8]) -> Vec<u8> {
    let head = if field[1] < 0x80 {
        2
    } else {
        2 + (field[1] & 0x7f) as usize
    };
    let v = &field[head..];
    v.strip_prefix(&[0u8][..]).unwrap_or(v).to_vec()
}

fn pkcs1_from_fields(fields: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &fields.concat())
}

fn block(rng: &mut ChaCha20Rng, key: &RsaPublicKey) -> [u8; BLOCK_LEN] {
    // A random number below n: clear the top byte.
    let mut b = [0u8; BLOCK_LEN];
    rng.fill_bytes(&mut b);
    b[0] = 0;
    assert!(key.encrypt_raw(&b).is_ok());
    b
}

#[test]
fn generated_key_round_trips_through_pkcs1_pem() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x5eed_2048);
    let key = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
    let public = key.public_key();
    assert_eq!(public.n_bytes().len(), 256);
    assert!(public.n_bytes()[0] >= 0x80, "n has exactly 2048 bits");
    assert_eq!(public.e_bytes(), [1, 0, 1]);

    let pem = key.to_pkcs1_pem();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert!(pem.ends_with("-----END RSA PRIVATE KEY-----\n"));
    assert!(pem.lines().all(|l| l.len() <= 64));
    let parsed = RsaPrivateKey::from_pem(&pem).unwrap();
    assert_eq!(parsed.public_key(), public);
    assert_eq!(parsed.public_key().fingerprint(), public.fingerprint());
    // Writing it again gives the same text (same d, p, q and CRT values).
    assert_eq!(*parsed.to_pkcs1_pem(), *pem);
    // From (n, e, d) alone the primes are recovered: the same PEM again.
    let d = int_value(&pkcs1_fields(&pem_der(&pem))[3]);
    let rebuilt = RsaPrivateKey::from_components(&public.n_bytes(), &public.e_bytes(), &d).unwrap();
    assert_eq!(*rebuilt.to_pkcs1_pem(), *pem);

    // Raw RSA with the two halves are inverses, both ways.
    for _ in 0..4 {
        let m = block(&mut rng, public);
        let c = public.encrypt_raw(&m).unwrap();
        assert_ne!(c, m);
        assert_eq!(parsed.decrypt_raw(&c).unwrap(), m);
        let s = parsed.decrypt_raw(&m).unwrap();
        assert_eq!(public.encrypt_raw(&s).unwrap(), m);
    }
    // And RSA_PAD, the way MTProto uses the key.
    let data = [0x42u8; 100];
    let sealed = public.encrypt_pad(&data, &mut rng).unwrap();
    assert_eq!(&parsed.decrypt_pad(&sealed).unwrap()[..100], &data[..]);

    // The public half exported and read back is the same key.
    assert_eq!(
        RsaPublicKey::from_pem(&public.to_pkcs1_pem()).unwrap(),
        *public
    );
}

#[test]
fn generation_is_seeded_and_fresh() {
    // The same seed draws the same key; another seed another key.
    let a = RsaPrivateKey::generate(&mut ChaCha20Rng::seed_from_u64(1), 2048).unwrap();
    let b = RsaPrivateKey::generate(&mut ChaCha20Rng::seed_from_u64(1), 2048).unwrap();
    let c = RsaPrivateKey::generate(&mut ChaCha20Rng::seed_from_u64(2), 2048).unwrap();
    assert_eq!(a.public_key(), b.public_key());
    assert_ne!(a.public_key(), c.public_key());
    assert_ne!(a.public_key().fingerprint(), c.public_key().fingerprint());
}

#[test]
fn only_2048_bit_keys_are_generated() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    for bits in [0, 1024, 2047, 4096] {
        assert_eq!(
            RsaPrivateKey::generate(&mut rng, bits).unwrap_err(),
            RsaError::ModulusSize { bits }
        );
    }
}

#[test]
fn fixture_is_written_back_byte_for_byte() {
    // Python `cryptography` wrote the fixture; ours writes the same DER.
    let key = RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap();
    assert_eq!(*key.to_pkcs1_pem(), PRIVATE_PEM);
    assert_eq!(
        RsaPrivateKey::from_pkcs1_pem(PRIVATE_PEM)
            .unwrap()
            .public_key(),
        key.public_key()
    );
    // Framing: text before, CRLF, whitespace around.
    let framed = format!("my key:\r\n{}\r\n\r\n", PRIVATE_PEM.replace('\n', "\r\n"));
    assert_eq!(
        RsaPrivateKey::from_pem(&framed).unwrap().public_key(),
        key.public_key()
    );
    // Primes recovered from (n, e, d) only: the same file.
    let fields = pkcs1_fields(&pem_der(PRIVATE_PEM));
    let rebuilt = RsaPrivateKey::from_components(
        &int_value(&fields[1]),
        &int_value(&fields[2]),
        &int_value(&fields[3]),
    )
    .unwrap();
    assert_eq!(*rebuilt.to_pkcs1_pem(), PRIVATE_PEM);
}

#[test]
fn pkcs8_wrapping_of_the_fixture() {
    let pkcs1 = pem_der(PRIVATE_PEM);
    let key = RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap();
    for params in [&[0x05, 0x00][..], &[][..]] {
        let pem = pem_encode("PRIVATE KEY", &pkcs8_wrap(&pkcs1, 1, params));
        let parsed = RsaPrivateKey::from_pem(&pem).unwrap();
        assert_eq!(parsed.public_key(), key.public_key());
        assert_eq!(*parsed.to_pkcs1_pem(), PRIVATE_PEM);
        // from_pkcs1_pem is PKCS#1 only.
        assert_eq!(
            RsaPrivateKey::from_pkcs1_pem(&pem).unwrap_err(),
            RsaError::InvalidPem
        );
    }
    // Another algorithm (sha256WithRSAEncryption's arc) or parameters other than NULL.
    for der in [
        pkcs8_wrap(&pkcs1, 11, &[0x05, 0x00]),
        pkcs8_wrap(&pkcs1, 1, &[0x02, 0x01, 0x00]),
    ] {
        let pem = pem_encode("PRIVATE KEY", &der);
        assert_eq!(
            RsaPrivateKey::from_pem(&pem).unwrap_err(),
            RsaError::InvalidDer
        );
    }
    // Encrypted PKCS#8 and public keys are not private keys.
    let encrypted = pem_encode("ENCRYPTED PRIVATE KEY", &pkcs8_wrap(&pkcs1, 1, &[]));
    assert_eq!(
        RsaPrivateKey::from_pem(&encrypted).unwrap_err(),
        RsaError::InvalidPem
    );
    let public = key.public_key().to_pkcs1_pem();
    assert_eq!(
        RsaPrivateKey::from_pem(&public).unwrap_err(),
        RsaError::InvalidPem
    );
    assert_eq!(
        RsaPrivateKey::from_pem("no key here").unwrap_err(),
        RsaError::InvalidPem
    );
}

#[test]
fn inconsistent_private_keys_are_refused() {
    let fields = pkcs1_fields(&pem_der(PRIVATE_PEM));
    let pem_of = |fields: &[Vec<u8>]| pem_encode("RSA PRIVATE KEY", &pkcs1_from_fields(fields));
    assert_eq!(
        RsaPrivateKey::from_pem(&pem_of(&fields))
            .unwrap()
            .public_key(),
        RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap().public_key()
    );
    // p and q swapped is still the same key.
    let mut swapped = fields.clone();
    swapped.swap(4, 5);
    assert!(RsaPrivateKey::from_pem(&pem_of(&swapped)).is_ok());
    // d replaced by p, p replaced by q (so p·q ≠ n), a prime replaced by 1.
    let one = vec![0x02, 0x01, 0x01];
    for (i, value) in [(3, fields[4].clone()), (4, fields[5].clone()), (5, one)] {
        let mut bad = fields.clone();
        bad[i] = value;
        assert_eq!(
            RsaPrivateKey::from_pem(&pem_of(&bad)).unwrap_err(),
            RsaError::InvalidPrivateKey,
            "field {i}"
        );
    }
    // A multi-prime version with no other primes, and a truncated key.
    let mut multi = fields.clone();
    multi[0] = vec![0x02, 0x01, 0x01];
    assert_eq!(
        RsaPrivateKey::from_pem(&pem_of(&multi)).unwrap_err(),
        RsaError::InvalidDer
    );
    let der = pkcs1_from_fields(&fields);
    assert_eq!(
        RsaPrivateKey::from_pkcs1_der(&der[..der.len() - 1]).unwrap_err(),
        RsaError::InvalidDer
    );
}

#[test]
fn debug_is_redacted() {
    let key = RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap();
    let text = format!("{key:?}");
    assert!(text.contains("redacted"), "{text}");
    // No long run of hex or decimal digits (a number) is printed.
    let fingerprint = format!("{:#018x}", key.public_key().fingerprint() as u64);
    assert!(text.contains(&fingerprint));
    assert!(text.len() < 80, "{text}");
}
