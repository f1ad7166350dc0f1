//! AES-256-IGE, MTProto 2.0 message encryption and pq factorization: ours (`mtproto-crypto`)
//! against `grammers-crypto` 0.11, and IGE against libcrypto's AES-256-CBC encryption (the
//! serial limit: IGE, like CBC encryption, chains every block on the previous one).

use std::hint::black_box;

use grammers_crypto as gc;
use mtproto_crypto::message::{decrypt_v2_message, encrypt_v2};
use mtproto_crypto::{decrypt_ige, encrypt_ige, AuthKey, Direction};
use openssl::symm::{Cipher, Crypter, Mode};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::harness::{alternate, compare, Figure, Plan, Unit, Whole};

const KEY: [u8; 32] = [0x42; 32];
const IV: [u8; 32] = [0x24; 32];

/// Sizes of the throughput series (the plots).
pub const SERIES_SIZES: [usize; 7] = [64, 256, 1024, 4096, 16384, 262_144, 1_048_576];

/// libcrypto AES-256-CBC encryption of `size` bytes per call through one reused context
/// (as `openssl speed -evp` measures: no per-call key setup).
struct OpensslCbc {
    crypter: Crypter,
    input: Vec<u8>,
    output: Vec<u8>,
}

impl OpensslCbc {
    fn new(size: usize) -> Self {
        let mut crypter = Crypter::new(Cipher::aes_256_cbc(), Mode::Encrypt, &KEY, Some(&IV[..16]))
            .expect("libcrypto AES-256-CBC");
        crypter.pad(false);
        Self {
            crypter,
            input: vec![0x5a; size],
            output: vec![0; size + 16],
        }
    }

    fn run(&mut self) {
        let n = self
            .crypter
            .update(black_box(&self.input), &mut self.output)
            .expect("CBC update");
        black_box(n);
    }
}

fn ige_figure(plan: Plan, name: &str, size: usize, decrypt: bool) -> Figure {
    let mut ours_data = vec![0x5au8; size];
    let mut peer_data = vec![0x5au8; size];
    // Same output on the same input: the peer computes the same function.
    let (mut a, mut b) = (vec![7u8; 4096], vec![7u8; 4096]);
    encrypt_ige(&mut a, &KEY, &IV).expect("aligned");
    gc::aes::ige_encrypt(&mut b, &KEY, &IV);
    assert_eq!(a, b, "IGE outputs differ");
    let unit = if size >= 65536 { Unit::Us } else { Unit::Ns };
    if decrypt {
        compare(
            plan,
            name,
            unit,
            "grammers-crypto 0.11 ige_decrypt",
            &mut Whole(|| {
                decrypt_ige(black_box(&mut ours_data), &KEY, &IV).ok();
            }),
            &mut Whole(|| gc::aes::ige_decrypt(black_box(&mut peer_data), &KEY, &IV)),
        )
    } else {
        compare(
            plan,
            name,
            unit,
            "grammers-crypto 0.11 ige_encrypt",
            &mut Whole(|| {
                encrypt_ige(black_box(&mut ours_data), &KEY, &IV).ok();
            }),
            &mut Whole(|| gc::aes::ige_encrypt(black_box(&mut peer_data), &KEY, &IV)),
        )
    }
}

fn ige_vs_openssl(plan: Plan, name: &str, size: usize) -> Figure {
    let mut data = vec![0x5au8; size];
    let mut cbc = OpensslCbc::new(size);
    let unit = if size >= 65536 { Unit::Us } else { Unit::Ns };
    compare(
        plan,
        name,
        unit,
        "libcrypto AES-256-CBC encrypt (openssl crate)",
        &mut Whole(|| {
            encrypt_ige(black_box(&mut data), &KEY, &IV).ok();
        }),
        &mut Whole(|| cbc.run()),
    )
}

/// IGE against CBC with libcrypto setting its key up on every call, as MTProto needs (each
/// message has its own key and IV).
fn ige_vs_openssl_new_key(plan: Plan, name: &str, size: usize) -> Figure {
    let mut data = vec![0x5au8; size];
    let input = vec![0x5au8; size];
    let mut output = vec![0u8; size + 16];
    compare(
        plan,
        name,
        Unit::Ns,
        "libcrypto AES-256-CBC encrypt, key set up per call (openssl crate)",
        &mut Whole(|| {
            encrypt_ige(black_box(&mut data), black_box(&KEY), &IV).ok();
        }),
        &mut Whole(|| {
            let mut c = Crypter::new(
                Cipher::aes_256_cbc(),
                Mode::Encrypt,
                black_box(&KEY),
                Some(&IV[..16]),
            )
            .expect("libcrypto AES-256-CBC");
            c.pad(false);
            black_box(c.update(&input, &mut output).ok());
        }),
    )
}

/// Our message encryption against its floor: SHA-256 over the padded plaintext (the
/// `msg_key`) plus IGE over it, the two passes over the data the format requires.
fn message_floor(plan: Plan) -> Figure {
    use sha2::{Digest, Sha256};
    let (ours_key, key_bytes, plain) = message_inputs(1024);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let padded_len = plain.len() + mtproto_crypto::message::padding_len_v2(plain.len());
    let mut data = vec![0x5au8; padded_len];
    compare(
        plan,
        "encrypt_message_1kib_vs_floor",
        Unit::Ns,
        "SHA-256 + AES-256-IGE over the same bytes (sha2, mtproto-crypto)",
        &mut Whole(|| {
            black_box(encrypt_v2(
                &ours_key,
                Direction::ClientToServer,
                black_box(&plain),
                &mut rng,
            ));
        }),
        &mut Whole(|| {
            let mut h = Sha256::new();
            h.update(&key_bytes[88..120]);
            h.update(black_box(&data));
            black_box(h.finalize());
            encrypt_ige(black_box(&mut data), &KEY, &IV).ok();
        }),
    )
}

/// The auth key and a 1 KiB inner message (header and body) of the message figures.
fn message_inputs(body_len: usize) -> (AuthKey, [u8; 256], Vec<u8>) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut key = [0u8; 256];
    rng.fill_bytes(&mut key);
    let mut plain = Vec::with_capacity(32 + body_len);
    plain.extend_from_slice(&0x1122_3344_5566_7788i64.to_le_bytes()); // salt
    plain.extend_from_slice(&0x0102_0304_0506_0708i64.to_le_bytes()); // session_id
    plain.extend_from_slice(&((1_790_000_000i64 << 32) | 4).to_le_bytes()); // msg_id
    plain.extend_from_slice(&1i32.to_le_bytes()); // seq_no
    plain.extend_from_slice(&(body_len as u32).to_le_bytes());
    plain.extend((0..body_len).map(|_| rng.gen::<u8>()));
    (AuthKey::from_bytes(key), key, plain)
}

/// Encrypting a message of `body_len` bytes: ours, the peer (ns per message).
fn encrypt_pair(plan: Plan, body_len: usize) -> (f64, f64) {
    let (ours_key, key_bytes, plain) = message_inputs(body_len);
    let peer_key = gc::AuthKey::from_bytes(key_bytes);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut buffer = gc::DequeBuffer::with_capacity(plain.len() + 64, 32);
    alternate(
        plan,
        &mut Whole(|| {
            black_box(encrypt_v2(
                &ours_key,
                Direction::ClientToServer,
                black_box(&plain),
                &mut rng,
            ));
        }),
        &mut Whole(|| {
            buffer.clear();
            buffer.extend(black_box(&plain));
            gc::encrypt_data_v2(&mut buffer, &peer_key);
            black_box(&buffer);
        }),
    )
}

/// Decrypting a server message of `body_len` bytes: ours (with the header checks), the peer
/// (in place; the copy of the input each call needs is counted).
fn decrypt_pair(plan: Plan, body_len: usize) -> (f64, f64) {
    let (ours_key, key_bytes, plain) = message_inputs(body_len);
    let peer_key = gc::AuthKey::from_bytes(key_bytes);
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let sealed = encrypt_v2(&ours_key, Direction::ServerToClient, &plain, &mut rng);
    let mut check = sealed.clone();
    let opened = gc::decrypt_data_v2(&mut check, &peer_key).expect("grammers opens ours");
    assert_eq!(
        &opened[..plain.len()],
        &plain[..],
        "decrypted plaintexts differ"
    );
    let mut scratch = sealed.clone();
    alternate(
        plan,
        &mut Whole(|| {
            black_box(
                decrypt_v2_message(&ours_key, Direction::ServerToClient, black_box(&sealed)).ok(),
            );
        }),
        &mut Whole(|| {
            scratch.copy_from_slice(black_box(&sealed));
            black_box(gc::decrypt_data_v2(&mut scratch, &peer_key).is_ok());
        }),
    )
}

fn message_figure(plan: Plan, name: &str, decrypt: bool) -> Figure {
    let (o, p) = if decrypt {
        decrypt_pair(plan, 1024)
    } else {
        encrypt_pair(plan, 1024)
    };
    Figure {
        name: name.into(),
        ours: o,
        peer: Some(p),
        peer_name: if decrypt {
            "grammers-crypto 0.11 decrypt_data_v2"
        } else {
            "grammers-crypto 0.11 encrypt_data_v2"
        },
        unit: Unit::Ns,
        how: format!("median of {} alternating rounds", plan.rounds),
    }
}

/// 256 products of two random primes below 2^32 (fixed seed), as servers send in `resPQ`.
pub fn random_pqs() -> Vec<u64> {
    let mut rng = ChaCha20Rng::seed_from_u64(0x7071);
    let mut prime = || loop {
        let n: u64 = rng.gen_range((1u64 << 30)..(1u64 << 32)) | 1;
        if is_prime(n) {
            return n;
        }
    };
    (0..256)
        .map(|_| loop {
            let (p, q) = (prime(), prime());
            if p != q {
                return p * q;
            }
        })
        .collect()
}

/// Trial division (the bench's own primes; below 2^32 it is quick enough).
fn is_prime(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

fn factorize_figure(plan: Plan) -> Figure {
    let pqs = random_pqs();
    for &pq in &pqs {
        let (p, q) = mtproto_crypto::factorize(pq).expect("ours factors it");
        let (a, b) = gc::factorize(pq);
        assert_eq!((p, q), (a.min(b), a.max(b)), "factors differ for {pq}");
    }
    let (mut i, mut j) = (0usize, 0usize);
    let mut f = compare(
        plan,
        "factorize_pq",
        Unit::Us,
        "grammers-crypto 0.11 factorize",
        &mut Whole(|| {
            black_box(mtproto_crypto::factorize(black_box(pqs[i % pqs.len()])).ok());
            i += 1;
        }),
        &mut Whole(|| {
            black_box(gc::factorize(black_box(pqs[j % pqs.len()])));
            j += 1;
        }),
    );
    f.how = format!("{}, cycling over 256 random pq", f.how);
    f
}

/// Every figure of this module.
pub fn figures(plan: Plan) -> Vec<Figure> {
    vec![
        ige_figure(plan, "ige_encrypt_1kib", 1024, false),
        ige_figure(plan, "ige_encrypt_1mib", 1 << 20, false),
        ige_figure(plan, "ige_decrypt_1mib", 1 << 20, true),
        ige_vs_openssl(plan, "ige_encrypt_1kib_vs_openssl_cbc", 1024),
        ige_vs_openssl(plan, "ige_encrypt_1mib_vs_openssl_cbc", 1 << 20),
        ige_vs_openssl_new_key(plan, "ige_encrypt_1kib_vs_openssl_cbc_new_key", 1024),
        message_figure(plan, "encrypt_message_1kib", false),
        message_floor(plan),
        message_figure(plan, "decrypt_message_1kib", true),
        factorize_figure(plan),
    ]
}

/// Throughput series for the plots: (size, ours MB/s, grammers MB/s, openssl CBC MB/s) for
/// IGE encryption, and (size, ours MB/s, grammers MB/s) for message encryption.
pub fn series(plan: Plan) -> serde_json::Value {
    let mbps = |size: usize, ns: f64| size as f64 / ns * 1e3;
    let mut ige = Vec::new();
    let mut msg = Vec::new();
    for size in SERIES_SIZES {
        let mut a = vec![0x5au8; size];
        let mut b = vec![0x5au8; size];
        let (o, p) = alternate(
            plan,
            &mut Whole(|| {
                encrypt_ige(black_box(&mut a), &KEY, &IV).ok();
            }),
            &mut Whole(|| gc::aes::ige_encrypt(black_box(&mut b), &KEY, &IV)),
        );
        let mut cbc = OpensslCbc::new(size);
        let (o2, s) = alternate(
            plan,
            &mut Whole(|| {
                encrypt_ige(black_box(&mut a), &KEY, &IV).ok();
            }),
            &mut Whole(|| cbc.run()),
        );
        ige.push(serde_json::json!({
            "size": size, "ours": mbps(size, (o + o2) / 2.0), "grammers": mbps(size, p), "openssl_cbc": mbps(size, s),
        }));
        // Message bodies: the size minus the 32-byte header, kept a multiple of 4.
        let body = size.saturating_sub(32).max(16);
        let (o, p) = encrypt_pair(plan, body);
        let (od, pd) = decrypt_pair(plan, body);
        msg.push(serde_json::json!({
            "size": size,
            "ours_encrypt": mbps(size, o), "grammers_encrypt": mbps(size, p),
            "ours_decrypt": mbps(size, od), "grammers_decrypt": mbps(size, pd),
        }));
    }
    serde_json::json!({ "ige_encrypt": ige, "message": msg })
}

/// One call of a figure's operation, for instruction counting (`count` mode).
pub fn count_op(figure: &str, peer: bool) -> Option<Box<dyn FnMut()>> {
    Some(match (figure, peer) {
        ("ige_encrypt_1kib", false) => {
            let mut d = vec![0x5au8; 1024];
            Box::new(move || {
                encrypt_ige(black_box(&mut d), &KEY, &IV).ok();
            })
        }
        ("ige_encrypt_1kib", true) => {
            let mut d = vec![0x5au8; 1024];
            Box::new(move || gc::aes::ige_encrypt(black_box(&mut d), &KEY, &IV))
        }
        ("encrypt_message_1kib", false) => {
            let (key, _, plain) = message_inputs(1024);
            let mut rng = ChaCha20Rng::seed_from_u64(9);
            Box::new(move || {
                black_box(encrypt_v2(
                    &key,
                    Direction::ClientToServer,
                    black_box(&plain),
                    &mut rng,
                ));
            })
        }
        ("encrypt_message_1kib", true) => {
            let (_, key_bytes, plain) = message_inputs(1024);
            let key = gc::AuthKey::from_bytes(key_bytes);
            let mut buffer = gc::DequeBuffer::with_capacity(plain.len() + 64, 32);
            Box::new(move || {
                buffer.clear();
                buffer.extend(black_box(&plain));
                gc::encrypt_data_v2(&mut buffer, &key);
                black_box(&buffer);
            })
        }
        ("decrypt_message_1kib", false) => {
            let (key, _, plain) = message_inputs(1024);
            let sealed = encrypt_v2(
                &key,
                Direction::ServerToClient,
                &plain,
                &mut ChaCha20Rng::seed_from_u64(1),
            );
            Box::new(move || {
                black_box(
                    decrypt_v2_message(&key, Direction::ServerToClient, black_box(&sealed)).ok(),
                );
            })
        }
        ("decrypt_message_1kib", true) => {
            let (ours, key_bytes, plain) = message_inputs(1024);
            let sealed = encrypt_v2(
                &ours,
                Direction::ServerToClient,
                &plain,
                &mut ChaCha20Rng::seed_from_u64(1),
            );
            let key = gc::AuthKey::from_bytes(key_bytes);
            let mut scratch = sealed.clone();
            Box::new(move || {
                scratch.copy_from_slice(black_box(&sealed));
                black_box(gc::decrypt_data_v2(&mut scratch, &key).is_ok());
            })
        }
        ("factorize_pq", side) => {
            let pqs = random_pqs();
            let mut i = 0usize;
            if side {
                Box::new(move || {
                    black_box(gc::factorize(pqs[i % pqs.len()]));
                    i += 1;
                })
            } else {
                Box::new(move || {
                    black_box(mtproto_crypto::factorize(pqs[i % pqs.len()]).ok());
                    i += 1;
                })
            }
        }
        _ => return None,
    })
}
