//! Key material is wiped when it is dropped, observed on the real drop path.
//!
//! A global allocator wraps the system one and, while a test thread has armed it, looks at
//! every block that thread frees before handing it back. Each test builds a secret unarmed,
//! arms, drops the secret (so the only blocks freed in that window are the secret's own, fully
//! written when the secret was built) and disarms. A value whose `Drop` does not zeroize frees
//! its block with the secret still in it, and the test fails; a control case checks that the
//! allocator does see such a block.
//!
//! Types held inline (`AesKeyIv`, the `Zeroizing` array `srp::password_hash` returns) are put
//! in a `Box` so that their drop runs in memory the allocator gets back.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use mtproto_crypto::rsa::RsaPrivateKey;
use mtproto_crypto::{srp, AesKeyIv, AuthKey, DhSecret};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// What one thread saw freed while armed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Freed {
    /// Blocks freed.
    blocks: usize,
    /// Bytes freed.
    bytes: usize,
    /// Freed bytes that were not zero.
    nonzero: usize,
}

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static FREED: Cell<Freed> = const {
        Cell::new(Freed { blocks: 0, bytes: 0, nonzero: 0 })
    };
}

struct Inspecting;

// SAFETY: every call is forwarded to `System` with the same arguments; `dealloc` only reads
// the block it is given before forwarding it.
unsafe impl GlobalAlloc for Inspecting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.try_with(Cell::get).unwrap_or(false) {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes until we forward it below;
            // while armed, the only blocks freed are those of the dropped secret, whose bytes
            // were all written when it was built.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            let nonzero = block.iter().filter(|&&b| b != 0).count();
            let _ = FREED.try_with(|f| {
                let mut seen = f.get();
                seen.blocks += 1;
                seen.bytes += block.len();
                seen.nonzero += nonzero;
                f.set(seen);
            });
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Inspecting = Inspecting;

/// Drops `value` with the allocator armed on this thread and returns what was freed.
fn drop_observed<T>(value: T) -> Freed {
    let value = black_box(value);
    FREED.with(|f| f.set(Freed::default()));
    ARMED.with(|a| a.set(true));
    drop(value);
    ARMED.with(|a| a.set(false));
    FREED.with(Cell::get)
}

/// Asserts that dropping freed at least `min_bytes` bytes, all of them zero.
fn assert_wiped(what: &str, freed: Freed, min_bytes: usize) {
    assert!(
        freed.blocks >= 1 && freed.bytes >= min_bytes,
        "{what}: drop freed too little to check: {freed:?}"
    );
    assert_eq!(
        freed.nonzero, 0,
        "{what}: {} of {} freed bytes still hold data: {freed:?}",
        freed.nonzero, freed.bytes
    );
}

/// 256 distinct-looking non-zero bytes.
fn pattern() -> [u8; 256] {
    let mut out = [0u8; 256];
    for (i, b) in out.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(29).wrapping_add(0x5B) | 1;
    }
    out
}

#[test]
fn control_a_plain_box_is_seen_with_its_bytes() {
    let freed = drop_observed(Box::new(pattern()));
    assert_eq!(freed.blocks, 1, "{freed:?}");
    assert_eq!(freed.nonzero, 256, "{freed:?}");
}

#[test]
fn auth_key_is_wiped_on_drop() {
    let key = AuthKey::from_bytes(pattern());
    assert_eq!(key.as_bytes(), &pattern());
    assert_wiped("AuthKey", drop_observed(key), 256);
    let clone = AuthKey::from_bytes(pattern()).clone();
    assert_wiped("AuthKey clone", drop_observed(clone), 256);
}

#[test]
fn dh_secret_is_wiped_on_drop() {
    assert_wiped(
        "DhSecret::from_bytes",
        drop_observed(DhSecret::from_bytes(pattern())),
        256,
    );
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    assert_wiped(
        "DhSecret::generate",
        drop_observed(DhSecret::generate(&mut rng)),
        256,
    );
}

#[test]
fn aes_key_iv_is_wiped_on_drop() {
    let p = pattern();
    let mut key = [0u8; 32];
    let mut iv = [0u8; 32];
    key.copy_from_slice(&p[..32]);
    iv.copy_from_slice(&p[32..64]);
    let pair = Box::new(AesKeyIv::new(key, iv));
    assert_wiped("AesKeyIv", drop_observed(pair), 64);
    let derived = Box::new(mtproto_crypto::keys::tmp_aes_key_iv(&[7; 32], &[8; 16]));
    assert_wiped("tmp_aes_key_iv", drop_observed(derived), 64);
}

#[test]
fn srp_password_hash_is_wiped_on_drop() {
    let x = Box::new(srp::password_hash(b"hunter2", &[1; 16], &[2; 16]));
    assert_ne!(**x, [0u8; 32]);
    assert_wiped("srp::password_hash", drop_observed(x), 32);
}

#[test]
fn rsa_pad_plaintext_is_wiped_on_drop() {
    let private = RsaPrivateKey::from_pkcs1_pem(include_str!("fixtures/rsa_test_key.pem")).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let data = pattern();
    let block = private
        .public_key()
        .encrypt_pad(&data[..144], &mut rng)
        .unwrap();
    let plain = private.decrypt_pad(&block).unwrap();
    assert_eq!(&plain[..144], &data[..144]);
    assert_wiped(
        "RsaPrivateKey::decrypt_pad output",
        drop_observed(plain),
        192,
    );
}
