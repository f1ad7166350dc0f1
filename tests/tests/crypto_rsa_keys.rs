//! RSA private keys of `mtproto-crypto` against Python `cryptography` (OpenSSL): a PKCS#8
//! key Python draws is read by ours (same `n`, and raw RSA agrees with Python's numbers); a
//! key ours draws and writes as PKCS#1 is loaded by Python, which checks it (OpenSSL's key
//! check tests that p and q are prime and that d and the CRT values fit them) and computes
//! with it.
//!
//! Run with the oracle venv: `cargo test -p project-tests --test crypto_rsa_keys`.

use std::io::Write;
use std::process::{Command, Stdio};

use mtproto_crypto::rsa::{RsaPrivateKey, BLOCK_LEN};
use project_tests::oracle_python;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};

/// Runs `script` with the oracle Python, `input` as JSON on stdin, and parses its JSON
/// answer on stdout.
fn python(script: &str, input: &Value) -> Value {
    let mut child = Command::new(oracle_python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the oracle Python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "oracle Python failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the oracle printed JSON")
}

/// A random block below any 2048-bit modulus (top byte clear).
fn block(rng: &mut ChaCha20Rng) -> [u8; BLOCK_LEN] {
    let mut b = [0u8; BLOCK_LEN];
    rng.fill_bytes(&mut b);
    b[0] = 0;
    b
}

fn hex_block(text: &Value) -> [u8; BLOCK_LEN] {
    let bytes = hex::decode(text.as_str().expect("hex string")).unwrap();
    let mut out = [0u8; BLOCK_LEN];
    out[BLOCK_LEN - bytes.len()..].copy_from_slice(&bytes);
    out
}

const PYTHON_PKCS8: &str = r#"
import json, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
blocks = json.load(sys.stdin)["blocks"]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
numbers = key.private_numbers()
n, d = numbers.public_numbers.n, numbers.d
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption()).decode()
out = {"pem": pem, "n": format(n, "x"), "e": numbers.public_numbers.e, "enc": [], "dec": []}
for b in blocks:
    m = int(b, 16)
    out["enc"].append(format(pow(m, 65537, n), "0512x"))
    out["dec"].append(format(pow(m, d, n), "0512x"))
print(json.dumps(out))
"#;

#[test]
fn pkcs8_key_from_python_cryptography() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x8_2048);
    let blocks: Vec<[u8; BLOCK_LEN]> = (0..4).map(|_| block(&mut rng)).collect();
    let answer = python(
        PYTHON_PKCS8,
        &json!({ "blocks": blocks.iter().map(hex::encode).collect::<Vec<_>>() }),
    );
    let pem = answer["pem"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");

    let key = RsaPrivateKey::from_pem(pem).unwrap();
    let public = key.public_key();
    assert_eq!(hex::encode(public.n_bytes()), answer["n"].as_str().unwrap());
    assert_eq!(answer["e"], 65537);
    assert_eq!(public.e_bytes(), [1, 0, 1]);
    for (i, m) in blocks.iter().enumerate() {
        // Python's m^e decrypts to m with our d; our m^d is Python's.
        let c = hex_block(&answer["enc"][i]);
        assert_eq!(public.encrypt_raw(m).unwrap(), c, "block {i}");
        assert_eq!(key.decrypt_raw(&c).unwrap(), *m, "block {i}");
        assert_eq!(key.decrypt_raw(m).unwrap(), hex_block(&answer["dec"][i]));
    }
    // The same key written back as PKCS#1 and read again.
    let again = RsaPrivateKey::from_pem(&key.to_pkcs1_pem()).unwrap();
    assert_eq!(again.public_key(), public);
}

const PYTHON_LOAD_PKCS1: &str = r#"
import json, sys
from cryptography.hazmat.primitives import serialization
req = json.load(sys.stdin)
# Loading runs OpenSSL's RSA key check (primality of p and q, d and the CRT values).
key = serialization.load_pem_private_key(req["pem"].encode(), password=None)
numbers = key.private_numbers()
n, d = numbers.public_numbers.n, numbers.d
p, q = numbers.p, numbers.q
out = {
    "bits": key.key_size,
    "n": format(n, "x"),
    "e": numbers.public_numbers.e,
    "p_bits": p.bit_length(),
    "q_bits": q.bit_length(),
    "crt_ok": numbers.dmp1 == d % (p - 1) and numbers.dmq1 == d % (q - 1)
              and (numbers.iqmp * q) % p == 1,
    "enc": format(pow(int(req["block"], 16), 65537, n), "x"),
    "traditional": key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption()).decode(),
    "public_pkcs1": key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.PKCS1).decode(),
}
print(json.dumps(out))
"#;

#[test]
fn generated_key_is_accepted_by_python_cryptography() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x1_2048);
    let key = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
    let m = block(&mut rng);
    let pem = key.to_pkcs1_pem();
    let answer = python(
        PYTHON_LOAD_PKCS1,
        &json!({ "pem": pem.as_str(), "block": hex::encode(m) }),
    );
    assert_eq!(answer["bits"], 2048);
    assert_eq!(answer["e"], 65537);
    assert_eq!(answer["p_bits"], 1024);
    assert_eq!(answer["q_bits"], 1024);
    assert_eq!(answer["crt_ok"], true);
    assert_eq!(
        answer["n"].as_str().unwrap(),
        hex::encode(key.public_key().n_bytes())
    );
    // Python's m^e comes back to m with our private key.
    assert_eq!(key.decrypt_raw(&hex_block(&answer["enc"])).unwrap(), m);
    // OpenSSL writes the same PKCS#1 text, private and public.
    assert_eq!(answer["traditional"].as_str().unwrap(), pem.as_str());
    assert_eq!(
        answer["public_pkcs1"].as_str().unwrap(),
        key.public_key().to_pkcs1_pem()
    );
}
